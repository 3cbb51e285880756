/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/text.c: UTF-8 repair, RFC 3339 times, bounded numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/text.h"

#define FFFD "\xEF\xBF\xBD"

static void check_repair(const char *in, size_t len, const char *want)
{
    char *out = corral_utf8_repair(in, len);
    assert_string_equal(out, want);
    free(out);
}

static void utf8_keeps_valid_text(void **state)
{
    (void)state;
    check_repair("hello", 5, "hello");
    check_repair("", 0, "");
    check_repair("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    check_repair("\xF4\x8F\xBF\xBF", 4, "\xF4\x8F\xBF\xBF"); /* U+10FFFF */
}

static void utf8_replaces_nul_bytes(void **state)
{
    (void)state;
    check_repair("a\0b", 3, "a" FFFD "b");
}

static void utf8_replaces_overlongs(void **state)
{
    (void)state;
    check_repair("\xC0\xAF", 2, FFFD FFFD);
    check_repair("\xE0\x80\xAF", 3, FFFD FFFD FFFD);
    check_repair("\xF0\x80\x80\xAF", 4, FFFD FFFD FFFD FFFD);
}

static void utf8_replaces_surrogates(void **state)
{
    (void)state;
    check_repair("\xED\xA0\x80", 3, FFFD FFFD FFFD);
}

static void utf8_replaces_code_points_above_10ffff(void **state)
{
    (void)state;
    check_repair("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
    check_repair("\xF5\x80", 2, FFFD FFFD);
}

static void utf8_replaces_truncated_sequence_once(void **state)
{
    (void)state;
    check_repair("\xE2\x82", 2, FFFD);          /* cut at the end */
    check_repair("\xE2\x82x", 3, FFFD "x");     /* interrupted */
    check_repair("x\xF0\x9F\x98", 4, "x" FFFD); /* 4-byte cut */
    check_repair("\x80\xBF", 2, FFFD FFFD);     /* stray continuations */
}

static void time_formats_epoch_and_ms(void **state)
{
    (void)state;
    char buf[25];
    corral_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    corral_time_format(INT64_C(1795510372123), buf);
    assert_string_equal(buf, "2026-11-24T08:52:52.123Z");
    corral_time_format(INT64_C(951782400000), buf); /* leap day 2000 */
    assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
    corral_time_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void time_format_clamps_to_four_digit_years(void **state)
{
    (void)state;
    char buf[25];
    corral_time_format(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    corral_time_format(INT64_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
}

static void time_parse_is_inverse_of_format(void **state)
{
    (void)state;
    /* Steps through many days, months and leap years. */
    for (int64_t ms = -INT64_C(100000000000); ms < INT64_C(5000000000000);
         ms += INT64_C(7777777777)) {
        char buf[25];
        int64_t back = 0;
        corral_time_format(ms, buf);
        assert_int_equal(corral_time_parse(buf, &back), 0);
        assert_int_equal(back, ms);
    }
    int64_t v;
    assert_int_equal(corral_time_parse("2026-11-24T08:52:52Z", &v), 0);
    assert_int_equal(v, INT64_C(1795510372000));
}

static void rfc3339_takes_offsets_fractions_and_lowercase(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
    } ok[] = {
        {"2026-11-24T08:52:52Z", INT64_C(1795510372000)},
        {"2026-11-24T08:52:52.123Z", INT64_C(1795510372123)},
        {"2026-11-24t08:52:52z", INT64_C(1795510372000)},
        {"2026-11-24T09:52:52+01:00", INT64_C(1795510372000)},
        {"2026-11-24T03:22:52-05:30", INT64_C(1795510372000)},
        {"2026-11-24T08:52:52.5+00:00", INT64_C(1795510372500)},
        {"2026-11-24T08:52:52.123999999Z", INT64_C(1795510372123)}, /* truncated, not rounded */
        {"2026-11-24T08:52:52-00:00", INT64_C(1795510372000)},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00+00:01", -60000}, /* before the epoch: the caller bounds it */
        {"2024-02-29T23:59:59.999Z", INT64_C(1709251199999)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t v = 42;
        if (corral_time_parse_rfc3339(ok[i].in, &v) != 0 || v != ok[i].ms)
            fail_msg("%s: got %lld, want %lld", ok[i].in, (long long)v, (long long)ok[i].ms);
    }
    static const char *const bad[] = {
        "",
        "2026-11-24",
        "2026-11-24T08:52:52",
        "2026-11-24T08:52:52.123",
        "2026-11-24 08:52:52Z",
        "2026-11-24T08:52:52.Z",
        "2026-11-24T08:52:52+0100",
        "2026-11-24T08:52:52+01",
        "2026-11-24T08:52:52+24:00",
        "2026-11-24T08:52:52+01:60",
        "2026-11-24T08:52:60Z",
        "2026-02-29T08:52:52Z",
        "2026-11-24T08:52:52ZZ",
        "2026-11-24T08:52:52Z ",
        "2026-11-24T08:52:52.12a3Z",
        "2026-11-24T08:52:52.000000000000000000000000000000000000000000000001Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v = 42;
        if (corral_time_parse_rfc3339(bad[i], &v) != CORRAL_EINVAL || v != 42)
            fail_msg("%s was accepted", bad[i]);
    }
    int64_t v;
    assert_int_equal(corral_time_parse_rfc3339(NULL, &v), CORRAL_EINVAL);
}

static void time_parse_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-11-24",
        "2026-11-24T08:52:52.123",
        "2026-11-24T08:52:52.123+01:00",
        "2026-13-24T08:52:52.123Z",
        "2026-02-29T08:52:52.123Z",
        "2026-11-31T08:52:52.123Z",
        "2026-11-24T24:00:00.000Z",
        "2026-11-24T08:60:00.000Z",
        "2026-11-24T08:52:60.000Z",
        "2026-11-24 08:52:52.123Z",
        "2026-11-24T08:52:52.12xZ",
        "+026-11-24T08:52:52.123Z",
        "2026-11-24T08:52:52.1234Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int64_t v = 42;
        assert_int_equal(corral_time_parse(bad[i], &v), CORRAL_EINVAL);
        assert_int_equal(v, 42);
    }
    int64_t v;
    assert_int_equal(corral_time_parse(NULL, &v), CORRAL_EINVAL);
}

static void parse_i64_accepts_range_and_bounds(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(corral_parse_i64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(corral_parse_i64("-1000", -1000, 1000, &v), 0);
    assert_int_equal(v, -1000);
    assert_int_equal(corral_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(corral_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
}

static void parse_i64_rejects_garbage_overflow_and_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "-",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "1x",
                                      "0x10",
                                      "1.0",
                                      "9223372036854775808",
                                      "-9223372036854775809",
                                      "11"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int64_t v = 7;
        assert_int_equal(corral_parse_i64(bad[i], INT64_MIN, 10, &v), CORRAL_EINVAL);
        assert_int_equal(v, 7);
    }
    int64_t v;
    assert_int_equal(corral_parse_i64("-1", 0, 10, &v), CORRAL_EINVAL);
    assert_int_equal(corral_parse_i64(NULL, 0, 10, &v), CORRAL_EINVAL);
}

static void parse_milli_reads_up_to_three_decimals(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(corral_parse_milli("0.5", 1024000, &v), 0);
    assert_int_equal(v, 500);
    assert_int_equal(corral_parse_milli("2", 1024000, &v), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(corral_parse_milli("0.125", 1024000, &v), 0);
    assert_int_equal(v, 125);
    assert_int_equal(corral_parse_milli("1024", 1024000, &v), 0);
    assert_int_equal(v, 1024000);
    assert_int_equal(corral_parse_milli("0", 1024000, &v), 0);
    assert_int_equal(v, 0);
}

static void parse_milli_rejects_malformed_and_above_max(void **state)
{
    (void)state;
    static const char *const bad[] = {"",    ".5",   "1.",       "-1", "0.0001",
                                      "1e3", "1.5x", "1024.001", " 1", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        uint64_t v = 9;
        assert_int_equal(corral_parse_milli(bad[i], 1024000, &v), CORRAL_EINVAL);
        assert_int_equal(v, 9);
    }
}

static void strip_controls_replaces_escapes_keeps_text(void **state)
{
    (void)state;
    char a[] = "a\x1b]0;t\x07"
               "b\tc\nd\x7f"
               "e\xc2\x9b"
               "f\xc2\xa0g\xe2\x82\xac";
    size_t n = corral_text_strip_controls(a, sizeof a - 1, true);
    assert_string_equal(a, "a?]0;t?b\tc\nd?e?f\xc2\xa0g\xe2\x82\xac");
    assert_int_equal(n, strlen(a));
    char b[] = "x\ny\r";
    corral_text_strip_controls(b, sizeof b - 1, false);
    assert_string_equal(b, "x?y?");
    char c[] = "\xc2"; /* a lone lead byte at the end is not a C1 control */
    assert_int_equal(corral_text_strip_controls(c, 1, true), 1);
    char d[] = "";
    assert_int_equal(corral_text_strip_controls(d, 0, true), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_keeps_valid_text),
        cmocka_unit_test(utf8_replaces_nul_bytes),
        cmocka_unit_test(utf8_replaces_overlongs),
        cmocka_unit_test(utf8_replaces_surrogates),
        cmocka_unit_test(utf8_replaces_code_points_above_10ffff),
        cmocka_unit_test(utf8_replaces_truncated_sequence_once),
        cmocka_unit_test(time_formats_epoch_and_ms),
        cmocka_unit_test(time_format_clamps_to_four_digit_years),
        cmocka_unit_test(time_parse_is_inverse_of_format),
        cmocka_unit_test(time_parse_rejects_garbage),
        cmocka_unit_test(rfc3339_takes_offsets_fractions_and_lowercase),
        cmocka_unit_test(parse_i64_accepts_range_and_bounds),
        cmocka_unit_test(parse_i64_rejects_garbage_overflow_and_range),
        cmocka_unit_test(parse_milli_reads_up_to_three_decimals),
        cmocka_unit_test(parse_milli_rejects_malformed_and_above_max),
        cmocka_unit_test(strip_controls_replaces_escapes_keeps_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
