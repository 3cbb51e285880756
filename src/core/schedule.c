/* SPDX-License-Identifier: MIT */
/*
 * Cron schedules (corral/schedule.h): request parsing, the znode codec, the API object and the
 * firing decision. Pure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/id.h"
#include "corral/jsonx.h"
#include "corral/schedule.h"
#include "corral/text.h"
#include "corral/xalloc.h"

/* ---- names ---- */

static const char *const misfire_names[] = {"skip", "fire_once", "fire_all"};
static const char *const overlap_names[] = {"allow", "skip", "queue", "cancel_previous"};

const char *corral_misfire_name(enum corral_misfire m)
{
    return (unsigned)m < 3 ? misfire_names[m] : "unknown";
}

int corral_misfire_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, misfire_names[i]) == 0)
            return i;
    return -1;
}

const char *corral_overlap_name(enum corral_overlap o)
{
    return (unsigned)o < 4 ? overlap_names[o] : "unknown";
}

int corral_overlap_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, overlap_names[i]) == 0)
            return i;
    return -1;
}

/* A zone name as io/tz.c accepts it: [A-Za-z0-9_+-/], no leading, trailing or double '/', no
 * "." or ".." component. */
static bool tz_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CORRAL_SCHEDULE_TZ_MAX || s[0] == '/' || s[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/' || c == '.'))
            return false;
        if (c == '/' && s[i + 1] == '/')
            return false;
        if (c == '.' && (i == 0 || s[i - 1] == '/') &&
            (s[i + 1] == '\0' || s[i + 1] == '/' ||
             (s[i + 1] == '.' && (s[i + 2] == '\0' || s[i + 2] == '/'))))
            return false;
    }
    return true;
}

/* ---- the request ---- */

static int bad(struct corral_error *err, const char *field, const char *msg)
{
    return corral_error_set(err, CORRAL_ESPEC, field, "%s: %s", field, msg);
}

static const char *const request_keys[] = {
    "name", "cron", "timezone", "task", "misfire", "overlap", "catchup_window_s", "paused", NULL};

static int check_keys(const json_t *body, struct corral_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)body, key, v)
    {
        (void)v;
        bool known = false;
        for (size_t i = 0; request_keys[i] && !known; i++)
            known = strcmp(key, request_keys[i]) == 0;
        if (!known)
            return corral_error_set(err, CORRAL_ESPEC, key, "unknown field \"%.64s\"", key);
    }
    return CORRAL_OK;
}

static int req_string(const json_t *body, const char *key, bool required, const char **out,
                      struct corral_error *err)
{
    const json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v)) {
        if (required)
            return bad(err, key, "is required");
        return CORRAL_OK;
    }
    if (!json_is_string(v))
        return bad(err, key, "must be a string");
    *out = json_string_value(v);
    return CORRAL_OK;
}

