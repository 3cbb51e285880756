/* SPDX-License-Identifier: MIT */
/*
 * REST server of a replica (CONTRACT "REST API") on libmicrohttpd: daemon lifecycle (start,
 * the shutdown order), connection plumbing (per-request state, body collection, 413 from the
 * Content-Length before reading) and routing. Polling threads never wait on ZooKeeper: an
 * endpoint that needs it parks its request (api_park.c) and hands a call to the job pool
 * (api_jobs.c); the job thread, or the long-poll waiter (api_wait.c), prepares the answer and
 * resumes the connection, and the next handler call sends it. Endpoints: api_tasks.c,
 * api_cluster.c, api_metrics.c, api_ui.c (the dashboard's files); answers: api_reply.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corral/access.h"
#include "corral/id.h"
#include "corral/limits.h"
#include "corral/text.h"
#include "corral/xalloc.h"
#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "io/clock.h"
#include "io/file.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "api"

#define API_POLL_THREADS  4u   /* libmicrohttpd polling threads (epoll each) */
#define API_JOB_THREADS   16u  /* threads that make the ZooKeeper calls of requests */
#define API_JOB_QUEUE_MAX 256u /* calls waiting for a job thread; past it 503 + Retry-After */
/* On stop, calls already in ZooKeeper may finish for this long; then their requests are
 * answered 503 (outcome_unknown for a write) and the calls finish unanswered. */
#define API_STOP_GRACE_MS 2000
/* On stop, the answers of parked requests may take this long to be sent. */
#define API_STOP_SEND_MS 1000

struct timespec api_mono_ts(int64_t mono_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(mono_ms / 1000),
                          .tv_nsec = (long)(mono_ms % 1000) * 1000000L};
    return ts;
}

/* ------------------------------------------------------------------ shared checks */

bool api_ready(struct api *a, struct api_reply *rp)
{
    if (zk_is_connected(a->r->zk) && atomic_load(&a->r->layout_ready))
        return true;
    /* Never answer from a replica cut off from ZooKeeper: its view may be stale. */
    api_reply_fail(rp, CORRAL_EUNAVAIL, NULL, "not connected to ZooKeeper");
    return false;
}

bool api_long_poll_admit(struct api *a, struct api_request *req, int64_t wait_s,
                         struct api_reply *rp)
{
    if (wait_s <= 0)
        return true;
    /* A long poll holds a connection and a watch for up to a minute: bounded. */
    if (atomic_fetch_add(&a->n_long_polls, 1) >= API_LONG_POLLS_MAX) {
        atomic_fetch_sub(&a->n_long_polls, 1);
        api_reply_fail(rp, CORRAL_EBUSY, "wait",
                       "too many long polls in progress on this replica; retry, or poll without "
                       "wait");
        return false;
    }
    req->long_poll = true; /* released when the request completes */
    return true;
}

bool api_query_int(struct MHD_Connection *conn, const char *name, int64_t min, int64_t max,
                   int64_t def, int64_t *out, struct api_reply *rp)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v) {
        *out = def;
        return true;
    }
    if (corral_parse_i64(v, min, max, out) != CORRAL_OK) {
        struct corral_error err = {0};
        corral_error_set(&err, CORRAL_EINVAL, name, "must be an integer in %lld..%lld",
                         (long long)min, (long long)max);
        api_reply_error(rp, &err);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ routing */

static void not_allowed(struct api_reply *rp, const char *allow)
{
    struct corral_error err = {0};
    corral_error_set(&err, CORRAL_EMETHOD, NULL, "method not allowed; use %s", allow);
    api_reply_error(rp, &err);
}

/* The cross-site rules of one request (core/access.c decides; this gathers the facts). False
 * with rp filled when refused. */
static bool cross_site_ok(struct api *a, struct api_request *req, const char *method,
                          struct api_reply *rp)
{
    struct MHD_Connection *conn = req->conn;
    struct corral_request_facts f = {
        .method = method,
        .has_body = req->has_body,
        .content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
        .host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .tls = a->tls,
        .host_guard = a->host_guard,
        .own = a->r->advertise,
    };
    struct corral_error err = {0};
    if (corral_request_check(&f, &err) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_INFO, "refused %s %s: %s", method, corral_err_name(err.code),
                   err.msg);
        api_reply_error(rp, &err);
        return false;
    }
    return true;
}

/* The access checks of one request: the cross-site rules, then the token and its role. False
 * with rp filled when refused. */
