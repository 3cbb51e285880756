/* SPDX-License-Identifier: MIT */
/*
 * REST API (CONTRACT "REST API"). Handlers run on libmicrohttpd's threads and only parse,
 * call the store (which talks to ZooKeeper) and render. Errors are rendered from the error
 * table: {"error": wire name, "message": sentence, "field": path}. Bodies over 1 MiB are
 * refused from the Content-Length before reading.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "corral/id.h"
#include "corral/limits.h"
#include "corral/spec.h"
#include "corral/task.h"
#include "corral/text.h"
#include "corrald/api.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "api"

/* Per-connection request state (MHD's con_cls). */
struct request {
    char *body;
    size_t len, cap;
    bool too_big;
    bool suspended; /* waiting in the waiter list */
    bool resumed;   /* the waiter woke us: answer now */
};

struct waiter {
    struct MHD_Connection *conn;
    struct request *req;
    char path[CORRAL_PATH_MAX]; /* task znode */
    int64_t deadline_ms;        /* monotonic */
    int64_t next_check_ms;      /* monotonic: periodic re-check, watches are hints */
    bool fired;
    struct waiter *next;
};

struct api {
    struct replica *r;
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_t waiter_thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct waiter *waiters;
    bool stopping;
};

/* ------------------------------------------------------------------ responses */

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *ctype,
                                 const char *text, size_t len, const char *hdr, const char *val)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (hdr)
        MHD_add_response_header(resp, hdr, val);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Render body (stolen) as JSON with the status. */
static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
    char *text = json_dumps(body, CORRAL_JSON_DUMP_FLAGS);
    json_decref(body);
    if (!text)
        return MHD_NO;
    size_t len = strlen(text);
    char *with_nl = malloc(len + 2);
    if (!with_nl)
        abort();
    memcpy(with_nl, text, len);
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    free(text);
    enum MHD_Result ret = send_text(conn, status, "application/json", with_nl, len + 1, NULL, NULL);
    free(with_nl);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, const struct corral_error *err)
{
    int code = err->code == CORRAL_OK ? CORRAL_EINTERNAL : (int)err->code;
    json_t *body = json_object();
    json_object_set_new(body, "error", json_string(corral_err_name(code)));
    char msg[sizeof err->field + sizeof err->msg + 4];
    if (err->field[0] && !strstr(err->msg, err->field))
        snprintf(msg, sizeof msg, "%s: %s", err->field, err->msg);
    else
        snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : corral_err_name(code));
    /* Messages may quote user input: make sure it is valid UTF-8 for JSON. */
    char *safe = corral_utf8_repair(msg, strlen(msg));
    json_object_set_new(body, "message", json_string(safe));
    free(safe);
    if (err->field[0]) {
        char *f = corral_utf8_repair(err->field, strlen(err->field));
        json_object_set_new(body, "field", json_string(f));
        free(f);
    }
    char *text = json_dumps(body, CORRAL_JSON_DUMP_FLAGS);
    json_decref(body);
    if (!text)
        return MHD_NO;
    const char *hdr = NULL, *val = NULL;
    if (code == CORRAL_EUNAUTH) {
        hdr = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
        val = "Bearer";
    } else if (code == CORRAL_EFULL || code == CORRAL_EUNAVAIL || code == CORRAL_ENOLEADER ||
               code == CORRAL_EUNKNOWN) {
        hdr = MHD_HTTP_HEADER_RETRY_AFTER;
        val = "1";
    }
    enum MHD_Result ret = send_text(conn, (unsigned)corral_err_http(code), "application/json", text,
                                    strlen(text), hdr, val);
    free(text);
    return ret;
}

static enum MHD_Result fail(struct MHD_Connection *conn, enum corral_err code, const char *field,
                            const char *msg)
{
    struct corral_error err = {0};
    corral_error_set(&err, code, field, "%s", msg);
    return send_error(conn, &err);
}

static enum MHD_Result send_task(struct MHD_Connection *conn, unsigned status,
                                 const struct corral_task *t)
{
    return send_json(conn, status, corral_task_to_json(t));
}

/* ------------------------------------------------------------------ helpers */

