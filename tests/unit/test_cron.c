/* SPDX-License-Identifier: MIT */
/* Cron expressions, time zones and misfire decisions (corral/cron.h, corral/tz.h,
 * corral/misfire.h, io/tz.c): every field form and error, the @ forms, the Vixie day rule, leap
 * years, the year rollover, seconds, DST gaps and overlaps in three zones from the system's
 * tzdata (also past 2038, from the footer rule), hostile TZif bytes, misfire and overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/cron.h"
#include "corral/misfire.h"
#include "corral/tz.h"
#include "io/tz.h"

/* An independent civil-date conversion for the expectations ("2026-03-29T01:00:00"). */
static int64_t iso(const char *s)
{
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6)
        fail_msg("bad iso %s", s);
    int64_t days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m < mo; m++)
        days += dim[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    days += d - 1;
    return ((days * 24 + h) * 60 + mi) * 60000LL + se * 1000LL;
}

static struct corral_tz zone_berlin, zone_ny, zone_lh;

static const struct corral_tz *zone(const char *name)
{
    if (strcmp(name, "UTC") == 0)
        return corral_tz_utc();
    if (strcmp(name, "Europe/Berlin") == 0)
        return &zone_berlin;
    if (strcmp(name, "America/New_York") == 0)
        return &zone_ny;
    return &zone_lh;
}

static int setup_zones(void **state)
{
    (void)state;
    struct corral_error err = {0};
    if (tz_load_from(TZ_DEFAULT_DIR, "Europe/Berlin", &zone_berlin, &err) != CORRAL_OK ||
        tz_load_from(TZ_DEFAULT_DIR, "America/New_York", &zone_ny, &err) != CORRAL_OK ||
        tz_load_from(TZ_DEFAULT_DIR, "Australia/Lord_Howe", &zone_lh, &err) != CORRAL_OK) {
        fprintf(stderr, "tzdata missing (scripts/bootstrap installs tzdata): %s\n", err.msg);
        return -1;
    }
    return 0;
}

static struct corral_cron parse_ok(const char *expr)
{
    struct corral_cron c;
    struct corral_error err = {0};
    if (corral_cron_parse(expr, strlen(expr), &c, &err) != CORRAL_OK)
        fail_msg("'%s' refused: %s", expr, err.msg);
    return c;
}

/* The next fire of expr in zone after the UTC time `after`, checked against `want`. */
static void expect_next(const char *expr, const char *zname, const char *after, const char *want)
{
    struct corral_cron c = parse_ok(expr);
    struct corral_error err = {0};
    int64_t got = 0;
    if (corral_cron_next(&c, zone(zname), iso(after), &got, &err) != CORRAL_OK)
        fail_msg("%s in %s after %s: %s", expr, zname, after, err.msg);
    if (got != iso(want))
        fail_msg("%s in %s after %s: got %lld ms, want %s (%lld ms, diff %lld s)", expr, zname,
                 after, (long long)got, want, (long long)iso(want),
                 (long long)(got - iso(want)) / 1000);
}

static uint64_t bits(const unsigned *v, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++)
        b |= (uint64_t)1 << v[i];
    return b;
}
#define BITS(...)                                                                                  \
    bits((const unsigned[]){__VA_ARGS__},                                                          \
         sizeof((const unsigned[]){__VA_ARGS__}) / sizeof(unsigned))

static void cron_parses_every_field_form(void **state)
{
    (void)state;
    struct corral_cron c = parse_ok("5 * * * *");
    assert_int_equal(c.sec, 1);
    assert_int_equal(c.min, BITS(5));
    assert_int_equal(c.hour, 0xffffffu);
    assert_int_equal(c.dom, 0xfffffffeu);
    assert_int_equal(c.month, 0x1ffeu);
    assert_int_equal(c.dow, 0x7fu);
    assert_false(c.dom_restricted || c.dow_restricted || c.has_seconds);
    c = parse_ok("10-13 */6 1,15,31 */5 1-5");
    assert_int_equal(c.min, BITS(10, 11, 12, 13));
    assert_int_equal(c.hour, BITS(0, 6, 12, 18));
    assert_int_equal(c.dom, BITS(1, 15, 31));
    assert_int_equal(c.month, BITS(1, 6, 11));
    assert_int_equal(c.dow, BITS(1, 2, 3, 4, 5));
    assert_true(c.dom_restricted && c.dow_restricted);
    c = parse_ok("0-30/10 5/6 2-20/9 jan,Mar-may SUN,fri-Sat");
    assert_int_equal(c.min, BITS(0, 10, 20, 30));
    assert_int_equal(c.hour, BITS(5, 11, 17, 23));
    assert_int_equal(c.dom, BITS(2, 11, 20));
    assert_int_equal(c.month, BITS(1, 3, 4, 5));
    assert_int_equal(c.dow, BITS(0, 5, 6));
    c = parse_ok("0 0 * * 7");
    assert_int_equal(c.dow, BITS(0));
    c = parse_ok("0 0 * * 5-7");
    assert_int_equal(c.dow, BITS(0, 5, 6));
    c = parse_ok("0 0 * * FRI-SUN");
    assert_int_equal(c.dow, BITS(0, 5, 6));
    c = parse_ok("\t*/20  1,2 3 * * *  ");
    assert_true(c.has_seconds);
    assert_int_equal(c.sec, BITS(0, 20, 40));
    assert_int_equal(c.min, BITS(1, 2));
    assert_int_equal(c.hour, BITS(3));
    c = parse_ok("59 23 31 DEC SAT");
    assert_int_equal(c.month, BITS(12));
}

