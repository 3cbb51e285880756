/* SPDX-License-Identifier: MIT */
/*
 * The znode codecs, one test per case folder: cases/<format>/valid/<case>/ (input +
 * expect.json: the decoded value encoded again) and cases/<format>/invalid/<case>/ (input +
 * expect: the field the error names, empty for a document that is not an object at all).
 * Formats: assignment, worker (registration; the znode's name comes from the file "id",
 * default "w1"), replica (election node data and leader record), idem (idempotency record),
 * task (the task znode: corral_task_parse / corral_task_render).
 * Hostile input (wrong types, huge numbers, over-long or invalid ids, missing and extra fields)
 * must be rejected with a named field, never crash, never be half-decoded.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>

#include "corral/assignment.h"
#include "corral/election.h"
#include "corral/queue_entry.h"
#include "corral/task.h"
#include "corral/worker_reg.h"

struct tcase {
    char dir[1200];
    char format[32];
    bool valid;
};

static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

/* Decode input as format; on success *encoded is the value encoded again (caller frees). */
static int decode(const struct tcase *c, const char *in, size_t len, char **encoded,
                  struct corral_error *err)
{
    *encoded = NULL;
    int rc = CORRAL_EINVAL;
    if (strcmp(c->format, "assignment") == 0) {
        struct corral_assignment a;
        rc = corral_assignment_decode(in, len, &a, err);
        if (rc == CORRAL_OK)
            *encoded = corral_assignment_encode(&a);
    } else if (strcmp(c->format, "worker") == 0) {
        char *id = read_file(c->dir, "id", NULL);
        struct corral_worker_reg w = {0};
        rc = corral_worker_reg_decode(id ? id : "w1", in, len, &w, err);
        if (rc == CORRAL_OK)
            *encoded = corral_worker_reg_encode(&w);
        else
            assert_null(w.id); /* nothing half-decoded */
        corral_worker_reg_cleanup(&w);
        free(id);
    } else if (strcmp(c->format, "replica") == 0) {
        struct corral_replica_info r;
        rc = corral_replica_info_decode(in, len, &r, err);
        if (rc == CORRAL_OK)
            *encoded = corral_replica_info_encode(&r);
    } else if (strcmp(c->format, "idem") == 0) {
        char id[CORRAL_ID_LEN + 1];
        rc = corral_idem_decode(in, len, id, err);
        if (rc == CORRAL_OK)
            *encoded = strdup(id); /* the record is the raw id */
    } else if (strcmp(c->format, "task") == 0) {
        struct corral_task t;
        memset(&t, 0, sizeof t);
        rc = corral_task_parse(in, len, &t, err);
        if (rc == CORRAL_OK) {
            *encoded = corral_task_render(&t);
        } else {
            /* nothing half-decoded: out stays zeroed */
            assert_true(t.id[0] == '\0' && !t.worker && !t.output && !t.history && !t.spec.argv);
        }
        corral_task_cleanup(&t);
    } else {
        fail_msg("unknown format %s", c->format);
    }
    return rc;
}

static void run_case(void **state)
{
    const struct tcase *c = *state;
    size_t len = 0;
    char *in = read_file(c->dir, "input", &len);
    assert_non_null(in);
    char *encoded = NULL;
    struct corral_error err = {0};
    int rc = decode(c, in, len, &encoded, &err);
    if (c->valid) {
        if (rc != CORRAL_OK)
            fail_msg("%s: rejected: %s: %s", c->dir, err.field, err.msg);
        char *want_text = read_file(c->dir, "expect.json", NULL);
        json_error_t jerr;
        json_t *want = json_loads(want_text, JSON_DECODE_ANY, &jerr);
        bool raw = strcmp(c->format, "idem") == 0;
        json_t *got = raw ? json_string(encoded) : json_loads(encoded, JSON_DECODE_ANY, &jerr);
        assert_non_null(want);
        assert_non_null(got);
        if (!json_equal(want, got))
            fail_msg("%s: encoded %s, want %s", c->dir, encoded, want_text);
        /* Round trip: what we write decodes to the same value. */
        char *again = NULL;
        assert_int_equal(decode(c, encoded, strlen(encoded), &again, &err), CORRAL_OK);
        assert_string_equal(again, encoded);
        free(again);
        json_decref(want);
        json_decref(got);
        free(want_text);
    } else {
        if (rc == CORRAL_OK)
            fail_msg("%s: accepted, encoded as %s", c->dir, encoded);
        assert_int_equal(rc, CORRAL_EINVAL);
        assert_int_equal(err.code, CORRAL_EINVAL);
        assert_true(err.msg[0] != '\0');
        char *want = read_file(c->dir, "expect", NULL);
        assert_non_null(want);
        want[strcspn(want, "\r\n")] = '\0';
        if (strcmp(err.field, want) != 0)
            fail_msg("%s: error names field '%s' (%s), want '%s'", c->dir, err.field, err.msg,
                     want);
        free(want);
    }
    free(encoded);
    free(in);
}

