/* SPDX-License-Identifier: MIT */
/* Fleet control (corral/fleet.h): the record's codec, the state a worker shows, who takes work,
 * and the failure rule with what an uncordon forgives; the streak fields of a registration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/fleet.h"
#include "corral/paths.h"
#include "corral/worker_reg.h"

static struct corral_worker_reg reg(const char *r, uint64_t oks, uint32_t streak, bool draining)
{
    struct corral_worker_reg g = {
        .slots = 4, .weight = 1, .draining = draining, .ok_count = oks, .fail_streak = streak};
    snprintf(g.reg, sizeof g.reg, "%s", r);
    return g;
}

static void decode_ok(const char *text, struct corral_fleet_rec *out)
{
    struct corral_error err = {0};
    int rc = corral_fleet_decode(text, strlen(text), out, &err);
    if (rc != CORRAL_OK)
        fail_msg("decode %s: %s: %s", text, err.field, err.msg);
}

static void decode_bad(const char *text, const char *field)
{
    struct corral_fleet_rec r;
    struct corral_error err = {0};
    assert_int_equal(corral_fleet_decode(text, strlen(text), &r, &err), CORRAL_EINVAL);
    assert_string_equal(err.field, field);
    assert_int_equal(r.state, CORRAL_FLEET_ACTIVE); /* zeroed */
    assert_string_equal(r.reason, "");
}

static void records_round_trip(void **state)
{
    (void)state;
    struct corral_fleet_rec in = {.state = CORRAL_FLEET_DRAINING,
                                  .automatic = false,
                                  .at_ms = 1765000000123,
                                  .has_drain_timeout = true,
                                  .drain_timeout_s = 7};
    snprintf(in.reason, sizeof in.reason, "%s", "kernel upgrade \"soon\"");
    char *text = corral_fleet_encode(&in);
    struct corral_fleet_rec out;
    decode_ok(text, &out);
    assert_int_equal(out.state, CORRAL_FLEET_DRAINING);
    assert_string_equal(out.reason, "kernel upgrade \"soon\"");
    assert_false(out.automatic);
    assert_true(out.at_ms == 1765000000123);
    assert_true(out.has_drain_timeout);
    assert_int_equal(out.drain_timeout_s, 7);
    char *again = corral_fleet_encode(&out);
    assert_string_equal(text, again);
    free(again);
    free(text);

    struct corral_worker_reg g = reg("00ff", 5, 3, false);
    corral_fleet_uncordoned(&g, 42, &in);
    text = corral_fleet_encode(&in);
    decode_ok(text, &out);
    assert_int_equal(out.state, CORRAL_FLEET_ACTIVE);
    assert_string_equal(out.forgive_reg, "00ff");
    assert_true(out.forgive_oks == 5);
    assert_int_equal(out.forgive_streak, 3);
    assert_false(out.has_drain_timeout);
    free(text);

    decode_ok("{\"state\":\"cordoned\",\"by\":\"auto\",\"future\":[1,2]}", &out);
    assert_int_equal(out.state, CORRAL_FLEET_CORDONED);
    assert_true(out.automatic);
    assert_string_equal(corral_fleet_state_name(CORRAL_FLEET_CORDONED), "cordoned");
    assert_string_equal(corral_fleet_state_name(CORRAL_FLEET_DRAINING), "draining");
    assert_string_equal(corral_fleet_state_name(CORRAL_FLEET_ACTIVE), "active");
}

static void hostile_records_are_refused(void **state)
{
    (void)state;
    decode_bad("{\"state\":\"asleep\"}", "state");
    decode_bad("{}", "state");
    decode_bad("{\"state\":7}", "state");
    decode_bad("{\"state\":\"cordoned\",\"by\":\"mallory\"}", "by");
    decode_bad("{\"state\":\"draining\",\"drain_timeout_s\":86401}", "drain_timeout_s");
    decode_bad("{\"state\":\"draining\",\"drain_timeout_s\":-1}", "drain_timeout_s");
    decode_bad("{\"state\":\"active\",\"forgive\":[]}", "forgive");
    decode_bad("{\"state\":\"active\",\"forgive\":{\"reg\":\"XYZ\",\"ok_count\":0,"
               "\"fail_streak\":1}}",
               "forgive");
    decode_bad("{\"state\":\"active\",\"forgive\":{\"reg\":\"ab\",\"ok_count\":0}}", "fail_streak");
    char long_reason[400];
    memset(long_reason, 'r', sizeof long_reason);
    char text[512];
    snprintf(text, sizeof text, "{\"state\":\"cordoned\",\"reason\":\"%.*s\"}", 300, long_reason);
    decode_bad(text, "reason");
    struct corral_fleet_rec r;
    struct corral_error err = {0};
    assert_int_equal(corral_fleet_decode("not json", 8, &r, &err), CORRAL_EINVAL);
    assert_int_equal(corral_fleet_decode("", 0, &r, &err), CORRAL_EINVAL);
}

