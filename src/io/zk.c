/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter: session handling, watch-event queue, synchronous operations and fenced
 * multis over the zookeeper_mt client. ZooKeeper error codes are translated here and nowhere
 * else (see zk.h). It keeps no corral logic: callers decide what a failure means.
 */
#define _GNU_SOURCE /* eventfd */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include "corral/limits.h"
#include "corral/opts.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk.h"

#define CORRAL_LOG_MODULE "zk"

struct zk_event_node {
    struct zk_event ev;
    struct zk_event_node *next;
};

struct zk {
    pthread_mutex_t mu;     /* guards zh swaps, state, the event queue */
    pthread_cond_t cond;    /* signalled on every session state change */
    pthread_rwlock_t hlock; /* read-held by every operation, write-held to replace zh */
    zhandle_t *zh;
    char *hosts;
    char *auth;     /* "user:pass" or NULL */
    int timeout_ms; /* requested */
    int efd;        /* eventfd: readable while events are queued */
    enum zk_session_state state;
    atomic_int_fast64_t last_rx_ms;
    struct zk_event_node *head, *tail;
    struct watch_box *boxes; /* one-shot callback watches not yet fired (guarded by mu) */
};

#ifdef CORRAL_TEST_HOOKS
static void dump_session(zhandle_t *zh);
#endif
static void boxes_free_all(struct zk *zk);

/* ------------------------------------------------------------------ error translation */

static int translate(int rc, bool is_read, const char *what, const char *path,
                     struct corral_error *err)
{
    switch (rc) {
        case ZOK:
            return CORRAL_OK;
        case ZNONODE:
            return corral_error_set(err, CORRAL_ENOTFOUND, NULL, "%s %s: no such node", what, path);
        case ZNODEEXISTS:
            return corral_error_set(err, CORRAL_EEXIST, NULL, "%s %s: node exists", what, path);
        case ZBADVERSION:
            return corral_error_set(err, CORRAL_ECONFLICT, NULL, "%s %s: version changed", what,
                                    path);
        case ZNOTEMPTY:
            return corral_error_set(err, CORRAL_ECONFLICT, NULL, "%s %s: node has children", what,
                                    path);
        case ZCONNECTIONLOSS:
        case ZOPERATIONTIMEOUT:
            /* The request may have reached the server: for a write the outcome is unknown. */
            return corral_error_set(err, is_read ? CORRAL_EUNAVAIL : CORRAL_EUNKNOWN, NULL,
                                    "%s %s: %s", what, path, zerror(rc));
        case ZCLOSING:
        case ZSESSIONEXPIRED:
        case ZINVALIDSTATE:
        case ZSESSIONMOVED:
        case ZNOTHING:
            return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "%s %s: %s", what, path,
                                    zerror(rc));
        case ZNOAUTH:
        case ZAUTHFAILED:
            return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "%s %s: not authorised (%s)", what,
                                    path, zerror(rc));
        default:
            return corral_error_set(err, CORRAL_EINTERNAL, NULL, "%s %s: %s", what, path,
                                    zerror(rc));
    }
}

static void touch_rx(struct zk *zk, int rc)
{
    /* An answer from the server (ZOK or an API error such as ZNONODE) proves contact; system
     * errors (connection loss, timeouts) and client-side states do not. */
    bool answered =
        rc == ZOK || (rc < ZAPIERROR && rc != ZCLOSING && rc != ZSESSIONEXPIRED && rc != ZNOTHING);
    if (answered)
        atomic_store(&zk->last_rx_ms, clock_mono_ms());
}

/* ------------------------------------------------------------------ events */

