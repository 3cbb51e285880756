/* SPDX-License-Identifier: MIT */
/*
 * Cron schedules behind /v1/schedules (corrald/schedules.h). A schedule is one znode
 * schedules/<name> (docs/znodes.md); every write is a set at the version read, retried a few
 * times when another writer (the leader recording a fire) got there first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/id.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/strlist.h"
#include "corral/text.h"
#include "corral/txn.h"
#include "corral/xalloc.h"
#include "corrald/persist.h"
#include "corrald/schedules.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"
#include "io/tz.h"
#include "io/zk.h"

#define CORRAL_LOG_MODULE "schedules"

/* Bounded retries of a write that lost a version race with the leader. */
#define SCHED_RACE_RETRIES 8

static void sched_path(const struct replica *r, const char *name, char out[CORRAL_PATH_MAX])
{
    if (corral_path_schedule(out, CORRAL_PATH_MAX, r->opts.ns, name) != CORRAL_OK)
        abort(); /* names are validated before they get here */
}

static int read_once(struct replica *r, const char *path, struct corral_schedule *out,
                     int32_t *version, struct corral_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, path, false, &data, &len, version, err);
    if (rc != CORRAL_OK)
        return rc;
    rc = corral_schedule_decode(data, len, out, err);
    if (rc != CORRAL_OK)
        CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "schedule-corrupt", path,
                        "corrupt schedule znode path=%s: %s", path, err->msg);
    free(data);
    return rc;
}

int sched_read(struct replica *r, const char *name, struct corral_schedule *out, int32_t *version,
               struct corral_error *err)
{
    if (!corral_schedule_name_is_valid(name))
        return corral_error_set(err, CORRAL_ENOTFOUND, "name", "no schedule '%.64s'", name);
    char path[CORRAL_PATH_MAX];
    sched_path(r, name, path);
    int rc = read_once(r, path, out, version, err);
    if (rc == CORRAL_ENOTFOUND) {
        /* Another replica may have stored it a moment ago. */
        corral_error_clear(err);
        if ((rc = zk_sync(r->zk, path, err)) != CORRAL_OK)
            return rc;
        rc = read_once(r, path, out, version, err);
    }
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return corral_error_set(err, CORRAL_ENOTFOUND, "name", "no schedule '%s'", name);
    }
    return rc;
}

json_t *sched_public(const struct corral_schedule *s, struct corral_error *err)
{
    struct corral_tz *tz = corral_xcalloc(1, sizeof *tz);
    json_t *o = NULL;
    if (tz_load(s->timezone, tz, err) == CORRAL_OK)
        o = corral_schedule_to_json(s, corral_schedule_next_fire(s, tz, clock_wall_ms()));
    free(tz);
    return o;
}

static int public_or_fail(const struct corral_schedule *s, json_t **out, struct corral_error *err)
{
    *out = sched_public(s, err);
    return *out ? CORRAL_OK : CORRAL_EINTERNAL;
}

int sched_create(struct replica *r, const json_t *body, json_t **out, struct corral_error *err)
{
    struct corral_schedule s;
    int rc = corral_schedule_from_request(body, clock_wall_ms(), &s, err);
    if (rc != CORRAL_OK)
        return rc;
    struct corral_tz *tz = corral_xcalloc(1, sizeof *tz);
    struct corral_error tzerr = {0};
    if (tz_load(s.timezone, tz, &tzerr) != CORRAL_OK) {
        rc = corral_error_set(err, CORRAL_ESPEC, "timezone", "timezone: unknown zone \"%s\"",
                              s.timezone);
    } else {
        int64_t next;
        struct corral_error cerr = {0};
        if (corral_cron_next(&s.cron, tz, clock_wall_ms(), &next, &cerr) != CORRAL_OK)
            rc = corral_error_set(err, CORRAL_ESPEC, "cron", "cron: never fires: %s", cerr.msg);
    }
    free(tz);
    if (rc == CORRAL_OK) {
        char *text = corral_schedule_encode(&s);
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.schedule");
        rc = corral_ops_schedule_write(&txn, r->opts.ns, NULL, s.name, text, -1);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        free(text);
        if (rc == CORRAL_EEXIST) {
            corral_error_clear(err);
            rc = corral_error_set(err, CORRAL_ECONFLICT, "name",
                                  "a schedule named '%s' exists already", s.name);
        } else if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                  "namespace %s is not initialised; retry", r->opts.ns);
        }
    }
    if (rc == CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_INFO, "schedule=%s created cron=\"%s\" timezone=%s", s.name,
                   s.cron_text, s.timezone);
        rc = public_or_fail(&s, out, err);
    }
    corral_schedule_cleanup(&s);
    return rc;
}

