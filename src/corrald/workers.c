/* SPDX-License-Identifier: MIT */
/* Live workers: registrations of workers/<id> and their usage from assign/<id>/<task>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/assignment.h"
#include "corral/jsonx.h"
#include "corral/paths.h"
#include "corral/strlist.h"
#include "corral/task.h"
#include "corral/xalloc.h"
#include "corrald/store.h"
#include "corrald/workers.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "workers"

void workers_cleanup(struct worker_set *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        corral_worker_reg_cleanup(&ws->items[i].reg);
    free(ws->items);
    ws->items = NULL;
    ws->n = 0;
}

struct worker_info *workers_find(const struct worker_set *ws, const char *id)
{
    size_t lo = 0, hi = ws->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ws->items[mid].reg.id, id);
        if (c == 0)
            return &ws->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Does the assignment at path belong to registration reg? */
static int assignment_of(struct replica *r, const char *path, const char *reg, bool *mine,
                         struct corral_error *err)
{
    char *data = NULL;
    size_t len = 0;
    *mine = false;
    int rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
    if (rc != CORRAL_OK)
        return rc;
    struct corral_assignment a;
    struct corral_error derr = {0};
    if (corral_assignment_decode(data, len, &a, &derr) == CORRAL_OK)
        *mine = strcmp(a.reg, reg) == 0;
    else
        CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "assignment-malformed", path,
                        "ignoring malformed assignment path=%s: %s", path, derr.msg);
    free(data);
    return CORRAL_OK;
}

/* Usage of w: the unfinished tasks assigned to its current registration. */
static int load_usage(struct replica *r, struct worker_info *w, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    if (corral_path_assign_dir(dir, sizeof dir, r->opts.ns, w->reg.id) != CORRAL_OK)
        return CORRAL_OK;
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return CORRAL_OK;
    }
    for (size_t i = 0; rc == CORRAL_OK && i < kids.n; i++) {
        char apath[CORRAL_PATH_MAX], tpath[CORRAL_PATH_MAX];
        bool mine = false;
        if (corral_path_child(apath, sizeof apath, dir, kids.items[i]) != CORRAL_OK ||
            corral_path_task(tpath, sizeof tpath, r->opts.ns, kids.items[i]) != CORRAL_OK)
            continue;
        int arc = assignment_of(r, apath, w->reg.reg, &mine, err);
        if (arc == CORRAL_ENOTFOUND) { /* finished meanwhile */
            corral_error_clear(err);
            continue;
        }
        if (arc != CORRAL_OK) {
            rc = arc;
            break;
        }
        if (!mine)
            continue;
        struct corral_task t = {0};
        int trc = store_read_task(r, tpath, &t, NULL, err);
        if (trc == CORRAL_OK) {
            if (t.worker && strcmp(t.worker, w->reg.id) == 0 && !corral_state_is_final(t.state)) {
                w->running++;
                w->used_cpu_milli += t.spec.cpu_milli;
                w->used_mem_mb += t.spec.mem_mb;
            }
        } else if (trc == CORRAL_ENOTFOUND || trc == CORRAL_EINVAL) {
            corral_error_clear(err);
        } else {
            rc = trc;
        }
        corral_task_cleanup(&t);
    }
    corral_strlist_cleanup(&kids);
    return rc;
}

const struct corral_fleet_rec *workers_fleet(const struct worker_info *w)
{
    return w->has_fleet ? &w->fleet : NULL;
}

bool workers_takes_work(const struct worker_info *w)
{
    return corral_fleet_takes_work(workers_fleet(w), &w->reg);
}

/* The fleet records of the workers in out (fleet/<id> of a worker that is not live is kept for
 * when it comes back, and skipped here). */