static void push_event(struct zk *zk, enum zk_event_type type, const char *path)
{
    struct zk_event_node *n = calloc(1, sizeof *n);
    char *p = strdup(path ? path : "");
    if (!n || !p) {
        /* Dropping a hint is safe: owners reconcile periodically. */
        free(n);
        free(p);
        return;
    }
    n->ev.type = type;
    n->ev.path = p;
    n->ev.state = zk->state;
    if (zk->tail)
        zk->tail->next = n;
    else
        zk->head = n;
    zk->tail = n;
    uint64_t one = 1;
    ssize_t w = write(zk->efd, &one, sizeof one);
    (void)w;
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
static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
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
            if (s == ZK_SESSION_CONNECTED)
                atomic_store(&zk->last_rx_ms, clock_mono_ms());
#ifdef CORRAL_TEST_HOOKS
            if (s == ZK_SESSION_CONNECTED)
                dump_session(zh);
#endif
            push_event(zk, ZK_EV_SESSION, "");
            pthread_cond_broadcast(&zk->cond);
        }
    } else if (type == ZOO_CREATED_EVENT) {
        push_event(zk, ZK_EV_CREATED, path);
    } else if (type == ZOO_DELETED_EVENT) {
        push_event(zk, ZK_EV_DELETED, path);
    } else if (type == ZOO_CHANGED_EVENT) {
        push_event(zk, ZK_EV_CHANGED, path);
    } else if (type == ZOO_CHILD_EVENT) {
        push_event(zk, ZK_EV_CHILD, path);
    }
    pthread_mutex_unlock(&zk->mu);
}

static void zk_lib_log(const char *message)
{
    /* The client library's own lines are detail: show them at debug level only. */
    CORRAL_LOG(CORRAL_LOG_DEBUG, "client: %s", message);
}

static int start_session(struct zk *zk, struct corral_error *err)
{
    zoo_set_debug_level(log_min_level() == CORRAL_LOG_DEBUG ? ZOO_LOG_LEVEL_INFO
                                                            : ZOO_LOG_LEVEL_ERROR);
    /* Hold mu until zk->zh is set: on loopback the session can be established, and its
     * CONNECTED event delivered to watcher(), before zookeeper_init2() returns; without the
     * lock the watcher would drop it as an event of a replaced handle and we would never know
     * we are connected. */
    pthread_mutex_lock(&zk->mu);
    zk->state = ZK_SESSION_CONNECTING;
    zhandle_t *zh = zookeeper_init2(zk->hosts, watcher, zk->timeout_ms, NULL, zk, 0, zk_lib_log);
    zk->zh = zh;
    pthread_mutex_unlock(&zk->mu);
    if (!zh)
        return corral_error_set(err, CORRAL_EUNAVAIL, "--zk", "cannot start a session with %s: %s",
                                zk->hosts, strerror(errno));
    if (zk->auth) {
        int rc = zoo_add_auth(zh, "digest", zk->auth, (int)strlen(zk->auth), NULL, NULL);
        if (rc != ZOK) {
            pthread_mutex_lock(&zk->mu);
            zk->zh = NULL;
            pthread_mutex_unlock(&zk->mu);
            zookeeper_close(zh);
            return corral_error_set(err, CORRAL_EUNAVAIL, "--zk-auth", "add auth: %s", zerror(rc));
        }
    }
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
    struct zk *zk = calloc(1, sizeof *zk);
    if (!zk)
        abort();
    pthread_mutex_init(&zk->mu, NULL);
    pthread_rwlock_init(&zk->hlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&zk->cond, &ca);
    pthread_condattr_destroy(&ca);
    zk->hosts = strdup(hosts);
    zk->auth = auth ? strdup(auth) : NULL;
    zk->timeout_ms = session_timeout_ms;
    zk->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (zk->efd < 0 || !zk->hosts || start_session(zk, err) != CORRAL_OK) {
        if (zk->efd >= 0 && err && err->code == CORRAL_OK)
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
    boxes_free_all(zk);
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
    boxes_free_all(zk); /* the old session's watches are gone with it */
    int rc = start_session(zk, err);
    pthread_rwlock_unlock(&zk->hlock);
    return rc;
}

/* Take the handle for one operation; release() must follow, also when NULL is returned. */
static zhandle_t *acquire(struct zk *zk)
{
    pthread_rwlock_rdlock(&zk->hlock);
    pthread_mutex_lock(&zk->mu);
    zhandle_t *zh = zk->zh;
    pthread_mutex_unlock(&zk->mu);
    return zh;
}

static void release(struct zk *zk)
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
    zhandle_t *zh = acquire(zk);
    const clientid_t *id = zh ? zoo_client_id(zh) : NULL;
    int64_t sid = id ? id->client_id : 0;
    release(zk);
    return sid;
}

