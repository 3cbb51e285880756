/* SPDX-License-Identifier: MIT */
/* Fleet-control records and decisions (fleet.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/fleet.h"
#include "corral/jsonx.h"

static const char *const state_names[] = {
    [CORRAL_FLEET_ACTIVE] = "active",
    [CORRAL_FLEET_CORDONED] = "cordoned",
    [CORRAL_FLEET_DRAINING] = "draining",
};

const char *corral_fleet_state_name(enum corral_fleet_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "active";
}

char *corral_fleet_encode(const struct corral_fleet_rec *rec)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(corral_fleet_state_name(rec->state)));
    if (rec->reason[0])
        json_object_set_new(o, "reason", corral_json_str(rec->reason));
    json_object_set_new(o, "by", json_string(rec->automatic ? "auto" : "operator"));
    json_object_set_new(o, "at_ms", json_integer((json_int_t)rec->at_ms));
    if (rec->has_drain_timeout)
        json_object_set_new(o, "drain_timeout_s", json_integer(rec->drain_timeout_s));
    if (rec->forgive_reg[0]) {
        json_t *f = json_object();
        json_object_set_new(f, "reg", json_string(rec->forgive_reg));
        json_object_set_new(f, "ok_count", json_integer((json_int_t)rec->forgive_oks));
        json_object_set_new(f, "fail_streak", json_integer(rec->forgive_streak));
        json_object_set_new(o, "forgive", f);
    }
    char *text = json_dumps(o, CORRAL_JSON_DUMP_FLAGS);
    json_decref(o);
    if (!text)
        abort(); /* validated strings and integers: only memory can fail */
    return text;
}

static int decode_forgive(const json_t *o, struct corral_fleet_rec *out, struct corral_error *err)
{
    const json_t *f = json_object_get(o, "forgive");
    if (!f)
        return CORRAL_OK;
    if (!json_is_object(f))
        return corral_error_set(err, CORRAL_EINVAL, "forgive", "must be an object");
    const char *reg = NULL;
    uint64_t oks = 0, streak = 0;
    int rc = corral_json_get_str(f, "reg", true, CORRAL_REG_MAX, false, &reg, err);
    if (rc == CORRAL_OK && !corral_reg_is_valid(reg))
        rc = corral_error_set(err, CORRAL_EINVAL, "forgive", "reg is not a registration id");
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(f, "ok_count", true, (uint64_t)INT64_MAX, &oks, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(f, "fail_streak", true, UINT32_MAX, &streak, err);
    if (rc != CORRAL_OK)
        return rc;
    snprintf(out->forgive_reg, sizeof out->forgive_reg, "%s", reg);
    out->forgive_oks = oks;
    out->forgive_streak = (uint32_t)streak;
    return CORRAL_OK;
}

int corral_fleet_decode(const char *buf, size_t len, struct corral_fleet_rec *out,
                        struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = corral_json_load_object(buf, len, 4096, "fleet record", err);
    if (!o)
        return CORRAL_EINVAL;
    const char *state = NULL, *reason = NULL, *by = NULL;
    uint64_t at = 0, drain = 0;
    int rc = corral_json_get_str(o, "state", true, 16, false, &state, err);
    if (rc == CORRAL_OK) {
        size_t k = 0;
        while (k < sizeof state_names / sizeof state_names[0] && strcmp(state, state_names[k]) != 0)
            k++;
        if (k == sizeof state_names / sizeof state_names[0])
            rc = corral_error_set(err, CORRAL_EINVAL, "state", "'%.16s' is not a fleet state",
                                  state);
        else
            out->state = (enum corral_fleet_state)k;
    }
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "reason", false, CORRAL_FLEET_REASON_MAX, true, &reason, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "by", false, 16, false, &by, err);
    if (rc == CORRAL_OK && by && strcmp(by, "auto") != 0 && strcmp(by, "operator") != 0)
        rc = corral_error_set(err, CORRAL_EINVAL, "by", "must be auto or operator");
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "at_ms", false, (uint64_t)INT64_MAX, &at, err);
    if (rc == CORRAL_OK && json_object_get(o, "drain_timeout_s")) {
        out->has_drain_timeout = true;
        rc = corral_json_get_u64(o, "drain_timeout_s", true, CORRAL_FLEET_DRAIN_MAX_S, &drain, err);
    }
    if (rc == CORRAL_OK)
        rc = decode_forgive(o, out, err);
    if (rc == CORRAL_OK) {
        snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
        out->automatic = by && strcmp(by, "auto") == 0;
        out->at_ms = (int64_t)at;
        out->drain_timeout_s = (uint32_t)drain;
    }
    json_decref(o);
    if (rc != CORRAL_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int corral_fleet_request_parse(const char *body, size_t len, enum corral_fleet_state want,
                               int64_t now_ms, struct corral_fleet_rec *out,
                               struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    out->state = want;
    out->at_ms = now_ms;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len)
        return CORRAL_OK; /* no body: {} */
    json_error_t jerr;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return corral_error_set(err, CORRAL_EINVAL, "", "invalid JSON at line %d column %d: %s",
                                jerr.line, jerr.column, jerr.text);
    int rc = CORRAL_OK;
    if (!json_is_object(o))
        rc = corral_error_set(err, CORRAL_EINVAL, "", "the body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (rc != CORRAL_OK)
            break;
        if (strcmp(key, "reason") == 0) {
            if (!json_is_string(v) || json_string_length(v) > CORRAL_FLEET_REASON_MAX ||
                strlen(json_string_value(v)) != json_string_length(v))
                rc = corral_error_set(err, CORRAL_EINVAL, "reason",
                                      "must be a string of at most %u bytes",
                                      CORRAL_FLEET_REASON_MAX);
            else
                snprintf(out->reason, sizeof out->reason, "%s", json_string_value(v));
        } else if (strcmp(key, "drain_timeout_s") == 0 && want == CORRAL_FLEET_DRAINING) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > (json_int_t)CORRAL_FLEET_DRAIN_MAX_S)
                rc = corral_error_set(err, CORRAL_EINVAL, "drain_timeout_s",
                                      "must be an integer 0..%u", CORRAL_FLEET_DRAIN_MAX_S);
            else {
                out->has_drain_timeout = true;
                out->drain_timeout_s = (uint32_t)json_integer_value(v);
            }
        } else {
            rc = corral_error_set(err, CORRAL_EINVAL, key, "unknown field");
        }
    }
    json_decref(o);
    if (rc != CORRAL_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return CORRAL_OK;
}