static int parse_request(const json_t *body, struct corral_schedule *s, struct corral_error *err)
{
    if (!json_is_object(body))
        return bad(err, "", "the body must be a JSON object");
    int rc = check_keys(body, err);
    const char *name = NULL, *cron = NULL, *tz = "UTC", *misfire = NULL, *overlap = NULL;
    if (rc || (rc = req_string(body, "name", true, &name, err)))
        return rc;
    if (!corral_schedule_name_is_valid(name))
        return bad(err, "name",
                   "must be 1-64 characters of A-Z a-z 0-9 . _ - , not starting with '.'");
    snprintf(s->name, sizeof s->name, "%s", name);
    if ((rc = req_string(body, "cron", true, &cron, err)))
        return rc;
    if (strlen(cron) > CORRAL_CRON_MAX_LEN)
        return bad(err, "cron", "is longer than 256 bytes");
    struct corral_error cerr = {0};
    if (corral_cron_parse(cron, strlen(cron), &s->cron, &cerr) != CORRAL_OK)
        return corral_error_set(err, CORRAL_ESPEC, "cron", "cron: %s", cerr.msg);
    snprintf(s->cron_text, sizeof s->cron_text, "%s", cron);
    if ((rc = req_string(body, "timezone", false, &tz, err)))
        return rc;
    if (!tz_name_ok(tz))
        return bad(err, "timezone", "must be an IANA time zone name like Europe/Berlin");
    snprintf(s->timezone, sizeof s->timezone, "%s", tz);
    if ((rc = req_string(body, "misfire", false, &misfire, err)))
        return rc;
    s->misfire = CORRAL_MISFIRE_FIRE_ONCE;
    if (misfire) {
        int m = corral_misfire_parse(misfire);
        if (m < 0)
            return bad(err, "misfire", "must be one of skip, fire_once, fire_all");
        s->misfire = (enum corral_misfire)m;
    }
    if ((rc = req_string(body, "overlap", false, &overlap, err)))
        return rc;
    s->overlap = CORRAL_OVERLAP_SKIP;
    if (overlap) {
        int o = corral_overlap_parse(overlap);
        if (o < 0)
            return bad(err, "overlap", "must be one of allow, skip, queue, cancel_previous");
        s->overlap = (enum corral_overlap)o;
    }
    s->catchup_window_s = CORRAL_SCHEDULE_CATCHUP_DEF_S;
    const json_t *w = json_object_get(body, "catchup_window_s");
    if (w && !json_is_null(w)) {
        if (!json_is_integer(w) || json_integer_value(w) < 0 ||
            json_integer_value(w) > CORRAL_MISFIRE_MAX_WINDOW_S)
            return bad(err, "catchup_window_s", "must be an integer 0..31622400");
        s->catchup_window_s = json_integer_value(w);
    }
    const json_t *p = json_object_get(body, "paused");
    if (p && !json_is_null(p)) {
        if (!json_is_boolean(p))
            return bad(err, "paused", "must be a boolean");
        s->paused = json_is_true(p);
    }
    const json_t *task = json_object_get(body, "task");
    if (!task || json_is_null(task))
        return bad(err, "task", "is required (the spec of the task each fire submits)");
    if ((rc = corral_spec_from_json(task, "task.", &s->task, err)))
        return rc;
    if (s->task.has_run_at || s->task.has_delay)
        return bad(err, s->task.has_run_at ? "task.run_at" : "task.delay_s",
                   "is not allowed: a schedule's task starts at its fire time");
    if (s->task.idempotency_key)
        return bad(err, "task.idempotency_key",
                   "is not allowed: every fire is a new task (each has its own id)");
    return CORRAL_OK;
}

int corral_schedule_from_request(const json_t *body, int64_t now_ms, struct corral_schedule *out,
                                 struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    out->last_fire_ms = -1;
    out->held_ms = -1;
    out->created_at_ms = now_ms;
    int rc = parse_request(body, out, err);
    if (rc != CORRAL_OK)
        corral_schedule_cleanup(out);
    return rc;
}

/* ---- the znode ---- */

/* The fields the API and the znode share. */
static json_t *common_json(const struct corral_schedule *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "cron", corral_json_str(s->cron_text));
    json_object_set_new(o, "timezone", json_string(s->timezone));
    json_object_set_new(o, "task", corral_spec_to_json(&s->task));
    json_object_set_new(o, "misfire", json_string(corral_misfire_name(s->misfire)));
    json_object_set_new(o, "overlap", json_string(corral_overlap_name(s->overlap)));
    json_object_set_new(o, "catchup_window_s", json_integer(s->catchup_window_s));
    json_object_set_new(o, "paused", json_boolean(s->paused));
    json_object_set_new(o, "last_fire", corral_json_time(s->last_fire_ms));
    return o;
}

char *corral_schedule_encode(const struct corral_schedule *s)
{
    json_t *o = common_json(s);
    json_object_set_new(o, "created_at", json_integer(s->created_at_ms));
    json_object_set_new(o, "last_fire_ms", json_integer(s->last_fire_ms));
    json_object_set_new(o, "last_task", s->last_task[0] ? json_string(s->last_task) : json_null());
    json_object_set_new(o, "held_ms", json_integer(s->held_ms));
    json_t *fires = json_array();
    for (size_t i = 0; i < s->n_fires; i++) {
        const struct corral_fire *f = &s->fires[i];
        json_t *e = json_array();
        json_array_append_new(e, json_integer(f->scheduled_ms));
        json_array_append_new(e, json_integer(f->fired_ms));
        json_array_append_new(e, f->task[0] ? json_string(f->task) : json_null());
        json_array_append_new(fires, e);
    }
    json_object_set_new(o, "fires", fires);
    char *text = json_dumps(o, CORRAL_JSON_DUMP_FLAGS);
    json_decref(o);
    if (!text)
        abort(); /* only on out of memory */
    return text;
}

