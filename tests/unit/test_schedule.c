/* SPDX-License-Identifier: MIT */
/* Cron schedules (corral/schedule.h): the request, the znode codec, the API object, fire ids,
 * the ledger and the firing decision with its misfire and overlap policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/id.h"
#include "corral/schedule.h"

/* 2026-11-24T08:52:52.000Z: a whole second, on an even second. */
#define T0 INT64_C(1795510372000)

static int from_text(const char *text, int64_t now, struct corral_schedule *s,
                     struct corral_error *err)
{
    json_error_t jerr;
    json_t *body = json_loads(text, 0, &jerr);
    if (!body)
        fail_msg("test JSON: %s", jerr.text);
    int rc = corral_schedule_from_request(body, now, s, err);
    json_decref(body);
    return rc;
}

static void make(const char *text, int64_t now, struct corral_schedule *s)
{
    struct corral_error err = {0};
    if (from_text(text, now, s, &err) != CORRAL_OK)
        fail_msg("%s: %s", err.field, err.msg);
}

static void request_defaults_and_every_field(void **state)
{
    (void)state;
    struct corral_schedule s;
    make("{\"name\":\"n1\",\"cron\":\"@hourly\",\"task\":{\"command\":[\"true\"]}}", T0, &s);
    assert_string_equal(s.name, "n1");
    assert_string_equal(s.timezone, "UTC");
    assert_int_equal(s.misfire, CORRAL_MISFIRE_FIRE_ONCE);
    assert_int_equal(s.overlap, CORRAL_OVERLAP_SKIP);
    assert_int_equal(s.catchup_window_s, 3600);
    assert_false(s.paused);
    assert_int_equal(s.created_at_ms, T0);
    assert_int_equal(s.last_fire_ms, -1);
    assert_int_equal(s.held_ms, -1);
    assert_int_equal(s.n_fires, 0);
    corral_schedule_cleanup(&s);
    make("{\"name\":\"n2\",\"cron\":\"*/5 * * * * *\",\"timezone\":\"Australia/Lord_Howe\","
         "\"misfire\":\"fire_all\",\"overlap\":\"cancel_previous\",\"catchup_window_s\":60,"
         "\"paused\":true,\"task\":{\"command\":[\"echo\",\"x\"],\"priority\":7}}",
         T0, &s);
    assert_string_equal(s.timezone, "Australia/Lord_Howe");
    assert_int_equal(s.misfire, CORRAL_MISFIRE_FIRE_ALL);
    assert_int_equal(s.overlap, CORRAL_OVERLAP_CANCEL_PREVIOUS);
    assert_int_equal(s.catchup_window_s, 60);
    assert_true(s.paused);
    assert_true(s.cron.has_seconds);
    assert_int_equal(s.task.priority, 7);
    corral_schedule_cleanup(&s);
}

static void request_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"cron\":\"@daily\",\"task\":{\"command\":[\"true\"]}}", "name"},
        {"{\"name\":\".x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"true\"]}}", "name"},
        {"{\"name\":\"a/b\",\"cron\":\"@daily\",\"task\":{\"command\":[\"true\"]}}", "name"},
        {"{\"name\":\"x\",\"task\":{\"command\":[\"true\"]}}", "cron"},
        {"{\"name\":\"x\",\"cron\":\"61 * * * *\",\"task\":{\"command\":[\"true\"]}}", "cron"},
        {"{\"name\":\"x\",\"cron\":\"@daily\"}", "task"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[]}}", "task.command"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"],\"delay_s\":1}}",
         "task.delay_s"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"],"
         "\"idempotency_key\":\"k\"}}",
         "task.idempotency_key"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"timezone\":\"../etc/passwd\",\"task\":{\"command\":"
         "[\"t\"]}}",
         "timezone"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"misfire\":\"never\",\"task\":{\"command\":[\"t\"]}"
         "}",
         "misfire"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"overlap\":1,\"task\":{\"command\":[\"t\"]}}",
         "overlap"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"catchup_window_s\":-1,\"task\":{\"command\":[\"t\"]"
         "}}",
         "catchup_window_s"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"paused\":\"yes\",\"task\":{\"command\":[\"t\"]}}",
         "paused"},
        {"{\"name\":\"x\",\"cron\":\"@daily\",\"colour\":1,\"task\":{\"command\":[\"t\"]}}",
         "colour"},
        {"[1]", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct corral_schedule s;
        struct corral_error err = {0};
        int rc = from_text(cases[i].body, T0, &s, &err);
        if (rc != CORRAL_ESPEC || strcmp(err.field, cases[i].field) != 0)
            fail_msg("%s: rc %d field '%s' (%s), want field '%s'", cases[i].body, rc, err.field,
                     err.msg, cases[i].field);
        assert_true(err.msg[0] != '\0');
        assert_null(s.fires);
        assert_null(s.task.argv);
    }
}

