/* SPDX-License-Identifier: MIT */
/* Pipelined ZooKeeper reads on an async handle (zkraw.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/zkraw.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk.h"

#define CORRAL_LOG_MODULE "bench"

struct zkraw {
    zhandle_t *zh;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int state; /* ZOO_*_STATE of the last session event */
};

/* One zkraw_get_many call. The caller may give up on it (deadline); then it is freed by its
 * last completion (zookeeper_close completes every request, with ZCLOSING). */
struct batch {
    struct zkraw *z;
    struct zkraw_get *g; /* the caller's; NULL once abandoned */
    struct req *reqs;
    size_t outstanding; /* issued and not yet completed */
    size_t done;        /* answered (or failed to issue) */
    size_t inflight;
};

struct req {
    struct batch *b;
    size_t i;
};

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh, (void)path;
    struct zkraw *z = ctx;
    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&z->mu);
    z->state = state;
    pthread_cond_broadcast(&z->cond);
    pthread_mutex_unlock(&z->mu);
}

static void on_log(const char *message)
{
    CORRAL_LOG(CORRAL_LOG_DEBUG, "client: %s", message);
}

static struct timespec abs_ms(int64_t deadline_mono_ms)
{
    /* The condition variables use CLOCK_MONOTONIC, like clock_mono_ms(). */
    struct timespec ts = {.tv_sec = (time_t)(deadline_mono_ms / 1000),
                          .tv_nsec = (long)(deadline_mono_ms % 1000) * 1000000L};
    return ts;
}

struct zkraw *zkraw_open(const char *hosts, int session_ms, struct corral_error *err)
{
    struct zkraw *z = corral_xcalloc(1, sizeof *z);
    pthread_mutex_init(&z->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&z->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&z->mu);
    z->zh = zookeeper_init2(hosts, on_watch, session_ms, NULL, z, 0, on_log);
    pthread_mutex_unlock(&z->mu);
    if (!z->zh) {
        corral_error_set(err, CORRAL_EUNAVAIL, NULL, "cannot start a session with %s: %s", hosts,
                         strerror(errno));
        zkraw_close(z);
        return NULL;
    }
    /* As corral's own sessions do (io/zk_session.c): no getaddrinfo per poll. */
    (void)zoo_set_servers_resolution_delay(z->zh, ZK_RESOLVE_DELAY_MS);
    int64_t deadline = clock_mono_ms() + 15000;
    struct timespec ts = abs_ms(deadline);
    pthread_mutex_lock(&z->mu);
    while (z->state != ZOO_CONNECTED_STATE && clock_mono_ms() < deadline)
        pthread_cond_timedwait(&z->cond, &z->mu, &ts);
    bool ok = z->state == ZOO_CONNECTED_STATE;
    pthread_mutex_unlock(&z->mu);
    if (!ok) {
        corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session with %s in 15 s", hosts);
        zkraw_close(z);
        return NULL;
    }
    return z;
}

void zkraw_close(struct zkraw *z)
{
    if (!z)
        return;
    if (z->zh)
        zookeeper_close(z->zh); /* completes every pending request (ZCLOSING) */
    pthread_cond_destroy(&z->cond);
    pthread_mutex_destroy(&z->mu);
    free(z);
}

zhandle_t *zkraw_handle(struct zkraw *z)
{
    return z->zh;
}

void zkraw_gets_free(struct zkraw_get *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(g[i].data);
        g[i].data = NULL;
        g[i].len = 0;
    }
}

static void batch_free(struct batch *b)
{
    free(b->reqs);
    free(b);
}

/* Runs on the client's completion thread. */
static void on_get(int rc, const char *value, int value_len, const struct Stat *stat,
                   const void *data)
{
    const struct req *r = data;
    struct batch *b = r->b;
    struct zkraw *z = b->z;
    pthread_mutex_lock(&z->mu);
    if (b->g) {
        struct zkraw_get *g = &b->g[r->i];
        g->rc = rc;
        if (rc == ZOK) {
            size_t len = value && value_len > 0 ? (size_t)value_len : 0;
            g->data = corral_xmalloc(len + 1);
            if (len)
                memcpy(g->data, value, len);
            g->data[len] = '\0';
            g->len = len;
            g->version = stat ? stat->version : 0;
        }
    }
    b->outstanding--;
    b->inflight--;
    b->done++;
    bool orphan = !b->g && b->outstanding == 0;
    pthread_cond_broadcast(&z->cond);
    pthread_mutex_unlock(&z->mu);
    if (orphan)
        batch_free(b);
}

static void on_sync(int rc, const char *value, const void *data)
{
    (void)rc, (void)value, (void)data;
}

int zkraw_get_many(struct zkraw *z, struct zkraw_get *g, size_t n, const char *sync_path,
                   size_t max_inflight, int64_t deadline_ms, struct corral_error *err)
{
    zkraw_gets_free(g, n);
    for (size_t i = 0; i < n; i++)
        g[i].rc = ZNOTHING;
    if (n == 0)
        return CORRAL_OK;
    if (max_inflight == 0)
        max_inflight = 1;
    if (sync_path) {
        int rc = zoo_async(z->zh, sync_path, on_sync, NULL);
        if (rc != ZOK)
            return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "sync: %s", zerror(rc));
    }
    struct batch *b = corral_xcalloc(1, sizeof *b);
    b->z = z;
    b->g = g;
    b->reqs = corral_xcalloc(n, sizeof *b->reqs);
    size_t issued = 0;
    int fail = ZOK;
    struct timespec ts = abs_ms(deadline_ms);
    pthread_mutex_lock(&z->mu);
    while (b->done < n) {
        while (issued < n && b->inflight < max_inflight && fail == ZOK) {
            size_t i = issued++;
            b->reqs[i] = (struct req){.b = b, .i = i};
            b->outstanding++;
            b->inflight++;
            pthread_mutex_unlock(&z->mu);
            int rc = zoo_aget(z->zh, g[i].path, 0, on_get, &b->reqs[i]);
            pthread_mutex_lock(&z->mu);
            if (rc != ZOK) {
                /* Not sent: no completion will come. */
                b->outstanding--;
                b->inflight--;
                b->done++;
                g[i].rc = rc;
                fail = rc;
            }
        }
        if (fail != ZOK && issued < n) {
            b->done += n - issued; /* never sent */
            issued = n;
        }
        if (b->done >= n)
            break;
        if (clock_mono_ms() >= deadline_ms) {
            fail = ZOPERATIONTIMEOUT;
            break;
        }
        pthread_cond_timedwait(&z->cond, &z->mu, &ts);
    }
    bool orphan_now = false;
    if (b->done < n || b->outstanding > 0) {
        /* Give the rest up: completions still to come must not touch g. */
        b->g = NULL;
        orphan_now = b->outstanding == 0;
    } else {
        orphan_now = true;
    }
    pthread_mutex_unlock(&z->mu);
    if (orphan_now)
        batch_free(b);
    if (fail != ZOK)
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "reads: %s",
                                fail == ZOPERATIONTIMEOUT ? "deadline passed" : zerror(fail));
    for (size_t i = 0; i < n; i++)
        if (g[i].rc == ZCONNECTIONLOSS || g[i].rc == ZSESSIONEXPIRED || g[i].rc == ZCLOSING ||
            g[i].rc == ZOPERATIONTIMEOUT)
            return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "reads: %s", zerror(g[i].rc));
    return CORRAL_OK;
}