int zk_session_passwd(struct zk *zk, char *buf, int n)
{
    zhandle_t *zh = acquire(zk);
    const clientid_t *id = zh ? zoo_client_id(zh) : NULL;
    int len = 0;
    if (id && n >= (int)sizeof id->passwd) {
        memcpy(buf, id->passwd, sizeof id->passwd);
        len = (int)sizeof id->passwd;
    }
    release(zk);
    return len;
}

int zk_session_timeout_ms(struct zk *zk)
{
    zhandle_t *zh = acquire(zk);
    int t = zh && zk_is_connected(zk) ? zoo_recv_timeout(zh) : 0;
    release(zk);
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
    touch_rx(zk, rc);
}

void zk_ping(struct zk *zk, const char *path)
{
    zhandle_t *zh = acquire(zk);
    if (zh && zk_is_connected(zk))
        (void)zoo_aexists(zh, path, 0, ping_done, zk);
    release(zk);
}

int zk_event_fd(struct zk *zk)
{
    return zk->efd;
}

bool zk_next_event(struct zk *zk, struct zk_event *ev)
{
    pthread_mutex_lock(&zk->mu);
    struct zk_event_node *n = zk->head;
    if (n) {
        zk->head = n->next;
        if (!zk->head)
            zk->tail = NULL;
    }
    if (!zk->head) {
        uint64_t v;
        ssize_t r = read(zk->efd, &v, sizeof v);
        (void)r;
    }
    pthread_mutex_unlock(&zk->mu);
    if (!n)
        return false;
    *ev = n->ev;
    free(n);
    return true;
}

void zk_event_cleanup(struct zk_event *ev)
{
    free(ev->path);
    ev->path = NULL;
}

/* ------------------------------------------------------------------ single operations */

static const struct ACL_vector *acl_of(struct zk *zk)
{
    return zk->auth ? &ZOO_CREATOR_ALL_ACL : &ZOO_OPEN_ACL_UNSAFE;
}

static int zmode(int flags)
{
    int m = 0;
    if (flags & ZK_EPHEMERAL)
        m |= ZOO_EPHEMERAL;
    if (flags & ZK_SEQUENCE)
        m |= ZOO_SEQUENCE;
    return m;
}

int zk_create(struct zk *zk, const char *path, const void *data, size_t len, int flags, char *out,
              size_t out_n, struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    int rc =
        zoo_create(zh, path, data, data ? (int)len : -1, acl_of(zk), zmode(flags), out, (int)out_n);
    touch_rx(zk, rc);
    release(zk);
    return translate(rc, false, "create", path, err);
}

int zk_ensure_path(struct zk *zk, const char *path, struct corral_error *err)
{
    char buf[CORRAL_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf || path[0] != '/')
        return corral_error_set(err, CORRAL_EINVAL, NULL, "bad path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        int rc = zk_exists(zk, buf, false, NULL, NULL);
        if (rc == CORRAL_ENOTFOUND) {
            rc = zk_create(zk, buf, NULL, 0, ZK_PERSISTENT, NULL, 0, err);
            if (rc == CORRAL_EEXIST)
                rc = CORRAL_OK;
            else if (rc != CORRAL_OK)
                return rc;
            if (err)
                corral_error_clear(err);
        } else if (rc != CORRAL_OK) {
            return corral_error_set(err, rc, NULL, "exists %s: failed", buf);
        }
        buf[i] = c;
    }
    return CORRAL_OK;
}

static int get_locked(struct zk *zk, zhandle_t *zh, const char *path, bool watch, char **data,
                      size_t *len, struct Stat *st, struct corral_error *err)
{
    int cap = 16 * 1024;
    for (int tries = 0; tries < 4; tries++) {
        char *buf = malloc((size_t)cap + 1);
        if (!buf)
            abort();
        int blen = cap;
        int rc = watch ? zoo_wget(zh, path, watcher, zk, buf, &blen, st)
                       : zoo_get(zh, path, 0, buf, &blen, st);
        touch_rx(zk, rc);
        if (rc != ZOK) {
            free(buf);
            return translate(rc, true, "get", path, err);
        }
        if (st->dataLength > cap) {
            /* The node grew past our buffer: read again with room for all of it. */
            cap = st->dataLength;
            free(buf);
            continue;
        }
        if (blen < 0)
            blen = 0;
        buf[blen] = '\0';
        *data = buf;
        if (len)
            *len = (size_t)blen;
        return CORRAL_OK;
    }
    return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "get %s: keeps changing size", path);
}