static bool access_ok(struct api *a, struct api_request *req, const char *method,
                      const struct corral_route *rt, int route_rc, struct api_reply *rp)
{
    struct MHD_Connection *conn = req->conn;
    if (!cross_site_ok(a, req, method, rp))
        return false;
    if (a->r->tokens.n == 0)
        return true;
    struct corral_error err = {0};
    enum corral_role role = corral_tokens_role(
        &a->r->tokens, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"));
    if (role == CORRAL_ROLE_NONE) {
        api_reply_fail(rp, CORRAL_EUNAUTH, NULL,
                       "missing or wrong bearer token (Authorization: Bearer <token>)");
        return false;
    }
    /* An unknown endpoint or a wrong method needs a valid token, and no more, to be told. */
    if (route_rc == CORRAL_OK && role < rt->need) {
        corral_error_set(&err, CORRAL_EFORBIDDEN, NULL,
                         "this token has the role '%s'; this call needs '%s'",
                         corral_role_name(role), corral_role_name(rt->need));
        api_reply_error(rp, &err);
        return false;
    }
    return true;
}

/* Fill rp, or park req and leave rp empty. */
static void route(struct api *a, struct api_request *req, const char *url, const char *method,
                  struct api_reply *rp)
{
    struct corral_route rt;
    int rc = corral_route_find(method, url, &rt);
    if (rc == CORRAL_OK && rt.ep == CORRAL_EP_UI) {
        /* No token (static files, no data), but the cross-site rules: a page that a rebinding
         * name serves could not use the API anyway. */
        if (cross_site_ok(a, req, method, rp))
            api_ui(a, req, url, rp);
        return;
    }
    if (rc == CORRAL_OK && rt.open) {
        if (rt.ep == CORRAL_EP_HEALTHZ)
            api_reply_text(rp, MHD_HTTP_OK, "application/json", "{\"status\":\"ok\"}\n", 16);
        else if (api_ready(a, rp)) /* flags only: no ZooKeeper call */
            api_reply_text(rp, MHD_HTTP_OK, "application/json", "{\"status\":\"ready\"}\n", 19);
        return;
    }
    if (!access_ok(a, req, method, &rt, rc, rp))
        return;
    if (rc == CORRAL_EMETHOD) {
        not_allowed(rp, rt.allow);
        return;
    }
    if (rc != CORRAL_OK) {
        struct corral_error err = {0};
        corral_error_set(&err, CORRAL_ENOTFOUND, NULL, "no such endpoint: %.200s", url);
        api_reply_error(rp, &err);
        return;
    }
    switch (rt.ep) {
        case CORRAL_EP_METRICS:
            api_metrics(a, rp);
            return;
        case CORRAL_EP_TASKS:
            if (rt.post)
                api_submit(a, req, rp);
            else
                api_list_tasks(a, req, rp);
            return;
        case CORRAL_EP_TASKS_BATCH:
            api_submit_batch(a, req, rp);
            return;
        case CORRAL_EP_WORKERS:
            api_workers(a, req, rp);
            return;
        case CORRAL_EP_LEADER:
            api_leader(a, req, rp);
            return;
        case CORRAL_EP_EVENTS:
            api_events(a, req, rp);
            return;
        case CORRAL_EP_TASK:
        case CORRAL_EP_TASK_CANCEL:
        case CORRAL_EP_TASK_OUTPUT:
            if (!rt.id_valid)
                api_reply_fail(rp, CORRAL_ENOTFOUND, "id", "no task with that id");
            else if (rt.ep == CORRAL_EP_TASK)
                api_get_task(a, req, rt.id, rp);
            else if (rt.ep == CORRAL_EP_TASK_OUTPUT)
                api_task_output(a, req, rt.id, rp);
            else
                api_cancel(a, req, rt.id, rp);
            return;
        case CORRAL_EP_SCHEDULES:
        case CORRAL_EP_SCHEDULE:
        case CORRAL_EP_SCHEDULE_PAUSE:
        case CORRAL_EP_SCHEDULE_RESUME:
        case CORRAL_EP_SCHEDULE_TRIGGER:
        case CORRAL_EP_SCHEDULE_FIRES:
            api_schedules(a, req, &rt, rp);
            return;
        case CORRAL_EP_WORKER_CORDON:
        case CORRAL_EP_WORKER_UNCORDON:
        case CORRAL_EP_WORKER_DRAIN:
            api_fleet(a, req, &rt, rp);
            return;
        case CORRAL_EP_NONE:
        case CORRAL_EP_HEALTHZ:
        case CORRAL_EP_READYZ:
        case CORRAL_EP_UI:
            break;
    }
    api_reply_fail(rp, CORRAL_EINTERNAL, NULL, "the endpoint has no handler");
}

/* ------------------------------------------------------------------ connection plumbing */

/* Append an upload chunk; past the limit the body is dropped and the request is 413. */
static void collect(struct api_request *req, const char *upload, size_t n)
{
    if (req->too_big)
        return;
    if (req->len + n > CORRAL_BODY_MAX_BYTES) {
        req->too_big = true;
        free(req->body);
        req->body = NULL;
        req->len = req->cap = 0;
        return;
    }
    if (req->len + n + 1 > req->cap) {
        size_t cap = req->cap ? req->cap : 4096;
        while (cap < req->len + n + 1)
            cap *= 2;
        req->body = corral_xrealloc(req->body, cap);
        req->cap = cap;
    }
    memcpy(req->body + req->len, upload, n);
    req->len += n;
    req->body[req->len] = '\0';
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    struct api *a = cls;
    struct api_request *req = *con_cls;
    struct api_reply rp = {0};
    if (!req) {
        req = corral_xcalloc(1, sizeof *req);
        req->a = a;
        req->conn = conn;
        req->refs = 1; /* MHD's, dropped in completed() */
        req->stage = API_STAGE_INLINE;
        *con_cls = req;
        atomic_fetch_add(&a->r->n_http, 1);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t declared = 0;
        bool cl_ok = cl && corral_parse_i64(cl, 0, INT64_MAX, &declared) == CORRAL_OK;
        req->has_body = (cl && (!cl_ok || declared > 0)) ||
                        MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
        api_guard_headers_done(a->guard, conn, req->has_body);
        if (cl_ok && declared > (int64_t)CORRAL_BODY_MAX_BYTES) {
            /* Refuse before reading a byte of it. */
            req->too_big = true;
            api_reply_fail(&rp, CORRAL_ETOOBIG, NULL, "request body over 1 MiB");
            return api_reply_send(conn, &rp);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        collect(req, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!req->routed) {
        req->routed = true; /* the body, if any, is all here: no deadline while answering */
        api_guard_body_done(a->guard, conn);
    }
    enum api_stage stage = api_request_take(req, &rp);
    if (stage == API_STAGE_ANSWERED)
        return api_reply_send(conn, &rp);
    if (stage != API_STAGE_INLINE)
        return MHD_YES; /* parked: its answer comes with the resume */
    if (req->too_big) {
        api_reply_fail(&rp, CORRAL_ETOOBIG, NULL, "request body over 1 MiB");
        return api_reply_send(conn, &rp);
    }
    CORRAL_LOG(CORRAL_LOG_DEBUG, "request method=%s path=%s", method, url);
    route(a, req, url, method, &rp);
    if (rp.status)
        return api_reply_send(conn, &rp);
    /* Parked: look, do not take. A fast job may have answered (and resumed us) already; its
     * answer must stay in req for the call that follows the resume, or it is lost. */
    if (api_request_stage(req) != API_STAGE_INLINE)
        return MHD_YES;
    api_reply_fail(&rp, CORRAL_EINTERNAL, NULL, "the request was not answered");
    return api_reply_send(conn, &rp);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct api *a = cls;
    (void)toe;
    struct api_request *req = *con_cls;
    api_guard_request_done(a->guard, conn);
    if (req) {
        if (req->long_poll)
            atomic_fetch_sub(&a->n_long_polls, 1);
        *con_cls = NULL;
        api_request_completed(req);
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) CORRAL_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    CORRAL_LOG(CORRAL_LOG_DEBUG, "http: %s", line);
}

/* ------------------------------------------------------------------ lifecycle */

static bool parse_listen(const char *s, struct sockaddr_in *sa, struct corral_error *err)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) {
        corral_error_set(err, CORRAL_EUSAGE, "--listen", "must be ADDR:PORT, got '%s'", s);
        return false;
    }
    char host[64];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host) {
        corral_error_set(err, CORRAL_EUSAGE, "--listen", "address too long");
        return false;
    }
    memcpy(host, s, hl);
    host[hl] = '\0';
    int64_t port;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (corral_parse_i64(colon + 1, 0, 65535, &port) != CORRAL_OK ||
        inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa->sin_addr) !=
            1) {
        corral_error_set(err, CORRAL_EUSAGE, "--listen",
                         "must be IPV4:PORT with port 0..65535, got '%s'", s);
        return false;
    }
    sa->sin_port = htons((uint16_t)port);
    return true;
}

