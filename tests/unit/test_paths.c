/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/paths.c: buckets, every path builder, overflow, name validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "corral/limits.h"
#include "corral/paths.h"

static void bucket_is_fnv1a_mod_256(void **state)
{
    (void)state;
    /* Known FNV-1a 32-bit values: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968. */
    assert_int_equal(corral_path_bucket(""), 0xc5);
    assert_int_equal(corral_path_bucket("a"), 0x2c);
    assert_int_equal(corral_path_bucket("foobar"), 0x68);
    assert_int_equal(corral_path_bucket("019a1b2c3d4e-9f8e7d6c"), 0xef);
}

static void bucket_is_always_below_bucket_count(void **state)
{
    (void)state;
    char s[2] = {0, 0};
    for (int c = 1; c < 256; c++) {
        s[0] = (char)c;
        assert_true(corral_path_bucket(s) < CORRAL_BUCKETS);
    }
}

static void task_path_uses_two_hex_digit_bucket(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_task(buf, sizeof buf, "/corral", "019a1b2c3d4e-9f8e7d6c"), 0);
    assert_string_equal(buf, "/corral/tasks/ef/019a1b2c3d4e-9f8e7d6c");
    assert_int_equal(corral_path_task(buf, sizeof buf, "/corral", "foobar"), 0);
    assert_string_equal(buf, "/corral/tasks/68/foobar");
}

static void queue_entry_uses_same_bucket_as_task(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_queue_entry(buf, sizeof buf, "/c", "019a1b2c3d4e-9f8e7d6c"), 0);
    assert_string_equal(buf, "/c/queue/ef/019a1b2c3d4e-9f8e7d6c");
}

static void bucket_dirs_print_bucket_in_hex(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_task_bucket(buf, sizeof buf, "/corral", 0), 0);
    assert_string_equal(buf, "/corral/tasks/00");
    assert_int_equal(corral_path_queue_bucket(buf, sizeof buf, "/corral", 255), 0);
    assert_string_equal(buf, "/corral/queue/ff");
    assert_int_equal(corral_path_queue_bucket(buf, sizeof buf, "/corral", 10), 0);
    assert_string_equal(buf, "/corral/queue/0a");
}

static void bucket_out_of_range_is_rejected(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX] = "x";
    assert_int_equal(corral_path_task_bucket(buf, sizeof buf, "/corral", 256), CORRAL_EINVAL);
    assert_string_equal(buf, "");
}

static void worker_and_assign_paths(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_worker(buf, sizeof buf, "/corral", "w1"), 0);
    assert_string_equal(buf, "/corral/workers/w1");
    assert_int_equal(corral_path_assign_dir(buf, sizeof buf, "/corral", "w1"), 0);
    assert_string_equal(buf, "/corral/assign/w1");
    assert_int_equal(corral_path_assign(buf, sizeof buf, "/corral", "w1", "t7"), 0);
    assert_string_equal(buf, "/corral/assign/w1/t7");
}

