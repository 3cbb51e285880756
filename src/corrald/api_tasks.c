/* SPDX-License-Identifier: MIT */
/*
 * Task endpoints: POST /v1/tasks, POST /v1/tasks/batch, GET /v1/tasks, GET /v1/tasks/{id}
 * (?wait=S hands the request to api_wait.c) and POST /v1/tasks/{id}/cancel. Each has two
 * halves: the handler on the polling thread validates what needs no ZooKeeper (query, id,
 * spec) and builds a call; the call's exec runs on a job thread and talks to the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/id.h"
#include "corral/limits.h"
#include "corral/spec.h"
#include "corral/task.h"
#include "corral/xalloc.h"
#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "corrald/backlog.h"
#include "corrald/store.h"
#include "io/clock.h"

/* ------------------------------------------------------------------ GET /v1/tasks/{id} */

struct get_call {
    struct api_call base;
    char id[CORRAL_ID_LEN + 1];
    int64_t deadline_ms; /* monotonic end of ?wait=; 0 to answer at once */
};

static void get_exec(struct api_call *c, struct api_reply *out)
{
    struct get_call *g = (struct get_call *)c;
    struct api *a = c->req->a;
    struct corral_task t = {0};
    struct corral_error err = {0};
    if (store_get_task(a->r, g->id, &t, NULL, &err) != CORRAL_OK) {
        corral_task_cleanup(&t);
        api_reply_error(out, &err);
        return;
    }
    if (g->deadline_ms > 0 && !corral_state_is_final(t.state) && clock_mono_ms() < g->deadline_ms &&
        api_wait_add(a->wait, c->req, g->id, g->deadline_ms)) {
        corral_task_cleanup(&t); /* the waiter answers */
        return;
    }
    api_reply_task(out, MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
}

void api_get_task(struct api *a, struct api_request *req, const char *id, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    int64_t wait_s = 0;
    if (!api_query_int(req->conn, "wait", 0, CORRAL_WAIT_MAX_S, 0, &wait_s, rp))
        return;
    if (!api_long_poll_admit(a, req, wait_s, rp))
        return;
    struct get_call *g = api_call_new(sizeof *g, get_exec, NULL, false);
    snprintf(g->id, sizeof g->id, "%s", id);
    g->deadline_ms = wait_s > 0 ? clock_mono_ms() + wait_s * 1000 : 0;
    api_call_start(a, req, &g->base, rp);
}

/* ------------------------------------------------------------------ GET /v1/tasks */

struct list_call {
    struct api_call base;
    int state; /* -1 = any */
    size_t limit;
    char after[CORRAL_ID_LEN + 1]; /* "" = from the start */
};

static void list_exec(struct api_call *c, struct api_reply *out)
{
    struct list_call *l = (struct list_call *)c;
    json_t *tasks = NULL;
    char next[CORRAL_ID_LEN + 1];
    struct corral_error err = {0};
    if (store_list(c->req->a->r, l->state, l->limit, l->after[0] ? l->after : NULL, &tasks, next,
                   &err) != CORRAL_OK) {
        api_reply_error(out, &err);
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "tasks", tasks);
    json_object_set_new(body, "next", next[0] ? json_string(next) : json_null());
    api_reply_json(out, MHD_HTTP_OK, body);
}

void api_list_tasks(struct api *a, struct api_request *req, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    int64_t limit;
    if (!api_query_int(req->conn, "limit", 1, CORRAL_LIST_LIMIT_MAX, CORRAL_LIST_LIMIT_DEFAULT,
                       &limit, rp))
        return;
    int state = -1;
    const char *s = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "state");
    if (s && (state = corral_state_parse(s)) < 0) {
        api_reply_fail(rp, CORRAL_EINVAL, "state",
                       "must be one of scheduled, waiting, queued, assigned, running, succeeded, "
                       "failed, cancelling, cancelled");
        return;
    }
    const char *after = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "after");
    if (after && !corral_id_is_valid(after)) {
        api_reply_fail(rp, CORRAL_EINVAL, "after", "must be a task id");
        return;
    }
    struct list_call *l = api_call_new(sizeof *l, list_exec, NULL, false);
    l->state = state;
    l->limit = (size_t)limit;
    snprintf(l->after, sizeof l->after, "%s", after ? after : "");
    api_call_start(a, req, &l->base, rp);
}

/* ------------------------------------------------------------------ POST /v1/tasks */

struct submit_call {
    struct api_call base;
    struct corral_spec spec;
};