static void znode_round_trip_keeps_state_and_ledger(void **state)
{
    (void)state;
    struct corral_schedule s, back;
    make("{\"name\":\"rt\",\"cron\":\"0 9 * * 1-5\",\"timezone\":\"Europe/Berlin\",\"task\":"
         "{\"command\":[\"true\"],\"secret_env\":{\"K\":\"v\"}}}",
         T0, &s);
    s.last_fire_ms = T0 + 5000;
    s.held_ms = T0 + 7000;
    char id[CORRAL_ID_LEN + 1];
    corral_schedule_fire_id("rt", T0 + 5000, id);
    snprintf(s.last_task, sizeof s.last_task, "%s", id);
    corral_schedule_add_fire(&s, T0 + 3000, T0 + 3001, NULL);
    corral_schedule_add_fire(&s, T0 + 5000, T0 + 5002, id);
    char *text = corral_schedule_encode(&s);
    struct corral_error err = {0};
    assert_int_equal(corral_schedule_decode(text, strlen(text), &back, &err), CORRAL_OK);
    char *again = corral_schedule_encode(&back);
    assert_string_equal(text, again);
    assert_int_equal(back.created_at_ms, T0);
    assert_int_equal(back.held_ms, T0 + 7000);
    assert_string_equal(back.last_task, id);
    assert_int_equal(back.n_fires, 2);
    assert_string_equal(back.fires[0].task, "");
    assert_string_equal(back.fires[1].task, id);
    /* The znode keeps the secret (the worker needs it); the API object does not show it. */
    assert_non_null(strstr(text, "\"K\":\"v\""));
    json_t *o = corral_schedule_to_json(&back, -1);
    assert_true(json_is_null(
        json_object_get(json_object_get(json_object_get(o, "task"), "secret_env"), "K")));
    assert_true(json_is_null(json_object_get(o, "next_fire")));
    assert_string_equal(json_string_value(json_object_get(o, "last_fire")),
                        "2026-11-24T08:52:57.000Z");
    assert_null(json_object_get(o, "fires")); /* the ledger has its own endpoint */
    json_decref(o);
    free(again);
    free(text);
    corral_schedule_cleanup(&back);
    corral_schedule_cleanup(&s);
}

static void znode_decode_rejects_corrupt_state(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{}",
        "{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"]}}", /* no state */
        "{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"]},\"created_at\":1,"
        "\"last_fire_ms\":-1,\"held_ms\":-1,\"fires\":[[1,2,\"nope\"]]}",
        "{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"]},\"created_at\":1,"
        "\"last_fire_ms\":-2,\"held_ms\":-1,\"fires\":[]}",
        "{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"]},\"created_at\":1,"
        "\"last_fire_ms\":-1,\"held_ms\":-1,\"fires\":[],\"last_task\":\"x\"}",
        "{\"name\":\"x\",\"cron\":\"@daily\",\"task\":{\"command\":[\"t\"]},\"created_at\":1,"
        "\"last_fire_ms\":-1,\"held_ms\":-1,\"fires\":[[1,2]]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct corral_schedule s;
        struct corral_error err = {0};
        if (corral_schedule_decode(bad[i], strlen(bad[i]), &s, &err) != CORRAL_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_null(s.fires);
    }
}