static int dbad(struct corral_error *err, const char *field)
{
    return corral_error_set(err, CORRAL_EINVAL, field, "schedule znode: bad or missing \"%s\"",
                            field);
}

static int get_i64(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
                   struct corral_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return dbad(err, key);
    *out = json_integer_value(v);
    return CORRAL_OK;
}

static int decode_fires(const json_t *arr, struct corral_schedule *s, struct corral_error *err)
{
    if (!json_is_array(arr) || json_array_size(arr) > CORRAL_SCHEDULE_FIRES_KEPT)
        return dbad(err, "fires");
    size_t n = json_array_size(arr);
    s->fires = corral_xcalloc(n ? n : 1, sizeof *s->fires);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        const json_t *a = json_array_get(e, 0), *b = json_array_get(e, 1),
                     *t = json_array_get(e, 2);
        if (!json_is_array(e) || json_array_size(e) != 3 || !json_is_integer(a) ||
            !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0 ||
            !(json_is_null(t) || (json_is_string(t) && corral_id_is_valid(json_string_value(t)))))
            return dbad(err, "fires");
        struct corral_fire *f = &s->fires[s->n_fires++];
        f->scheduled_ms = json_integer_value(a);
        f->fired_ms = json_integer_value(b);
        if (json_is_string(t))
            snprintf(f->task, sizeof f->task, "%s", json_string_value(t));
    }
    return CORRAL_OK;
}

int corral_schedule_decode(const char *buf, size_t len, struct corral_schedule *out,
                           struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = corral_json_load_object(buf, len, 2u * 1024u * 1024u, "schedule", err);
    if (!o)
        return CORRAL_EINVAL;
    /* The request's fields go through the request parser: one set of rules. */
    json_t *req = json_object();
    for (size_t i = 0; request_keys[i]; i++) {
        json_t *v = json_object_get(o, request_keys[i]);
        if (v)
            json_object_set(req, request_keys[i], v);
    }
    struct corral_error perr = {0};
    int rc = corral_schedule_from_request(req, 0, out, &perr);
    json_decref(req);
    if (rc != CORRAL_OK) {
        json_decref(o);
        return corral_error_set(err, CORRAL_EINVAL, perr.field, "schedule znode: %s", perr.msg);
    }
    const json_t *lt = json_object_get(o, "last_task");
    if ((rc = get_i64(o, "created_at", 0, CORRAL_CRON_MAX_MS, &out->created_at_ms, err)) ||
        (rc = get_i64(o, "last_fire_ms", -1, CORRAL_CRON_MAX_MS, &out->last_fire_ms, err)) ||
        (rc = get_i64(o, "held_ms", -1, CORRAL_CRON_MAX_MS, &out->held_ms, err)) ||
        (rc = decode_fires(json_object_get(o, "fires"), out, err))) {
        /* rc set */
    } else if (lt && !json_is_null(lt)) {
        if (!json_is_string(lt) || !corral_id_is_valid(json_string_value(lt)))
            rc = dbad(err, "last_task");
        else
            snprintf(out->last_task, sizeof out->last_task, "%s", json_string_value(lt));
    }
    json_decref(o);
    if (rc != CORRAL_OK)
        corral_schedule_cleanup(out);
    return rc;
}

json_t *corral_schedule_to_json(const struct corral_schedule *s, int64_t next_fire_ms)
{
    json_t *o = common_json(s);
    corral_spec_redact_json(json_object_get(o, "task"));
    json_object_set_new(o, "next_fire", corral_json_time(next_fire_ms));
    json_object_set_new(o, "created_at", corral_json_time(s->created_at_ms));
    return o;
}

int64_t corral_schedule_next_fire(const struct corral_schedule *s, const struct corral_tz *tz,
                                  int64_t now_ms)
{
    if (s->paused)
        return -1;
    int64_t next;
    struct corral_error err = {0};
    if (corral_cron_next(&s->cron, tz, now_ms, &next, &err) != CORRAL_OK)
        return -1;
    return next;
}

