/* SPDX-License-Identifier: MIT */
/*
 * Deadlines for slow clients (security issue, point 5). libmicrohttpd's connection timeout is
 * an idle timeout that any byte resets, so a client that sends its headers one byte every few
 * seconds holds a connection for ever, and enough of them hold every connection before any
 * token is checked. The guard gives each connection a deadline for what it owes: the headers
 * of its first request API_HEADERS_MS after accept; a body that was announced API_BODY_MS after
 * its headers; the next request on a kept-alive connection API_IDLE_MS after the last answer.
 * While a request is being answered (a long poll too) there is none. A thread looks twice a
 * second and shuts down the socket of a connection past its deadline; libmicrohttpd then sees
 * the connection end and closes it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "corral/xalloc.h"
#include "corrald/api_internal.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "api"

#define GUARD_TICK_MS 500

struct guard_conn {
    struct guard_conn *prev, *next;
    int fd;
    int64_t deadline_ms; /* monotonic; 0 = none (a request is being answered) */
    bool cut;            /* shut down already */
};

struct api_guard {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* monotonic clock; signalled on stop */
    struct guard_conn *head;
    bool stopping;
    pthread_t thread;
    atomic_uint_fast64_t n_cut;
};

static void *guard_main(void *arg)
{
    struct api_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        int64_t now = clock_mono_ms();
        unsigned cut = 0;
        for (struct guard_conn *c = g->head; c; c = c->next) {
            if (c->cut || c->deadline_ms == 0 || now < c->deadline_ms)
                continue;
            (void)shutdown(c->fd, SHUT_RDWR);
            c->cut = true;
            cut++;
        }
        if (cut) {
            atomic_fetch_add(&g->n_cut, cut);
            CORRAL_LOG(CORRAL_LOG_INFO, "closed %u connection(s) too slow to send a request", cut);
        }
        struct timespec ts = api_mono_ts(clock_mono_ms() + GUARD_TICK_MS);
        pthread_cond_timedwait(&g->cond, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct api_guard *api_guard_start(void)
{
    struct api_guard *g = corral_xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0)
        abort(); /* out of threads at startup */
    return g;
}

void api_guard_stop(struct api_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    /* MHD_stop_daemon closed every connection (CLOSED notified): the list is empty. */
    while (g->head) {
        struct guard_conn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

uint64_t api_guard_cut_count(struct api_guard *g)
{
    return g ? (uint64_t)atomic_load(&g->n_cut) : 0;
}

void api_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    struct api_guard *g = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci) {
            *socket_context = NULL;
            return;
        }
        struct guard_conn *c = corral_xcalloc(1, sizeof *c);
        c->fd = ci->connect_fd;
        c->deadline_ms = clock_mono_ms() + API_HEADERS_MS;
        pthread_mutex_lock(&g->mu);
        c->next = g->head;
        if (g->head)
            g->head->prev = c;
        g->head = c;
        pthread_mutex_unlock(&g->mu);
        *socket_context = c;
        return;
    }
    /* CLOSED: called before the socket is closed, so the guard never shuts a reused fd. */
    struct guard_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
    *socket_context = NULL;
}

static void set_deadline(struct api_guard *g, struct MHD_Connection *conn, int64_t in_ms)
{
    if (!g)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct guard_conn *c = ci ? ci->socket_context : NULL;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    c->deadline_ms = in_ms > 0 ? clock_mono_ms() + in_ms : 0;
    pthread_mutex_unlock(&g->mu);
}

void api_guard_headers_done(struct api_guard *g, struct MHD_Connection *conn, bool body_follows)
{
    set_deadline(g, conn, body_follows ? API_BODY_MS : 0);
}

void api_guard_body_done(struct api_guard *g, struct MHD_Connection *conn)
{
    set_deadline(g, conn, 0);
}

void api_guard_request_done(struct api_guard *g, struct MHD_Connection *conn)
{
    set_deadline(g, conn, API_IDLE_MS);
}