static void fire_ids_are_valid_stable_and_distinct(void **state)
{
    (void)state;
    char a[CORRAL_ID_LEN + 1], b[CORRAL_ID_LEN + 1], c[CORRAL_ID_LEN + 1];
    corral_schedule_fire_id("nightly", T0, a);
    corral_schedule_fire_id("nightly", T0, b);
    assert_true(corral_id_is_valid(a));
    assert_string_equal(a, b);
    assert_int_equal(strncmp(a, "01a20cc206a0", 12), 0); /* hex of T0: the id's time part */
    corral_schedule_fire_id("nightly", T0 + 1000, c);
    assert_string_not_equal(a, c);
    corral_schedule_fire_id("nightlz", T0, c);
    assert_string_not_equal(a, c);
}

static void ledger_keeps_the_newest(void **state)
{
    (void)state;
    struct corral_schedule s;
    make("{\"name\":\"l\",\"cron\":\"@daily\",\"task\":{\"command\":[\"true\"]}}", T0, &s);
    for (int64_t i = 0; i < CORRAL_SCHEDULE_FIRES_KEPT + 5; i++)
        corral_schedule_add_fire(&s, T0 + i, T0 + i, NULL);
    assert_int_equal(s.n_fires, CORRAL_SCHEDULE_FIRES_KEPT);
    assert_int_equal(s.fires[0].scheduled_ms, T0 + 5);
    assert_int_equal(s.fires[s.n_fires - 1].scheduled_ms, T0 + CORRAL_SCHEDULE_FIRES_KEPT + 4);
    corral_schedule_cleanup(&s);
}

/* A schedule firing every 2 s, created at T0, with these policies. */
static void every2(struct corral_schedule *s, const char *misfire, const char *overlap)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"name\":\"e2\",\"cron\":\"*/2 * * * * *\",\"misfire\":\"%s\",\"overlap\":\"%s\","
             "\"task\":{\"command\":[\"true\"]}}",
             misfire, overlap);
    make(text, T0, s);
}

static void decide(const struct corral_schedule *s, int64_t now, bool busy,
                   struct corral_fire_decision *d)
{
    struct corral_error err = {0};
    if (corral_schedule_decide(s, corral_tz_utc(), now, busy, d, &err) != CORRAL_OK)
        fail_msg("decide: %s", err.msg);
}

static void misfire_after_downtime(void **state)
{
    (void)state;
    struct corral_schedule s;
    struct corral_fire_decision *d = calloc(1, sizeof *d);
    assert_non_null(d);
    /* 9.5 s after creation: slots T0+2, +4, +6, +8 were missed, +8 is 1.5 s late (on time). */
    every2(&s, "fire_all", "allow");
    decide(&s, T0 + 9500, false, d);
    assert_int_equal(d->n_fire, 4);
    assert_int_equal(d->fire_ms[0], T0 + 2000);
    assert_int_equal(d->fire_ms[3], T0 + 8000);
    assert_int_equal(d->record_ms, T0 + 8000);
    corral_schedule_cleanup(&s);
    every2(&s, "fire_once", "allow");
    decide(&s, T0 + 9500, false, d);
    assert_int_equal(d->n_fire, 1);
    assert_int_equal(d->fire_ms[0], T0 + 8000);
    assert_int_equal(d->record_ms, T0 + 8000);
    corral_schedule_cleanup(&s);
    every2(&s, "skip", "allow");
    decide(&s, T0 + 9500, false, d); /* the latest is on time: it fires */
    assert_int_equal(d->n_fire, 1);
    assert_int_equal(d->fire_ms[0], T0 + 8000);
    decide(&s, T0 + 11500 - 1000 + 2600, false, d); /* +10 and +12: 3.1 and 1.1 s late */
    assert_int_equal(d->n_fire, 1);
    assert_int_equal(d->fire_ms[0], T0 + 12000);
    s.last_fire_ms = T0 + 12000;
    decide(&s, T0 + 16500, false, d); /* +14 is 2.5 s late, +16 on time */
    assert_int_equal(d->n_fire, 1);
    assert_int_equal(d->fire_ms[0], T0 + 16000);
    decide(&s, T0 + 19000 + 2500, false, d); /* latest +20 is 1.5 s late; fine */
    assert_int_equal(d->fire_ms[d->n_fire - 1], T0 + 20000);
    decide(&s, T0 + 13000, false, d); /* nothing due since the last fire */
    assert_int_equal(d->n_fire, 0);
    assert_false(d->changed);
    corral_schedule_cleanup(&s);
    free(d);
}

