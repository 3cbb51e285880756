/* SPDX-License-Identifier: MIT */
/* The done index's names (corral/done_entry.h): encoding, order, folders, hostile names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/done_entry.h"
#include "corral/paths.h"

#define ID  "019a1b2c3d4e-9f8e7d6c"
#define ID2 "019a1b2c3d4e-9f8e7d6d"
#define MS  INT64_C(1732438372123) /* hour 481232, minute 52, slot 521 */

static struct corral_task task(enum corral_state st, int64_t finished, char *key)
{
    struct corral_task t = {.state = st, .finished_at_ms = finished};
    memcpy(t.id, ID, sizeof t.id);
    t.spec.idempotency_key = key;
    return t;
}

static void entry_of_a_final_task_round_trips_through_its_name(void **state)
{
    (void)state;
    char key[] = "k";
    struct corral_task t = task(CORRAL_STATE_SUCCEEDED, MS, key);
    struct corral_done_entry e, back;
    assert_int_equal(corral_done_entry_of(&t, &e), 0);
    char name[CORRAL_DONE_NAME_LEN + 1];
    corral_done_entry_name(&e, name);
    assert_string_equal(name, "1732438372123-" ID "-sk");
    assert_int_equal(strlen(name), CORRAL_DONE_NAME_LEN);
    assert_true(corral_done_entry_parse(name, &back));
    assert_true(back.finished_ms == MS);
    assert_int_equal(back.state, CORRAL_STATE_SUCCEEDED);
    assert_true(back.has_key);
    assert_string_equal(back.id, ID);

    t = task(CORRAL_STATE_FAILED, MS, NULL);
    assert_int_equal(corral_done_entry_of(&t, &e), 0);
    corral_done_entry_name(&e, name);
    assert_string_equal(name, "1732438372123-" ID "-fn");
    t = task(CORRAL_STATE_CANCELLED, 5, NULL);
    assert_int_equal(corral_done_entry_of(&t, &e), 0);
    corral_done_entry_name(&e, name);
    assert_string_equal(name, "0000000000005-" ID "-cn");
    assert_true(corral_done_entry_parse(name, &back));
    assert_int_equal(back.state, CORRAL_STATE_CANCELLED);
    assert_false(back.has_key);
}

static void only_final_tasks_with_valid_ids_have_an_entry(void **state)
{
    (void)state;
    struct corral_done_entry e;
    static const enum corral_state live[] = {CORRAL_STATE_QUEUED, CORRAL_STATE_ASSIGNED,
                                             CORRAL_STATE_RUNNING, CORRAL_STATE_CANCELLING};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        struct corral_task t = task(live[i], MS, NULL);
        assert_int_equal(corral_done_entry_of(&t, &e), CORRAL_EINVAL);
    }
    struct corral_task t = task(CORRAL_STATE_SUCCEEDED, MS, NULL);
    memcpy(t.id, "not-an-id", 10);
    assert_int_equal(corral_done_entry_of(&t, &e), CORRAL_EINVAL);
}

static void times_out_of_range_are_clamped(void **state)
{
    (void)state;
    struct corral_done_entry e;
    struct corral_task t = task(CORRAL_STATE_SUCCEEDED, -1, NULL);
    assert_int_equal(corral_done_entry_of(&t, &e), 0);
    assert_true(e.finished_ms == 0);
    t.finished_at_ms = INT64_MAX;
    assert_int_equal(corral_done_entry_of(&t, &e), 0);
    assert_true(e.finished_ms == CORRAL_DONE_MS_MAX);
    char path[CORRAL_PATH_MAX];
    assert_int_equal(corral_done_entry_path(path, sizeof path, "/c", &e), 0);
    assert_string_equal(path, "/c/done/2777777/46/399/9999999999999-" ID "-sn");
}