static int load_fleet(struct replica *r, struct worker_set *out, bool watch,
                      struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_FLEET, dir);
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, watch, &kids, err);
    if (rc == CORRAL_ENOTFOUND) { /* a namespace made by an older corrald */
        corral_error_clear(err);
        return CORRAL_OK;
    }
    if (rc != CORRAL_OK)
        return rc;
    size_t cap = kids.n ? kids.n : 1;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(cap, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(cap, sizeof *ptrs);
    struct worker_info **whose = corral_xcalloc(cap, sizeof *whose);
    struct zk_got *got = corral_xcalloc(cap, sizeof *got);
    size_t m = 0;
    for (size_t i = 0; i < kids.n; i++) {
        struct worker_info *w = workers_find(out, kids.items[i]);
        if (!w || corral_path_child(paths[m], CORRAL_PATH_MAX, dir, kids.items[i]) != CORRAL_OK)
            continue;
        ptrs[m] = paths[m];
        whose[m++] = w;
    }
    zk_get_many(r->zk, ptrs, m, watch, got);
    for (size_t i = 0; i < m; i++) {
        if (rc != CORRAL_OK || got[i].rc == CORRAL_ENOTFOUND) {
            /* a failure before, or uncordoned meanwhile */
        } else if (got[i].rc != CORRAL_OK) {
            rc = got[i].rc;
            *err = got[i].err;
        } else {
            struct corral_error derr = {0};
            struct worker_info *w = whose[i];
            w->has_fleet = true;
            w->fleet_version = got[i].version;
            if (corral_fleet_decode(got[i].data, got[i].len, &w->fleet, &derr) != CORRAL_OK) {
                char key[CORRAL_WORKER_ID_MAX + 32];
                snprintf(key, sizeof key, "%s %d", w->reg.id, got[i].version);
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "fleet-malformed", key,
                                "malformed fleet record worker=%s (%s%s%s): treated as cordoned",
                                w->reg.id, derr.field, derr.field[0] ? ": " : "", derr.msg);
                w->fleet.state = CORRAL_FLEET_CORDONED;
                snprintf(w->fleet.reason, sizeof w->fleet.reason, "malformed fleet record");
            }
        }
        zk_got_cleanup(&got[i]);
    }
    free(got);
    free(whose);
    free(ptrs);
    free(paths);
    corral_strlist_cleanup(&kids);
    return rc;
}