/* ---- assignment: follow_until_ms (optional; omitted when 0) ------------------------------ */

#define FOLLOW_TASK "019a1b2c3d4e-9f8e7d6c"
#define FOLLOW_REG  "00112233aabbccdd"

static struct corral_assignment follow_assignment(int64_t follow_until_ms)
{
    struct corral_assignment a;
    memset(&a, 0, sizeof a);
    snprintf(a.task, sizeof a.task, "%s", FOLLOW_TASK);
    snprintf(a.reg, sizeof a.reg, "%s", FOLLOW_REG);
    a.attempt = 2;
    a.epoch = 7;
    a.follow_until_ms = follow_until_ms;
    return a;
}

/* Encode a; check whether the JSON has follow_until_ms (want_key) with a's value; decode it
 * back and compare every field (want_back: the follow_until_ms decoded). */
static void follow_round_trip(const struct corral_assignment *a, bool want_key, int64_t want_back)
{
    char *text = corral_assignment_encode(a);
    assert_non_null(text);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    json_t *f = json_object_get(o, "follow_until_ms");
    if (want_key) {
        if (!json_is_integer(f) || json_integer_value(f) != (json_int_t)a->follow_until_ms)
            fail_msg("encoded %s, want follow_until_ms %lld", text, (long long)a->follow_until_ms);
    } else if (f) {
        fail_msg("encoded %s: follow_until_ms should be omitted", text);
    }
    json_decref(o);
    struct corral_assignment back;
    struct corral_error err = {0};
    if (corral_assignment_decode(text, strlen(text), &back, &err) != CORRAL_OK)
        fail_msg("decode %s: %s: %s", text, err.field, err.msg);
    assert_string_equal(back.task, a->task);
    assert_string_equal(back.reg, a->reg);
    assert_int_equal(back.attempt, a->attempt);
    assert_true(back.epoch == a->epoch);
    assert_int_equal(back.cancel, a->cancel);
    assert_true(back.follow_until_ms == want_back);
    char *again = corral_assignment_encode(&back);
    assert_string_equal(again, text);
    free(again);
    free(text);
}

static void follow_until_encoded_and_decoded(void **state)
{
    (void)state;
    struct corral_assignment a = follow_assignment(1765000000123);
    follow_round_trip(&a, true, 1765000000123);
    a.cancel = true;
    follow_round_trip(&a, true, 1765000000123);
    a = follow_assignment(1);
    follow_round_trip(&a, true, 1);
    a = follow_assignment(INT64_MAX);
    follow_round_trip(&a, true, INT64_MAX);
}

static void follow_until_zero_omitted(void **state)
{
    (void)state;
    struct corral_assignment a = follow_assignment(0);
    follow_round_trip(&a, false, 0);
    /* Nothing below 0 is written either (the field is 0..INT64_MAX on the wire). */
    a = follow_assignment(-5);
    follow_round_trip(&a, false, 0);
    a = follow_assignment(INT64_MIN);
    follow_round_trip(&a, false, 0);
}

static void follow_decode_ok(const char *text, int64_t want)
{
    struct corral_assignment a;
    struct corral_error err = {0};
    if (corral_assignment_decode(text, strlen(text), &a, &err) != CORRAL_OK)
        fail_msg("decode %s: %s: %s", text, err.field, err.msg);
    assert_true(a.follow_until_ms == want);
    assert_string_equal(a.task, FOLLOW_TASK);
}