static int get_common(struct zk *zk, const char *path, bool watch, char **data, size_t *len,
                      struct Stat *st, struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    int rc = zh ? get_locked(zk, zh, path, watch, data, len, st, err)
                : corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    release(zk);
    return rc;
}

int zk_get(struct zk *zk, const char *path, bool watch, char **data, size_t *len, int32_t *version,
           struct corral_error *err)
{
    struct Stat st;
    int rc = get_common(zk, path, watch, data, len, &st, err);
    if (rc == CORRAL_OK && version)
        *version = st.version;
    return rc;
}

int zk_get_meta(struct zk *zk, const char *path, char **data, size_t *len, int32_t *version,
                int64_t *czxid, int64_t *ephemeral_owner, struct corral_error *err)
{
    struct Stat st;
    int rc = get_common(zk, path, false, data, len, &st, err);
    if (rc != CORRAL_OK)
        return rc;
    if (version)
        *version = st.version;
    if (czxid)
        *czxid = st.czxid;
    if (ephemeral_owner)
        *ephemeral_owner = st.ephemeralOwner;
    return CORRAL_OK;
}

int zk_exists(struct zk *zk, const char *path, bool watch, int32_t *version,
              struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct Stat st;
    int rc = watch ? zoo_wexists(zh, path, watcher, zk, &st) : zoo_exists(zh, path, 0, &st);
    touch_rx(zk, rc);
    release(zk);
    if (rc == ZOK && version)
        *version = st.version;
    return translate(rc, true, "exists", path, err);
}

struct watch_box {
    zk_watch_fn fn;
    void *ctx;
    struct zk *zk;
    struct watch_box *prev, *next; /* in zk->boxes while registered */
};

static void box_unlink(struct watch_box *box)
{
    struct zk *zk = box->zk;
    pthread_mutex_lock(&zk->mu);
    if (box->prev)
        box->prev->next = box->next;
    else
        zk->boxes = box->next;
    if (box->next)
        box->next->prev = box->prev;
    pthread_mutex_unlock(&zk->mu);
}

/* After the handle that held them is closed, no watch can fire: free what is left. */
static void boxes_free_all(struct zk *zk)
{
    pthread_mutex_lock(&zk->mu);
    struct watch_box *box = zk->boxes;
    zk->boxes = NULL;
    pthread_mutex_unlock(&zk->mu);
    while (box) {
        struct watch_box *next = box->next;
        free(box);
        box = next;
    }
}

static void box_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)state;
    struct watch_box *box = ctx;
    if (type == ZOO_SESSION_EVENT) {
        /* The watch stays registered across a reconnect: keep the box (closing the handle
         * frees it if it never fires). */
        box->fn(box->ctx, "");
        return;
    }
    box_unlink(box);
    box->fn(box->ctx, path ? path : "");
    free(box);
}