static void api_tls_free(struct api *a)
{
    free(a->tls_cert);
    corral_config_file_free(a->tls_key, a->tls_key_len);
    a->tls_cert = a->tls_key = NULL;
}

struct api *api_start(struct replica *r, struct corral_error *err)
{
    struct sockaddr_in sa;
    if (!parse_listen(r->opts.listen, &sa, err))
        return NULL;
    bool loopback = (ntohl(sa.sin_addr.s_addr) >> 24) == 127;
    if (!loopback && r->tokens.n == 0 && !r->opts.insecure) {
        corral_error_set(err, CORRAL_EUSAGE, "--listen",
                         "refusing to listen on non-loopback %s without --token-file "
                         "(or --insecure)",
                         r->opts.listen);
        return NULL;
    }
    struct api *a = corral_xcalloc(1, sizeof *a);
    a->r = r;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->sent, &ca);
    pthread_condattr_destroy(&ca);
    a->jobs = api_jobs_new(API_JOB_THREADS, API_JOB_QUEUE_MAX);
    a->wait = api_wait_new(r);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    a->host_guard = loopback && r->tokens.n == 0;
    a->guard = api_guard_start();
    /* HTTPS: both PEM texts stay alive as long as the daemon (MHD keeps the pointers). */
    struct MHD_OptionItem tls_opts[3] = {{MHD_OPTION_END, 0, NULL}};
    if (r->opts.tls_cert) {
        size_t n;
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            corral_error_set(err, CORRAL_EUSAGE, "--tls-cert",
                             "this libmicrohttpd was built without TLS support");
            goto fail;
        }
        if (corral_config_file_read(r->opts.tls_cert, "--tls-cert", false, &a->tls_cert, &n, err) !=
                CORRAL_OK ||
            corral_config_file_read(r->opts.tls_key, "--tls-key", true, &a->tls_key,
                                    &a->tls_key_len, err) != CORRAL_OK)
            goto fail;
        flags |= MHD_USE_TLS;
        a->tls = true;
        tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert};
        tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key};
    }
    a->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, API_POLL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
        API_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, API_CONNECTIONS_PER_IP_MAX,
        MHD_OPTION_NOTIFY_CONNECTION, api_guard_notify, a->guard, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(CORRAL_WAIT_MAX_S + 30), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!a->d)
        corral_error_set(err, CORRAL_EUSAGE, a->tls ? "--tls-cert" : "--listen",
                         a->tls ? "cannot serve HTTPS on %s (in use, or a bad certificate or key?)"
                                : "cannot listen on %s (in use?)",
                         r->opts.listen);
