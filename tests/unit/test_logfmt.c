/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/logfmt.c: level names, the line shape, the civil date, truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "corral/log.h"

/* One JSON line: a single object, ending with '\n', nothing else on it. */
static json_t *json_line(const char *buf, size_t len)
{
    assert_true(len > 2);
    assert_int_equal(buf[len - 1], '\n');
    assert_int_equal(strlen(buf), len);
    assert_null(memchr(buf, '\n', len - 1));
    json_error_t e;
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!o)
        fail_msg("not JSON (%s): %s", e.text, buf);
    assert_true(json_is_object(o));
    return o;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void json_lines_carry_the_fields_of_a_task(void **state)
{
    (void)state;
    char buf[4096];
    size_t len = corral_log_json(buf, sizeof buf, 1732438372123, CORRAL_LOG_INFO, "corral-worker",
                                 4242, "worker", "worker", "w1",
                                 "task=019a1b2c3d4e-9f8e7d6c state=running->succeeded attempt=2 "
                                 "epoch=7 exit_code=0 error=\"no \\\"such\\\" file\" worker=w1");
    json_t *o = json_line(buf, len);
    assert_string_equal(jstr(o, "ts"), "2024-11-24T08:52:52.123Z");
    assert_string_equal(jstr(o, "level"), "info");
    assert_string_equal(jstr(o, "prog"), "corral-worker");
    assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
    assert_string_equal(jstr(o, "module"), "worker");
    assert_string_equal(jstr(o, "worker"), "w1");
    assert_string_equal(jstr(o, "task"), "019a1b2c3d4e-9f8e7d6c");
    assert_string_equal(jstr(o, "state"), "running->succeeded");
    assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "epoch")), 7);
    assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 0);
    assert_string_equal(jstr(o, "error"), "no \\\"such\\\" file");
    assert_non_null(strstr(jstr(o, "msg"), "task=019a1b2c3d4e-9f8e7d6c state="));
    json_decref(o);
}

static void json_lines_survive_hostile_messages(void **state)
{
    (void)state;
    char buf[4096];
    /* control characters, invalid UTF-8, a forged field and a forged line */
    size_t len =
        corral_log_json(buf, sizeof buf, 0, CORRAL_LOG_WARN, "corrald", 1, "api", "replica", "r\"1",
                        "bad \x01\x7f\xff\xc3( msg=forged level=debug\n{\"x\":1} "
                        "attempt=007 n=-12 big=1234567890123456789 =x a==b");
    json_t *o = json_line(buf, len);
    assert_string_equal(jstr(o, "level"), "warn");
    assert_string_equal(jstr(o, "replica"), "r\"1");
    assert_non_null(strstr(jstr(o, "msg"), "bad \x01\x7f\xef\xbf\xbd\xef\xbf\xbd("));
    assert_string_equal(jstr(o, "attempt"), "007"); /* not a JSON number */
    assert_int_equal(json_integer_value(json_object_get(o, "n")), -12);
    assert_string_equal(jstr(o, "big"), "1234567890123456789");
    json_decref(o);

    /* a message far over the buffer: cut, still one valid object */
    char huge[6000];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "task=t1 ", 8);
    memcpy(huge + 2000, "\xe2\x82\xac", 3);
    for (size_t n = 256; n <= sizeof buf; n += 97) {
        len = corral_log_json(buf, n, 0, CORRAL_LOG_ERROR, "corrald", 1, "leader", "replica", "r1",
                              huge);
        assert_true(len < n);
        o = json_line(buf, len);
        assert_non_null(jstr(o, "msg"));
        json_decref(o);
    }
    /* tiny buffers stay terminated */
    assert_int_equal(corral_log_json(buf, 3, 0, CORRAL_LOG_INFO, "p", 1, "m", NULL, NULL, "x"), 0);
    assert_int_equal(buf[0], '\0');
}

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
        cmocka_unit_test(json_lines_carry_the_fields_of_a_task),
        cmocka_unit_test(json_lines_survive_hostile_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