static void folders_come_from_the_dir_table(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    static const char *const want[CORRAL_DIR_COUNT] = {
        "/corral/election", "/corral/workers", "/corral/tasks",  "/corral/queue",
        "/corral/assign",   "/corral/idem",    "/corral/done",   "/corral/schedules",
        "/corral/deps",     "/corral/fleet",   "/corral/events", "/corral/output",
    };
    for (int d = 0; d < CORRAL_DIR_COUNT; d++) {
        assert_int_equal(corral_path_dir(buf, sizeof buf, "/corral", (enum corral_dir)d), 0);
        assert_string_equal(buf, want[d]);
    }
    assert_int_equal(corral_path_dir(buf, sizeof buf, "/corral", CORRAL_DIR_COUNT), CORRAL_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(corral_path_queue_signal(buf, sizeof buf, "/corral"), 0);
    assert_string_equal(buf, "/corral/queue");
    assert_int_equal(corral_path_leader(buf, sizeof buf, "/corral"), 0);
    assert_string_equal(buf, "/corral/leader");
    assert_int_equal(corral_path_schedule(buf, sizeof buf, "/corral", "nightly-1"), 0);
    assert_string_equal(buf, "/corral/schedules/nightly-1");
    assert_int_equal(corral_path_schedule(buf, sizeof buf, "/corral", "a/b"), CORRAL_EINVAL);
    assert_int_equal(corral_path_schedule(buf, sizeof buf, "/corral", ""), CORRAL_EINVAL);
    assert_int_equal(corral_path_election_prefix(buf, sizeof buf, "/corral", "ab12"), 0);
    assert_string_equal(buf, "/corral/election/n_ab12-");
    assert_int_equal(corral_path_events_gen(buf, sizeof buf, "/corral", 12), 0);
    assert_string_equal(buf, "/corral/events/0000000000000012");
    assert_int_equal(corral_path_event(buf, sizeof buf, "/corral", 12, 345), 0);
    assert_string_equal(buf, "/corral/events/0000000000000012/e-0000000345");
    assert_int_equal(corral_path_event_prefix(buf, sizeof buf, "/corral", 1), 0);
    assert_string_equal(buf, "/corral/events/0000000000000001/e-");
    assert_int_equal(corral_path_events_gen(buf, sizeof buf, "/corral", 0), CORRAL_EINVAL);
    assert_int_equal(corral_path_event(buf, sizeof buf, "/corral", 1, -1), CORRAL_EINVAL);
}

static void only_tasks_queue_and_idem_are_bucketed(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_true(corral_dir_is_bucketed(CORRAL_DIR_TASKS));
    assert_true(corral_dir_is_bucketed(CORRAL_DIR_QUEUE));
    assert_true(corral_dir_is_bucketed(CORRAL_DIR_IDEM));
    assert_false(corral_dir_is_bucketed(CORRAL_DIR_ELECTION));
    assert_false(corral_dir_is_bucketed(CORRAL_DIR_WORKERS));
    assert_false(corral_dir_is_bucketed(CORRAL_DIR_ASSIGN));
    assert_false(corral_dir_is_bucketed(CORRAL_DIR_DONE)); /* time folders, made on demand */
    assert_int_equal(corral_path_bucket_dir(buf, sizeof buf, "/c", CORRAL_DIR_IDEM, 0xab), 0);
    assert_string_equal(buf, "/c/idem/ab");
    assert_int_equal(corral_path_bucket_dir(buf, sizeof buf, "/c", CORRAL_DIR_WORKERS, 1),
                     CORRAL_EINVAL);
    char name[3];
    corral_path_bucket_name(name, 0x0f);
    assert_string_equal(name, "0f");
    assert_true(corral_path_is_bucket_name("0f"));
    assert_false(corral_path_is_bucket_name("0F"));
    assert_false(corral_path_is_bucket_name("0"));
    assert_false(corral_path_is_bucket_name("0ff"));
}

static void child_refuses_empty_and_slashed_names(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_child(buf, sizeof buf, "/c/assign", "w1"), 0);
    assert_string_equal(buf, "/c/assign/w1");
    assert_int_equal(corral_path_child(buf, sizeof buf, "/c/assign", ""), CORRAL_EINVAL);
    assert_int_equal(corral_path_child(buf, sizeof buf, "/c/assign", "a/b"), CORRAL_EINVAL);
    assert_int_equal(corral_path_child(buf, 8, "/c/assign", "w1"), CORRAL_ETOOBIG);
    assert_string_equal(buf, "");
}

static void idem_path_hex_encodes_key_bytes(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_idem(buf, sizeof buf, "/corral", "my-key"), 0);
    assert_string_equal(buf, "/corral/idem/d1/6d792d6b6579");
    /* A slash in a key stays inside one znode name. */
    assert_int_equal(corral_path_idem(buf, sizeof buf, "/corral", "a/b"), 0);
    assert_non_null(strstr(buf, "/612f62"));
    assert_int_equal(corral_path_idem(buf, sizeof buf, "/corral", "\xff\x01"), 0);
    assert_non_null(strstr(buf, "/ff01"));
}

static void idem_path_accepts_128_byte_key_and_rejects_129(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX], key[CORRAL_IDEM_KEY_MAX + 2];
    memset(key, 'k', CORRAL_IDEM_KEY_MAX);
    key[CORRAL_IDEM_KEY_MAX] = '\0';
    assert_int_equal(corral_path_idem(buf, sizeof buf, "/corral", key), 0);
    assert_int_equal(strlen(buf), strlen("/corral/idem/xx/") + 2 * CORRAL_IDEM_KEY_MAX);
    key[CORRAL_IDEM_KEY_MAX] = 'k';
    key[CORRAL_IDEM_KEY_MAX + 1] = '\0';
    assert_int_equal(corral_path_idem(buf, sizeof buf, "/corral", key), CORRAL_EINVAL);
}