static bool ready(struct api *a, struct MHD_Connection *conn, enum MHD_Result *ret)
{
    if (zk_is_connected(a->r->zk) && atomic_load(&a->r->layout_ready))
        return true;
    /* Never answer from a replica cut off from ZooKeeper: its view may be stale. */
    *ret = fail(conn, CORRAL_EUNAVAIL, NULL, "not connected to ZooKeeper");
    return false;
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

/* Parse "?name=" as an integer in [min, max]; false (and an error sent) when malformed. */
static bool query_int(struct MHD_Connection *conn, const char *name, int64_t min, int64_t max,
                      int64_t def, int64_t *out, enum MHD_Result *ret)
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
        *ret = send_error(conn, &err);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ long-poll waiters */

static void on_task_watch(void *ctx, const char *path)
{
    struct api *a = ctx;
    pthread_mutex_lock(&a->mu);
    for (struct waiter *w = a->waiters; w; w = w->next)
        if (!*path || strcmp(w->path, path) == 0)
            w->fired = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mu);
}

/* Is the task final (or gone)? Also re-arms the watch. */
static bool task_done(struct api *a, const char *path)
{
    int rc = zk_watch_exists(a->r->zk, path, on_task_watch, a, NULL);
    if (rc == CORRAL_ENOTFOUND)
        return true;
    if (rc != CORRAL_OK)
        return false;
    struct corral_task t = {0};
    bool done =
        store_read_task(a->r, path, &t, NULL, NULL) != CORRAL_OK || corral_state_is_final(t.state);
    corral_task_cleanup(&t);
    return done;
}

static void *waiter_main(void *arg)
{
    struct api *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cond, &a->mu, &ts);
        int64_t now = clock_mono_ms();
        /* Take the due waiters out, check them without the lock (ZooKeeper calls need the
         * completion thread, which takes this lock in on_task_watch). */
        struct waiter *due = NULL, **pp = &a->waiters;
        while (*pp) {
            struct waiter *w = *pp;
            if (w->fired || now >= w->deadline_ms || now >= w->next_check_ms) {
                *pp = w->next;
                w->next = due;
                due = w;
            } else {
                pp = &w->next;
            }
        }
        pthread_mutex_unlock(&a->mu);
        struct waiter *keep = NULL;
        while (due) {
            struct waiter *w = due;
            due = w->next;
            w->fired = false;
            w->next_check_ms = now + 2000;
            if (now >= w->deadline_ms || task_done(a, w->path)) {
                w->req->resumed = true;
                MHD_resume_connection(w->conn);
                free(w);
            } else {
                w->next = keep;
                keep = w;
            }
        }
        pthread_mutex_lock(&a->mu);
        while (keep) {
            struct waiter *w = keep;
            keep = w->next;
            w->next = a->waiters;
            a->waiters = w;
        }
    }
    /* Shutting down: answer every long poll now. */
    while (a->waiters) {
        struct waiter *w = a->waiters;
        a->waiters = w->next;
        w->req->resumed = true;
        MHD_resume_connection(w->conn);
        free(w);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void add_waiter(struct api *a, struct MHD_Connection *conn, struct request *req,
                       const char *path, int64_t wait_s)
{
    struct waiter *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->conn = conn;
    w->req = req;
    snprintf(w->path, sizeof w->path, "%s", path);
    int64_t now = clock_mono_ms();
    w->deadline_ms = now + wait_s * 1000;
    w->next_check_ms = now + 2000;
    req->suspended = true;
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&a->mu);
    w->next = a->waiters;
    a->waiters = w;
    w->fired = true; /* check once at once: the task may have finished since our read */
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mu);
}

/* ------------------------------------------------------------------ handlers */