int workers_load(struct replica *r, struct worker_set *out, bool watch, bool with_usage,
                 struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_WORKERS, dir);
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, watch, &kids, err);
    if (rc != CORRAL_OK)
        return rc;
    out->items = corral_xcalloc(kids.n ? kids.n : 1, sizeof *out->items);
    /* Every registration read at once, pipelined (one round trip however many workers). */
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(kids.n ? kids.n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(kids.n ? kids.n : 1, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(kids.n ? kids.n : 1, sizeof *got);
    const char **names = corral_xcalloc(kids.n ? kids.n : 1, sizeof *names);
    size_t m = 0;
    for (size_t i = 0; i < kids.n; i++) {
        /* A name the worker's own --id check would refuse is no worker of ours (an over-long
         * one would not even fit the paths built from it): skipped before it is read. */
        if (!corral_path_valid_name(kids.items[i]) ||
            corral_path_child(paths[m], CORRAL_PATH_MAX, dir, kids.items[i]) != CORRAL_OK) {
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "worker-name", kids.items[i],
                            "ignoring worker znode with an invalid name name=%.64s%s len=%zu",
                            kids.items[i], strlen(kids.items[i]) > 64 ? "..." : "",
                            strlen(kids.items[i]));
            continue;
        }
        ptrs[m] = paths[m];
        names[m++] = kids.items[i];
    }
    zk_get_many(r->zk, ptrs, m, watch, got);
    /* zk_children sorts the names: the set stays sorted by id. */
    for (size_t i = 0; i < m; i++) {
        if (rc != CORRAL_OK || got[i].rc == CORRAL_ENOTFOUND) {
            /* a failure before, or the worker left meanwhile */
        } else if (got[i].rc == CORRAL_EFORBIDDEN) {
            /* Its creator closed it to the replicas: no registration we can trust. */
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "worker-unreadable", names[i],
                            "ignoring worker znode the replicas may not read worker=%s", names[i]);
        } else if (got[i].rc != CORRAL_OK) {
            rc = got[i].rc;
            *err = got[i].err;
        } else if (got[i].ephemeral_owner == 0) {
            /* A worker registers with an ephemeral node that goes with its session; a persistent
             * one was made by hand (or by a bug) and proves no live worker: it gets no work. */
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "worker-persistent", names[i],
                            "ignoring persistent worker znode (not a live registration; delete "
                            "it to free the id) worker=%s",
                            names[i]);
        } else {
            struct corral_error derr = {0};
            if (corral_worker_reg_decode(names[i], got[i].data, got[i].len, &out->items[out->n].reg,
                                         &derr) == CORRAL_OK) {
                out->n++;
            } else {
                /* Keyed by name and content: a registration that changes is logged again. */
                char key[CORRAL_WORKER_ID_MAX + 32];
                snprintf(key, sizeof key, "%s %d", names[i], got[i].version);
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "worker-malformed", key,
                                "ignoring malformed worker znode worker=%s: %s%s%s", names[i],
                                derr.field, derr.field[0] ? ": " : "", derr.msg);
            }
        }
        zk_got_cleanup(&got[i]);
    }
    free(names);
    free(got);
    free(ptrs);
    free(paths);
    corral_strlist_cleanup(&kids);
    if (rc == CORRAL_OK)
        rc = load_fleet(r, out, watch, err);
    for (size_t i = 0; with_usage && rc == CORRAL_OK && i < out->n; i++)
        rc = load_usage(r, &out->items[i], err);
    if (rc != CORRAL_OK)
        workers_cleanup(out);
    return rc;
}

json_t *workers_to_json(const struct worker_info *w)
{
    const struct corral_worker_reg *g = &w->reg;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(g->id));
    json_object_set_new(o, "slots", json_integer(g->slots));
    json_object_set_new(o, "running", json_integer(w->running));
    json_t *cap = json_object();
    json_object_set_new(cap, "cpu", corral_cpu_to_json(g->cpu_milli));
    json_object_set_new(cap, "mem_mb", json_integer((json_int_t)g->mem_mb));
    json_object_set_new(o, "capacity", cap);
    json_t *used = json_object();
    json_object_set_new(used, "cpu", corral_cpu_to_json(w->used_cpu_milli));
    json_object_set_new(used, "mem_mb", json_integer((json_int_t)w->used_mem_mb));
    json_object_set_new(o, "used", used);
    json_t *labels = json_object();
    for (size_t i = 0; i < g->n_labels; i++)
        json_object_set_new(labels, g->labels[i].key, json_string(g->labels[i].value));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "weight", json_integer(g->weight));
    json_object_set_new(o, "draining", json_boolean(g->draining));
    const struct corral_fleet_rec *f = workers_fleet(w);
    json_object_set_new(o, "state",
                        json_string(corral_fleet_state_name(corral_fleet_shown(f, g, w->running))));
    if (f && f->state != CORRAL_FLEET_ACTIVE) {
        json_t *c = json_object();
        json_object_set_new(c, "requested", json_string(corral_fleet_state_name(f->state)));
        json_object_set_new(c, "by", json_string(f->automatic ? "auto" : "operator"));
        json_object_set_new(c, "reason", f->reason[0] ? corral_json_str(f->reason) : json_null());
        json_object_set_new(c, "at", f->at_ms > 0 ? corral_json_time(f->at_ms) : json_null());
        if (f->has_drain_timeout)
            json_object_set_new(c, "drain_timeout_s", json_integer(f->drain_timeout_s));
        json_object_set_new(o, "fleet", c);
    }
    json_object_set_new(o, "fail_streak", json_integer(g->fail_streak));
    return o;
}
