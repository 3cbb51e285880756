/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/privilege.c: --run-as values, who may run tasks, task rlimits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "corral/privilege.h"

static void run_as_accepts_a_numeric_uid(void **state)
{
    (void)state;
    bool numeric = false;
    uint32_t uid = 7;
    assert_int_equal(corral_run_as_parse("1000", &numeric, &uid, NULL), CORRAL_OK);
    assert_true(numeric);
    assert_int_equal(uid, 1000);
    assert_int_equal(corral_run_as_parse("0", &numeric, &uid, NULL), CORRAL_OK);
    assert_int_equal(uid, 0);
    assert_int_equal(corral_run_as_parse("4294967294", &numeric, &uid, NULL), CORRAL_OK);
    assert_int_equal(uid, 4294967294u);
}

static void run_as_rejects_uid_minus_one_and_overflow(void **state)
{
    (void)state;
    bool numeric;
    uint32_t uid;
    struct corral_error err = {0};
    assert_int_equal(corral_run_as_parse("4294967295", &numeric, &uid, &err), CORRAL_EUSAGE);
    assert_string_equal(err.field, "--run-as");
    assert_int_equal(corral_run_as_parse("99999999999999999999999", &numeric, &uid, NULL),
                     CORRAL_EUSAGE);
}

static void run_as_accepts_user_names(void **state)
{
    (void)state;
    bool numeric = true;
    uint32_t uid;
    const char *ok[] = {"corral", "corral-task", "svc_1.x", "MACHINE$", "a"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        numeric = true;
        assert_int_equal(corral_run_as_parse(ok[i], &numeric, &uid, NULL), CORRAL_OK);
        assert_false(numeric);
    }
}

static void run_as_rejects_bad_names(void **state)
{
    (void)state;
    bool numeric;
    uint32_t uid;
    const char *bad[] = {"",
                         "-x",
                         "a b",
                         "a:b",
                         "a/b",
                         "$(id)",
                         "x;y",
                         "a$b",
                         "1a\n",
                         "12 ",
                         "name\x01",
                         "ünï",
                         "abcdefghijklmnopqrstuvwxyz0123456"}; /* 33 characters */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct corral_error err = {0};
        assert_int_equal(corral_run_as_parse(bad[i], &numeric, &uid, &err), CORRAL_EUSAGE);
        assert_string_equal(err.field, "--run-as");
    }
    assert_int_equal(corral_run_as_parse(NULL, &numeric, &uid, NULL), CORRAL_EUSAGE);
}

static void root_without_run_as_or_allow_root_is_refused(void **state)
{
    (void)state;
    struct corral_error err = {0};
    assert_int_equal(corral_worker_identity_check(0, false, 0, false, &err), CORRAL_EUSAGE);
    assert_non_null(strstr(err.msg, "--run-as"));
    assert_non_null(strstr(err.msg, "--allow-root"));
    assert_int_equal(corral_worker_identity_check(0, false, 0, true, NULL), CORRAL_OK);
    assert_int_equal(corral_worker_identity_check(0, true, 1000, false, NULL), CORRAL_OK);
}

static void non_root_worker_needs_no_flag(void **state)
{
    (void)state;
    assert_int_equal(corral_worker_identity_check(1000, false, 0, false, NULL), CORRAL_OK);
    /* --run-as itself: nothing to switch. */
    assert_int_equal(corral_worker_identity_check(1000, true, 1000, false, NULL), CORRAL_OK);
}

static void run_as_another_user_needs_root(void **state)
{
    (void)state;
    struct corral_error err = {0};
    assert_int_equal(corral_worker_identity_check(1000, true, 1001, false, &err), CORRAL_EUSAGE);
    assert_string_equal(err.field, "--run-as");
    assert_non_null(strstr(err.msg, "root"));
}

static void run_as_root_needs_allow_root(void **state)
{
    (void)state;
    assert_int_equal(corral_worker_identity_check(0, true, 0, false, NULL), CORRAL_EUSAGE);
    assert_int_equal(corral_worker_identity_check(0, true, 0, true, NULL), CORRAL_OK);
}

static void switch_only_when_the_uid_differs(void **state)
{
    (void)state;
    assert_true(corral_run_as_needs_switch(0, true, 1000));
    assert_false(corral_run_as_needs_switch(0, false, 0));
    assert_false(corral_run_as_needs_switch(1000, true, 1000));
    assert_false(corral_run_as_needs_switch(0, true, 0));
}

