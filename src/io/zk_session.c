/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, the handle and its session: open/close/reopen, session state and ids,
 * the watcher that turns session and node events into queued events, and last_rx (the ping).
 * Operations live in zk_ops.c and zk_multi.c, the event queue in zk_events.c.
 */
#define _GNU_SOURCE /* eventfd */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_internal.h"

#define CORRAL_LOG_MODULE "zk"

/*
 * The server answered "session expired": the session is gone for good, whatever the client
 * library's state says. After a forced expiry the library can reconnect with the dead
 * session's id and then report CONNECTED while every request fails this way and no EXPIRED
 * event ever comes (seen on a 3-server ensemble, t_fault_session_expiry): raise the event
 * ourselves so that the owner calls zk_reopen(). Answers are read under the handle (zk_acquire)
 * or on its own completion thread, so zk->zh is the handle that answered, or NULL while it
 * closes.
 */
static void zk_session_gone(struct zk *zk)
{
    pthread_mutex_lock(&zk->mu);
    if (zk->zh && zk->state != ZK_SESSION_EXPIRED) {
        CORRAL_LOG(CORRAL_LOG_WARN, "the server reports the session expired");
        zk->state = ZK_SESSION_EXPIRED;
        zk_push_event(zk, ZK_EV_SESSION, "");
        pthread_cond_broadcast(&zk->cond);
    }
    pthread_mutex_unlock(&zk->mu);
}

void zk_touch_rx(struct zk *zk, int rc)
{
    /* An answer from the server (ZOK or an API error such as ZNONODE) proves contact; system
     * errors (connection loss, timeouts) and client-side states do not. */
    bool answered =
        rc == ZOK || (rc < ZAPIERROR && rc != ZCLOSING && rc != ZSESSIONEXPIRED && rc != ZNOTHING);
    if (answered)
        atomic_store(&zk->last_rx_ms, clock_mono_ms());
    if (rc == ZSESSIONEXPIRED)
        zk_session_gone(zk);
}

bool zk_has_auth(const struct zk *zk)
{
    return zk->auth != NULL;
}

const struct ACL_vector *zk_acl(const struct zk *zk)
{
    return zk->auth ? &ZOO_CREATOR_ALL_ACL : &ZOO_OPEN_ACL_UNSAFE;
}

static enum zk_session_state map_state(int st)
{
    if (st == ZOO_CONNECTED_STATE || st == ZOO_READONLY_STATE)
        return ZK_SESSION_CONNECTED;
    if (st == ZOO_EXPIRED_SESSION_STATE)
        return ZK_SESSION_EXPIRED;
    if (st == ZOO_AUTH_FAILED_STATE)
        return ZK_SESSION_AUTH_FAILED;
    return ZK_SESSION_CONNECTING;
}

/* Runs on the client's completion thread: copy and hand off, never block. */
void zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct zk *zk = ctx;
    pthread_mutex_lock(&zk->mu);
    if (zh != zk->zh) {
        /* An event of a handle we already replaced. */
        pthread_mutex_unlock(&zk->mu);
        return;
    }
    if (type == ZOO_SESSION_EVENT) {
        enum zk_session_state s = map_state(state);
        if (s != zk->state) {
            zk->state = s;
            if (s == ZK_SESSION_CONNECTED) {
                atomic_store(&zk->last_rx_ms, clock_mono_ms());
                zk_fp_dump_session(zh);
            }
            zk_push_event(zk, ZK_EV_SESSION, "");
            pthread_cond_broadcast(&zk->cond);
        }
    } else if (type == ZOO_CREATED_EVENT) {
        zk_push_event(zk, ZK_EV_CREATED, path);
    } else if (type == ZOO_DELETED_EVENT) {
        zk_push_event(zk, ZK_EV_DELETED, path);
    } else if (type == ZOO_CHANGED_EVENT) {
        zk_push_event(zk, ZK_EV_CHANGED, path);
    } else if (type == ZOO_CHILD_EVENT) {
        zk_push_event(zk, ZK_EV_CHILD, path);
    }
    pthread_mutex_unlock(&zk->mu);
}

static void zk_lib_log(const char *message)
{
    /* The client library's own lines are detail: show them at debug level only. */
    CORRAL_LOG(CORRAL_LOG_DEBUG, "client: %s", message);
}

/* Auth retry: every AUTH_RETRY_MS while the client waits between two connection attempts, at
 * most AUTH_RETRY_MAX_MS. */
#define AUTH_RETRY_MS     5
#define AUTH_RETRY_MAX_MS 2000

