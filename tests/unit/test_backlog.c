/* SPDX-License-Identifier: MIT */
/* The accounting of the --max-queued limit (src/corrald/backlog.h, pure): what is admitted,
 * what is refused, and what a refresh keeps of this replica's own admissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Only the header's pure part is used; the test links no corrald code. */
#include "../../src/corrald/backlog.h"

/* A tally whose first refresh counted `stored` tasks at time 0. */
static struct backlog_tally counted(int64_t stored)
{
    struct backlog_tally t;
    backlog_tally_init(&t);
    backlog_tally_begin(&t, 0);
    backlog_tally_end(&t, true, stored);
    return t;
}

static void backlog_first_check_must_refresh(void **state)
{
    (void)state;
    struct backlog_tally t;
    backlog_tally_init(&t);
    assert_true(backlog_tally_due(&t, 0, 5));
    backlog_tally_begin(&t, 0);
    assert_false(backlog_tally_due(&t, 0, 5)); /* one refresh at a time */
    assert_false(backlog_tally_due(&t, 10000, 5));
}

static void backlog_admits_up_to_the_limit_and_no_further(void **state)
{
    (void)state;
    struct backlog_tally t = counted(3);
    assert_true(backlog_tally_admit(&t, 5, 1));  /* 4 */
    assert_true(backlog_tally_admit(&t, 5, 1));  /* 5: the limit itself is allowed */
    assert_false(backlog_tally_admit(&t, 5, 1)); /* 6 would pass it */
    assert_int_equal(t.accepted, 2);             /* a refusal reserves nothing */
}

static void backlog_refuses_a_batch_that_would_cross_the_limit_whole(void **state)
{
    (void)state;
    struct backlog_tally t = counted(3);
    assert_false(backlog_tally_admit(&t, 5, 3));
    assert_int_equal(t.accepted, 0);
    assert_true(backlog_tally_admit(&t, 5, 2));
    assert_int_equal(t.accepted, 2);
}

static void backlog_refuses_a_batch_larger_than_the_limit(void **state)
{
    (void)state;
    struct backlog_tally t = counted(0);
    assert_false(backlog_tally_admit(&t, 5, 6));
    assert_false(backlog_tally_admit(&t, 1, SIZE_MAX)); /* no overflow */
    assert_true(backlog_tally_admit(&t, 1, 1));
}

static void backlog_refresh_is_due_after_the_period_only(void **state)
{
    (void)state;
    struct backlog_tally t = counted(0);
    assert_false(backlog_tally_due(&t, BACKLOG_REFRESH_MS - 1, 5));
    assert_true(backlog_tally_due(&t, BACKLOG_REFRESH_MS, 5));
}

static void backlog_large_limit_far_from_full_is_counted_less_often(void **state)
{
    (void)state;
    const int64_t max = 1000000;
    struct backlog_tally t = counted(400000);
    assert_true(backlog_tally_admit(&t, max, 100000)); /* exactly half: still far */
    assert_false(backlog_tally_due(&t, BACKLOG_REFRESH_MS, max));
    assert_false(backlog_tally_due(&t, BACKLOG_REFRESH_FAR_MS - 1, max));
    assert_true(backlog_tally_due(&t, BACKLOG_REFRESH_FAR_MS, max));
    /* Past half of it, the short period again. */
    assert_true(backlog_tally_admit(&t, max, 1));
    assert_true(backlog_tally_due(&t, BACKLOG_REFRESH_MS, max));
    /* A small limit is always counted at the short period, however empty. */
    struct backlog_tally small = counted(0);
    assert_true(backlog_tally_due(&small, BACKLOG_REFRESH_MS, BACKLOG_FAR_MIN - 1));
}

static void backlog_refresh_drops_admissions_made_before_it_began(void **state)
{
    (void)state;
    struct backlog_tally t = counted(0);
    assert_true(backlog_tally_admit(&t, 10, 4));
    backlog_tally_begin(&t, 300);
    assert_true(backlog_tally_admit(&t, 10, 2)); /* while it counts: may not be seen */
    backlog_tally_end(&t, true, 4);              /* ZooKeeper holds the first 4 */
    assert_int_equal(t.stored, 4);
    assert_int_equal(t.accepted, 2);
    assert_int_equal(t.counted_ms, 300);
    assert_true(backlog_tally_admit(&t, 10, 4));
    assert_false(backlog_tally_admit(&t, 10, 1));
}

static void backlog_refresh_sees_tasks_finish(void **state)
{
    (void)state;
    struct backlog_tally t = counted(5);
    assert_false(backlog_tally_admit(&t, 5, 1));
    backlog_tally_begin(&t, 300);
    backlog_tally_end(&t, true, 2); /* workers finished 3 */
    assert_true(backlog_tally_admit(&t, 5, 3));
}

static void backlog_failed_refresh_changes_nothing_and_retries(void **state)
{
    (void)state;
    struct backlog_tally t = counted(2);
    assert_true(backlog_tally_admit(&t, 10, 1));
    backlog_tally_begin(&t, 300);
    backlog_tally_end(&t, false, 0);
    assert_int_equal(t.stored, 2);
    assert_int_equal(t.accepted, 1);
    assert_int_equal(t.counted_ms, 0);
    assert_true(backlog_tally_due(&t, 301, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backlog_first_check_must_refresh),
        cmocka_unit_test(backlog_admits_up_to_the_limit_and_no_further),
        cmocka_unit_test(backlog_refuses_a_batch_that_would_cross_the_limit_whole),
        cmocka_unit_test(backlog_refuses_a_batch_larger_than_the_limit),
        cmocka_unit_test(backlog_refresh_is_due_after_the_period_only),
        cmocka_unit_test(backlog_large_limit_far_from_full_is_counted_less_often),
        cmocka_unit_test(backlog_refresh_drops_admissions_made_before_it_began),
        cmocka_unit_test(backlog_refresh_sees_tasks_finish),
        cmocka_unit_test(backlog_failed_refresh_changes_nothing_and_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
