/* SPDX-License-Identifier: MIT */
/* Queue entry names (corral/queue_entry.h): the keys a name carries round-trip exactly, the
 * bare-id form of older versions still decodes, and every other name is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "corral/paths.h"
#include "corral/queue_entry.h"
#include "corral/task.h"

#define ID "019a1b2c3d4e-9f8e7d6c"

static struct corral_task task_with(int priority, int64_t submitted, bool has_est, uint64_t est,
                                    uint32_t cpu, uint64_t mem, int64_t nb)
{
    struct corral_task t = {0};
    snprintf(t.id, sizeof t.id, "%s", ID);
    t.state = CORRAL_STATE_QUEUED;
    t.spec.priority = priority;
    t.submitted_at_ms = submitted;
    t.spec.has_estimated = has_est;
    t.spec.estimated_ms = est;
    t.spec.cpu_milli = cpu;
    t.spec.mem_mb = mem;
    t.not_before_ms = nb;
    return t;
}

static void round_trip(const struct corral_task *t)
{
    char name[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_entry_name(t, name);
    struct corral_queue_key k;
    assert_true(corral_queue_key_decode(name, &k));
    assert_false(k.legacy);
    assert_string_equal(k.id, ID);
    assert_int_equal(k.priority, t->spec.priority);
    assert_int_equal(k.submitted_at_ms, t->submitted_at_ms);
    assert_int_equal(k.has_estimated, t->spec.has_estimated);
    if (t->spec.has_estimated)
        assert_int_equal(k.estimated_ms, t->spec.estimated_ms);
    assert_int_equal(k.cpu_milli, t->spec.cpu_milli);
    assert_int_equal(k.mem_mb, t->spec.mem_mb);
    assert_int_equal(k.not_before_ms, t->not_before_ms);
    char id[CORRAL_ID_LEN + 1];
    assert_true(corral_queue_entry_parse(name, id));
    assert_string_equal(id, ID);
    /* The canonical name is the one the task gives. */
    char again[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_key_format(&k, again);
    assert_string_equal(again, name);
}

static void test_round_trips(void **state)
{
    (void)state;
    struct corral_task cases[] = {
        task_with(0, 1764921600123, false, 0, 1000, 0, 0),
        task_with(-1000, 1, true, 0, 0, 0, 0),
        task_with(1000, INT64_C(0xffffffffffff), true, UINT64_MAX, UINT32_MAX, UINT64_MAX,
                  INT64_C(0xffffffffffff)),
        task_with(17, 1764921600123, true, 250, 500, 4096, 1764921605000),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        round_trip(&cases[i]);
}

static void test_example_and_bucket(void **state)
{
    (void)state;
    struct corral_task t = task_with(0, 0x19a1b2c3d4e, false, 0, 1000, 0, 0);
    char name[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_entry_name(&t, name);
    assert_string_equal(name, ID ".3e8.19a1b2c3d4e.-.3e8.0.0");
    /* The entry lives in the bucket of its task id, whatever its keys. */
    char path[256], want[256];
    assert_int_equal(corral_queue_entry_path(path, sizeof path, "/c", &t), 0);
    snprintf(want, sizeof want, "/c/queue/%02x/%s", corral_path_bucket(ID), name);
    assert_string_equal(path, want);
    assert_int_equal(corral_queue_entry_path_of_name(path, sizeof path, "/c", ID), 0);
    snprintf(want, sizeof want, "/c/queue/%02x/%s", corral_path_bucket(ID), ID);
    assert_string_equal(path, want);
}

static void test_legacy(void **state)
{
    (void)state;
    struct corral_queue_key k;
    assert_true(corral_queue_key_decode(ID, &k));
    assert_true(k.legacy);
    assert_string_equal(k.id, ID);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "x",
        "019a1b2c3d4e-9f8e7d6",                /* short id */
        "019A1B2C3D4E-9F8E7D6C",               /* uppercase */
        ID ".",                                /* empty fields */
        ID ".3e8",                             /* missing fields */
        ID ".3e8.1.-.3e8.0",                   /* one short */
        ID ".3e8.1.-.3e8.0.0.0",               /* one too many */
        ID ".7d1.1.-.3e8.0.0",                 /* priority 1001 */
        ID ".3e8.1.-.3e8.0.0.",                /* trailing dot */
        ID ".3e8.1..3e8.0.0",                  /* empty estimate */
        ID ".3E8.1.-.3e8.0.0",                 /* uppercase hex */
        ID ".3e8.1.-.3e8.-1.0",                /* sign */
        ID ".3e8.1.-.123456789.0.0",           /* cpu over 32 bits */
        ID ".3e8.1234567890abc.-.3e8.0.0",     /* time over 48 bits */
        ID ".3e8.1.12345678901234567.3e8.0.0", /* estimate over 64 bits */
        ID "x.3e8.1.-.3e8.0.0",                /* id then junk */
        ID ".3e8.1.-.3e8.0.0 ",                /* space */
        "../" ID,                              /* path */
        /* Leading zeros: a second name of the same keys (fuzz_queue_entry found it). */
        ID ".03e8.1.-.3e8.0.0",
        ID ".3e8.01.-.3e8.0.0",
        ID ".3e8.1.00.3e8.0.0",
        ID ".3e8.1.-.03e8.0.0",
        ID ".3e8.1.-.3e8.00.0",
        ID ".7d0.19a1b2c3d4e.64.0.019a1b400.19a1b2c3e00",
        ID ".3e8.1.-.3e8.0.01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct corral_queue_key k;
        if (corral_queue_key_decode(bad[i], &k))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    struct corral_queue_key zero;
    assert_true(corral_queue_key_decode(ID ".0.0.0.0.0.0", &zero)); /* "0" itself is canonical */
    char canon[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_key_name(&zero, canon);
    assert_string_equal(canon, ID ".0.0.0.0.0.0");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    struct corral_queue_key k;
    assert_false(corral_queue_key_decode(longname, &k));
    assert_false(corral_queue_key_decode(NULL, &k));
    char path[256];
    assert_int_not_equal(corral_queue_entry_path_of_name(path, sizeof path, "/c", "nope"), 0);
    assert_string_equal(path, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_example_and_bucket),
        cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
