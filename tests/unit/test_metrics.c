/* SPDX-License-Identifier: MIT */
/* The pure parts of /metrics (corral/metrics.h): priority bands, bucket choice, histogram text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "corral/metrics.h"

static void bands_split_priorities(void **state)
{
    (void)state;
    assert_int_equal(corral_priority_band(-1000), CORRAL_BAND_LOW);
    assert_int_equal(corral_priority_band(-1), CORRAL_BAND_LOW);
    assert_int_equal(corral_priority_band(0), CORRAL_BAND_NORMAL);
    assert_int_equal(corral_priority_band(1), CORRAL_BAND_HIGH);
    assert_int_equal(corral_priority_band(99), CORRAL_BAND_HIGH);
    assert_int_equal(corral_priority_band(100), CORRAL_BAND_URGENT);
    assert_int_equal(corral_priority_band(1000), CORRAL_BAND_URGENT);
    assert_string_equal(corral_band_name(CORRAL_BAND_LOW), "low");
    assert_string_equal(corral_band_name(CORRAL_BAND_URGENT), "urgent");
}

static void buckets_are_upper_bounds(void **state)
{
    (void)state;
    for (size_t i = 1; i < CORRAL_LATENCY_BUCKETS; i++)
        assert_true(corral_latency_le_s[i] > corral_latency_le_s[i - 1]);
    for (size_t i = 1; i < CORRAL_WAIT_BUCKETS; i++)
        assert_true(corral_wait_le_s[i] > corral_wait_le_s[i - 1]);
    assert_int_equal(corral_histo_index(corral_latency_le_s, CORRAL_LATENCY_BUCKETS, 0), 0);
    assert_int_equal(corral_histo_index(corral_latency_le_s, CORRAL_LATENCY_BUCKETS, 0.001), 0);
    assert_int_equal(corral_histo_index(corral_latency_le_s, CORRAL_LATENCY_BUCKETS, 0.0011), 1);
    assert_int_equal(corral_histo_index(corral_latency_le_s, CORRAL_LATENCY_BUCKETS, 1e9),
                     CORRAL_LATENCY_BUCKETS);
}

static void histogram_text_is_cumulative(void **state)
{
    (void)state;
    static const double le[3] = {0.1, 1, 10};
    uint64_t counts[4] = {2, 0, 3, 1};
    char buf[1024];
    int n = corral_metrics_histogram(buf, sizeof buf, 0, "x_seconds", "Some help.", le, 3, counts,
                                     12.5);
    assert_true(n > 0);
    assert_string_equal(buf, "# HELP x_seconds Some help.\n"
                             "# TYPE x_seconds histogram\n"
                             "x_seconds_bucket{le=\"0.1\"} 2\n"
                             "x_seconds_bucket{le=\"1\"} 2\n"
                             "x_seconds_bucket{le=\"10\"} 5\n"
                             "x_seconds_bucket{le=\"+Inf\"} 6\n"
                             "x_seconds_sum 12.500000\n"
                             "x_seconds_count 6\n");
    /* appends; and refuses what does not fit, whatever the size */
    int m = corral_metrics_histogram(buf, sizeof buf, (size_t)n, "y", "h", le, 3, counts, 0);
    assert_true(m > n);
    assert_non_null(strstr(buf + n, "# TYPE y histogram"));
    for (size_t cap = 0; cap < (size_t)n; cap += 7)
        assert_int_equal(
            corral_metrics_histogram(buf, cap, 0, "x_seconds", "Some help.", le, 3, counts, 12.5),
            -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bands_split_priorities),
        cmocka_unit_test(buckets_are_upper_bounds),
        cmocka_unit_test(histogram_text_is_cumulative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