bool corral_fleet_takes_work(const struct corral_fleet_rec *rec, const struct corral_worker_reg *g)
{
    if (g && g->draining)
        return false;
    return !rec || rec->state == CORRAL_FLEET_ACTIVE;
}

enum corral_fleet_state corral_fleet_shown(const struct corral_fleet_rec *rec,
                                           const struct corral_worker_reg *g, uint32_t running)
{
    bool drain = (g && g->draining) || (rec && rec->state == CORRAL_FLEET_DRAINING);
    if (drain && running > 0)
        return CORRAL_FLEET_DRAINING;
    if (drain || (rec && rec->state == CORRAL_FLEET_CORDONED))
        return CORRAL_FLEET_CORDONED;
    return CORRAL_FLEET_ACTIVE;
}

/* The failures in a row of g that no uncordon forgave. */
static uint32_t unforgiven(const struct corral_fleet_rec *rec, const struct corral_worker_reg *g)
{
    if (rec && rec->forgive_reg[0] && strcmp(rec->forgive_reg, g->reg) == 0 &&
        rec->forgive_oks == g->ok_count)
        return g->fail_streak > rec->forgive_streak ? g->fail_streak - rec->forgive_streak : 0;
    return g->fail_streak;
}

bool corral_fleet_should_cordon(const struct corral_fleet_rec *rec,
                                const struct corral_worker_reg *g, uint32_t threshold)
{
    if (threshold == 0 || !g || (rec && rec->state != CORRAL_FLEET_ACTIVE))
        return false;
    return unforgiven(rec, g) >= threshold;
}

void corral_fleet_uncordoned(const struct corral_worker_reg *g, int64_t now_ms,
                             struct corral_fleet_rec *out)
{
    memset(out, 0, sizeof *out);
    out->state = CORRAL_FLEET_ACTIVE;
    out->at_ms = now_ms;
    if (g && g->fail_streak > 0) {
        snprintf(out->forgive_reg, sizeof out->forgive_reg, "%s", g->reg);
        out->forgive_oks = g->ok_count;
        out->forgive_streak = g->fail_streak;
    }
}
