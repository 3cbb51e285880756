/* SPDX-License-Identifier: MIT */
/*
 * Long polls. The waiter thread owns the checks: it takes the due polls (a watch fired, the
 * deadline or the periodic re-check came) under the lock, then arms and reads without it
 * (ZooKeeper calls need the completion thread, which takes this lock in on_watch), answers
 * the finished ones and drops them.
 *
 * Watches: `armed` holds one entry per task path whose callback watch is set and has not fired,
 * with the session it was set in. A check arms only when no entry of the current session
 * exists; on_watch removes the entry of the path that fired. So a task that never changes keeps
 * one watch however often it is polled (zk_watch_boxes() stays bounded), and a watch lost with
 * an expired session is set again in the new one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/limits.h"
#include "corral/task.h"
#include "corral/xalloc.h"
#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "corrald/events.h"
#include "corrald/output.h"
#include "corrald/store.h"
#include "io/clock.h"

#define RECHECK_MS    2000 /* re-read a poll at least this often: watches are hints */
#define ARMED_BUCKETS 64u
#define MAX_SLEEP_MS  1000

struct waiter {
    struct api_request *req; /* a reference */
    char id[CORRAL_ID_LEN + 1];
    char path[CORRAL_PATH_MAX]; /* the task's znode; for the feed: the next event znode */
    /* A reader of the events feed (GET /v1/events?wait=): its cursor, its limit and the
     * generation folder whose seal also wakes it. A follower of a task's output
     * (GET /v1/tasks/{id}/output?wait=): its position; path is output/<id>, path2 the task. */
    enum { WAIT_TASK, WAIT_EVENTS, WAIT_OUTPUT } kind;
    struct corral_event_cursor cur;
    size_t limit;
    struct output_pos pos;
    char path2[CORRAL_PATH_MAX];
    int64_t deadline_ms;        /* monotonic */
    int64_t next_check_ms;      /* monotonic */
    bool fired;                 /* a watch or session event since the last check */
    bool done;                  /* answered: drop it */
    struct waiter *prev, *next; /* in w->head */
    struct waiter *due;         /* the thread's batch */
};

struct armed {
    char path[CORRAL_PATH_MAX];
    int64_t session; /* session id the watch was set in */
    struct armed *next;
};

struct api_wait {
    struct replica *r; /* borrowed */
    pthread_t thread;
    bool joined;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* monotonic clock */
    struct waiter *head;
    size_t n;
    struct armed *armed[ARMED_BUCKETS];
    bool stopping;
};

/* ------------------------------------------------------------------ armed watches */

static unsigned bucket_of(const char *path)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % ARMED_BUCKETS;
}

