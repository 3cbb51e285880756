/* SPDX-License-Identifier: MIT */
/*
 * The events feed, read side (events.h). A read costs one listing-free stat of the cursor's
 * generation folder (its cversion says how many event znodes it holds, its data version
 * whether it is sealed) and one pipelined get of the event znodes after the cursor: the
 * numbers have no gaps inside a generation (corral/event.h), so nothing is ever listed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/jsonx.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/events.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "events"

/* Event znodes fetched per round trip, and generations crossed per read, at most. */
#define FETCH_MAX 256
#define HOPS_MAX  4

int events_head(struct replica *r, struct corral_event_cursor *head, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    int rc = corral_path_dir(dir, sizeof dir, r->opts.ns, CORRAL_DIR_EVENTS);
    struct corral_strlist names = {0};
    if (rc == CORRAL_OK)
        rc = zk_children(r->zk, dir, false, &names, err);
    int64_t gen = 0;
    for (size_t i = 0; rc == CORRAL_OK && i < names.n; i++) {
        int64_t g = corral_event_gen_parse(names.items[i]);
        if (g > gen)
            gen = g;
    }
    corral_strlist_cleanup(&names);
    if (rc == CORRAL_ENOTFOUND || (rc == CORRAL_OK && gen == 0)) {
        /* No feed yet (nothing happened since the namespace was made): the start of the first
         * generation is where its first event will be. */
        corral_error_clear(err);
        *head = (struct corral_event_cursor){.gen = 1};
        return CORRAL_OK;
    }
    int32_t cv = -1;
    if (rc == CORRAL_OK &&
        (rc = corral_path_events_gen(path, sizeof path, r->opts.ns, gen)) == CORRAL_OK)
        rc = zk_stat_node(r->zk, path, NULL, &cv, err);
    if (rc != CORRAL_OK)
        return rc == CORRAL_ENOTFOUND ? CORRAL_EUNAVAIL : rc; /* raced a trim: retry */
    *head = (struct corral_event_cursor){.gen = gen, .seq = cv};
    return CORRAL_OK;
}

void events_wait_paths(const struct replica *r, const struct corral_event_cursor *c,
                       char next_node[CORRAL_PATH_MAX], char gen_dir[CORRAL_PATH_MAX])
{
    if (corral_path_event(next_node, CORRAL_PATH_MAX, r->opts.ns, c->gen, c->seq) != CORRAL_OK)
        next_node[0] = '\0';
    if (corral_path_events_gen(gen_dir, CORRAL_PATH_MAX, r->opts.ns, c->gen) != CORRAL_OK)
        gen_dir[0] = '\0';
}

static json_t *render(const struct corral_event_rec *e, const struct corral_event_cursor *after,
                      int64_t at_ms)
{
    char cur[CORRAL_EVENT_CURSOR_MAX];
    corral_event_cursor_format(after, cur);
    json_t *o = json_object();
    json_object_set_new(o, "cursor", json_string(cur));
    json_object_set_new(o, "at", corral_json_time(at_ms));
    json_object_set_new(o, "kind", json_string(e->kind == CORRAL_EVENT_TASK ? "task" : "worker"));
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "state", json_string(e->state));
    if (e->kind == CORRAL_EVENT_TASK) {
        json_object_set_new(o, "attempt", json_integer(e->attempt));
        json_object_set_new(o, "worker", e->worker[0] ? json_string(e->worker) : json_null());
        if (e->outcome[0])
            json_object_set_new(o, "outcome", json_string(e->outcome));
    }
    return o;
}

/* The stat of c's generation: its event count and whether it is sealed. A cursor beyond what
 * this replica's server has seen is synced once before it is judged (another replica may have
 * handed it out). */
static int gen_stat(struct replica *r, const struct corral_event_cursor *c, int32_t *count,
                    bool *sealed, struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_events_gen(path, sizeof path, r->opts.ns, c->gen);
    if (rc != CORRAL_OK)
        return corral_error_set(err, CORRAL_EGONE, "after", "not a cursor of this feed");
    int32_t version = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        corral_error_clear(err);
        rc = zk_stat_node(r->zk, path, &version, count, err);
        if (rc == CORRAL_OK && c->seq <= *count)
            break;
        if (rc != CORRAL_OK && rc != CORRAL_ENOTFOUND)
            return rc;
        if (attempt == 0 && (rc = zk_sync(r->zk, path, err)) != CORRAL_OK)
            return rc;
        rc = CORRAL_ENOTFOUND;
    }
    if (rc == CORRAL_ENOTFOUND && c->gen == 1 && c->seq == 0 && c->idx == 0) {
        /* The head of a feed that has no generation yet (a new namespace): nothing to read. */
        corral_error_clear(err);
        *count = 0;
        *sealed = false;
        return CORRAL_OK;
    }
    if (rc != CORRAL_OK || c->seq > *count) {
        corral_error_clear(err);
        return corral_error_set(err, CORRAL_EGONE, "after",
                                "the feed no longer holds this cursor (or never did): read the "
                                "state afresh and follow the feed from a new cursor");
    }
    *sealed = version >= 1;
    return CORRAL_OK;
}