static void names_sort_by_finish_time_then_id(void **state)
{
    (void)state;
    struct corral_done_entry a = {.finished_ms = 999, .state = CORRAL_STATE_SUCCEEDED};
    struct corral_done_entry b = {.finished_ms = 1000, .state = CORRAL_STATE_FAILED};
    struct corral_done_entry c = b;
    memcpy(a.id, ID2, sizeof a.id);
    memcpy(b.id, ID, sizeof b.id);
    memcpy(c.id, ID2, sizeof c.id);
    c.state = CORRAL_STATE_CANCELLED;
    char na[CORRAL_DONE_NAME_LEN + 1], nb[CORRAL_DONE_NAME_LEN + 1], nc[CORRAL_DONE_NAME_LEN + 1];
    corral_done_entry_name(&a, na);
    corral_done_entry_name(&b, nb);
    corral_done_entry_name(&c, nc);
    assert_true(strcmp(na, nb) < 0); /* earlier time first, whatever the id */
    assert_true(strcmp(nb, nc) < 0); /* same time: by id, whatever the state */
    assert_true(corral_done_entry_cmp(&a, 1000, "") < 0);
    assert_true(corral_done_entry_cmp(&b, 1000, "") > 0); /* "" is before every id */
    assert_int_equal(corral_done_entry_cmp(&b, 1000, ID), 0);
    assert_true(corral_done_entry_cmp(&c, 1000, ID) > 0);
    assert_true(corral_done_entry_cmp(&c, 1001, "") < 0);
}

static void folders_split_time_into_hour_minute_and_slot(void **state)
{
    (void)state;
    char path[CORRAL_PATH_MAX];
    struct corral_done_entry e = {.finished_ms = MS, .state = CORRAL_STATE_SUCCEEDED};
    memcpy(e.id, ID, sizeof e.id);
    assert_int_equal(corral_done_entry_path(path, sizeof path, "/c", &e), 0);
    assert_string_equal(path, "/c/done/0481232/52/521/1732438372123-" ID "-sn");
    assert_int_equal(corral_done_slot_path(path, sizeof path, "/c", corral_done_slot_of(MS)), 0);
    assert_string_equal(path, "/c/done/0481232/52/521");
    assert_int_equal(corral_done_minute_path(path, sizeof path, "/c", corral_done_minute_of(MS)),
                     0);
    assert_string_equal(path, "/c/done/0481232/52");
    assert_int_equal(corral_done_hour_path(path, sizeof path, "/c", corral_done_hour_of(MS)), 0);
    assert_string_equal(path, "/c/done/0481232");
    /* The last slot of a minute and the first of the next. */
    assert_int_equal(corral_done_slot_path(path, sizeof path, "/c", 599), 0);
    assert_string_equal(path, "/c/done/0000000/00/599");
    assert_int_equal(corral_done_slot_path(path, sizeof path, "/c", 600), 0);
    assert_string_equal(path, "/c/done/0000000/01/000");
    assert_int_equal(corral_done_slot_path(path, sizeof path, "/c", 36000), 0);
    assert_string_equal(path, "/c/done/0000001/00/000");
    /* Out of range: nothing is built. */
    assert_int_equal(corral_done_slot_path(path, sizeof path, "/c", -1), CORRAL_EINVAL);
    assert_string_equal(path, "");
    assert_int_equal(corral_done_slot_path(path, sizeof path, "/c", INT64_MAX), CORRAL_EINVAL);
    assert_int_equal(corral_done_hour_path(path, sizeof path, "/c", -3), CORRAL_EINVAL);
    assert_int_equal(corral_done_minute_path(path, sizeof path, "/c", INT64_MAX / 2),
                     CORRAL_EINVAL);
    assert_int_equal(corral_done_slot_path(path, 10, "/c", 1), CORRAL_ETOOBIG);
}

static void folder_names_parse_to_absolute_numbers(void **state)
{
    (void)state;
    int64_t h = -1, m = -1, s = -1;
    assert_true(corral_done_hour_parse("0481232", &h));
    assert_true(h == 481232);
    assert_true(corral_done_minute_parse("52", h, &m));
    assert_true(m == corral_done_minute_of(MS));
    assert_true(corral_done_slot_parse("521", m, &s));
    assert_true(s == corral_done_slot_of(MS));
    assert_true(corral_done_hour_parse("2777777", &h));
    assert_true(corral_done_minute_parse("59", 0, &m));
    assert_true(corral_done_slot_parse("599", 0, &s));
}