static void cron_at_forms_equal_their_fields(void **state)
{
    (void)state;
    static const char *pairs[][2] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}, {" @HOURLY ", "0 * * * *"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        struct corral_cron a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
        assert_memory_equal(&a, &b, sizeof a);
    }
}

static void cron_rejects_bad_input_naming_the_field(void **state)
{
    (void)state;
    static const char *cases[][3] = {
        {"61 * * * *", "minute", "minute: 61 out of range 0-59"},
        {"* 24 * * *", "hour", "hour: 24 out of range 0-23"},
        {"* * 0 * *", "day-of-month", "day-of-month: 0 out of range 1-31"},
        {"* * * 13 *", "month", "month: 13 out of range 1-12"},
        {"* * * * 8", "day-of-week", "day-of-week: 8 out of range 0-7"},
        {"60 * * * * *", "second", "second: 60 out of range 0-59"},
        {"99999999999 * * * *", "minute", "minute: 99999999999 out of range 0-59"},
        {"5-1 * * * *", "minute", "minute: range 5-1 is backwards"},
        {"*/0 * * * *", "minute", "minute: step 0 out of range 1-59"},
        {"* */24 * * *", "hour", "hour: step 24 out of range 1-23"},
        {"*/ * * * *", "minute", "minute: step missing after '/'"},
        {"1,,2 * * * *", "minute", "minute: empty list element"},
        {"1, * * * *", "minute", "minute: empty list element"},
        {"5x * * * *", "minute", "minute: unexpected 'x' in '5x'"},
        {"- * * * *", "minute", "minute: unexpected '-'"},
        {"1- * * * *", "minute", "minute: value missing"},
        {"MON * * * *", "minute", "minute: names are not allowed ('MON')"},
        {"* * * JANUARY *", "month", "month: unknown name 'JANUARY'"},
        {"* * * * FOO", "day-of-week", "day-of-week: unknown name 'FOO'"},
        {"* * * *", "cron", "cron: expected 5 or 6 fields, got 4"},
        {"* * * * * * *", "cron", "cron: expected 5 or 6 fields, got 7"},
        {"   ", "cron", "cron: empty expression"},
        {"@reboot", "cron",
         "cron: unknown @ form '@reboot' (@yearly, @annually, @monthly, "
         "@weekly, @daily, @midnight or @hourly)"},
        {"@daily 5", "cron", "cron: @daily takes no fields"},
        {"0 0 30 2 *", "day-of-month",
         "day-of-month: none of these days occurs in the months given"},
        {"0 0 31 4,6,9,11 *", "day-of-month",
         "day-of-month: none of these days occurs in the months given"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct corral_cron c;
        struct corral_error err = {0};
        if (corral_cron_parse(cases[i][0], strlen(cases[i][0]), &c, &err) != CORRAL_EINVAL)
            fail_msg("'%s' accepted", cases[i][0]);
        assert_string_equal(err.field, cases[i][1]);
        assert_string_equal(err.msg, cases[i][2]);
        assert_int_equal(c.min, 0);
    }
    char big[CORRAL_CRON_MAX_LEN + 2];
    memset(big, ' ', sizeof big);
    memcpy(big, "* * * * *", 9);
    struct corral_cron c;
    struct corral_error err = {0};
    assert_int_equal(corral_cron_parse(big, sizeof big, &c, &err), CORRAL_EINVAL);
    assert_string_equal(err.msg, "cron: expression longer than 256 bytes");
    /* An embedded NUL is a bad byte, not the end. */
    corral_error_clear(&err);
    assert_int_equal(corral_cron_parse("1\0 * * * *", 11, &c, &err), CORRAL_EINVAL);
    assert_string_equal(err.msg, "minute: unexpected '\\x00' in '1'");
    /* Feb 30 is fine when a weekday can fire it (Vixie OR). */
    parse_ok("0 0 30 2 1");
}

static void cron_next_utc_field_forms_leap_and_rollover(void **state)
{
    (void)state;
    expect_next("*/15 * * * *", "UTC", "2026-01-01T00:00:00", "2026-01-01T00:15:00");
    expect_next("*/15 * * * *", "UTC", "2026-01-01T00:14:59", "2026-01-01T00:15:00");
    expect_next("0 9-17/4 * * *", "UTC", "2026-05-05T13:00:00", "2026-05-05T17:00:00");
    expect_next("0 9-17/4 * * *", "UTC", "2026-05-05T17:00:00", "2026-05-06T09:00:00");
    expect_next("0 0 29 2 *", "UTC", "2025-01-01T00:00:00", "2028-02-29T00:00:00");
    expect_next("0 0 29 2 *", "UTC", "2096-03-01T00:00:00", "2104-02-29T00:00:00");
    expect_next("0 12 28 2 *", "UTC", "2100-02-28T12:00:00", "2101-02-28T12:00:00");
    expect_next("59 23 31 12 *", "UTC", "2026-06-01T00:00:00", "2026-12-31T23:59:00");
    expect_next("0 0 1 1 *", "UTC", "2026-12-31T23:59:59", "2027-01-01T00:00:00");
    expect_next("@yearly", "UTC", "2027-01-01T00:00:00", "2028-01-01T00:00:00");
    expect_next("@monthly", "UTC", "2026-01-31T10:00:00", "2026-02-01T00:00:00");
    expect_next("@weekly", "UTC", "2026-12-06T00:00:00", "2026-12-13T00:00:00"); /* Sundays */
    expect_next("@hourly", "UTC", "2026-12-31T23:00:00", "2027-01-01T00:00:00");
    expect_next("0 0 31 * *", "UTC", "2026-04-01T00:00:00", "2026-05-31T00:00:00");
    expect_next("30 4 * JUN-AUG MON", "UTC", "2026-01-01T00:00:00", "2026-06-01T04:30:00");
    /* Seconds. */
    expect_next("*/15 * * * * *", "UTC", "2026-01-01T00:00:07", "2026-01-01T00:00:15");
    expect_next("*/15 * * * * *", "UTC", "2026-01-01T00:59:45", "2026-01-01T01:00:00");
    expect_next("59 59 23 31 12 *", "UTC", "2026-01-01T00:00:00", "2026-12-31T23:59:59");
    /* Strictly after, at millisecond resolution. */
    struct corral_cron c = parse_ok("* * * * * *");
    int64_t n;
    assert_int_equal(corral_cron_next(&c, corral_tz_utc(), 1500, &n, NULL), CORRAL_OK);
    assert_int_equal(n, 2000);
    assert_int_equal(corral_cron_next(&c, corral_tz_utc(), -1500, &n, NULL), CORRAL_OK);
    assert_int_equal(n, -1000);
    assert_true(corral_cron_matches(&c, 12345));
}

static void cron_vixie_day_rule(void **state)
{
    (void)state;
    /* Both restricted: the 13th OR a Friday. 2026-02-06 is a Friday, 2026-02-13 too. */
    expect_next("0 0 13 * 5", "UTC", "2026-02-01T00:00:00", "2026-02-06T00:00:00");
    expect_next("0 0 13 * 5", "UTC", "2026-03-07T00:00:00", "2026-03-13T00:00:00");
    expect_next("0 0 15 * 1", "UTC", "2026-03-10T00:00:00", "2026-03-15T00:00:00"); /* Sun 15 */
    /* Day-of-month only, day-of-week only. */
    expect_next("0 0 15 * *", "UTC", "2026-03-10T00:00:00", "2026-03-15T00:00:00");
    expect_next("0 0 * * MON", "UTC", "2026-03-10T00:00:00", "2026-03-16T00:00:00");
    /* A field starting with '*' does not restrict, even with a step: AND (Vixie, cronie). */
    struct corral_cron c = parse_ok("0 0 */2 * 1");
    assert_false(c.dom_restricted);
    assert_true(c.dow_restricted);
    expect_next("0 0 */2 * 1", "UTC", "2026-03-01T00:00:00", "2026-03-09T00:00:00"); /* odd Mon */
    expect_next("0 0 1 * */7", "UTC", "2026-01-01T00:00:00", "2026-02-01T00:00:00"); /* Sun 1st */
    /* Feb 29 on a Sunday (AND): 2032 is the next. */
    expect_next("0 0 29 2 */7", "UTC", "2026-01-01T00:00:00", "2032-02-29T00:00:00");
}

static void cron_next_refuses_never_and_out_of_range(void **state)
{
    (void)state;
    struct corral_cron c = parse_ok("0 0 31 * *");
    c.month = 1u << 4; /* April: no 31st, past the parser's check */
    struct corral_error err = {0};
    int64_t n;
    assert_int_equal(corral_cron_next(&c, corral_tz_utc(), 0, &n, &err), CORRAL_EINVAL);
    assert_string_equal(err.msg, "cron: never fires (no matching time within 400 years)");
    c = parse_ok("* * * * *");
    corral_error_clear(&err);
    assert_int_equal(corral_cron_next(&c, corral_tz_utc(), CORRAL_CRON_MAX_MS + 1, &n, &err),
                     CORRAL_EINVAL);
    struct corral_cron zero = {0};
    assert_int_equal(corral_cron_next(&zero, corral_tz_utc(), 0, &n, NULL), CORRAL_EINVAL);
    assert_int_equal(corral_cron_next(&c, corral_tz_utc(), CORRAL_CRON_MIN_MS, &n, NULL),
                     CORRAL_OK);
}

static void cron_dst_europe_berlin(void **state)
{
    (void)state;
    /* 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z): 02:30 fires at 03:00 CEST, once. */
    expect_next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00", "2026-03-29T01:00:00");
    expect_next("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00", "2026-03-30T00:30:00");
    expect_next("*/20 2 * * *", "Europe/Berlin", "2026-03-29T00:59:59", "2026-03-29T01:00:00");
    expect_next("*/20 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00", "2026-03-30T00:00:00");
    expect_next("0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00", "2026-03-29T01:00:00");
    expect_next("0 * * * *", "Europe/Berlin", "2026-03-29T00:00:00", "2026-03-29T01:00:00");
    expect_next("0 * * * *", "Europe/Berlin", "2026-03-29T01:00:00", "2026-03-29T02:00:00");
    /* 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z): 02:30 fires at the first, CEST, only. */
    expect_next("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00", "2026-10-25T00:30:00");
    expect_next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00", "2026-10-26T01:30:00");
    expect_next("30 2 * * *", "Europe/Berlin", "2026-10-25T01:15:00", "2026-10-26T01:30:00");
    expect_next("0 * * * *", "Europe/Berlin", "2026-10-25T00:00:00", "2026-10-25T02:00:00");
    expect_next("*/30 * * * * *", "Europe/Berlin", "2026-10-25T00:59:59", "2026-10-25T02:00:00");
    /* Past 2038: the footer rule (last Sunday of March 2040 is the 25th). */
    expect_next("30 2 * * *", "Europe/Berlin", "2040-03-24T12:00:00", "2040-03-25T01:00:00");
    expect_next("30 2 * * *", "Europe/Berlin", "2090-10-29T01:15:00", "2090-10-30T01:30:00");
    expect_next("0 12 1 7 *", "Europe/Berlin", "2100-01-01T00:00:00", "2100-07-01T10:00:00");
}

static void cron_dst_america_new_york(void **state)
{
    (void)state;
    /* 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z). */
    expect_next("30 2 * * *", "America/New_York", "2026-03-07T12:00:00", "2026-03-08T07:00:00");
    expect_next("30 2 * * *", "America/New_York", "2026-03-08T07:00:00", "2026-03-09T06:30:00");
    /* 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z): 01:30 first at 05:30Z only. */
    expect_next("30 1 * * *", "America/New_York", "2026-10-31T12:00:00", "2026-11-01T05:30:00");
    expect_next("30 1 * * *", "America/New_York", "2026-11-01T05:30:00", "2026-11-02T06:30:00");
    expect_next("30 1 * * *", "America/New_York", "2026-11-01T06:10:00", "2026-11-02T06:30:00");
    expect_next("30 1 * * *", "America/New_York", "2061-11-05T12:00:00", "2061-11-06T05:30:00");
    expect_next("0 0 1 1 *", "America/New_York", "2026-12-31T12:00:00", "2027-01-01T05:00:00");
}

static void cron_dst_australia_lord_howe(void **state)
{
    (void)state;
    /* A 30-minute shift. 2026-10-04 02:00 +1030 -> 02:30 +11 (2026-10-03 15:30Z). */
    expect_next("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00", "2026-10-03T15:30:00");
    expect_next("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T15:30:00", "2026-10-04T15:15:00");
    expect_next("0 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00", "2026-10-03T15:30:00");
    /* 2026-04-05 02:00 +11 -> 01:30 +1030 (2026-04-04 15:00Z): 01:45 first at 14:45Z only. */
    expect_next("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00", "2026-04-04T14:45:00");
    expect_next("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T14:45:00", "2026-04-05T15:15:00");
    expect_next("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T15:10:00", "2026-04-05T15:15:00");
    /* 01:30-01:59 +1030 occurred already at +11: nothing fires until 02:00 +1030. */
    expect_next("*/10 * * * *", "Australia/Lord_Howe", "2026-04-04T14:50:00",
                "2026-04-04T15:30:00");
    /* Past 2038 (first Sunday of October 2050 is the 2nd). */
    expect_next("30 2 * * *", "Australia/Lord_Howe", "2050-10-01T00:00:00", "2050-10-01T15:30:00");
}

static void tz_offsets_and_resolve(void **state)
{
    (void)state;
    assert_int_equal(corral_tz_offset_at(corral_tz_utc(), 0), 0);
    assert_int_equal(corral_tz_offset_at(&zone_berlin, iso("2026-01-01T00:00:00") / 1000), 3600);
    assert_int_equal(corral_tz_offset_at(&zone_berlin, iso("2026-07-01T00:00:00") / 1000), 7200);
    assert_int_equal(corral_tz_offset_at(&zone_berlin, iso("2300-07-01T00:00:00") / 1000), 7200);
    assert_int_equal(corral_tz_offset_at(&zone_lh, iso("2026-07-01T00:00:00") / 1000), 37800);
    assert_int_equal(corral_tz_offset_at(&zone_lh, iso("2077-01-01T00:00:00") / 1000), 39600);
    assert_int_equal(corral_tz_offset_at(&zone_ny, iso("2045-07-01T00:00:00") / 1000), -14400);
    struct corral_tz_local r;
    corral_tz_resolve(&zone_berlin, iso("2026-03-29T02:30:00") / 1000, &r);
    assert_int_equal(r.kind, CORRAL_TZ_LOCAL_GAP);
    assert_int_equal(r.first_s, iso("2026-03-29T01:00:00") / 1000);
    corral_tz_resolve(&zone_berlin, iso("2026-10-25T02:30:00") / 1000, &r);
    assert_int_equal(r.kind, CORRAL_TZ_LOCAL_OVERLAP);
    assert_int_equal(r.first_s, iso("2026-10-25T00:30:00") / 1000);
    assert_int_equal(r.second_s, iso("2026-10-25T01:30:00") / 1000);
    assert_int_equal(r.change_s, iso("2026-10-25T01:00:00") / 1000);
    corral_tz_resolve(&zone_berlin, iso("2026-10-25T03:00:00") / 1000, &r);
    assert_int_equal(r.kind, CORRAL_TZ_LOCAL_UNIQUE);
    int64_t ch;
    assert_true(corral_tz_next_change(&zone_berlin, iso("2026-01-01T00:00:00") / 1000, &ch));
    assert_int_equal(ch, iso("2026-03-29T01:00:00") / 1000);
    assert_false(corral_tz_next_change(corral_tz_utc(), 0, &ch));
}

static void tz_posix_rules(void **state)
{
    (void)state;
    struct corral_tz_rule r;
    struct corral_error err = {0};
    const char *lh = "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0";
    assert_int_equal(corral_tz_rule_parse(lh, strlen(lh), &r, &err), CORRAL_OK);
    assert_int_equal(r.std_off, 37800);
    assert_int_equal(r.dst_off, 39600);
    assert_int_equal(r.start.month, 10);
    assert_int_equal(r.end.time_s, 7200);
    const char *cet = "CET-1CEST,M3.5.0,M10.5.0/3";
    assert_int_equal(corral_tz_rule_parse(cet, strlen(cet), &r, &err), CORRAL_OK);
    assert_int_equal(r.dst_off, 7200);
    assert_int_equal(r.end.time_s, 3 * 3600);
    const char *ok[] = {"UTC0", "EST5EDT,M3.2.0,M11.1.0", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
                        "XXX3YYY,J60/1:30,300/167", "IST-2IDT,M3.4.4/26,M10.5.0"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (corral_tz_rule_parse(ok[i], strlen(ok[i]), &r, &err) != CORRAL_OK)
            fail_msg("%s refused: %s", ok[i], err.msg);
    }
    const char *bad[] = {"",
                         "UT0",
                         "CET",
                         "CET-1CEST",
                         "CET-25",
                         "CET-1CEST,M13.1.0,M1.1.0",
                         "CET-1CEST,J0,J5",
                         "<+1030-10:30",
                         "CET-1CEST,M3.5.0/168,M10.5.0",
                         "CET-1 ",
                         "CET-1CEST,M3.5.0,M10.5.0x",
                         "CET-1CEST,M3.6.0,M10.5.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        corral_error_clear(&err);
        if (corral_tz_rule_parse(bad[i], strlen(bad[i]), &r, &err) != CORRAL_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
    }
    /* A zone of a rule only: New York's. */
    struct corral_tz tz;
    const char *ny = "EST5EDT,M3.2.0,M11.1.0";
    assert_int_equal(corral_tz_parse_posix(ny, strlen(ny), &tz, NULL), CORRAL_OK);
    struct corral_cron c = parse_ok("30 2 * * *");
    int64_t n;
    assert_int_equal(corral_cron_next(&c, &tz, iso("2026-03-07T12:00:00"), &n, NULL), CORRAL_OK);
    assert_int_equal(n, iso("2026-03-08T07:00:00"));
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    unsigned char *buf = malloc(CORRAL_TZIF_MAX_BYTES);
    assert_non_null(buf);
    *len = fread(buf, 1, CORRAL_TZIF_MAX_BYTES, f);
    fclose(f);
    return buf;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void tzif_rejects_malformed_bytes(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = slurp(TZ_DEFAULT_DIR "/Europe/Berlin", &len);
    static struct corral_tz tz;
    struct corral_error err = {0};
    assert_int_equal(corral_tz_parse_tzif(buf, len, &tz, &err), CORRAL_OK);
    assert_true(tz.has_rule);
    /* Every truncation is refused (the footer's final newline is the last byte). */
    for (size_t n = 0; n < len; n++) {
        corral_error_clear(&err);
        if (corral_tz_parse_tzif(buf, n, &tz, &err) == CORRAL_OK)
            fail_msg("truncated to %zu bytes accepted", n);
    }
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    /* Huge or inconsistent counts in either header, bad magic, bad version. */
    size_t v1 = 44 + 0; /* v1 header counts at 20..43 */
    for (int which = 0; which < 6; which++) {
        static const uint32_t values[] = {0xffffffffu, 0x7fffffffu, 100000u, 257u};
        for (size_t k = 0; k < 4; k++) {
            memcpy(copy, buf, len);
            put32(copy + 20 + 4 * which, values[k]);
            corral_error_clear(&err);
            assert_int_not_equal(corral_tz_parse_tzif(copy, len, &tz, &err), CORRAL_OK);
        }
    }
    (void)v1;
    memcpy(copy, buf, len);
    copy[0] = 'X';
    assert_int_equal(corral_tz_parse_tzif(copy, len, &tz, &err), CORRAL_EINVAL);
    memcpy(copy, buf, len);
    copy[4] = '1';
    corral_error_clear(&err);
    assert_int_equal(corral_tz_parse_tzif(copy, len, &tz, &err), CORRAL_EINVAL);
    /* A bad footer. */
    memcpy(copy, buf, len);
    copy[len - 3] = '!';
    corral_error_clear(&err);
    assert_int_equal(corral_tz_parse_tzif(copy, len, &tz, &err), CORRAL_EINVAL);
    /* Every single byte flipped: accepted or refused, never a crash (ASan, UBSan). */
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, buf, len);
        copy[i] ^= 0xa5;
        if (corral_tz_parse_tzif(copy, len, &tz, NULL) == CORRAL_OK)
            (void)corral_tz_offset_at(&tz, 2000000000);
    }
    assert_int_equal(corral_tz_parse_tzif(NULL, 0, &tz, NULL), CORRAL_EINVAL);
    free(copy);
    free(buf);
    /* Leap-second zones are refused with a reason. */
    FILE *f = fopen(TZ_DEFAULT_DIR "/right/UTC", "rb");
    if (f) {
        fclose(f);
        buf = slurp(TZ_DEFAULT_DIR "/right/UTC", &len);
        corral_error_clear(&err);
        assert_int_equal(corral_tz_parse_tzif(buf, len, &tz, &err), CORRAL_EINVAL);
        assert_non_null(strstr(err.msg, "leap seconds"));
        free(buf);
    }
}

static void tz_load_checks_names(void **state)
{
    (void)state;
    static struct corral_tz tz;
    struct corral_error err = {0};
    const char *bad[] = {"",
                         "/etc/passwd",
                         "../etc/passwd",
                         "Europe/../../etc/passwd",
                         "Europe//Berlin",
                         "Europe/",
                         "Euro pe",
                         "Europe/Berlin.bak",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        corral_error_clear(&err);
        if (tz_load(bad[i], &tz, &err) != CORRAL_EINVAL)
            fail_msg("'%s' not refused", bad[i]);
    }
    assert_false(tz_name_is_valid(NULL));
    assert_true(tz_name_is_valid("America/Argentina/Buenos_Aires"));
    assert_true(tz_name_is_valid("Etc/GMT+5"));
    corral_error_clear(&err);
    assert_int_equal(tz_load("Mars/Olympus_Mons", &tz, &err), CORRAL_ENOTFOUND);
    assert_int_equal(tz_load("UTC", &tz, NULL), CORRAL_OK);
    assert_int_equal(tz_load_from("/nonexistent", "UTC", &tz, NULL), CORRAL_OK);
    corral_error_clear(&err);
    assert_int_equal(tz_load_from("/", "etc", &tz, &err), CORRAL_EINVAL); /* a directory */
    assert_int_equal(tz_load("America/New_York", &tz, NULL), CORRAL_OK);
}

static void misfire_decisions(void **state)
{
    (void)state;
    struct corral_cron c = parse_ok("0 * * * *"); /* hourly */
    static struct corral_misfire_plan p;
    struct corral_misfire_policy pol = {CORRAL_MISFIRE_FIRE_ONCE, 86400, 60000};
    int64_t last = iso("2026-01-01T08:00:00");
    /* Nothing due. */
    assert_int_equal(
        corral_misfire_plan(&c, corral_tz_utc(), &pol, last, iso("2026-01-01T08:59:59"), &p, NULL),
        CORRAL_OK);
    assert_int_equal(p.n_fires, 0);
    assert_int_equal(p.record_ms, last);
    /* On time: one fire, whatever the policy. */
    for (int m = 0; m < 3; m++) {
        pol.misfire = (enum corral_misfire)m;
        assert_int_equal(corral_misfire_plan(&c, corral_tz_utc(), &pol, last,
                                             iso("2026-01-01T09:00:30"), &p, NULL),
                         CORRAL_OK);
        assert_int_equal(p.n_fires, 1);
        assert_int_equal(p.fires_ms[0], iso("2026-01-01T09:00:00"));
        assert_int_equal(p.record_ms, iso("2026-01-01T09:00:00"));
    }
    /* Down from 08:00 to 12:17: 09, 10, 11, 12 missed. */
    int64_t now = iso("2026-01-01T12:17:00");
    pol.misfire = CORRAL_MISFIRE_SKIP;
    assert_int_equal(corral_misfire_plan(&c, corral_tz_utc(), &pol, last, now, &p, NULL),
                     CORRAL_OK);
    assert_int_equal(p.n_fires, 0);
    assert_int_equal(p.record_ms, iso("2026-01-01T12:00:00"));
    pol.misfire = CORRAL_MISFIRE_FIRE_ONCE;
    assert_int_equal(corral_misfire_plan(&c, corral_tz_utc(), &pol, last, now, &p, NULL),
                     CORRAL_OK);
    assert_int_equal(p.n_fires, 1);
    assert_int_equal(p.fires_ms[0], iso("2026-01-01T12:00:00"));
    pol.misfire = CORRAL_MISFIRE_FIRE_ALL;
    assert_int_equal(corral_misfire_plan(&c, corral_tz_utc(), &pol, last, now, &p, NULL),
                     CORRAL_OK);
    assert_int_equal(p.n_fires, 4);
    assert_int_equal(p.fires_ms[0], iso("2026-01-01T09:00:00"));
    assert_int_equal(p.fires_ms[3], iso("2026-01-01T12:00:00"));
    assert_false(p.more);
    /* fire_all within a 2 h 13 min 20 s window: 10:00 is too old. */
    pol.catchup_window_s = 8000;
    assert_int_equal(corral_misfire_plan(&c, corral_tz_utc(), &pol, last, now, &p, NULL),
                     CORRAL_OK);
    assert_int_equal(p.n_fires, 2);
    assert_int_equal(p.fires_ms[0], iso("2026-01-01T11:00:00"));
    assert_int_equal(p.record_ms, iso("2026-01-01T12:00:00"));
    /* Window 0 but on time: the on-time fire still fires. */
    pol.catchup_window_s = 0;
    assert_int_equal(
        corral_misfire_plan(&c, corral_tz_utc(), &pol, last, iso("2026-01-01T12:00:10"), &p, NULL),
        CORRAL_OK);
    assert_int_equal(p.n_fires, 1);
    /* Every second, paused for a year: bounded, capped, continued. */
    struct corral_cron every = parse_ok("* * * * * *");
    pol.catchup_window_s = CORRAL_MISFIRE_MAX_WINDOW_S;
    int64_t y0 = iso("2026-01-01T00:00:00"), y1 = iso("2027-01-01T00:00:00");
    assert_int_equal(corral_misfire_plan(&every, corral_tz_utc(), &pol, y0, y1, &p, NULL),
                     CORRAL_OK);
    assert_int_equal(p.n_fires, CORRAL_MISFIRE_MAX_FIRES);
    assert_true(p.more);
    assert_int_equal(p.fires_ms[0], y0 + 1000);
    assert_int_equal(p.record_ms, y0 + 1000 * (int64_t)CORRAL_MISFIRE_MAX_FIRES);
    pol.misfire = CORRAL_MISFIRE_FIRE_ONCE;
    assert_int_equal(corral_misfire_plan(&every, corral_tz_utc(), &pol, y0, y1 + 500, &p, NULL),
                     CORRAL_OK);
    assert_int_equal(p.n_fires, 1);
    assert_int_equal(p.fires_ms[0], y1);
    /* Bad policies. */
    struct corral_error err = {0};
    pol.catchup_window_s = -1;
    assert_int_equal(corral_misfire_plan(&c, corral_tz_utc(), &pol, last, now, &p, &err),
                     CORRAL_EINVAL);
    assert_string_equal(err.field, "catchup_window_s");
}

static void overlap_decisions(void **state)
{
    (void)state;
    for (int pol = 0; pol < 4; pol++) {
        assert_int_equal(corral_overlap_decide((enum corral_overlap)pol, false, false),
                         CORRAL_OVERLAP_ACT_FIRE);
        assert_int_equal(corral_overlap_decide((enum corral_overlap)pol, false, true),
                         CORRAL_OVERLAP_ACT_FIRE);
    }
    assert_int_equal(corral_overlap_decide(CORRAL_OVERLAP_ALLOW, true, false),
                     CORRAL_OVERLAP_ACT_FIRE);
    assert_int_equal(corral_overlap_decide(CORRAL_OVERLAP_SKIP, true, false),
                     CORRAL_OVERLAP_ACT_SKIP);
    assert_int_equal(corral_overlap_decide(CORRAL_OVERLAP_QUEUE, true, false),
                     CORRAL_OVERLAP_ACT_QUEUE_ONE);
    assert_int_equal(corral_overlap_decide(CORRAL_OVERLAP_QUEUE, true, true),
                     CORRAL_OVERLAP_ACT_SKIP);
    assert_int_equal(corral_overlap_decide(CORRAL_OVERLAP_CANCEL_PREVIOUS, true, true),
                     CORRAL_OVERLAP_ACT_CANCEL_PREVIOUS_THEN_FIRE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cron_parses_every_field_form),
        cmocka_unit_test(cron_at_forms_equal_their_fields),
        cmocka_unit_test(cron_rejects_bad_input_naming_the_field),
        cmocka_unit_test(cron_next_utc_field_forms_leap_and_rollover),
        cmocka_unit_test(cron_vixie_day_rule),
        cmocka_unit_test(cron_next_refuses_never_and_out_of_range),
        cmocka_unit_test(cron_dst_europe_berlin),
        cmocka_unit_test(cron_dst_america_new_york),
        cmocka_unit_test(cron_dst_australia_lord_howe),
        cmocka_unit_test(tz_offsets_and_resolve),
        cmocka_unit_test(tz_posix_rules),
        cmocka_unit_test(tzif_rejects_malformed_bytes),
        cmocka_unit_test(tz_load_checks_names),
        cmocka_unit_test(misfire_decisions),
        cmocka_unit_test(overlap_decisions),
    };
    return cmocka_run_group_tests(tests, setup_zones, NULL);
}