static enum MHD_Result get_task(struct api *a, struct MHD_Connection *conn, struct request *req,
                                const char *id)
{
    enum MHD_Result ret;
    if (!ready(a, conn, &ret))
        return ret;
    int64_t wait_s = 0;
    if (!query_int(conn, "wait", 0, CORRAL_WAIT_MAX_S, 0, &wait_s, &ret))
        return ret;
    struct corral_task t = {0};
    struct corral_error err = {0};
    if (store_get_task(a->r, id, &t, NULL, &err) != CORRAL_OK)
        return send_error(conn, &err);
    if (wait_s > 0 && !req->resumed && !corral_state_is_final(t.state)) {
        char path[CORRAL_PATH_MAX];
        store_task_path(a->r, id, path);
        corral_task_cleanup(&t);
        add_waiter(a, conn, req, path, wait_s);
        return MHD_YES;
    }
    ret = send_task(conn, MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
    return ret;
}

static enum MHD_Result list_tasks(struct api *a, struct MHD_Connection *conn)
{
    enum MHD_Result ret;
    if (!ready(a, conn, &ret))
        return ret;
    int64_t limit;
    if (!query_int(conn, "limit", 1, CORRAL_LIST_LIMIT_MAX, CORRAL_LIST_LIMIT_DEFAULT, &limit,
                   &ret))
        return ret;
    int state = -1;
    const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
    if (s && (state = corral_state_parse(s)) < 0)
        return fail(conn, CORRAL_EINVAL, "state",
                    "must be one of queued, assigned, running, succeeded, failed, cancelling, "
                    "cancelled");
    const char *after = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after");
    if (after && !corral_id_is_valid(after))
        return fail(conn, CORRAL_EINVAL, "after", "must be a task id");
    json_t *tasks = NULL;
    char next[CORRAL_ID_LEN + 1];
    struct corral_error err = {0};
    if (store_list(a->r, state, (size_t)limit, after, &tasks, next, &err) != CORRAL_OK)
        return send_error(conn, &err);
    json_t *body = json_object();
    json_object_set_new(body, "tasks", tasks);
    json_object_set_new(body, "next", next[0] ? json_string(next) : json_null());
    return send_json(conn, MHD_HTTP_OK, body);
}

static enum MHD_Result submit(struct api *a, struct MHD_Connection *conn, struct request *req)
{
    enum MHD_Result ret;
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    if (corral_spec_parse(req->body ? req->body : "", req->len, &spec, &err) != CORRAL_OK)
        return send_error(conn, &err);
    if (!ready(a, conn, &ret)) {
        corral_spec_cleanup(&spec);
        return ret;
    }
    struct corral_task t = {0};
    bool created = false;
    if (store_submit(a->r, &spec, &t, &created, &err) != CORRAL_OK)
        return send_error(conn, &err);
    ret = send_task(conn, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
    return ret;
}

static enum MHD_Result submit_batch(struct api *a, struct MHD_Connection *conn, struct request *req)
{
    enum MHD_Result ret = MHD_NO;
    struct corral_error err = {0};
    json_error_t jerr;
    json_t *doc = json_loadb(req->body ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        corral_error_set(&err, CORRAL_ESPEC, "", "invalid JSON at line %d column %d: %s", jerr.line,
                         jerr.column, jerr.text);
        return send_error(conn, &err);
    }
    json_t *arr = json_object_get(doc, "tasks");
    if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(arr)) {
        json_decref(doc);
        return fail(conn, CORRAL_ESPEC, "tasks", "body must be {\"tasks\": [spec, ...]}");
    }
    size_t n = json_array_size(arr);
    if (n == 0 || n > CORRAL_BATCH_MAX) {
        json_decref(doc);
        corral_error_set(&err, CORRAL_ESPEC, "tasks", "must hold 1..%u specs, got %zu",
                         CORRAL_BATCH_MAX, n);
        return send_error(conn, &err);
    }
    struct corral_spec *specs = calloc(n, sizeof *specs);
    struct corral_task *tasks = calloc(n, sizeof *tasks);
    if (!specs || !tasks)
        abort();
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "tasks[%zu].", i);
        rc = corral_spec_from_json(json_array_get(arr, i), prefix, &specs[i], &err);
        if (rc != CORRAL_OK && !err.field[0])
            snprintf(err.field, sizeof err.field, "tasks[%zu]", i);
    }
    json_decref(doc);
    if (rc == CORRAL_OK && !ready(a, conn, &ret))
        rc = -1;
    else if (rc == CORRAL_OK)
        rc = store_submit_batch(a->r, specs, n, tasks, &err);
    if (rc == CORRAL_OK) {
        json_t *out = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(out, corral_task_to_json(&tasks[i]));
        json_t *body = json_object();
        json_object_set_new(body, "tasks", out);
        ret = send_json(conn, MHD_HTTP_CREATED, body);
    } else if (rc > 0) {
        ret = send_error(conn, &err);
    }
    for (size_t i = 0; i < n; i++) {
        corral_spec_cleanup(&specs[i]);
        corral_task_cleanup(&tasks[i]);
    }
    free(specs);
    free(tasks);
    return ret;
}