static void hostile_folder_names_are_refused(void **state)
{
    (void)state;
    int64_t v = 42;
    static const char *const hours[] = {"",        "481232",  "04812320", "-481232", "048123a",
                                        " 481232", "2777778", "9999999",  "0x12345", "+481232"};
    for (size_t i = 0; i < sizeof hours / sizeof hours[0]; i++)
        if (corral_done_hour_parse(hours[i], &v))
            fail_msg("hour name accepted: '%s'", hours[i]);
    assert_false(corral_done_hour_parse(NULL, &v));
    static const char *const minutes[] = {"", "6", "60", "99", "-1", "5a", "005", "+5"};
    for (size_t i = 0; i < sizeof minutes / sizeof minutes[0]; i++)
        if (corral_done_minute_parse(minutes[i], 1, &v))
            fail_msg("minute name accepted: '%s'", minutes[i]);
    assert_false(corral_done_minute_parse("05", -1, &v));
    static const char *const slots[] = {"", "60", "600", "999", "-01", "0000", "1e2", " 12"};
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
        if (corral_done_slot_parse(slots[i], 1, &v))
            fail_msg("slot name accepted: '%s'", slots[i]);
    assert_false(corral_done_slot_parse("005", -1, &v));
    assert_true(v == 42); /* never written on failure */
}

static void hostile_entry_names_are_refused(void **state)
{
    (void)state;
    static const char *const names[] = {
        "",
        "x",
        "1732438372123-" ID "-s",                 /* short */
        "1732438372123-" ID "-snn",               /* long */
        "1732438372123-" ID "-xn",                /* unknown state */
        "1732438372123-" ID "-qn",                /* not a final state */
        "1732438372123-" ID "-sy",                /* unknown key flag */
        "1732438372123_" ID "-sn",                /* separator */
        "1732438372123-" ID "_sn",                /* separator */
        "173243837212a-" ID "-sn",                /* time not digits */
        "-732438372123-" ID "-sn",                /* signed time */
        " 732438372123-" ID "-sn",                /* space */
        "1732438372123-019A1B2C3D4E-9F8E7D6C-sn", /* uppercase id */
        "1732438372123-019a1b2c3d4e_9f8e7d6c-sn", /* not an id */
        "1732438372123-019a1b2c3d4e-9f8e7d6/-sn", /* a slash */
        "17324383721230-19a1b2c3d4e-9f8e7d6c-sn", /* shifted fields */
        "1732438372123-" ID "-sn\n",              /* trailing newline */
        "1732438372123-" ID "-sn"
        "1732438372123-", /* two names run together */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct corral_done_entry e = {.finished_ms = 7};
        if (corral_done_entry_parse(names[i], &e))
            fail_msg("entry name accepted: '%s'", names[i]);
        assert_true(e.finished_ms == 7); /* untouched */
    }
    struct corral_done_entry e;
    assert_false(corral_done_entry_parse(NULL, &e));
    /* A name with a NUL inside is only its prefix, which is too short. */
    char buf[CORRAL_DONE_NAME_LEN + 1];
    memcpy(buf, "1732438372123-" ID "-sn", sizeof buf);
    buf[20] = '\0';
    assert_false(corral_done_entry_parse(buf, &e));
}

static void path_levels_must_be_whole_components(void **state)
{
    (void)state;
    char path[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_done(path, sizeof path, "/c", "0000001", "02", "003", "e"), 0);
    assert_string_equal(path, "/c/done/0000001/02/003/e");
    assert_int_equal(corral_path_done(path, sizeof path, "/c", "0000001", NULL, NULL, NULL), 0);
    assert_string_equal(path, "/c/done/0000001");
    assert_int_equal(corral_path_done(path, sizeof path, "/c", "0000001", NULL, "003", NULL),
                     CORRAL_EINVAL);
    assert_string_equal(path, "");
    assert_int_equal(corral_path_done(path, sizeof path, "/c", NULL, NULL, NULL, NULL),
                     CORRAL_EINVAL);
    assert_int_equal(corral_path_done(path, sizeof path, "/c", "0000001", "", NULL, NULL),
                     CORRAL_EINVAL);
    assert_int_equal(corral_path_done(path, sizeof path, "/c", "0000001", "02", "0/3", NULL),
                     CORRAL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_of_a_final_task_round_trips_through_its_name),
        cmocka_unit_test(only_final_tasks_with_valid_ids_have_an_entry),
        cmocka_unit_test(times_out_of_range_are_clamped),
        cmocka_unit_test(names_sort_by_finish_time_then_id),
        cmocka_unit_test(folders_split_time_into_hour_minute_and_slot),
        cmocka_unit_test(folder_names_parse_to_absolute_numbers),
        cmocka_unit_test(hostile_folder_names_are_refused),
        cmocka_unit_test(hostile_entry_names_are_refused),
        cmocka_unit_test(path_levels_must_be_whole_components),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
