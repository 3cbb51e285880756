/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/logfmt.c: level names, the line shape, the civil date, truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "corral/log.h"

static size_t fmt_line(char *buf, size_t n, int64_t ms, enum corral_log_level l, const char *fmt,
                       ...) CORRAL_PRINTF(5, 6);
static size_t fmt_line(char *buf, size_t n, int64_t ms, enum corral_log_level l, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len = corral_log_format(buf, n, ms, l, "corrald", 4242, "leader", fmt, ap);
    va_end(ap);
    return len;
}

static void level_names_match_log_level_flag(void **state)
{
    (void)state;
    assert_string_equal(corral_log_level_name(CORRAL_LOG_DEBUG), "debug");
    assert_string_equal(corral_log_level_name(CORRAL_LOG_INFO), "info");
    assert_string_equal(corral_log_level_name(CORRAL_LOG_WARN), "warn");
    assert_string_equal(corral_log_level_name(CORRAL_LOG_ERROR), "error");
    assert_string_equal(corral_log_level_name((enum corral_log_level)99), "unknown");
}

static void level_parse_round_trips_and_rejects_unknown(void **state)
{
    (void)state;
    for (int l = 0; l < CORRAL_LOG_LEVEL_COUNT; l++)
        assert_int_equal(corral_log_level_parse(corral_log_level_name((enum corral_log_level)l)),
                         l);
    assert_int_equal(corral_log_level_parse("verbose"), -1);
    assert_int_equal(corral_log_level_parse(""), -1);
    assert_int_equal(corral_log_level_parse(NULL), -1);
}

static void line_has_utc_ms_level_prog_pid_module(void **state)
{
    (void)state;
    char buf[256];
    size_t len = fmt_line(buf, sizeof buf, 1795510372123, CORRAL_LOG_INFO,
                          "assigned task=%s worker=%s attempt=%u", "t7", "w1", 2u);
    assert_string_equal(buf, "2026-11-24T08:52:52.123Z info corrald[4242] leader: assigned "
                             "task=t7 worker=w1 attempt=2\n");
    assert_int_equal(len, strlen(buf));
}

static void civil_date_is_right_around_epoch_and_leap_days(void **state)
{
    (void)state;
    struct {
        int64_t ms;
        const char *ts;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {951868799999, "2000-02-29T23:59:59.999Z"},
        {1709164800000, "2024-02-29T00:00:00.000Z"},
        {4102444800000, "2100-01-01T00:00:00.000Z"},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fmt_line(buf, sizeof buf, cases[i].ms, CORRAL_LOG_DEBUG, "x");
        assert_memory_equal(buf, cases[i].ts, 24);
    }
}

static void newlines_in_message_become_spaces(void **state)
{
    (void)state;
    char buf[256];
    fmt_line(buf, sizeof buf, 0, CORRAL_LOG_WARN, "a\nb\r\nc%s", "\n");
    const char *msg = strstr(buf, "leader: ");
    assert_non_null(msg);
    assert_string_equal(msg, "leader: a b  c \n");
    assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void long_message_is_truncated_and_ends_with_newline(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char buf[100];
    memset(buf, '#', sizeof buf);
    size_t len = fmt_line(buf, sizeof buf, 0, CORRAL_LOG_ERROR, "%s", big);
    assert_int_equal(len, sizeof buf - 1);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(buf[len - 1], '\n');
}

static void truncation_does_not_split_utf8(void **state)
{
    (void)state;
    /* Head is 52 bytes; fill so that the cut falls inside a 3-byte "€". */
    char buf[64];
    char msg[32];
    memset(msg, 'y', sizeof msg);
    size_t head = 52, room_text = sizeof buf - 2 - head; /* 10 bytes of message fit */
    memcpy(msg + room_text - 1, "\xe2\x82\xac", 3);
    msg[room_text + 2] = '\0';
    size_t len = fmt_line(buf, sizeof buf, 0, CORRAL_LOG_INFO, "%s", msg);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(buf[len - 1], '\n');
    assert_int_equal((unsigned char)buf[len - 2], 'y'); /* the partial euro sign was dropped */
}

static void tiny_buffers_stay_terminated(void **state)
{
    (void)state;
    char buf[8] = "zzzzzzz";
    assert_int_equal(fmt_line(buf, 0, 0, CORRAL_LOG_INFO, "hi"), 0);
    assert_int_equal(buf[0], 'z');
    assert_int_equal(fmt_line(buf, 1, 0, CORRAL_LOG_INFO, "hi"), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(fmt_line(buf, 2, 0, CORRAL_LOG_INFO, "hi"), 1);
    assert_string_equal(buf, "\n");
    assert_int_equal(fmt_line(buf, 8, 0, CORRAL_LOG_INFO, "hi"), 7);
    assert_string_equal(buf, "1970-0\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(level_names_match_log_level_flag),
        cmocka_unit_test(level_parse_round_trips_and_rejects_unknown),
        cmocka_unit_test(line_has_utc_ms_level_prog_pid_module),
        cmocka_unit_test(civil_date_is_right_around_epoch_and_leap_days),
        cmocka_unit_test(newlines_in_message_become_spaces),
        cmocka_unit_test(long_message_is_truncated_and_ends_with_newline),
        cmocka_unit_test(truncation_does_not_split_utf8),
        cmocka_unit_test(tiny_buffers_stay_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