static void to_json(void *ctx, const struct corral_event_rec *e,
                    const struct corral_event_cursor *after, int64_t at_ms)
{
    json_array_append_new(ctx, render(e, after, at_ms));
}

int events_read(struct replica *r, const struct corral_event_cursor *from, size_t max,
                json_t *events, struct corral_event_cursor *next, struct corral_error *err)
{
    return events_scan(r, from, max, to_json, events, next, err);
}

int events_scan(struct replica *r, const struct corral_event_cursor *from, size_t max, events_fn fn,
                void *ctx, struct corral_event_cursor *next, struct corral_error *err)
{
    struct corral_event_cursor c = *from;
    size_t emitted = 0;
    int rc = CORRAL_OK;
    for (int hop = 0; hop < HOPS_MAX && emitted < max; hop++) {
        int32_t count = 0;
        bool sealed = false;
        if ((rc = gen_stat(r, &c, &count, &sealed, err)) != CORRAL_OK)
            break;
        if (c.seq >= count) {
            if (!sealed)
                break;                                          /* at the head */
            c = (struct corral_event_cursor){.gen = c.gen + 1}; /* made with the seal */
            continue;
        }
        size_t n = (size_t)(count - c.seq) < FETCH_MAX ? (size_t)(count - c.seq) : FETCH_MAX;
        char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
        const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
        struct zk_got *got = corral_xcalloc(n, sizeof *got);
        for (size_t i = 0; i < n; i++) {
            if (corral_path_event(paths[i], CORRAL_PATH_MAX, r->opts.ns, c.gen,
                                  c.seq + (int32_t)i) != CORRAL_OK)
                paths[i][0] = '\0';
            ptrs[i] = paths[i];
        }
        zk_get_many(r->zk, ptrs, n, false, got);
        for (size_t i = 0; rc == CORRAL_OK && i < n && emitted < max; i++) {
            if (got[i].rc == CORRAL_ENOTFOUND) { /* trimmed under us */
                rc = corral_error_set(err, CORRAL_EGONE, "after",
                                      "the feed no longer holds this cursor: read the state "
                                      "afresh and follow the feed from a new cursor");
                break;
            }
            if (got[i].rc != CORRAL_OK && got[i].rc != CORRAL_EFORBIDDEN) {
                rc = got[i].rc;
                *err = got[i].err;
                break;
            }
            struct corral_event_rec *evs = NULL;
            size_t m = 0;
            struct corral_error derr = {0};
            if (got[i].rc == CORRAL_EFORBIDDEN) {
                /* Made by a worker that closed it to the replicas: no event of ours. */
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "event", paths[i],
                                "ignoring an event znode the replicas may not read path=%s",
                                paths[i]);
            } else if (corral_event_decode(got[i].data, got[i].len, &evs, &m, &derr) != CORRAL_OK) {
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "event", paths[i],
                                "ignoring an event znode that does not decode path=%s: %s",
                                paths[i], derr.msg);
                m = 0;
            }
            size_t k = c.idx < m ? c.idx : m;
            for (; k < m && emitted < max; k++) {
                struct corral_event_cursor after = {
                    .gen = c.gen, .seq = c.seq, .idx = (uint32_t)k + 1};
                if (k + 1 == m)
                    after = (struct corral_event_cursor){.gen = c.gen, .seq = c.seq + 1};
                fn(ctx, &evs[k], &after, got[i].ctime_ms);
                emitted++;
            }
            free(evs);
            c = k < m ? (struct corral_event_cursor){.gen = c.gen, .seq = c.seq, .idx = (uint32_t)k}
                      : (struct corral_event_cursor){.gen = c.gen, .seq = c.seq + 1};
        }
        for (size_t i = 0; i < n; i++)
            zk_got_cleanup(&got[i]);
        free(got);
        free(ptrs);
        free(paths);
        if (rc != CORRAL_OK)
            break;
    }
    if (rc != CORRAL_OK)
        return rc;
    *next = c;
    return CORRAL_OK;
}