static void shown_state_and_work(void **state)
{
    (void)state;
    struct corral_worker_reg up = reg("a1", 0, 0, false), term = reg("a1", 0, 0, true);
    struct corral_fleet_rec cordon = {.state = CORRAL_FLEET_CORDONED};
    struct corral_fleet_rec drain = {.state = CORRAL_FLEET_DRAINING};
    struct corral_fleet_rec forgiven = {.state = CORRAL_FLEET_ACTIVE};

    assert_true(corral_fleet_takes_work(NULL, &up));
    assert_true(corral_fleet_takes_work(&forgiven, &up));
    assert_false(corral_fleet_takes_work(&cordon, &up));
    assert_false(corral_fleet_takes_work(&drain, &up));
    assert_false(corral_fleet_takes_work(NULL, &term)); /* SIGTERM drain */

    assert_int_equal(corral_fleet_shown(NULL, &up, 3), CORRAL_FLEET_ACTIVE);
    assert_int_equal(corral_fleet_shown(&forgiven, &up, 3), CORRAL_FLEET_ACTIVE);
    assert_int_equal(corral_fleet_shown(&cordon, &up, 3), CORRAL_FLEET_CORDONED);
    assert_int_equal(corral_fleet_shown(&cordon, &up, 0), CORRAL_FLEET_CORDONED);
    /* draining while tasks remain, cordoned after */
    assert_int_equal(corral_fleet_shown(&drain, &up, 2), CORRAL_FLEET_DRAINING);
    assert_int_equal(corral_fleet_shown(&drain, &up, 0), CORRAL_FLEET_CORDONED);
    assert_int_equal(corral_fleet_shown(NULL, &term, 1), CORRAL_FLEET_DRAINING);
    assert_int_equal(corral_fleet_shown(&cordon, &term, 1), CORRAL_FLEET_DRAINING);
    assert_int_equal(corral_fleet_shown(NULL, &term, 0), CORRAL_FLEET_CORDONED);
}

static void failure_rule_and_forgiveness(void **state)
{
    (void)state;
    struct corral_worker_reg g = reg("beef", 10, 2, false);
    assert_false(corral_fleet_should_cordon(NULL, &g, 0)); /* off */
    assert_false(corral_fleet_should_cordon(NULL, &g, 3));
    g.fail_streak = 3;
    assert_true(corral_fleet_should_cordon(NULL, &g, 3));
    assert_true(corral_fleet_should_cordon(NULL, &g, 1));
    assert_false(corral_fleet_should_cordon(NULL, NULL, 1));

    /* already out of service: nothing to do */
    struct corral_fleet_rec cordon = {.state = CORRAL_FLEET_CORDONED};
    struct corral_fleet_rec drain = {.state = CORRAL_FLEET_DRAINING};
    assert_false(corral_fleet_should_cordon(&cordon, &g, 3));
    assert_false(corral_fleet_should_cordon(&drain, &g, 3));

    /* an uncordon forgives the current streak: N more failures cordon it again */
    struct corral_fleet_rec up;
    corral_fleet_uncordoned(&g, 1, &up);
    assert_false(corral_fleet_should_cordon(&up, &g, 3));
    g.fail_streak = 5;
    assert_false(corral_fleet_should_cordon(&up, &g, 3));
    g.fail_streak = 6;
    assert_true(corral_fleet_should_cordon(&up, &g, 3));

    /* a success ends the forgiven streak: a new one counts from zero */
    g.ok_count = 11;
    g.fail_streak = 3;
    assert_true(corral_fleet_should_cordon(&up, &g, 3));
    g.fail_streak = 2;
    assert_false(corral_fleet_should_cordon(&up, &g, 3));

    /* another incarnation of the worker (restart): its own streak counts */
    struct corral_worker_reg h = reg("cafe", 10, 3, false);
    assert_true(corral_fleet_should_cordon(&up, &h, 3));

    /* an uncordon of a worker without failures forgives nothing */
    struct corral_worker_reg clean = reg("cafe", 4, 0, false);
    corral_fleet_uncordoned(&clean, 1, &up);
    assert_string_equal(up.forgive_reg, "");
    clean.fail_streak = 3;
    assert_true(corral_fleet_should_cordon(&up, &clean, 3));
}

static void registration_carries_the_streak(void **state)
{
    (void)state;
    struct corral_worker_reg g = reg("0123abcd", 12, 4, false);
    char w1[] = "w1";
    g.id = w1;
    g.cpu_milli = 1000;
    char *text = corral_worker_reg_encode(&g);
    struct corral_worker_reg back = {0};
    assert_int_equal(corral_worker_reg_decode("w1", text, strlen(text), &back, NULL), CORRAL_OK);
    assert_true(back.ok_count == 12);
    assert_int_equal(back.fail_streak, 4);
    corral_worker_reg_cleanup(&back);
    free(text);
    /* an older worker's registration has neither: zero */
    const char *old = "{\"slots\":2,\"cpu\":2,\"mem_mb\":0,\"reg\":\"ab\"}";
    assert_int_equal(corral_worker_reg_decode("w1", old, strlen(old), &back, NULL), CORRAL_OK);
    assert_true(back.ok_count == 0);
    assert_int_equal(back.fail_streak, 0);
    corral_worker_reg_cleanup(&back);
    const char *bad = "{\"slots\":2,\"cpu\":2,\"mem_mb\":0,\"reg\":\"ab\",\"fail_streak\":-3}";
    struct corral_error err = {0};
    assert_int_equal(corral_worker_reg_decode("w1", bad, strlen(bad), &back, &err), CORRAL_EINVAL);
    assert_string_equal(err.field, "fail_streak");

    char path[CORRAL_PATH_MAX];
    assert_int_equal(corral_path_fleet(path, sizeof path, "/corral", "w1"), CORRAL_OK);
    assert_string_equal(path, "/corral/fleet/w1");
    assert_int_not_equal(corral_path_fleet(path, sizeof path, "/corral", "a/b"), CORRAL_OK);
    assert_int_not_equal(corral_path_fleet(path, sizeof path, "/corral", ""), CORRAL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_round_trip),
        cmocka_unit_test(hostile_records_are_refused),
        cmocka_unit_test(shown_state_and_work),
        cmocka_unit_test(failure_rule_and_forgiveness),
        cmocka_unit_test(registration_carries_the_streak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
