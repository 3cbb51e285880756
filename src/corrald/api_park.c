/* SPDX-License-Identifier: MIT */
/*
 * Parking: a request whose answer is prepared off the polling thread. api_call_start suspends
 * its connection and queues its call on the job pool; the call runs (call_run) or is dropped at
 * shutdown (call_drop); the answer (from the job, the long-poll waiter or the shutdown sweep)
 * is stored in the request and the connection resumed, and the polling thread sends it
 * (api_request_take). Everything here is guarded by a->mu; the first answer wins.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/xalloc.h"
#include "corrald/api_internal.h"
#include "io/clock.h"

static bool is_parked(enum api_stage s)
{
    return s == API_STAGE_QUEUED || s == API_STAGE_RUNNING || s == API_STAGE_WAITING;
}

/* Under a->mu. */
static void park_unlink(struct api *a, struct api_request *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        a->parked = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
}

/* Under a->mu: the first answer of a parked request wins; rp is moved out or cleaned up. */
static void answer_locked(struct api *a, struct api_request *req, struct api_reply *rp)
{
    if (!is_parked(req->stage) || !req->conn) {
        api_reply_cleanup(rp);
        return;
    }
    park_unlink(a, req);
    api_reply_cleanup(&req->reply);
    req->reply = *rp;
    memset(rp, 0, sizeof *rp);
    req->stage = API_STAGE_ANSWERED;
    req->unsent = true;
    a->n_unsent++;
    /* Safe under a->mu: libmicrohttpd calls none of our callbacks with its own locks held. */
    MHD_resume_connection(req->conn);
}

void api_answer(struct api_request *req, struct api_reply *rp)
{
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    answer_locked(a, req, rp);
    pthread_mutex_unlock(&a->mu);
}