static void submit_exec(struct api_call *c, struct api_reply *out)
{
    struct submit_call *s = (struct submit_call *)c;
    struct corral_task t = {0};
    struct corral_error err = {0};
    bool created = false;
    if (backlog_check(c->req->a->r, 1, &err) != CORRAL_OK ||
        store_submit(c->req->a->r, &s->spec, &t, &created, &err) != CORRAL_OK)
        api_reply_error(out, &err);
    else
        api_reply_task(out, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
}

static void submit_destroy(struct api_call *c)
{
    corral_spec_cleanup(&((struct submit_call *)c)->spec);
}

void api_submit(struct api *a, struct api_request *req, struct api_reply *rp)
{
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    if (corral_spec_parse(req->body ? req->body : "", req->len, &spec, &err) != CORRAL_OK) {
        corral_spec_cleanup(&spec);
        api_reply_error(rp, &err);
        return;
    }
    if (!api_ready(a, rp)) {
        corral_spec_cleanup(&spec);
        return;
    }
    struct submit_call *s = api_call_new(sizeof *s, submit_exec, submit_destroy, true);
    s->spec = spec; /* taken */
    api_call_start(a, req, &s->base, rp);
}

/* ------------------------------------------------------------------ POST /v1/tasks/batch */

struct batch_call {
    struct api_call base;
    struct corral_spec *specs;
    size_t n;
};

static void batch_exec(struct api_call *c, struct api_reply *out)
{
    struct batch_call *b = (struct batch_call *)c;
    struct corral_task *tasks = corral_xcalloc(b->n, sizeof *tasks);
    struct corral_error err = {0};
    size_t n_created = 0;
    /* A batch that would pass --max-queued is refused whole, before anything is written. */
    if (backlog_check(c->req->a->r, b->n, &err) == CORRAL_OK &&
        store_submit_batch(c->req->a->r, b->specs, b->n, tasks, &n_created, &err) == CORRAL_OK) {
        json_t *arr = json_array();
        for (size_t i = 0; i < b->n; i++)
            json_array_append_new(arr, corral_task_to_public_json(&tasks[i]));
        json_t *body = json_object();
        json_object_set_new(body, "tasks", arr);
        /* 200 when the batch was a replay of stored keys only, as a single submit answers. */
        api_reply_json(out, n_created > 0 ? MHD_HTTP_CREATED : MHD_HTTP_OK, body);
    } else {
        api_reply_error(out, &err);
    }
    for (size_t i = 0; i < b->n; i++)
        corral_task_cleanup(&tasks[i]);
    free(tasks);
}

static void batch_destroy(struct api_call *c)
{
    struct batch_call *b = (struct batch_call *)c;
    for (size_t i = 0; i < b->n; i++)
        corral_spec_cleanup(&b->specs[i]);
    free(b->specs);
}

/* Parse {"tasks": [spec, ...]} into specs (n of them, each to be cleaned up by the caller). */
static int parse_batch(const struct api_request *req, struct corral_spec **specs, size_t *n,
                       struct corral_error *err)
{
    *specs = NULL;
    *n = 0;
    json_error_t jerr;
    json_t *doc = json_loadb(req->body ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return corral_error_set(err, CORRAL_ESPEC, "", "invalid JSON at line %d column %d: %s",
                                jerr.line, jerr.column, jerr.text);
    json_t *arr = json_object_get(doc, "tasks");
    int rc = CORRAL_OK;
    size_t count = json_array_size(arr);
    if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(arr))
        rc = corral_error_set(err, CORRAL_ESPEC, "tasks", "body must be {\"tasks\": [spec, ...]}");
    else if (count == 0 || count > CORRAL_BATCH_MAX)
        rc = corral_error_set(err, CORRAL_ESPEC, "tasks", "must hold 1..%u specs, got %zu",
                              CORRAL_BATCH_MAX, count);
    if (rc == CORRAL_OK) {
        *specs = corral_xcalloc(count, sizeof **specs);
        *n = count;
    }
    for (size_t i = 0; rc == CORRAL_OK && i < count; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "tasks[%zu].", i);
        rc = corral_spec_from_json(json_array_get(arr, i), prefix, &(*specs)[i], err);
        if (rc != CORRAL_OK && !err->field[0])
            snprintf(err->field, sizeof err->field, "tasks[%zu]", i);
    }
    json_decref(doc);
    return rc;
}

void api_submit_batch(struct api *a, struct api_request *req, struct api_reply *rp)
{
    struct batch_call *b = api_call_new(sizeof *b, batch_exec, batch_destroy, true);
    struct corral_error err = {0};
    if (parse_batch(req, &b->specs, &b->n, &err) != CORRAL_OK) {
        api_reply_error(rp, &err);
    } else if (api_ready(a, rp)) {
        api_call_start(a, req, &b->base, rp); /* b taken */
        return;
    }
    batch_destroy(&b->base);
    free(b);
}

/* ------------------------------------------------------------------ POST /v1/tasks/{id}/cancel */

struct cancel_call {
    struct api_call base;
    char id[CORRAL_ID_LEN + 1];
};

static void cancel_exec(struct api_call *c, struct api_reply *out)
{
    struct cancel_call *k = (struct cancel_call *)c;
    struct corral_task t = {0};
    struct corral_error err = {0};
    if (store_cancel(c->req->a->r, k->id, &t, &err) != CORRAL_OK)
        api_reply_error(out, &err);
    else
        api_reply_task(out, MHD_HTTP_OK, &t);
    corral_task_cleanup(&t);
}

void api_cancel(struct api *a, struct api_request *req, const char *id, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    struct cancel_call *k = api_call_new(sizeof *k, cancel_exec, NULL, true);
    snprintf(k->id, sizeof k->id, "%s", id);
    api_call_start(a, req, &k->base, rp);
}