static void empty_components_are_rejected(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(corral_path_task(buf, sizeof buf, "/c", ""), CORRAL_EINVAL);
    assert_int_equal(corral_path_worker(buf, sizeof buf, "/c", ""), CORRAL_EINVAL);
    assert_int_equal(corral_path_assign(buf, sizeof buf, "/c", "w", ""), CORRAL_EINVAL);
    assert_int_equal(corral_path_idem(buf, sizeof buf, "/c", ""), CORRAL_EINVAL);
}

static void path_too_long_is_etoobig_and_empty(void **state)
{
    (void)state;
    char buf[20];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(corral_path_task(buf, sizeof buf, "/corral", "019a1b2c3d4e-9f8e7d6c"),
                     CORRAL_ETOOBIG);
    assert_string_equal(buf, "");
    /* Exactly fitting (17 chars + NUL in 18 bytes) works; one byte less does not. */
    char b18[18], b17[17];
    assert_int_equal(corral_path_worker(b18, sizeof b18, "/c", "abcdef"), 0);
    assert_string_equal(b18, "/c/workers/abcdef");
    assert_int_equal(corral_path_worker(b17, sizeof b17, "/c", "abcdef"), CORRAL_ETOOBIG);
    assert_int_equal(corral_path_worker(buf, 0, "/corral", "w"), CORRAL_ETOOBIG);
}

static void namespace_validation(void **state)
{
    (void)state;
    assert_true(corral_path_valid_namespace("/corral"));
    assert_true(corral_path_valid_namespace("/a/b-c/d_e.f/G9"));
    assert_true(corral_path_valid_namespace("/zookeeperx"));
    assert_true(corral_path_valid_namespace("/x/zookeeper"));
    static const char *const bad[] = {
        "",   "/",   "corral",     "/corral/",         "//corral", "/a//b", "/a/./b", "/a/..",
        "/.", "/..", "/zookeeper", "/zookeeper/quota", "/a b",     "/a:b",  "/ä",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (corral_path_valid_namespace(bad[i]))
            fail_msg("namespace '%s' accepted", bad[i]);
    }
    assert_false(corral_path_valid_namespace(NULL));
}

static void namespace_longer_than_200_bytes_is_invalid(void **state)
{
    (void)state;
    char ns[203];
    ns[0] = '/';
    memset(ns + 1, 'a', 199);
    ns[200] = '\0';
    assert_true(corral_path_valid_namespace(ns)); /* 200 bytes */
    ns[200] = 'a';
    ns[201] = '\0';
    assert_false(corral_path_valid_namespace(ns)); /* 201 bytes */
}

static void name_validation(void **state)
{
    (void)state;
    assert_true(corral_path_valid_name("w1"));
    assert_true(corral_path_valid_name("host-1.example_2"));
    assert_true(corral_path_valid_name("..."));
    static const char *const bad[] = {"", ".", "..", "a/b", "a b", "a:b", "w\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (corral_path_valid_name(bad[i]))
            fail_msg("name '%s' accepted", bad[i]);
    }
    assert_false(corral_path_valid_name(NULL));
    char name[CORRAL_WORKER_ID_MAX + 2];
    memset(name, 'n', sizeof name);
    name[CORRAL_WORKER_ID_MAX] = '\0';
    assert_true(corral_path_valid_name(name));
    name[CORRAL_WORKER_ID_MAX] = 'n';
    name[CORRAL_WORKER_ID_MAX + 1] = '\0';
    assert_false(corral_path_valid_name(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_is_fnv1a_mod_256),
        cmocka_unit_test(bucket_is_always_below_bucket_count),
        cmocka_unit_test(task_path_uses_two_hex_digit_bucket),
        cmocka_unit_test(queue_entry_uses_same_bucket_as_task),
        cmocka_unit_test(bucket_dirs_print_bucket_in_hex),
        cmocka_unit_test(bucket_out_of_range_is_rejected),
        cmocka_unit_test(worker_and_assign_paths),
        cmocka_unit_test(folders_come_from_the_dir_table),
        cmocka_unit_test(only_tasks_queue_and_idem_are_bucketed),
        cmocka_unit_test(child_refuses_empty_and_slashed_names),
        cmocka_unit_test(idem_path_hex_encodes_key_bytes),
        cmocka_unit_test(idem_path_accepts_128_byte_key_and_rejects_129),
        cmocka_unit_test(empty_components_are_rejected),
        cmocka_unit_test(path_too_long_is_etoobig_and_empty),
        cmocka_unit_test(namespace_validation),
        cmocka_unit_test(namespace_longer_than_200_bytes_is_invalid),
        cmocka_unit_test(name_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