fail:
    if (!a->d) {
        api_guard_stop(a->guard);
        api_wait_free(a->wait); /* no watch was set: nothing points at it */
        api_jobs_free(a->jobs);
        pthread_cond_destroy(&a->sent);
        pthread_mutex_destroy(&a->mu);
        api_tls_free(a);
        free(a);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : ntohs(sa.sin_port);
    return a;
}

uint16_t api_port(const struct api *a)
{
    return a->port;
}

void api_stop(struct api *a)
{
    if (!a || !a->d)
        return;
    /* 1. From now on nothing is parked: new /v1 requests are answered 503 at once. */
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_mutex_unlock(&a->mu);
    api_wait_stop(a->wait);
    /* 2. Queued calls never start (503, nothing done); long polls are answered 503. */
    api_jobs_stop(a->jobs);
    api_park_sweep(a, false);
    /* 3. Calls inside ZooKeeper get a grace period, then their requests are answered. */
    size_t running = api_jobs_wait_idle(a->jobs, API_STOP_GRACE_MS);
    if (running > 0) {
        size_t n = api_park_sweep(a, true);
        CORRAL_LOG(CORRAL_LOG_WARN,
                   "stopping: %zu requests still in ZooKeeper calls after %d ms answered 503; "
                   "waiting for the calls to return",
                   n, API_STOP_GRACE_MS);
    }
    /* 4. Let the polling threads send those answers, then stop them: no connection is
     * suspended any more, which MHD_stop_daemon requires. */
    api_park_wait_sent(a, API_STOP_SEND_MS);
    MHD_stop_daemon(a->d);
    a->d = NULL;
    api_guard_stop(a->guard); /* every connection is closed: nothing to guard */
    a->guard = NULL;
    /* 5. Join the waiter and the job threads: after this nothing of ours calls ZooKeeper
     * (a call past the grace period holds this up until store.c returns). */
    api_wait_join(a->wait);
    api_jobs_free(a->jobs);
    a->jobs = NULL;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    api_stop(a);
    api_wait_free(a->wait);
    pthread_cond_destroy(&a->sent);
    pthread_mutex_destroy(&a->mu);
    api_tls_free(a);
    free(a);
}
