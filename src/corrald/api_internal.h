/* SPDX-License-Identifier: MIT */
/*
 * What the files of the REST server share (not an interface for the rest of corrald): the
 * server's context, the state of one request, parking a request (its connection suspended)
 * while a job thread or the long-poll waiter prepares its answer, and the endpoint handlers
 * the router in api.c calls. docs/architecture.md "corrald" describes the threads.
 */
#ifndef CORRALD_API_INTERNAL_H
#define CORRALD_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include "corrald/api.h"
#include "corrald/api_jobs.h"
#include "corral/access.h"
#include "corrald/api_reply.h"

struct api_wait;

struct api {
    struct replica *r; /* borrowed */
    struct MHD_Daemon *d;
    uint16_t port;
    struct api_jobs *jobs;
    struct api_wait *wait;
    pthread_mutex_t mu;         /* guards the fields below and every request's parking state */
    pthread_cond_t sent;        /* signalled when n_unsent drops (monotonic clock) */
    struct api_request *parked; /* requests whose connection is suspended, not yet answered */
    size_t n_unsent;            /* answered while parked, not yet completed by MHD */
    bool stopping;              /* no request is parked any more */
    bool tls;                   /* serves HTTPS (--tls-cert) */
    bool host_guard;            /* loopback without a token file: only loopback Host names */
    struct api_guard *guard;    /* deadlines of slow clients (api_guard.c) */
    atomic_uint n_long_polls; /* GET /v1/tasks/{id}?wait= in progress; at most API_LONG_POLLS_MAX */
    char *tls_cert, *tls_key; /* PEM texts, alive as long as the daemon */
    size_t tls_key_len;
};

/* Slow clients (api_guard.c): what a connection owes, and by when. */
#define API_HEADERS_MS 10000 /* a new connection: the headers of its first request */
#define API_BODY_MS    30000 /* an announced body, after its headers */
#define API_IDLE_MS    30000 /* a kept-alive connection: the next request's headers */
/* Per client address, and long polls in progress (past it: 429 too_many_requests). */
#define API_CONNECTIONS_MAX        1000u
#define API_CONNECTIONS_PER_IP_MAX 128u
#define API_LONG_POLLS_MAX         512u

struct api_guard;
struct api_guard *api_guard_start(void);
void api_guard_stop(struct api_guard *g);
uint64_t api_guard_cut_count(struct api_guard *g);
void api_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
void api_guard_headers_done(struct api_guard *g, struct MHD_Connection *conn, bool body_follows);
void api_guard_body_done(struct api_guard *g, struct MHD_Connection *conn);
void api_guard_request_done(struct api_guard *g, struct MHD_Connection *conn);

/* Where a request is; parked stages have the connection suspended. */
enum api_stage {
    API_STAGE_INLINE,   /* on the polling thread (body collection, routing) */
    API_STAGE_QUEUED,   /* parked: its call waits in the job queue */
    API_STAGE_RUNNING,  /* parked: its call runs on a job thread */
    API_STAGE_WAITING,  /* parked: a long poll held by the waiter */
    API_STAGE_ANSWERED, /* resumed with reply prepared: the next handler call sends it */
    API_STAGE_DONE,     /* answer handed to MHD */
};

/* Per-request state (MHD's con_cls); freed when the last reference goes. */
struct api_request {
    struct api *a;               /* borrowed */
    struct MHD_Connection *conn; /* borrowed; NULL once MHD completed the request */
    char *body;                  /* collected upload, at most CORRAL_BODY_MAX_BYTES */
    size_t len, cap;
    bool too_big;   /* Content-Length or upload over the limit: 413, body not kept */
    bool has_body;  /* a Content-Length above 0 or a chunked body was announced */
    bool long_poll; /* counted in a->n_long_polls until completed */
    bool routed;    /* the request was routed (its body, if any, complete) */
    /* guarded by a->mu */
    unsigned refs; /* MHD's (until completed) + one per job or waiter holding it */
    enum api_stage stage;
    bool is_write; /* abandoned while running, it answers outcome_unknown */
    bool unsent;   /* counted in a->n_unsent */
    struct api_reply reply;
    struct api_request *prev, *next; /* in a->parked while parked */
};

/*
 * The ZooKeeper part of one request, run on a job thread. An endpoint embeds this first in
 * its own struct with its arguments. exec fills out, or hands the request on (api_wait_add)
 * and leaves out empty.
 */