static void follow_decode_bad(const char *text, const char *field)
{
    struct corral_assignment a;
    memset(&a, 0x5A, sizeof a);
    struct corral_error err = {0};
    int rc = corral_assignment_decode(text, strlen(text), &a, &err);
    if (rc != CORRAL_EINVAL)
        fail_msg("accepted: %s", text);
    assert_int_equal(err.code, CORRAL_EINVAL);
    if (strcmp(err.field, field) != 0)
        fail_msg("%s: error names field '%s' (%s), want '%s'", text, err.field, err.msg, field);
    /* Nothing half-decoded. */
    assert_true(a.follow_until_ms == 0);
    assert_string_equal(a.task, "");
    assert_int_equal(a.attempt, 0);
}

#define FOLLOW_HEAD                                                                                \
    "{\"task\":\"" FOLLOW_TASK "\",\"reg\":\"" FOLLOW_REG "\",\"attempt\":2,\"epoch\":7"

static void follow_until_decoding(void **state)
{
    (void)state;
    follow_decode_ok(FOLLOW_HEAD "}", 0);
    follow_decode_ok(FOLLOW_HEAD ",\"follow_until_ms\":0}", 0);
    follow_decode_ok(FOLLOW_HEAD ",\"follow_until_ms\":1765000000123}", 1765000000123);
    follow_decode_ok(FOLLOW_HEAD ",\"follow_until_ms\":9223372036854775807}", INT64_MAX);
    follow_decode_ok("{\"follow_until_ms\":42,\"task\":\"" FOLLOW_TASK "\",\"reg\":\"" FOLLOW_REG
                     "\",\"attempt\":2,\"epoch\":7,\"cancel\":true}",
                     42);
    /* Refused, naming the field: negative, a string, a real, a bool, null, an object. */
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":-1}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":-1765000000123}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":\"1765000000123\"}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":\"\"}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":1.5}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":1765000000123.0}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":true}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":null}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":{}}", "follow_until_ms");
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":[1]}", "follow_until_ms");
    /* Over the 64-bit range: not JSON this decoder takes at all. */
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":9223372036854775808}", "");
    /* Twice: a duplicate key. */
    follow_decode_bad(FOLLOW_HEAD ",\"follow_until_ms\":1,\"follow_until_ms\":2}", "");
}

static struct tcase *cases;
static struct CMUnitTest *tests;
static size_t n_cases, cap_cases;

static void add_cases(const char *format, bool valid)
{
    char base[900];
    snprintf(base, sizeof base, "%s/%s/%s", CORRAL_CASES_DIR, format, valid ? "valid" : "invalid");
    DIR *d = opendir(base);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n_cases == cap_cases) {
            cap_cases = cap_cases ? cap_cases * 2 : 64;
            cases = realloc(cases, cap_cases * sizeof *cases);
            assert_non_null(cases);
        }
        struct tcase *c = &cases[n_cases++];
        if (snprintf(c->dir, sizeof c->dir, "%s/%.255s", base, e->d_name) >= (int)sizeof c->dir)
            fail_msg("case path too long: %s", e->d_name);
        snprintf(c->format, sizeof c->format, "%s", format);
        c->valid = valid;
    }
    closedir(d);
}

int main(void)
{
    static const char *const formats[] = {"assignment", "worker", "replica", "idem", "task"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        add_cases(formats[i], true);
        add_cases(formats[i], false);
    }
    tests = calloc(n_cases, sizeof *tests);
    assert_non_null(tests);
    for (size_t i = 0; i < n_cases; i++) {
        const char *name = strstr(cases[i].dir, "/cases/");
        tests[i] = (struct CMUnitTest){.name = name ? name + 7 : cases[i].dir,
                                       .test_func = run_case,
                                       .initial_state = &cases[i]};
    }
    int failed = _cmocka_run_group_tests("codec", tests, n_cases, NULL, NULL);
    free(tests);
    free(cases);
    const struct CMUnitTest follow_tests[] = {
        cmocka_unit_test(follow_until_encoded_and_decoded),
        cmocka_unit_test(follow_until_zero_omitted),
        cmocka_unit_test(follow_until_decoding),
    };
    failed += cmocka_run_group_tests_name("codec_assignment_follow", follow_tests, NULL, NULL);
    return failed;
}