int zk_watch_exists(struct zk *zk, const char *path, zk_watch_fn fn, void *ctx,
                    struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct watch_box *box = calloc(1, sizeof *box);
    if (!box)
        abort();
    box->fn = fn;
    box->ctx = ctx;
    box->zk = zk;
    pthread_mutex_lock(&zk->mu);
    box->next = zk->boxes;
    if (zk->boxes)
        zk->boxes->prev = box;
    zk->boxes = box;
    pthread_mutex_unlock(&zk->mu);
    struct Stat st;
    int rc = zoo_wexists(zh, path, box_watcher, box, &st);
    touch_rx(zk, rc);
    release(zk);
    if (rc != ZOK && rc != ZNONODE) {
        box_unlink(box); /* not registered */
        free(box);
    }
    return translate(rc, true, "exists", path, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void copy_names(const struct String_vector *sv, struct corral_strlist *out);

int zk_children(struct zk *zk, const char *path, bool watch, struct corral_strlist *out,
                struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    out->items = NULL;
    out->n = 0;
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct String_vector sv = {0};
    int rc =
        watch ? zoo_wget_children(zh, path, watcher, zk, &sv) : zoo_get_children(zh, path, 0, &sv);
    touch_rx(zk, rc);
    release(zk);
    if (rc != ZOK)
        return translate(rc, true, "children", path, err);
    copy_names(&sv, out);
    deallocate_String_vector(&sv);
    return CORRAL_OK;
}

struct children_batch {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t pending;
    struct corral_strlist *outs;
    int *rcs;
};

struct children_req {
    struct children_batch *b;
    size_t i;
};

static void copy_names(const struct String_vector *sv, struct corral_strlist *out)
{
    out->items = NULL;
    out->n = 0;
    if (!sv || sv->count <= 0)
        return;
    out->items = calloc((size_t)sv->count, sizeof *out->items);
    if (!out->items)
        abort();
    for (int i = 0; i < sv->count; i++) {
        out->items[i] = strdup(sv->data[i]);
        if (!out->items[i])
            abort();
    }
    out->n = (size_t)sv->count;
    qsort(out->items, out->n, sizeof *out->items, cmp_str);
}

/* Completion thread: copy the answer, count down. */
static void children_done(int rc, const struct String_vector *sv, const void *data)
{
    const struct children_req *req = data;
    struct children_batch *b = req->b;
    if (rc == ZOK)
        copy_names(sv, &b->outs[req->i]);
    pthread_mutex_lock(&b->mu);
    b->rcs[req->i] = rc;
    if (--b->pending == 0)
        pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->mu);
}

int zk_children_many(struct zk *zk, const char *const *paths, size_t n, struct corral_strlist *outs,
                     struct corral_error *err)
{
    if (n == 0)
        return CORRAL_OK;
    struct children_batch b = {.outs = outs};
    struct children_req *reqs = calloc(n, sizeof *reqs);
    b.rcs = calloc(n, sizeof *b.rcs);
    if (!reqs || !b.rcs)
        abort();
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cond, NULL);
    zhandle_t *zh = acquire(zk);
    for (size_t i = 0; i < n; i++) {
        reqs[i] = (struct children_req){.b = &b, .i = i};
        int rc = zh ? zoo_aget_children(zh, paths[i], 0, children_done, &reqs[i]) : ZCLOSING;
        pthread_mutex_lock(&b.mu);
        if (rc == ZOK)
            b.pending++;
        else
            b.rcs[i] = rc;
        pthread_mutex_unlock(&b.mu);
    }
    release(zk);
    /* Every accepted request completes, at the latest with ZCLOSING/ZCONNECTIONLOSS. */
    pthread_mutex_lock(&b.mu);
    while (b.pending > 0)
        pthread_cond_wait(&b.cond, &b.mu);
    pthread_mutex_unlock(&b.mu);
    int out = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        touch_rx(zk, b.rcs[i]);
        if (b.rcs[i] != ZOK && b.rcs[i] != ZNONODE && out == CORRAL_OK)
            out = translate(b.rcs[i], true, "children", paths[i], err);
    }
    if (out != CORRAL_OK)
        for (size_t i = 0; i < n; i++)
            corral_strlist_cleanup(&outs[i]);
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.mu);
    free(reqs);
    free(b.rcs);
    return out;
}

int zk_set(struct zk *zk, const char *path, const void *data, size_t len, int32_t version,
           struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    int rc = zoo_set(zh, path, data, data ? (int)len : -1, version);
    touch_rx(zk, rc);
    release(zk);
    return translate(rc, false, "set", path, err);
}

int zk_delete(struct zk *zk, const char *path, int32_t version, struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    int rc = zoo_delete(zh, path, version);
    touch_rx(zk, rc);
    release(zk);
    return translate(rc, false, "delete", path, err);
}

struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool done;
    int rc;
};

static void sync_done(int rc, const char *value, const void *data)
{
    (void)value;
    struct sync_wait *w = (struct sync_wait *)(uintptr_t)data;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->rc = rc;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

int zk_sync(struct zk *zk, const char *path, struct corral_error *err)
{
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct sync_wait *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    int rc = zoo_async(zh, path, sync_done, w);
    /* Not held while waiting: a reopen closes the handle, which completes us with ZCLOSING. */
    release(zk);
    if (rc != ZOK) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return translate(rc, true, "sync", path, err);
    }
    /* The completion always runs (with ZCLOSING at the latest when the handle closes), so
     * waiting without a deadline cannot hang past the session's own timeout handling. */
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->mu);
    rc = w->rc;
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
    touch_rx(zk, rc);
    return translate(rc, true, "sync", path, err);
}