/* Under w->mu: the link that points at path's entry (or at the NULL ending its bucket). */
static struct armed **armed_find(struct api_wait *w, const char *path)
{
    struct armed **pp = &w->armed[bucket_of(path)];
    while (*pp && strcmp((*pp)->path, path) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Under w->mu. */
static void armed_remove(struct api_wait *w, const char *path)
{
    struct armed **pp = armed_find(w, path);
    struct armed *e = *pp;
    if (e) {
        *pp = e->next;
        free(e);
    }
}

/* On the ZooKeeper completion thread: never block beyond this lock. */
static void on_watch(void *ctx, const char *path)
{
    struct api_wait *w = ctx;
    pthread_mutex_lock(&w->mu);
    if (*path)
        armed_remove(w, path); /* that watch is spent */
    for (struct waiter *wt = w->head; wt; wt = wt->next)
        if (!*path || strcmp(wt->path, path) == 0 ||
            (wt->kind != WAIT_TASK && strcmp(wt->path2, path) == 0))
            wt->fired = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

/* Make sure one callback watch is set on path in the current session. The entry goes in before
 * the call, so that a watch firing during it removes it (and the next check arms again). */
static void arm(struct api_wait *w, const char *path)
{
    int64_t session = zk_session_id(w->r->zk);
    pthread_mutex_lock(&w->mu);
    struct armed **pp = armed_find(w, path);
    if (*pp && session != 0 && (*pp)->session == session) {
        pthread_mutex_unlock(&w->mu);
        return;
    }
    struct armed *e = *pp;
    if (!e) {
        e = corral_xcalloc(1, sizeof *e);
        snprintf(e->path, sizeof e->path, "%s", path);
        *pp = e;
    }
    e->session = session;
    pthread_mutex_unlock(&w->mu);
    int rc = zk_watch_exists(w->r->zk, path, on_watch, w, NULL);
    if (rc != CORRAL_OK && rc != CORRAL_ENOTFOUND) {
        /* Not set: forget the entry unless a fire already did (only this thread adds). */
        pthread_mutex_lock(&w->mu);
        pp = armed_find(w, path);
        if (*pp == e)
            armed_remove(w, path);
        pthread_mutex_unlock(&w->mu);
    }
}

/* ------------------------------------------------------------------ the waiter thread */

/* A feed reader: answered as soon as there is an event after its cursor. */
static bool check_events(struct api_wait *w, struct waiter *wt, int64_t now, struct api_reply *out)
{
    /* Before the read: a change after the read fires one of them. */
    events_wait_paths(w->r, &wt->cur, wt->path, wt->path2);
    if (wt->path[0])
        arm(w, wt->path);
    if (wt->path2[0])
        arm(w, wt->path2);
    struct corral_event_cursor next;
    struct corral_error err = {0};
    json_t *evs = json_array();
    if (events_read(w->r, &wt->cur, wt->limit, evs, &next, &err) != CORRAL_OK) {
        json_decref(evs);
        api_reply_error(out, &err);
        return true;
    }
    if (json_array_size(evs) == 0 && now < wt->deadline_ms) {
        json_decref(evs);
        wt->cur = next;
        return false;
    }
    api_reply_events(out, evs, &next);
    return true;
}

/* A follower of a task's output: answered as soon as there are bytes after its position or
 * the task ended. */
static bool check_output(struct api_wait *w, struct waiter *wt, int64_t now, struct api_reply *out)
{
    if (wt->path[0])
        arm(w, wt->path);
    arm(w, wt->path2);
    json_t *answer = NULL;
    bool empty = false;
    struct corral_error err = {0};
    if (output_read(w->r, &wt->pos, &answer, &empty, &err) != CORRAL_OK) {
        api_reply_error(out, &err);
        return true;
    }
    if (empty && now < wt->deadline_ms) {
        json_decref(answer);
        return false;
    }
    api_reply_json(out, MHD_HTTP_OK, answer);
    return true;
}

/* Check one poll (without the lock): true with out filled when it is to be answered now. */
static bool check(struct api_wait *w, struct waiter *wt, int64_t now, struct api_reply *out)
{
    if (wt->kind == WAIT_EVENTS)
        return check_events(w, wt, now, out);
    if (wt->kind == WAIT_OUTPUT)
        return check_output(w, wt, now, out);
    arm(w, wt->path); /* before the read: a change after the read fires it */
    struct corral_task t = {0};
    struct corral_error err = {0};
    if (store_get_task(w->r, wt->id, &t, NULL, &err) != CORRAL_OK) {
        /* Gone (retention) or ZooKeeper unavailable: say so now, never stale data. */
        corral_task_cleanup(&t);
        api_reply_error(out, &err);
        return true;
    }
    bool answer = corral_state_is_final(t.state) || now >= wt->deadline_ms;
    if (answer)
        api_reply_task(out, MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
    return answer;
}

static bool is_stopping(struct api_wait *w)
{
    pthread_mutex_lock(&w->mu);
    bool stopping = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return stopping;
}

static void unlink_waiter(struct api_wait *w, struct waiter *wt)
{
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        w->head = wt->next;
    if (wt->next)
        wt->next->prev = wt->prev;
    w->n--;
}

static void *waiter_main(void *arg)
{
    struct api_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        int64_t now = clock_mono_ms();
        int64_t wake = now + MAX_SLEEP_MS;
        struct waiter *due = NULL;
        for (struct waiter *wt = w->head; wt; wt = wt->next) {
            if (wt->fired || now >= wt->deadline_ms || now >= wt->next_check_ms) {
                wt->fired = false; /* a fire from now on is seen at the next round */
                wt->due = due;
                due = wt;
            } else {
                if (wt->deadline_ms < wake)
                    wake = wt->deadline_ms;
                if (wt->next_check_ms < wake)
                    wake = wt->next_check_ms;
            }
        }
        if (!due) {
            struct timespec ts = api_mono_ts(wake);
            pthread_cond_timedwait(&w->cond, &w->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        for (struct waiter *wt = due; wt; wt = wt->due) {
            if (is_stopping(w))
                break; /* api_stop answers the rest; a racy read only delays this by a round */
            struct api_reply out = {0};
            if (check(w, wt, now, &out)) {
                api_answer(wt->req, &out);
                wt->done = true;
            } else {
                wt->next_check_ms = now + RECHECK_MS;
            }
        }
        pthread_mutex_lock(&w->mu);
        struct waiter *drop = NULL;
        for (struct waiter *wt = due, *next; wt; wt = next) {
            next = wt->due;
            if (wt->done) {
                unlink_waiter(w, wt);
                wt->due = drop;
                drop = wt;
            }
        }
        pthread_mutex_unlock(&w->mu);
        while (drop) {
            struct waiter *wt = drop;
            drop = wt->due;
            api_request_unref(wt->req);
            free(wt);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ------------------------------------------------------------------ interface */

struct api_wait *api_wait_new(struct replica *r)
{
    struct api_wait *w = corral_xcalloc(1, sizeof *w);
    w->r = r;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, waiter_main, w) != 0)
        abort(); /* out of threads at startup */
    return w;
}

static bool enlist(struct api_wait *w, struct waiter *wt, int64_t deadline_ms);

bool api_wait_add(struct api_wait *w, struct api_request *req, const char *id, int64_t deadline_ms)
{
    if (is_stopping(w) || !api_request_hold_waiting(req))
        return false;
    struct waiter *wt = corral_xcalloc(1, sizeof *wt);
    wt->req = req;
    snprintf(wt->id, sizeof wt->id, "%s", id);
    store_task_path(w->r, id, wt->path);
    return enlist(w, wt, deadline_ms);
}

/* Hold wt (its request already moved to the waiting stage) until it is answered. */
static bool enlist(struct api_wait *w, struct waiter *wt, int64_t deadline_ms)
{
    struct api_request *req = wt->req;
    wt->deadline_ms = deadline_ms;
    wt->next_check_ms = clock_mono_ms() + RECHECK_MS;
    wt->fired = true; /* check at once: the task may have changed since the caller's read */
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        api_request_unref(req);
        free(wt);
        return false;
    }
    wt->next = w->head;
    if (w->head)
        w->head->prev = wt;
    w->head = wt;
    w->n++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return true;
}

bool api_wait_add_events(struct api_wait *w, struct api_request *req,
                         const struct corral_event_cursor *cur, size_t limit, int64_t deadline_ms)
{
    if (is_stopping(w) || !api_request_hold_waiting(req))
        return false;
    struct waiter *wt = corral_xcalloc(1, sizeof *wt);
    wt->req = req;
    wt->kind = WAIT_EVENTS;
    wt->cur = *cur;
    wt->limit = limit;
    events_wait_paths(w->r, cur, wt->path, wt->path2);
    return enlist(w, wt, deadline_ms);
}

bool api_wait_add_output(struct api_wait *w, struct api_request *req, const struct output_pos *pos,
                         int64_t deadline_ms)
{
    if (is_stopping(w) || !api_request_hold_waiting(req))
        return false;
    struct waiter *wt = corral_xcalloc(1, sizeof *wt);
    wt->req = req;
    wt->kind = WAIT_OUTPUT;
    wt->pos = *pos;
    output_wait_paths(w->r, pos->id, wt->path, wt->path2);
    return enlist(w, wt, deadline_ms);
}

size_t api_wait_count(struct api_wait *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->n;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void api_wait_stop(struct api_wait *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void api_wait_join(struct api_wait *w)
{
    if (w->joined)
        return;
    api_wait_stop(w);
    pthread_join(w->thread, NULL);
    w->joined = true;
    pthread_mutex_lock(&w->mu);
    struct waiter *list = w->head;
    w->head = NULL;
    w->n = 0;
    pthread_mutex_unlock(&w->mu);
    while (list) {
        struct waiter *wt = list;
        list = wt->next;
        api_request_unref(wt->req);
        free(wt);
    }
}

void api_wait_free(struct api_wait *w)
{
    if (!w)
        return;
    api_wait_join(w);
    for (unsigned b = 0; b < ARMED_BUCKETS; b++) {
        while (w->armed[b]) {
            struct armed *e = w->armed[b];
            w->armed[b] = e->next;
            free(e);
        }
    }
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