int sched_get(struct replica *r, const char *name, json_t **out, struct corral_error *err)
{
    struct corral_schedule s;
    int rc = sched_read(r, name, &s, NULL, err);
    if (rc == CORRAL_OK) {
        rc = public_or_fail(&s, out, err);
        corral_schedule_cleanup(&s);
    }
    return rc;
}

int sched_list(struct replica *r, json_t **out, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_SCHEDULES, dir);
    struct corral_strlist names = {0};
    int rc = zk_children(r->zk, dir, false, &names, err);
    if (rc != CORRAL_OK)
        return rc;
    const char **ptrs = corral_xcalloc(names.n ? names.n : 1, sizeof *ptrs);
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(names.n ? names.n : 1, CORRAL_PATH_MAX);
    struct zk_got *got = corral_xcalloc(names.n ? names.n : 1, sizeof *got);
    size_t n = 0;
    for (size_t i = 0; i < names.n; i++) {
        if (!corral_schedule_name_is_valid(names.items[i]))
            continue;
        sched_path(r, names.items[i], paths[n]);
        ptrs[n] = paths[n];
        n++;
    }
    zk_get_many(r->zk, ptrs, n, false, got);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        struct corral_schedule s;
        struct corral_error derr = {0};
        if (got[i].rc == CORRAL_OK &&
            corral_schedule_decode(got[i].data, got[i].len, &s, &derr) == CORRAL_OK) {
            json_t *o = sched_public(&s, &derr);
            if (o)
                json_array_append_new(arr, o);
            corral_schedule_cleanup(&s);
        } else if (got[i].rc == CORRAL_OK) {
            CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "schedule-corrupt", paths[i],
                            "corrupt schedule znode path=%s: %s", paths[i], derr.msg);
        } else if (got[i].rc != CORRAL_ENOTFOUND && rc == CORRAL_OK) {
            rc = got[i].rc;
            *err = got[i].err;
        }
        zk_got_cleanup(&got[i]);
    }
    free(got);
    free(paths);
    free(ptrs);
    corral_strlist_cleanup(&names);
    if (rc != CORRAL_OK) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "schedules", arr);
    return CORRAL_OK;
}

int sched_delete(struct replica *r, const char *name, json_t **out, struct corral_error *err)
{
    for (int attempt = 0; attempt < SCHED_RACE_RETRIES; attempt++) {
        struct corral_schedule s;
        int32_t version;
        int rc = sched_read(r, name, &s, &version, err);
        if (rc != CORRAL_OK)
            return rc;
        char path[CORRAL_PATH_MAX];
        sched_path(r, name, path);
        rc = zk_delete(r->zk, path, version, err);
        if (rc == CORRAL_OK) {
            CORRAL_LOG(CORRAL_LOG_INFO, "schedule=%s deleted", name);
            rc = public_or_fail(&s, out, err);
        }
        corral_schedule_cleanup(&s);
        if (rc != CORRAL_ECONFLICT)
            return rc;
        corral_error_clear(err); /* changed meanwhile (a fire): read it again */
    }
    return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "schedule '%s' keeps changing; retry",
                            name);
}

/* A change of a schedule read at its version: it may also add ops (a fire's task) to txn. */
typedef int (*sched_change_fn)(struct replica *r, struct corral_schedule *s, void *ctx,
                               struct corral_txn *txn, struct corral_error *err);

/* Read, change with fn, write at the version read; retried when the leader wrote meanwhile. */
static int sched_update(struct replica *r, const char *name, sched_change_fn fn, void *ctx,
                        struct corral_schedule *after, struct corral_error *err)
{
    for (int attempt = 0; attempt < SCHED_RACE_RETRIES; attempt++) {
        int32_t version;
        int rc = sched_read(r, name, after, &version, err);
        if (rc != CORRAL_OK)
            return rc;
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.schedule");
        if ((rc = fn(r, after, ctx, &txn, err)) == CORRAL_OK) {
            char *text = corral_schedule_encode(after);
            rc = corral_ops_schedule_write(&txn, r->opts.ns, NULL, name, text, version);
            free(text);
        }
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK)
            return CORRAL_OK;
        corral_schedule_cleanup(after);
        if (rc != CORRAL_ECONFLICT)
            return rc;
        corral_error_clear(err);
    }
    return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "schedule '%s' keeps changing; retry",
                            name);
}