static void overlap_policies_with_an_unfinished_task(void **state)
{
    (void)state;
    struct corral_schedule s;
    struct corral_fire_decision *d = calloc(1, sizeof *d);
    assert_non_null(d);
    every2(&s, "fire_once", "skip");
    decide(&s, T0 + 2100, true, d);
    assert_int_equal(d->n_fire, 0);
    assert_int_equal(d->n_skip, 1);
    assert_int_equal(d->skip_ms[0], T0 + 2000);
    assert_int_equal(d->record_ms, T0 + 2000);
    assert_true(d->changed);
    corral_schedule_cleanup(&s);

    every2(&s, "fire_once", "allow");
    decide(&s, T0 + 2100, true, d);
    assert_int_equal(d->n_fire, 1);
    corral_schedule_cleanup(&s);

    every2(&s, "fire_once", "queue");
    decide(&s, T0 + 2100, true, d);
    assert_int_equal(d->n_fire, 0);
    assert_int_equal(d->hold_ms, T0 + 2000);
    s.held_ms = T0 + 2000;
    s.last_fire_ms = T0 + 2000;
    decide(&s, T0 + 4100, true, d); /* another while one waits: skipped */
    assert_int_equal(d->n_fire, 0);
    assert_int_equal(d->n_skip, 1);
    assert_int_equal(d->hold_ms, T0 + 2000);
    s.last_fire_ms = T0 + 4000;
    decide(&s, T0 + 4500, false, d); /* the task ahead ended: the held fire goes */
    assert_int_equal(d->n_fire, 1);
    assert_int_equal(d->fire_ms[0], T0 + 2000);
    assert_int_equal(d->hold_ms, -1);
    corral_schedule_cleanup(&s);

    every2(&s, "fire_once", "cancel_previous");
    decide(&s, T0 + 2100, true, d);
    assert_true(d->cancel_previous);
    assert_int_equal(d->n_fire, 1);
    corral_schedule_cleanup(&s);

    /* Within one catch-up, cancel_previous keeps only the newest fire. */
    every2(&s, "fire_all", "cancel_previous");
    decide(&s, T0 + 6100, false, d);
    assert_false(d->cancel_previous);
    assert_int_equal(d->n_fire, 1);
    assert_int_equal(d->fire_ms[0], T0 + 6000);
    assert_int_equal(d->n_skip, 2);
    corral_schedule_cleanup(&s);
    free(d);
}

static void paused_schedules_do_not_fire(void **state)
{
    (void)state;
    struct corral_schedule s;
    struct corral_fire_decision *d = calloc(1, sizeof *d);
    assert_non_null(d);
    every2(&s, "fire_all", "allow");
    s.paused = true;
    decide(&s, T0 + 60000, false, d);
    assert_int_equal(d->n_fire, 0);
    assert_false(d->changed);
    assert_int_equal(corral_schedule_next_fire(&s, corral_tz_utc(), T0), -1);
    s.paused = false;
    assert_int_equal(corral_schedule_next_fire(&s, corral_tz_utc(), T0), T0 + 2000);
    assert_int_equal(corral_schedule_next_fire(&s, corral_tz_utc(), T0 + 1), T0 + 2000);
    corral_schedule_cleanup(&s);
    free(d);
}

static void policy_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(corral_misfire_parse(corral_misfire_name((enum corral_misfire)i)), i);
    for (int i = 0; i < 4; i++)
        assert_int_equal(corral_overlap_parse(corral_overlap_name((enum corral_overlap)i)), i);
    assert_int_equal(corral_misfire_parse("Skip"), -1);
    assert_int_equal(corral_overlap_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_defaults_and_every_field),
        cmocka_unit_test(request_errors_name_the_field),
        cmocka_unit_test(znode_round_trip_keeps_state_and_ledger),
        cmocka_unit_test(znode_decode_rejects_corrupt_state),
        cmocka_unit_test(fire_ids_are_valid_stable_and_distinct),
        cmocka_unit_test(ledger_keeps_the_newest),
        cmocka_unit_test(misfire_after_downtime),
        cmocka_unit_test(overlap_policies_with_an_unfinished_task),
        cmocka_unit_test(paused_schedules_do_not_fire),
        cmocka_unit_test(policy_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