struct api_call;
typedef void (*api_call_exec_fn)(struct api_call *c, struct api_reply *out);
typedef void (*api_call_destroy_fn)(struct api_call *c);
struct api_call {
    struct api_job job;      /* the pool's part; must stay first */
    struct api_request *req; /* a reference, held until the call ends */
    api_call_exec_fn exec;
    api_call_destroy_fn destroy; /* frees the endpoint's fields; may be NULL */
    bool is_write;               /* a write stopped mid-way answers outcome_unknown */
};

/* ---- api_park.c: parking ---- */

/* A zeroed call of size bytes (an endpoint's struct that starts with struct api_call). destroy
 * frees what the call holds, not the call itself; it may be NULL. Never NULL. */
void *api_call_new(size_t size, api_call_exec_fn exec, api_call_destroy_fn destroy, bool is_write);

/* Park req and queue c (taken on every path): the job's answer is sent later and rp stays
 * empty. When stopping or the queue is full, rp gets the 503 instead. */
void api_call_start(struct api *a, struct api_request *req, struct api_call *c,
                    struct api_reply *rp);
/* Answer a parked request with rp (moved out; rp is cleaned up). The first answer wins; a
 * later one, or one for a request no longer parked, is dropped. */
void api_answer(struct api_request *req, struct api_reply *rp);
/* Move a running request to the waiter's stage and take a reference for it; false when it
 * is no longer running (already answered). */
bool api_request_hold_waiting(struct api_request *req);
void api_request_unref(struct api_request *req);
/* On the polling thread: the request's stage; when ANSWERED, the answer is moved into rp and
 * the request is DONE. */
enum api_stage api_request_take(struct api_request *req, struct api_reply *rp);
/* The request's stage, changing nothing (after parking: the answer stays for the resume). */
enum api_stage api_request_stage(struct api_request *req);
/* MHD completed the request (answered or not): forget its connection, drop MHD's reference. */
void api_request_completed(struct api_request *req);
/* Shutdown: answer every parked request with a 503; with all false, those whose call runs now
 * are left alone. Returns how many were answered. */
size_t api_park_sweep(struct api *a, bool all);
/* Shutdown: wait up to grace_ms until the answers of parked requests were sent. */
void api_park_wait_sent(struct api *a, int64_t grace_ms);

/* ---- api.c: shared checks ---- */

/* True when ZooKeeper is connected and the namespace exists; otherwise rp gets the 503. */
bool api_ready(struct api *a, struct api_reply *rp);
/* "?name=" as an integer in [min, max] (def when absent); false with rp's 400 when malformed. */
bool api_query_int(struct MHD_Connection *conn, const char *name, int64_t min, int64_t max,
                   int64_t def, int64_t *out, struct api_reply *rp);
/* Admit a long poll of wait_s seconds (none when 0): counted in a->n_long_polls until req
 * completes; false with rp's 429 when API_LONG_POLLS_MAX are held already. */
bool api_long_poll_admit(struct api *a, struct api_request *req, int64_t wait_s,
                         struct api_reply *rp);
/* An absolute CLOCK_MONOTONIC time for pthread_cond_timedwait from clock_mono_ms() units. */
struct timespec api_mono_ts(int64_t mono_ms);

/* ---- endpoint handlers (on a polling thread): fill rp, or park req and leave rp empty ---- */

/* api_tasks.c */
void api_get_task(struct api *a, struct api_request *req, const char *id, struct api_reply *rp);
void api_list_tasks(struct api *a, struct api_request *req, struct api_reply *rp);
void api_submit(struct api *a, struct api_request *req, struct api_reply *rp);
void api_submit_batch(struct api *a, struct api_request *req, struct api_reply *rp);
void api_cancel(struct api *a, struct api_request *req, const char *id, struct api_reply *rp);
/* api_cluster.c */
void api_workers(struct api *a, struct api_request *req, struct api_reply *rp);
void api_leader(struct api *a, struct api_request *req, struct api_reply *rp);
/* api_output.c */
void api_task_output(struct api *a, struct api_request *req, const char *id, struct api_reply *rp);
/* api_events.c */
void api_events(struct api *a, struct api_request *req, struct api_reply *rp);
/* api_metrics.c: inline, never touches ZooKeeper */
void api_metrics(struct api *a, struct api_reply *rp);
/* ---- api_fleet.c: cordon, uncordon, drain ---- */
void api_fleet(struct api *a, struct api_request *req, const struct corral_route *rt,
               struct api_reply *rp);
/* ---- api_ui.c: the dashboard's files, inline from memory (no ZooKeeper) ---- */
void api_ui(struct api *a, struct api_request *req, const char *url, struct api_reply *rp);
/* ---- api_schedules.c ---- */
void api_schedules(struct api *a, struct api_request *req, const struct corral_route *rt,
                   struct api_reply *rp);

#endif