/* ------------------------------------------------------------------ multi */

enum op_kind { OP_CREATE, OP_DELETE, OP_SET, OP_CHECK };

struct multi_op {
    enum op_kind kind;
    char *path;
    char *data; /* NULL = no data */
    size_t len;
    int32_t version;
    int flags;
    bool fence;
};

struct zk_multi {
    struct multi_op *ops; /* n used of cap */
    size_t n, cap;
    bool overflow;
    char label[32];
};

void zk_multi_label(struct zk_multi *m, const char *label)
{
    snprintf(m->label, sizeof m->label, "%s", label);
}

/* ------------------------------------------------------------------ test hooks */

#ifdef CORRAL_TEST_HOOKS
enum fp_action { FP_NONE, FP_CRASH_BEFORE, FP_CRASH_AFTER, FP_LOSE_REPLY };

struct failpoint {
    char label[32];
    enum fp_action action;
    long nth;
    atomic_long seen;
};

static struct failpoint fps[16];
static size_t n_fps;
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static void fp_load(void)
{
    const char *env = getenv("CORRAL_FAILPOINTS");
    if (!env)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", env);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n_fps < 16;
         tok = strtok_r(NULL, ",", &save)) {
        char *a = strchr(tok, ':');
        if (!a)
            continue;
        *a++ = '\0';
        char *nth = strchr(a, ':');
        if (nth)
            *nth++ = '\0';
        struct failpoint *fp = &fps[n_fps];
        snprintf(fp->label, sizeof fp->label, "%s", tok);
        fp->action = strcmp(a, "crash-before") == 0  ? FP_CRASH_BEFORE
                     : strcmp(a, "crash-after") == 0 ? FP_CRASH_AFTER
                     : strcmp(a, "lose-reply") == 0  ? FP_LOSE_REPLY
                                                     : FP_NONE;
        fp->nth = nth ? strtol(nth, NULL, 10) : 1;
        if (fp->action != FP_NONE)
            n_fps++;
    }
}

/* The action due for this commit of label (counted per label). */
static enum fp_action fp_check(const char *label)
{
    pthread_once(&fp_once, fp_load);
    for (size_t i = 0; i < n_fps; i++)
        if (strcmp(fps[i].label, label) == 0 && atomic_fetch_add(&fps[i].seen, 1) + 1 == fps[i].nth)
            return fps[i].action;
    return FP_NONE;
}

static void fp_fire(const char *label, const char *what)
{
    CORRAL_LOG(CORRAL_LOG_WARN, "failpoint %s: %s", label, what);
    raise(SIGKILL);
}

static void dump_session(zhandle_t *zh)
{
    const char *file = getenv("CORRAL_TEST_SESSION_FILE");
    const clientid_t *id = zoo_client_id(zh);
    if (!file || !id)
        return;
    char tmp[600], line[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    int n = snprintf(line, sizeof line, "%llx ", (unsigned long long)id->client_id);
    for (size_t i = 0; i < sizeof id->passwd && n < (int)sizeof line - 3; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%02x", (unsigned char)id->passwd[i]);
    line[n++] = '\n';
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fwrite(line, 1, (size_t)n, f);
    fclose(f);
    rename(tmp, file);
}
#endif

struct zk_multi *zk_multi_new(void)
{
    struct zk_multi *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    return m;
}

void zk_multi_free(struct zk_multi *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->ops[i].path);
        free(m->ops[i].data);
    }
    free(m->ops);
    free(m);
}