bool api_request_hold_waiting(struct api_request *req)
{
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    bool ok = req->stage == API_STAGE_RUNNING;
    if (ok) {
        req->stage = API_STAGE_WAITING;
        req->refs++;
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void api_request_unref(struct api_request *req)
{
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    bool last = --req->refs == 0;
    pthread_mutex_unlock(&a->mu);
    if (last) {
        free(req->body);
        api_reply_cleanup(&req->reply);
        free(req);
    }
}

static void call_free(struct api_call *c)
{
    if (c->destroy)
        c->destroy(c);
    free(c);
}

/* On a job thread. */
static void call_run(struct api_job *job)
{
    struct api_call *c = (struct api_call *)job; /* job is the first member */
    struct api_request *req = c->req;
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    bool go = req->stage == API_STAGE_QUEUED; /* else api_stop answered it already */
    if (go)
        req->stage = API_STAGE_RUNNING;
    pthread_mutex_unlock(&a->mu);
    struct api_reply out = {0};
    if (go && api_ready(a, &out)) /* again: time has passed since the handler looked */
        c->exec(c, &out);
    if (go && out.status == 0) {
        pthread_mutex_lock(&a->mu);
        bool lost = req->stage == API_STAGE_RUNNING; /* neither answered nor handed on */
        pthread_mutex_unlock(&a->mu);
        if (lost)
            api_reply_fail(&out, CORRAL_EINTERNAL, NULL, "the request was not answered");
    }
    if (out.status)
        api_answer(req, &out);
    call_free(c);
    api_request_unref(req);
}

static const char shutting_down[] = "corrald is shutting down; nothing was done, retry on another "
                                    "replica";

/* Instead of call_run when the pool stopped first. */
static void call_drop(struct api_job *job)
{
    struct api_call *c = (struct api_call *)job;
    struct api_request *req = c->req;
    struct api_reply out = {0};
    api_reply_fail(&out, CORRAL_EUNAVAIL, NULL, shutting_down);
    api_answer(req, &out);
    call_free(c);
    api_request_unref(req);
}

void *api_call_new(size_t size, api_call_exec_fn exec, api_call_destroy_fn destroy, bool is_write)
{
    struct api_call *c = corral_xcalloc(1, size);
    c->exec = exec;
    c->destroy = destroy;
    c->is_write = is_write;
    return c;
}

void api_call_start(struct api *a, struct api_request *req, struct api_call *c,
                    struct api_reply *rp)
{
    c->job.run = call_run;
    c->job.drop = call_drop;
    c->req = req;
    pthread_mutex_lock(&a->mu);
    if (a->stopping) {
        pthread_mutex_unlock(&a->mu);
        call_free(c);
        api_reply_fail(rp, CORRAL_EUNAVAIL, NULL, shutting_down);
        return;
    }
    req->refs++; /* the call's */
    req->stage = API_STAGE_QUEUED;
    req->is_write = c->is_write;
    req->prev = NULL;
    req->next = a->parked;
    if (a->parked)
        a->parked->prev = req;
    a->parked = req;
    MHD_suspend_connection(req->conn);
    pthread_mutex_unlock(&a->mu);
    int rc = api_jobs_push(a->jobs, &c->job);
    if (rc == CORRAL_OK)
        return;
    /* Not queued: answer at once (this resumes the connection just suspended). */
    struct api_reply out = {0};
    api_reply_fail(&out, CORRAL_EUNAVAIL, NULL,
                   rc == CORRAL_EFULL ? "too many requests in progress; nothing was done, retry"
                                      : shutting_down);
    api_answer(req, &out);
    call_free(c);
    api_request_unref(req);
}

enum api_stage api_request_stage(struct api_request *req)
{
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    enum api_stage stage = req->stage;
    pthread_mutex_unlock(&a->mu);
    return stage;
}

enum api_stage api_request_take(struct api_request *req, struct api_reply *rp)
{
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    enum api_stage stage = req->stage;
    if (stage == API_STAGE_ANSWERED) {
        api_reply_cleanup(rp);
        *rp = req->reply;
        memset(&req->reply, 0, sizeof req->reply);
        req->stage = API_STAGE_DONE;
    }
    pthread_mutex_unlock(&a->mu);
    return stage;
}

void api_request_completed(struct api_request *req)
{
    struct api *a = req->a;
    pthread_mutex_lock(&a->mu);
    if (is_parked(req->stage)) { /* the connection went away under a parked request */
        park_unlink(a, req);
        req->stage = API_STAGE_DONE;
    }
    req->conn = NULL;
    if (req->unsent) {
        req->unsent = false;
        a->n_unsent--;
        pthread_cond_broadcast(&a->sent);
    }
    pthread_mutex_unlock(&a->mu);
    api_request_unref(req);
}

/* Answer every parked request with a 503; with all false, those whose call runs now are left. */
size_t api_park_sweep(struct api *a, bool all)
{
    size_t n = 0;
    pthread_mutex_lock(&a->mu);
    for (struct api_request *req = a->parked, *next; req; req = next) {
        next = req->next;
        bool running = req->stage == API_STAGE_RUNNING;
        if (running && !all)
            continue;
        struct api_reply out = {0};
        if (running && req->is_write)
            api_reply_fail(&out, CORRAL_EUNKNOWN, NULL,
                           "corrald is shutting down during this write: it may or may not have "
                           "been stored; retry with the same idempotency_key");
        else
            api_reply_fail(&out, CORRAL_EUNAVAIL, NULL,
                           "corrald is shutting down; retry on another replica");
        answer_locked(a, req, &out);
        n++;
    }
    pthread_mutex_unlock(&a->mu);
    return n;
}

void api_park_wait_sent(struct api *a, int64_t grace_ms)
{
    int64_t deadline = clock_mono_ms() + grace_ms;
    struct timespec ts = api_mono_ts(deadline);
    pthread_mutex_lock(&a->mu);
    while (a->n_unsent > 0 && clock_mono_ms() < deadline)
        pthread_cond_timedwait(&a->sent, &a->mu, &ts);
    pthread_mutex_unlock(&a->mu);
}