/* zk_internal.h */
int zk_add_auth_now(zhandle_t *zh, const char *auth)
{
    for (int waited = 0;; waited += AUTH_RETRY_MS) {
        int rc = zoo_add_auth(zh, "digest", auth, (int)strlen(auth), NULL, NULL);
        if (rc != ZINVALIDSTATE || is_unrecoverable(zh) == ZINVALIDSTATE ||
            waited >= AUTH_RETRY_MAX_MS)
            return rc;
        struct timespec ts = {0, AUTH_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int start_session(struct zk *zk, struct corral_error *err)
{
    zoo_set_debug_level(log_min_level() == CORRAL_LOG_DEBUG ? ZOO_LOG_LEVEL_INFO
                                                            : ZOO_LOG_LEVEL_ERROR);
    /* Hold mu until zk->zh is set: on loopback the session can be established, and its
     * CONNECTED event delivered to zk_watcher(), before zookeeper_init2() returns; without the
     * lock the watcher would drop it as an event of a replaced handle and we would never know
     * we are connected. */
    pthread_mutex_lock(&zk->mu);
    zk->state = ZK_SESSION_CONNECTING;
    zhandle_t *zh = zookeeper_init2(zk->hosts, zk_watcher, zk->timeout_ms, NULL, zk, 0, zk_lib_log);
    zk->zh = zh;
    pthread_mutex_unlock(&zk->mu);
    if (!zh)
        return corral_error_set(err, CORRAL_EUNAVAIL, "--zk", "cannot start a session with %s: %s",
                                zk->hosts, strerror(errno));
    /* By default the client resolves the host list (getaddrinfo: a netlink socket, /etc/hosts,
     * nsswitch) every time its IO thread polls: measured, 14 % of a busy leader's CPU. A
     * reconnect still resolves at once; routine re-resolution waits this long. */
    (void)zoo_set_servers_resolution_delay(zh, ZK_RESOLVE_DELAY_MS);
    if (zk->auth) {
        int rc = zk_add_auth_now(zh, zk->auth);
        if (rc != ZOK) {
            pthread_mutex_lock(&zk->mu);
            zk->zh = NULL;
            pthread_mutex_unlock(&zk->mu);
            zookeeper_close(zh);
            /* Between two connection attempts (ZooKeeper not listening yet): try again later,
             * as for any other unavailable ensemble; anything else is a wrong credential. */
            if (rc == ZINVALIDSTATE)
                return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                        "ZooKeeper at %s does not accept connections yet",
                                        zk->hosts);
            return corral_error_set(err, CORRAL_EUNAVAIL, "--zk-auth", "add auth: %s", zerror(rc));
        }
    }
    if (zk->auth2) /* a worker's own identity (zk_add_identity): failing it only costs rights */
        (void)zk_add_auth_now(zh, zk->auth2);
    return CORRAL_OK;
}

struct zk *zk_open(const char *hosts, int session_timeout_ms, const char *auth,
                   struct corral_error *err)
{
    if (!hosts || !*hosts) {
        corral_error_set(err, CORRAL_EUSAGE, "--zk", "must not be empty");
        return NULL;
    }
    if (auth && !strchr(auth, ':')) {
        corral_error_set(err, CORRAL_EUSAGE, "--zk-auth", "must be USER:PASS");
        return NULL;
    }
    struct zk *zk = corral_xcalloc(1, sizeof *zk);
    pthread_mutex_init(&zk->mu, NULL);
    pthread_rwlock_init(&zk->hlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&zk->cond, &ca);
    pthread_condattr_destroy(&ca);
    zk->hosts = corral_xstrdup(hosts);
    zk->auth = corral_xstrdup(auth);
    zk->timeout_ms = session_timeout_ms;
    zk->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (zk->efd < 0 || start_session(zk, err) != CORRAL_OK) {
        if (zk->efd < 0)
            corral_error_set(err, CORRAL_EINTERNAL, NULL, "eventfd: %s", strerror(errno));
        zk_close(zk);
        return NULL;
    }
    return zk;
}

void zk_close(struct zk *zk)
{
    if (!zk)
        return;
    pthread_rwlock_wrlock(&zk->hlock);
    pthread_mutex_lock(&zk->mu);
    zhandle_t *zh = zk->zh;
    zk->zh = NULL;
    pthread_mutex_unlock(&zk->mu);
    if (zh)
        zookeeper_close(zh); /* joins the client's threads: no callback runs after this */
    pthread_rwlock_unlock(&zk->hlock);
    zk_boxes_free_all(zk);
    struct zk_event ev;
    while (zk_next_event(zk, &ev))
        zk_event_cleanup(&ev);
    if (zk->efd >= 0)
        close(zk->efd);
    free(zk->hosts);
    if (zk->auth) {
        memset(zk->auth, 0, strlen(zk->auth));
        free(zk->auth);
    }
    if (zk->auth2) {
        memset(zk->auth2, 0, strlen(zk->auth2));
        free(zk->auth2);
    }
    zk_acl_free(zk);
    pthread_cond_destroy(&zk->cond);
    pthread_rwlock_destroy(&zk->hlock);
    pthread_mutex_destroy(&zk->mu);
    free(zk);
}

int zk_reopen(struct zk *zk, struct corral_error *err)
{
    /* Writers wait for every operation in flight on the old handle to return. */
    pthread_rwlock_wrlock(&zk->hlock);
    pthread_mutex_lock(&zk->mu);
    zhandle_t *old = zk->zh;
    zk->zh = NULL;
    pthread_mutex_unlock(&zk->mu);
    if (old)
        zookeeper_close(old);
    zk_boxes_free_all(zk); /* the old session's watches are gone with it */
    int rc = start_session(zk, err);
    pthread_rwlock_unlock(&zk->hlock);
    return rc;
}

zhandle_t *zk_acquire(struct zk *zk)
{
    pthread_rwlock_rdlock(&zk->hlock);
    pthread_mutex_lock(&zk->mu);
    zhandle_t *zh = zk->zh;
    pthread_mutex_unlock(&zk->mu);
    return zh;
}

void zk_release(struct zk *zk)
{
    pthread_rwlock_unlock(&zk->hlock);
}

int zk_wait_connected(struct zk *zk, int timeout_ms, struct corral_error *err)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&zk->mu);
    int rc = 0;
    while (zk->state != ZK_SESSION_CONNECTED && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&zk->cond, &zk->mu, &dl);
    bool ok = zk->state == ZK_SESSION_CONNECTED;
    pthread_mutex_unlock(&zk->mu);
    if (!ok)
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                "not connected to ZooKeeper at %s within %d ms", zk->hosts,
                                timeout_ms);
    return CORRAL_OK;
}