static int set_paused(struct replica *r, struct corral_schedule *s, void *ctx,
                      struct corral_txn *txn, struct corral_error *err)
{
    (void)r;
    (void)txn;
    (void)err;
    s->paused = *(const bool *)ctx;
    return CORRAL_OK;
}

int sched_set_paused(struct replica *r, const char *name, bool paused, json_t **out,
                     struct corral_error *err)
{
    struct corral_schedule s;
    int rc = sched_update(r, name, set_paused, &paused, &s, err);
    if (rc == CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_INFO, "schedule=%s %s", name, paused ? "paused" : "resumed");
        rc = public_or_fail(&s, out, err);
        corral_schedule_cleanup(&s);
    }
    return rc;
}

/* The trigger's task: made once (its id stays the same across retries of the update). */
static int record_trigger(struct replica *r, struct corral_schedule *s, void *ctx,
                          struct corral_txn *txn, struct corral_error *err)
{
    (void)err;
    struct corral_task *t = ctx;
    if (!t->id[0]) {
        int64_t now = clock_wall_ms();
        char id[CORRAL_ID_LEN + 1];
        corral_id_make(id, (uint64_t)now, rand_u32());
        struct corral_spec spec = {0};
        corral_spec_copy(&spec, &s->task);
        corral_task_init_new(t, id, &spec, now);
    }
    corral_schedule_add_fire(s, t->submitted_at_ms, t->submitted_at_ms, t->id);
    snprintf(s->last_task, sizeof s->last_task, "%s", t->id);
    return corral_ops_submit(txn, r->opts.ns, t, NULL);
}

int sched_trigger(struct replica *r, const char *name, struct corral_task *out,
                  struct corral_error *err)
{
    struct corral_schedule s;
    int rc = sched_update(r, name, record_trigger, out, &s, err);
    if (rc == CORRAL_OK) {
        atomic_fetch_add(&r->n_submitted, 1);
        CORRAL_LOG(CORRAL_LOG_INFO, "schedule=%s triggered task=%s", name, out->id);
        corral_schedule_cleanup(&s);
    } else {
        corral_task_cleanup(out);
    }
    return rc;
}

int sched_fires(struct replica *r, const char *name, size_t limit, json_t **out,
                struct corral_error *err)
{
    struct corral_schedule s;
    int rc = sched_read(r, name, &s, NULL, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t n = s.n_fires < limit ? s.n_fires : limit;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n ? n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n ? n : 1, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(n ? n : 1, sizeof *got);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct corral_fire *f = &s.fires[s.n_fires - 1 - i]; /* newest first */
        if (!f->task[0])
            continue;
        store_task_path(r, f->task, paths[m]);
        ptrs[m] = paths[m];
        m++;
    }
    zk_get_many(r->zk, ptrs, m, false, got);
    json_t *arr = json_array();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct corral_fire *f = &s.fires[s.n_fires - 1 - i];
        char at[25], fired[25];
        corral_time_format(f->scheduled_ms, at);
        corral_time_format(f->fired_ms, fired);
        const char *state = "skipped";
        struct corral_task t = {0};
        if (f->task[0]) {
            struct zk_got *g = &got[k++];
            state = "unknown";
            if (g->rc == CORRAL_ENOTFOUND)
                state = "deleted"; /* retention removed it */
            else if (g->rc == CORRAL_OK &&
                     corral_task_parse(g->data, g->len, &t, NULL) == CORRAL_OK)
                state = corral_state_name(t.state);
            else if (g->rc != CORRAL_OK && rc == CORRAL_OK) {
                rc = g->rc;
                *err = g->err;
            }
        }
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:o,s:s}", "scheduled_at", at, "fired_at", fired, "task",
                           f->task[0] ? json_string(f->task) : json_null(), "state", state));
        corral_task_cleanup(&t);
    }
    for (size_t i = 0; i < m; i++)
        zk_got_cleanup(&got[i]);
    free(got);
    free(ptrs);
    free(paths);
    corral_schedule_cleanup(&s);
    if (rc != CORRAL_OK) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "fires", arr);
    return CORRAL_OK;
}