static void limits_without_mem_mb_leave_address_space_alone(void **state)
{
    (void)state;
    struct corral_task_limits l;
    corral_task_limits_compute(0, false, &l);
    assert_true(l.as_bytes == CORRAL_RLIM_NONE);
    assert_true(l.fsize_bytes == CORRAL_TASK_FSIZE_BYTES);
    assert_true(l.nproc == CORRAL_RLIM_NONE);
}

static void limits_address_space_is_a_generous_multiple_of_mem_mb(void **state)
{
    (void)state;
    struct corral_task_limits l;
    corral_task_limits_compute(256, true, &l);
    assert_true(l.as_bytes == (256ull * 4u + 1024u) << 20); /* 2 GiB */
    assert_true(l.nproc == CORRAL_TASK_NPROC);
    corral_task_limits_compute(1, false, &l);
    assert_true(l.as_bytes == 1028ull << 20);
}

static void limits_huge_mem_mb_means_no_address_space_limit(void **state)
{
    (void)state;
    struct corral_task_limits l;
    corral_task_limits_compute(UINT64_MAX, false, &l);
    assert_true(l.as_bytes == CORRAL_RLIM_NONE);
    corral_task_limits_compute(1024ull * 1024u * 1024u, false, &l); /* CORRAL_MEM_MAX_MB */
    assert_true(l.as_bytes == (1024ull * 1024u * 1024u * 4u + 1024u) << 20);
}

static void rlim_lower_never_raises(void **state)
{
    (void)state;
    assert_true(corral_rlim_lower(CORRAL_RLIM_NONE, 10) == 10);
    assert_true(corral_rlim_lower(5, 10) == 5);
    assert_true(corral_rlim_lower(5, CORRAL_RLIM_NONE) == 5);
    assert_true(corral_rlim_lower(CORRAL_RLIM_NONE, CORRAL_RLIM_NONE) == CORRAL_RLIM_NONE);
}

static void user_may_write_as_owner_group_or_other(void **state)
{
    (void)state;
    const uint32_t groups[] = {100, 200};
    /* Owner, whatever the mode. */
    assert_true(corral_user_may_write(1000, 1000, groups, 2, 1000, 0, 0500));
    /* Others-writable. */
    assert_true(corral_user_may_write(1000, 1000, groups, 2, 0, 0, 0777));
    assert_true(corral_user_may_write(1000, 1000, groups, 2, 0, 0, 01777));
    /* Group-writable: only through the primary or a supplementary group. */
    assert_true(corral_user_may_write(1000, 1000, groups, 2, 0, 1000, 0770));
    assert_true(corral_user_may_write(1000, 1000, groups, 2, 0, 200, 0770));
    assert_false(corral_user_may_write(1000, 1000, groups, 2, 0, 300, 0770));
    /* The usual work dirs. */
    assert_false(corral_user_may_write(1000, 1000, groups, 2, 0, 0, 0700));
    assert_false(corral_user_may_write(1000, 1000, groups, 2, 0, 100, 0750));
    assert_false(corral_user_may_write(1000, 1000, NULL, 0, 0, 0, 0755));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_as_accepts_a_numeric_uid),
        cmocka_unit_test(run_as_rejects_uid_minus_one_and_overflow),
        cmocka_unit_test(run_as_accepts_user_names),
        cmocka_unit_test(run_as_rejects_bad_names),
        cmocka_unit_test(root_without_run_as_or_allow_root_is_refused),
        cmocka_unit_test(non_root_worker_needs_no_flag),
        cmocka_unit_test(run_as_another_user_needs_root),
        cmocka_unit_test(run_as_root_needs_allow_root),
        cmocka_unit_test(switch_only_when_the_uid_differs),
        cmocka_unit_test(limits_without_mem_mb_leave_address_space_alone),
        cmocka_unit_test(limits_address_space_is_a_generous_multiple_of_mem_mb),
        cmocka_unit_test(limits_huge_mem_mb_means_no_address_space_limit),
        cmocka_unit_test(rlim_lower_never_raises),
        cmocka_unit_test(user_may_write_as_owner_group_or_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