enum zk_session_state zk_state(struct zk *zk)
{
    pthread_mutex_lock(&zk->mu);
    enum zk_session_state s = zk->state;
    pthread_mutex_unlock(&zk->mu);
    return s;
}

bool zk_is_connected(struct zk *zk)
{
    return zk_state(zk) == ZK_SESSION_CONNECTED;
}

int64_t zk_session_id(struct zk *zk)
{
    zhandle_t *zh = zk_acquire(zk);
    const clientid_t *id = zh ? zoo_client_id(zh) : NULL;
    int64_t sid = id ? id->client_id : 0;
    zk_release(zk);
    return sid;
}

int zk_session_passwd(struct zk *zk, char *buf, int n)
{
    zhandle_t *zh = zk_acquire(zk);
    const clientid_t *id = zh ? zoo_client_id(zh) : NULL;
    int len = 0;
    if (id && n >= (int)sizeof id->passwd) {
        memcpy(buf, id->passwd, sizeof id->passwd);
        len = (int)sizeof id->passwd;
    }
    zk_release(zk);
    return len;
}

int64_t zk_events_gen(struct zk *zk)
{
    return (int64_t)atomic_load(&zk->events_gen);
}

void zk_events_gen_set(struct zk *zk, int64_t gen)
{
    atomic_store(&zk->events_gen, (int_fast64_t)gen);
}

void zk_events_allow_seal(struct zk *zk)
{
    atomic_store(&zk->events_may_seal, true);
}

bool zk_events_may_seal(struct zk *zk)
{
    return atomic_load(&zk->events_may_seal);
}

int zk_session_timeout_ms(struct zk *zk)
{
    zhandle_t *zh = zk_acquire(zk);
    int t = zh && zk_is_connected(zk) ? zoo_recv_timeout(zh) : 0;
    zk_release(zk);
    return t;
}

int64_t zk_last_rx_ms(struct zk *zk)
{
    return atomic_load(&zk->last_rx_ms);
}

static void ping_done(int rc, const struct Stat *stat, const void *data)
{
    (void)stat;
    struct zk *zk = (struct zk *)(uintptr_t)data;
    zk_touch_rx(zk, rc);
}

void zk_ping(struct zk *zk, const char *path)
{
    zhandle_t *zh = zk_acquire(zk);
    if (zh && zk_is_connected(zk))
        (void)zoo_aexists(zh, path, 0, ping_done, zk);
    zk_release(zk);
}

bool zk_watch_exists_async(struct zk *zk, const char *path)
{
    /* The answer only proves contact (ping_done); a failure to arm comes with a session event,
     * after which the owner arms its watches again. */
    zhandle_t *zh = zk_acquire(zk);
    bool sent = zh && zk_is_connected(zk) && zoo_aexists(zh, path, 1, ping_done, zk) == ZOK;
    zk_release(zk);
    return sent;
}