static enum MHD_Result cancel(struct api *a, struct MHD_Connection *conn, const char *id)
{
    enum MHD_Result ret;
    if (!ready(a, conn, &ret))
        return ret;
    struct corral_task t = {0};
    struct corral_error err = {0};
    if (store_cancel(a->r, id, &t, &err) != CORRAL_OK) {
        corral_task_cleanup(&t);
        return send_error(conn, &err);
    }
    ret = send_task(conn, MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
    return ret;
}

static enum MHD_Result workers(struct api *a, struct MHD_Connection *conn)
{
    enum MHD_Result ret;
    if (!ready(a, conn, &ret))
        return ret;
    struct corral_error err = {0};
    json_t *body = store_workers(a->r, &err);
    return body ? send_json(conn, MHD_HTTP_OK, body) : send_error(conn, &err);
}

static enum MHD_Result leader(struct api *a, struct MHD_Connection *conn)
{
    enum MHD_Result ret;
    if (!ready(a, conn, &ret))
        return ret;
    struct corral_error err = {0};
    json_t *body = NULL;
    if (store_leader(a->r, &body, &err) != CORRAL_OK)
        return send_error(conn, &err);
    return send_json(conn, MHD_HTTP_OK, body);
}

static enum MHD_Result metrics(struct api *a, struct MHD_Connection *conn)
{
    struct replica *r = a->r;
    char text[2048];
    int n = snprintf(
        text, sizeof text,
        "# HELP corral_up 1 while the replica runs.\n# TYPE corral_up gauge\ncorral_up 1\n"
        "# HELP corral_zk_connected 1 while connected to ZooKeeper.\n"
        "# TYPE corral_zk_connected gauge\ncorral_zk_connected %d\n"
        "# HELP corral_is_leader 1 while this replica is the leader.\n"
        "# TYPE corral_is_leader gauge\ncorral_is_leader %d\n"
        "# HELP corral_leader_epoch Epoch of this replica while leader, else 0.\n"
        "# TYPE corral_leader_epoch gauge\ncorral_leader_epoch %llu\n"
        "# HELP corral_tasks_submitted_total Tasks stored through this replica.\n"
        "# TYPE corral_tasks_submitted_total counter\ncorral_tasks_submitted_total %llu\n"
        "# HELP corral_tasks_assigned_total Assignments made by this replica as leader.\n"
        "# TYPE corral_tasks_assigned_total counter\ncorral_tasks_assigned_total %llu\n"
        "# HELP corral_tasks_requeued_total Tasks of lost workers requeued by this replica.\n"
        "# TYPE corral_tasks_requeued_total counter\ncorral_tasks_requeued_total %llu\n"
        "# HELP corral_http_requests_total HTTP requests served.\n"
        "# TYPE corral_http_requests_total counter\ncorral_http_requests_total %llu\n",
        zk_is_connected(r->zk) ? 1 : 0, atomic_load(&r->leading) ? 1 : 0,
        (unsigned long long)atomic_load(&r->epoch),
        (unsigned long long)atomic_load(&r->n_submitted),
        (unsigned long long)atomic_load(&r->n_assigned),
        (unsigned long long)atomic_load(&r->n_requeued),
        (unsigned long long)atomic_load(&r->n_http));
    return send_text(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", text, (size_t)n, NULL, NULL);
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

static enum MHD_Result not_allowed(struct MHD_Connection *conn, const char *allow)
{
    struct corral_error err = {0};
    corral_error_set(&err, CORRAL_EMETHOD, NULL, "method not allowed; use %s", allow);
    return send_error(conn, &err);
}

static enum MHD_Result route(struct api *a, struct MHD_Connection *conn, struct request *req,
                             const char *url, const char *method)
{
    if (strcmp(url, "/healthz") == 0)
        return is_get(method) ? send_text(conn, MHD_HTTP_OK, "application/json",
                                          "{\"status\":\"ok\"}\n", 16, NULL, NULL)
                              : not_allowed(conn, "GET");
    if (strcmp(url, "/readyz") == 0) {
        if (!is_get(method))
            return not_allowed(conn, "GET");
        enum MHD_Result ret;
        if (!ready(a, conn, &ret))
            return ret;
        return send_text(conn, MHD_HTTP_OK, "application/json", "{\"status\":\"ready\"}\n", 19,
                         NULL, NULL);
    }
    if (!token_ok(a, conn))
        return fail(conn, CORRAL_EUNAUTH, NULL,
                    "missing or wrong bearer token (Authorization: Bearer <token>)");
    if (strcmp(url, "/metrics") == 0)
        return is_get(method) ? metrics(a, conn) : not_allowed(conn, "GET");
    if (strcmp(url, "/v1/tasks") == 0) {
        if (is_post(method))
            return submit(a, conn, req);
        return is_get(method) ? list_tasks(a, conn) : not_allowed(conn, "GET, POST");
    }
    if (strcmp(url, "/v1/tasks/batch") == 0)
        return is_post(method) ? submit_batch(a, conn, req) : not_allowed(conn, "POST");
    if (strcmp(url, "/v1/workers") == 0)
        return is_get(method) ? workers(a, conn) : not_allowed(conn, "GET");
    if (strcmp(url, "/v1/leader") == 0)
        return is_get(method) ? leader(a, conn) : not_allowed(conn, "GET");
    const char *prefix = "/v1/tasks/";
    if (strncmp(url, prefix, strlen(prefix)) == 0) {
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
                return not_allowed(conn, "GET");
            return valid ? get_task(a, conn, req, id)
                         : fail(conn, CORRAL_ENOTFOUND, "id", "no task with that id");
        }
        if (strcmp(slash, "/cancel") == 0) {
            if (!is_post(method))
                return not_allowed(conn, "POST");
            return valid ? cancel(a, conn, id)
                         : fail(conn, CORRAL_ENOTFOUND, "id", "no task with that id");
        }
    }
    struct corral_error err = {0};
    corral_error_set(&err, CORRAL_ENOTFOUND, NULL, "no such endpoint: %.200s", url);
    return send_error(conn, &err);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    struct api *a = cls;
    struct request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        atomic_fetch_add(&a->r->n_http, 1);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t declared = 0;
        if (cl && corral_parse_i64(cl, 0, INT64_MAX, &declared) == CORRAL_OK &&
            declared > (int64_t)CORRAL_BODY_MAX_BYTES) {
            /* Refuse before reading a byte of it. */
            req->too_big = true;
            return fail(conn, CORRAL_ETOOBIG, NULL, "request body over 1 MiB");
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!req->too_big) {
            if (req->len + *upload_size > CORRAL_BODY_MAX_BYTES) {
                req->too_big = true;
            } else {
                if (req->len + *upload_size + 1 > req->cap) {
                    size_t cap = req->cap ? req->cap : 4096;
                    while (cap < req->len + *upload_size + 1)
                        cap *= 2;
                    char *b = realloc(req->body, cap);
                    if (!b)
                        abort();
                    req->body = b;
                    req->cap = cap;
                }
                memcpy(req->body + req->len, upload, *upload_size);
                req->len += *upload_size;
                req->body[req->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->too_big)
        return fail(conn, CORRAL_ETOOBIG, NULL, "request body over 1 MiB");
    if (req->suspended && !req->resumed)
        return MHD_YES;
    CORRAL_LOG(CORRAL_LOG_DEBUG, "request method=%s path=%s", method, url);
    return route(a, conn, req, url, method);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct request *req = *con_cls;
    if (req) {
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

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
    struct api *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->r = r;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &ca);
    pthread_condattr_destroy(&ca);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    a->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)500, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(CORRAL_WAIT_MAX_S + 30), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
        MHD_OPTION_END);
    if (!a->d) {
        corral_error_set(err, CORRAL_EUSAGE, "--listen", "cannot listen on %s (in use?)",
                         r->opts.listen);
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : ntohs(sa.sin_port);
    if (pthread_create(&a->waiter_thread, NULL, waiter_main, a) != 0)
        abort();
    return a;
}

uint16_t api_port(const struct api *a)
{
    return a->port;
}

void api_stop(struct api *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->waiter_thread, NULL);
    MHD_stop_daemon(a->d);
    a->d = NULL;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