void corral_schedule_fire_id(const char *name, int64_t scheduled_ms, char out[CORRAL_ID_LEN + 1])
{
    char key[CORRAL_SCHEDULE_NAME_MAX + 32];
    snprintf(key, sizeof key, "%s@%" PRId64, name, scheduled_ms);
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 16777619u;
    }
    snprintf(out, CORRAL_ID_LEN + 1, "%012" PRIx64 "-%08" PRIx32,
             (uint64_t)scheduled_ms & UINT64_C(0xffffffffffff), h);
}

void corral_schedule_add_fire(struct corral_schedule *s, int64_t scheduled_ms, int64_t fired_ms,
                              const char *task)
{
    if (s->n_fires == CORRAL_SCHEDULE_FIRES_KEPT) {
        memmove(s->fires, s->fires + 1, (s->n_fires - 1) * sizeof *s->fires);
        s->n_fires--;
    } else {
        s->fires = corral_xrealloc(s->fires, (s->n_fires + 1) * sizeof *s->fires);
    }
    struct corral_fire *f = &s->fires[s->n_fires++];
    memset(f, 0, sizeof *f);
    f->scheduled_ms = scheduled_ms;
    f->fired_ms = fired_ms;
    if (task)
        snprintf(f->task, sizeof f->task, "%s", task);
}

/* ---- the decision ---- */

/* Apply the overlap policy to fire f; busy: an unfinished task is ahead of it. */
static void overlap_one(const struct corral_schedule *s, int64_t f, bool *busy,
                        struct corral_fire_decision *d)
{
    bool one_waiting = d->hold_ms >= 0;
    switch (corral_overlap_decide(s->overlap, *busy, one_waiting)) {
        case CORRAL_OVERLAP_ACT_FIRE:
            d->fire_ms[d->n_fire++] = f;
            *busy = true;
            break;
        case CORRAL_OVERLAP_ACT_SKIP:
            d->skip_ms[d->n_skip++] = f;
            break;
        case CORRAL_OVERLAP_ACT_QUEUE_ONE:
            d->hold_ms = f;
            break;
        case CORRAL_OVERLAP_ACT_CANCEL_PREVIOUS_THEN_FIRE:
            /* Within one decision the previous is a fire of this same decision: it is
             * superseded (recorded as skipped) instead of created and cancelled at once. */
            if (d->n_fire > 0)
                d->skip_ms[d->n_skip++] = d->fire_ms[--d->n_fire];
            else
                d->cancel_previous = true;
            d->fire_ms[d->n_fire++] = f;
            *busy = true;
            break;
    }
}

int corral_schedule_decide(const struct corral_schedule *s, const struct corral_tz *tz,
                           int64_t now_ms, bool previous_unfinished,
                           struct corral_fire_decision *out, struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    out->hold_ms = -1;
    out->record_ms = s->last_fire_ms;
    bool busy = previous_unfinished;
    /* A held fire goes first once the task ahead of it has ended. */
    if (s->held_ms >= 0) {
        if (busy) {
            out->hold_ms = s->held_ms;
        } else {
            out->fire_ms[out->n_fire++] = s->held_ms;
            busy = true;
            out->changed = true;
        }
    }
    if (s->paused)
        return CORRAL_OK;
    int64_t since = s->last_fire_ms >= 0 ? s->last_fire_ms : s->created_at_ms;
    struct corral_misfire_policy pol = {.misfire = s->misfire,
                                        .catchup_window_s = s->catchup_window_s,
                                        .grace_ms = CORRAL_SCHEDULE_GRACE_MS};
    struct corral_misfire_plan *plan = corral_xcalloc(1, sizeof *plan);
    int rc = corral_misfire_plan(&s->cron, tz, &pol, since, now_ms, plan, err);
    if (rc == CORRAL_OK) {
        /* Room for the held fire released above. */
        size_t room = CORRAL_MISFIRE_MAX_FIRES - out->n_fire;
        for (uint32_t i = 0; i < plan->n_fires && i < room; i++)
            overlap_one(s, plan->fires_ms[i], &busy, out);
        if (plan->record_ms != s->last_fire_ms) {
            out->record_ms = plan->record_ms;
            out->changed = true;
        }
        if (out->hold_ms != s->held_ms || out->n_skip > 0 || out->n_fire > 0)
            out->changed = true;
    }
    free(plan);
    return rc;
}

void corral_schedule_cleanup(struct corral_schedule *s)
{
    if (!s)
        return;
    corral_spec_cleanup(&s->task);
    free(s->fires);
    memset(s, 0, sizeof *s);
}
