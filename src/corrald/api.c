/* SPDX-License-Identifier: MIT */
/*
 * REST server of a replica (CONTRACT "REST API") on libmicrohttpd: daemon lifecycle (start,
 * the shutdown order), connection plumbing (per-request state, body collection, 413 from the
 * Content-Length before reading) and routing. Polling threads never wait on ZooKeeper: an
 * endpoint that needs it parks its request (api_park.c) and hands a call to the job pool
 * (api_jobs.c); the job thread, or the long-poll waiter (api_wait.c), prepares the answer and
 * resumes the connection, and the next handler call sends it. Endpoints: api_tasks.c,
 * api_cluster.c, api_metrics.c; answers: api_reply.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corral/id.h"
#include "corral/limits.h"
#include "corral/text.h"
#include "corral/xalloc.h"
#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "io/clock.h"
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

static bool token_ok(struct api *a, struct MHD_Connection *conn)
{
    if (!a->r->token[0])
        return true;
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return false;
    const char *given = h + 7;
    size_t lg = strlen(given), lt = strlen(a->r->token);
    /* Constant time in the token's length: no early exit on the first difference. */
    unsigned diff = (unsigned)(lg != lt);
    for (size_t i = 0; i < lt; i++)
        diff |= (unsigned)(a->r->token[i] ^ (i < lg ? given[i] : 0));
    return diff == 0;
}

/* ------------------------------------------------------------------ routing */

static bool is_post(const char *m)
{
    return strcmp(m, "POST") == 0;
}

static bool is_get(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static void not_allowed(struct api_reply *rp, const char *allow)
{
    struct corral_error err = {0};
    corral_error_set(&err, CORRAL_EMETHOD, NULL, "method not allowed; use %s", allow);
    api_reply_error(rp, &err);
}

static void no_task(struct api_reply *rp)
{
    api_reply_fail(rp, CORRAL_ENOTFOUND, "id", "no task with that id");
}

/* /v1/tasks/{id}[/cancel] */
static bool route_task(struct api *a, struct api_request *req, const char *url, const char *method,
                       struct api_reply *rp)
{
    const char *prefix = "/v1/tasks/";
    if (strncmp(url, prefix, strlen(prefix)) != 0)
        return false;
    const char *rest = url + strlen(prefix);
    const char *slash = strchr(rest, '/');
    char id[CORRAL_ID_LEN + 1];
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    bool valid = idlen == CORRAL_ID_LEN;
    if (valid) {
        memcpy(id, rest, idlen);
        id[idlen] = '\0';
        valid = corral_id_is_valid(id);
    }
    if (!slash) {
        if (!is_get(method))
            not_allowed(rp, "GET");
        else if (!valid)
            no_task(rp);
        else
            api_get_task(a, req, id, rp);
        return true;
    }
    if (strcmp(slash, "/cancel") == 0) {
        if (!is_post(method))
            not_allowed(rp, "POST");
        else if (!valid)
            no_task(rp);
        else
            api_cancel(a, req, id, rp);
        return true;
    }
    return false;
}

/* Fill rp, or park req and leave rp empty. */
static void route(struct api *a, struct api_request *req, const char *url, const char *method,
                  struct api_reply *rp)
{
    struct MHD_Connection *conn = req->conn;
    if (strcmp(url, "/healthz") == 0) {
        if (is_get(method))
            api_reply_text(rp, MHD_HTTP_OK, "application/json", "{\"status\":\"ok\"}\n", 16);
        else
            not_allowed(rp, "GET");
        return;
    }
    if (strcmp(url, "/readyz") == 0) {
        if (!is_get(method))
            not_allowed(rp, "GET");
        else if (api_ready(a, rp)) /* flags only: no ZooKeeper call */
            api_reply_text(rp, MHD_HTTP_OK, "application/json", "{\"status\":\"ready\"}\n", 19);
        return;
    }
    if (!token_ok(a, conn)) {
        api_reply_fail(rp, CORRAL_EUNAUTH, NULL,
                       "missing or wrong bearer token (Authorization: Bearer <token>)");
        return;
    }
    if (strcmp(url, "/metrics") == 0) {
        if (is_get(method))
            api_metrics(a, rp);
        else
            not_allowed(rp, "GET");
        return;
    }
    if (strcmp(url, "/v1/tasks") == 0) {
        if (is_post(method))
            api_submit(a, req, rp);
        else if (is_get(method))
            api_list_tasks(a, req, rp);
        else
            not_allowed(rp, "GET, POST");
        return;
    }
    if (strcmp(url, "/v1/tasks/batch") == 0) {
        if (is_post(method))
            api_submit_batch(a, req, rp);
        else
            not_allowed(rp, "POST");
        return;
    }
    if (strcmp(url, "/v1/workers") == 0) {
        if (is_get(method))
            api_workers(a, req, rp);
        else
            not_allowed(rp, "GET");
        return;
    }
    if (strcmp(url, "/v1/leader") == 0) {
        if (is_get(method))
            api_leader(a, req, rp);
        else
            not_allowed(rp, "GET");
        return;
    }
    if (route_task(a, req, url, method, rp))
        return;
    struct corral_error err = {0};
    corral_error_set(&err, CORRAL_ENOTFOUND, NULL, "no such endpoint: %.200s", url);
    api_reply_error(rp, &err);
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
        if (cl && corral_parse_i64(cl, 0, INT64_MAX, &declared) == CORRAL_OK &&
            declared > (int64_t)CORRAL_BODY_MAX_BYTES) {
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
    (void)cls;
    (void)conn;
    (void)toe;
    struct api_request *req = *con_cls;
    if (req) {
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

struct api *api_start(struct replica *r, struct corral_error *err)
{
    struct sockaddr_in sa;
    if (!parse_listen(r->opts.listen, &sa, err))
        return NULL;
    bool loopback = (ntohl(sa.sin_addr.s_addr) >> 24) == 127;
    if (!loopback && !r->token[0] && !r->opts.insecure) {
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
    a->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, API_POLL_THREADS, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)500, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(CORRAL_WAIT_MAX_S + 30), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
        MHD_OPTION_END);
    if (!a->d) {
        corral_error_set(err, CORRAL_EUSAGE, "--listen", "cannot listen on %s (in use?)",
                         r->opts.listen);
        api_wait_free(a->wait); /* no watch was set: nothing points at it */
        api_jobs_free(a->jobs);
        pthread_cond_destroy(&a->sent);
        pthread_mutex_destroy(&a->mu);
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
    free(a);
}
