/* SPDX-License-Identifier: MIT */
/* corral-bench's submitters (load.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench/bench.h"
#include "bench/http.h"
#include "bench/load.h"
#include "corral/id.h"
#include "corral/xalloc.h"
#include "io/clock.h"

#define SPEC            "{\"command\":[\"true\"]}"
#define REQUEST_TIMEOUT 60000L
#define MAX_RETRIES     200
#define THREADS_MAX     256

struct load {
    struct load_cfg cfg;
    char *url;
    pthread_t threads[THREADS_MAX];
    int n_threads;
    atomic_uint_fast64_t next_req; /* requests claimed */
    uint64_t n_req;
    atomic_uint_fast64_t accepted;
    atomic_int running;
    int64_t t0; /* monotonic start (the paced schedule's origin) */
    pthread_mutex_t mu;
    struct load_stats st;           /* under mu */
    char (*ids)[CORRAL_ID_LEN + 1]; /* by task index; "" = not acknowledged */
    char (*ordered)[CORRAL_ID_LEN + 1];
    size_t n_ordered;
    char *body_full; /* LOAD_BATCH: CORRAL_BATCH_MAX specs */
    char *body_rest; /* LOAD_BATCH: the last, shorter batch (NULL when none) */
};

static char *batch_body(uint64_t n)
{
    size_t len = 16 + n * (sizeof SPEC);
    char *b = corral_xmalloc(len);
    size_t off = (size_t)snprintf(b, len, "{\"tasks\":[");
    for (uint64_t i = 0; i < n; i++)
        off += (size_t)snprintf(b + off, len - off, "%s%s", i ? "," : "", SPEC);
    snprintf(b + off, len - off, "]}");
    return b;
}

static void note_error(struct load *l, const char *fmt, ...) CORRAL_PRINTF(2, 3);
static void note_error(struct load *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&l->mu);
    if (!l->st.error[0])
        vsnprintf(l->st.error, sizeof l->st.error, fmt, ap);
    pthread_mutex_unlock(&l->mu);
    va_end(ap);
}

/* The error code of a corral error body ("" when none). */
static void error_code(const char *body, char *out, size_t n)
{
    out[0] = '\0';
    json_t *root = json_loads(body, 0, NULL);
    const char *code = json_string_value(json_object_get(root, "error"));
    if (code)
        snprintf(out, n, "%s", code);
    json_decref(root);
}

/* Record the ids of an answer for tasks first..first+count-1; returns how many it had. */
static uint64_t take_ids(struct load *l, const char *body, uint64_t first, uint64_t count)
{
    json_t *root = json_loads(body, 0, NULL);
    uint64_t got = 0;
    if (l->cfg.mode == LOAD_BATCH) {
        json_t *arr = json_object_get(root, "tasks");
        size_t i;
        json_t *t;
        json_array_foreach(arr, i, t)
        {
            const char *id = json_string_value(json_object_get(t, "id"));
            if (i < count && id && corral_id_is_valid(id)) {
                memcpy(l->ids[first + i], id, CORRAL_ID_LEN + 1);
                got++;
            }
        }
    } else {
        const char *id = json_string_value(json_object_get(root, "id"));
        if (id && corral_id_is_valid(id)) {
            memcpy(l->ids[first], id, CORRAL_ID_LEN + 1);
            got = 1;
        }
    }
    json_decref(root);
    return got;
}

/* Send request r (tasks first..first+count-1) until it is answered for good. */
static void send_one(struct load *l, struct http_client *h, uint64_t first, uint64_t count)
{
    const char *path = l->cfg.mode == LOAD_BATCH ? "/v1/tasks/batch" : "/v1/tasks";
    const char *body = l->cfg.mode != LOAD_BATCH   ? SPEC
                       : count == CORRAL_BATCH_MAX ? l->body_full
                                                   : l->body_rest;
    size_t len = strlen(body);
    for (int attempt = 0; attempt < MAX_RETRIES; attempt++) {
        if (bench_stopping() || clock_mono_ms() >= l->cfg.deadline_ms)
            return;
        int64_t t0 = clock_mono_ms();
        pthread_mutex_lock(&l->mu);
        if (l->st.first_send_ms == 0 || t0 < l->st.first_send_ms)
            l->st.first_send_ms = t0;
        pthread_mutex_unlock(&l->mu);
        long status = 0;
        struct corral_error err = {0};
        /* No request outlives the deadline by more than a second: the scenario ends then. */
        long timeout = (long)(l->cfg.deadline_ms - t0) + 1000;
        timeout = timeout < 1000 ? 1000 : timeout > REQUEST_TIMEOUT ? REQUEST_TIMEOUT : timeout;
        if (http_do(h, "POST", path, body, len, timeout, &status, &err) != CORRAL_OK) {
            if (bench_stopping())
                return;
            note_error(l, "%s", err.msg);
            pthread_mutex_lock(&l->mu);
            l->st.unknown += count; /* it may have been stored */
            pthread_mutex_unlock(&l->mu);
            return;
        }
        int64_t t1 = clock_mono_ms();
        const char *answer = http_body(h, NULL);
        if (status == 201) {
            uint64_t got = take_ids(l, answer, first, count);
            pthread_mutex_lock(&l->mu);
            l->st.accepted += got;
            if (t1 > l->st.last_ack_ms)
                l->st.last_ack_ms = t1;
            l->st.ack_ms[l->st.n_ack++] = t1 - t0;
            pthread_mutex_unlock(&l->mu);
            atomic_fetch_add(&l->accepted, got);
            return;
        }
        char code[64];
        error_code(answer, code, sizeof code);
        bool retry = status == 429 || (status == 503 && strcmp(code, "outcome_unknown") != 0);
        if (status == 503 && !retry) {
            pthread_mutex_lock(&l->mu);
            l->st.unknown += count;
            pthread_mutex_unlock(&l->mu);
            note_error(l, "503 %s", code);
            return;
        }
        if (!retry) {
            pthread_mutex_lock(&l->mu);
            l->st.failed += count;
            pthread_mutex_unlock(&l->mu);
            note_error(l, "refused: %.200s (HTTP %ld)", answer, status);
            return;
        }
        pthread_mutex_lock(&l->mu);
        l->st.retries++;
        pthread_mutex_unlock(&l->mu);
        long wait_ms = status == 429 ? http_retry_after_s(h) * 1000 : 50;
        bench_sleep_ms(wait_ms < 50 ? 50 : wait_ms > 1000 ? 1000 : wait_ms);
    }
    note_error(l, "%s: still refused after %d tries", path, MAX_RETRIES);
    pthread_mutex_lock(&l->mu);
    l->st.failed += count;
    pthread_mutex_unlock(&l->mu);
}