static struct multi_op *add_op(struct zk_multi *m, enum op_kind kind, const char *path,
                               const void *data, size_t len, int32_t version)
{
    if (m->n >= ZK_MULTI_MAX_OPS) {
        m->overflow = true;
        return NULL;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct multi_op *ops = realloc(m->ops, cap * sizeof *ops);
        if (!ops)
            abort();
        m->ops = ops;
        m->cap = cap;
    }
    struct multi_op *op = &m->ops[m->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->path = strdup(path);
    if (!op->path)
        abort();
    if (data) {
        op->data = malloc(len ? len : 1);
        if (!op->data)
            abort();
        memcpy(op->data, data, len);
        op->len = len;
    }
    op->version = version;
    return op;
}

void zk_multi_create(struct zk_multi *m, const char *path, const void *data, size_t len, int flags)
{
    struct multi_op *op = add_op(m, OP_CREATE, path, data, len, -1);
    if (op)
        op->flags = flags;
}

void zk_multi_delete(struct zk_multi *m, const char *path, int32_t version)
{
    (void)add_op(m, OP_DELETE, path, NULL, 0, version);
}

void zk_multi_set(struct zk_multi *m, const char *path, const void *data, size_t len,
                  int32_t version)
{
    (void)add_op(m, OP_SET, path, data, len, version);
}

void zk_multi_check(struct zk_multi *m, const char *path, int32_t version)
{
    (void)add_op(m, OP_CHECK, path, NULL, 0, version);
}

void zk_multi_fence(struct zk_multi *m, const char *path, int32_t version)
{
    struct multi_op *op = add_op(m, OP_CHECK, path, NULL, 0, version);
    if (op)
        op->fence = true;
}

size_t zk_multi_count(const struct zk_multi *m)
{
    return m->n;
}

static const char *op_name(enum op_kind k)
{
    static const char *const names[] = {"create", "delete", "set", "check"};
    return names[k];
}

int zk_multi_commit(struct zk *zk, struct zk_multi *m, int *failed_op, struct corral_error *err)
{
    if (failed_op)
        *failed_op = -1;
    if (m->overflow)
        return corral_error_set(err, CORRAL_ETOOBIG, NULL, "multi over %d ops", ZK_MULTI_MAX_OPS);
    if (m->n == 0)
        return CORRAL_OK;
    zhandle_t *zh = acquire(zk);
    if (!zh) {
        release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    zoo_op_t *ops = calloc(m->n, sizeof *ops);
    zoo_op_result_t *res = calloc(m->n, sizeof *res);
    struct Stat *stats = calloc(m->n, sizeof *stats);
    if (!ops || !res || !stats)
        abort();
    for (size_t i = 0; i < m->n; i++) {
        struct multi_op *op = &m->ops[i];
        int dlen = op->data ? (int)op->len : -1;
        switch (op->kind) {
            case OP_CREATE:
                zoo_create_op_init(&ops[i], op->path, op->data, dlen, acl_of(zk), zmode(op->flags),
                                   NULL, 0);
                break;
            case OP_DELETE:
                zoo_delete_op_init(&ops[i], op->path, op->version);
                break;
            case OP_SET:
                zoo_set_op_init(&ops[i], op->path, op->data, dlen, op->version, &stats[i]);
                break;
            case OP_CHECK:
                zoo_check_op_init(&ops[i], op->path, op->version);
                break;
        }
    }
#ifdef CORRAL_TEST_HOOKS
    enum fp_action fp = m->label[0] ? fp_check(m->label) : FP_NONE;
    if (fp == FP_CRASH_BEFORE)
        fp_fire(m->label, "crash before commit");
#endif
    int rc = zoo_multi(zh, (int)m->n, ops, res);
    touch_rx(zk, rc);
    release(zk);
#ifdef CORRAL_TEST_HOOKS
    if (fp == FP_CRASH_AFTER)
        fp_fire(m->label, "crash after commit");
    if (fp == FP_LOSE_REPLY && rc == ZOK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "failpoint %s: reply lost", m->label);
        rc = ZCONNECTIONLOSS;
    }
#endif
    int out = rc == ZOK ? CORRAL_OK : -1;
    /* Find the op that failed: the others report ZOK or ZRUNTIMEINCONSISTENCY. */
    for (size_t i = 0; out < 0 && i < m->n; i++) {
        int orc = res[i].err;
        if (orc == ZOK || orc == ZRUNTIMEINCONSISTENCY || orc != rc)
            continue;
        if (failed_op)
            *failed_op = (int)i;
        if (m->ops[i].fence && (orc == ZNONODE || orc == ZBADVERSION))
            out = corral_error_set(err, CORRAL_EFENCED, NULL, "fence %s no longer holds",
                                   m->ops[i].path);
        else
            out = translate(orc, false, op_name(m->ops[i].kind), m->ops[i].path, err);
    }
    if (out < 0)
        out = translate(rc, false, "multi", m->ops[0].path, err);
    free(ops);
    free(res);
    free(stats);
    return out;
}