static void *client(void *arg)
{
    struct load *l = arg;
    struct http_client *h = http_client_new(l->url);
    for (;;) {
        if (bench_stopping() || clock_mono_ms() >= l->cfg.deadline_ms)
            break;
        uint64_t r = atomic_fetch_add(&l->next_req, 1);
        if (r >= l->n_req)
            break;
        uint64_t per = l->cfg.mode == LOAD_BATCH ? CORRAL_BATCH_MAX : 1;
        uint64_t first = r * per;
        uint64_t count = l->cfg.tasks - first < per ? l->cfg.tasks - first : per;
        if (l->cfg.mode == LOAD_PACED) {
            /* Request r is due at t0 + r / rate. */
            int64_t due = l->t0 + (int64_t)(r * 1000u / (uint64_t)l->cfg.rate);
            while (clock_mono_ms() < due && clock_mono_ms() < l->cfg.deadline_ms)
                if (!bench_sleep_ms(due - clock_mono_ms()))
                    break;
        }
        send_one(l, h, first, count);
    }
    http_client_free(h);
    atomic_fetch_sub(&l->running, 1);
    return NULL;
}

struct load *load_start(const struct load_cfg *cfg)
{
    struct load *l = corral_xcalloc(1, sizeof *l);
    l->cfg = *cfg;
    l->url = corral_xstrdup(cfg->url);
    l->cfg.url = l->url;
    if (l->cfg.clients < 1)
        l->cfg.clients = 1;
    if (l->cfg.clients > THREADS_MAX)
        l->cfg.clients = THREADS_MAX;
    if (l->cfg.rate < 1)
        l->cfg.rate = 1;
    uint64_t per = cfg->mode == LOAD_BATCH ? CORRAL_BATCH_MAX : 1;
    l->n_req = (cfg->tasks + per - 1) / per;
    l->ids = corral_xcalloc(cfg->tasks ? cfg->tasks : 1, sizeof *l->ids);
    l->st.ack_ms = corral_xcalloc(l->n_req ? l->n_req : 1, sizeof *l->st.ack_ms);
    if (cfg->mode == LOAD_BATCH) {
        l->body_full = batch_body(CORRAL_BATCH_MAX);
        if (cfg->tasks % CORRAL_BATCH_MAX)
            l->body_rest = batch_body(cfg->tasks % CORRAL_BATCH_MAX);
    }
    pthread_mutex_init(&l->mu, NULL);
    atomic_init(&l->next_req, 0);
    atomic_init(&l->accepted, 0);
    l->t0 = clock_mono_ms();
    int n = l->cfg.clients;
    if ((uint64_t)n > l->n_req)
        n = (int)(l->n_req ? l->n_req : 1);
    atomic_init(&l->running, n);
    for (int i = 0; i < n; i++)
        bench_thread_start(&l->threads[i], client, l);
    l->n_threads = n;
    return l;
}

uint64_t load_accepted(struct load *l)
{
    return atomic_load(&l->accepted);
}

bool load_done(struct load *l)
{
    return atomic_load(&l->running) == 0;
}

void load_join(struct load *l)
{
    for (int i = 0; i < l->n_threads; i++)
        pthread_join(l->threads[i], NULL);
    l->n_threads = 0;
    if (!l->ordered) {
        l->ordered = corral_xcalloc(l->cfg.tasks ? l->cfg.tasks : 1, sizeof *l->ordered);
        for (uint64_t i = 0; i < l->cfg.tasks; i++)
            if (l->ids[i][0])
                memcpy(l->ordered[l->n_ordered++], l->ids[i], CORRAL_ID_LEN + 1);
    }
}

const struct load_stats *load_stats(const struct load *l)
{
    return &l->st;
}

size_t load_ids(const struct load *l, const char (**ids)[CORRAL_ID_LEN + 1])
{
    *ids = (const char(*)[CORRAL_ID_LEN + 1]) l->ordered;
    return l->n_ordered;
}

void load_free(struct load *l)
{
    if (!l)
        return;
    load_join(l);
    pthread_mutex_destroy(&l->mu);
    free(l->st.ack_ms);
    free(l->ids);
    free(l->ordered);
    free(l->body_full);
    free(l->body_rest);
    free(l->url);
    free(l);
}
