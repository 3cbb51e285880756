/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, single operations: create, get, exists, children (one path, or many
 * pipelined in one round trip), set, delete and sync, all synchronous. ZooKeeper error codes
 * are translated into corral codes here (zk_translate) and nowhere else (see zk.h).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corral/limits.h"
#include "corral/strlist.h"
#include "corral/xalloc.h"
#include "io/zk_internal.h"

/* ------------------------------------------------------------------ error translation */

int zk_translate(int rc, bool is_read, const char *what, const char *path, struct corral_error *err)
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

int zk_create_mode(int flags)
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
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct zk_acl_buf acl;
    int rc = zoo_create(zh, path, data, data ? (int)len : -1, zk_acl_for(zk, path, &acl),
                        zk_create_mode(flags), out, (int)out_n);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    return zk_translate(rc, false, "create", path, err);
}

int zk_world_perms(struct zk *zk, const char *path, int *perms, struct corral_error *err)
{
    *perms = 0;
    struct zk_acl_entry e[16];
    size_t n = 0;
    int rc = zk_get_acl(zk, path, e, sizeof e / sizeof e[0], &n, err);
    if (rc == CORRAL_EFORBIDDEN) { /* credentials the namespace does not name: retried */
        rc = CORRAL_EUNAVAIL;
        if (err)
            err->code = rc;
    }
    for (size_t i = 0; rc == CORRAL_OK && i < n; i++)
        if (strcmp(e[i].scheme, "world") == 0 && strcmp(e[i].id, "anyone") == 0)
            *perms |= e[i].perms;
    return rc;
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
        char *buf = corral_xmalloc((size_t)cap + 1);
        int blen = cap;
        int rc = watch ? zoo_wget(zh, path, zk_watcher, zk, buf, &blen, st)
                       : zoo_get(zh, path, 0, buf, &blen, st);
        zk_touch_rx(zk, rc);
        if (rc != ZOK) {
            free(buf);
            return zk_translate(rc, true, "get", path, err);
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
    zhandle_t *zh = zk_acquire(zk);
    int rc = zh ? get_locked(zk, zh, path, watch, data, len, st, err)
                : corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    zk_release(zk);
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
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct Stat st;
    int rc = watch ? zoo_wexists(zh, path, zk_watcher, zk, &st) : zoo_exists(zh, path, 0, &st);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    if (rc == ZOK && version)
        *version = st.version;
    return zk_translate(rc, true, "exists", path, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void copy_names(const struct String_vector *sv, struct corral_strlist *out);

int zk_children(struct zk *zk, const char *path, bool watch, struct corral_strlist *out,
                struct corral_error *err)
{
    zhandle_t *zh = zk_acquire(zk);
    out->items = NULL;
    out->n = 0;
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct String_vector sv = {0};
    int rc = watch ? zoo_wget_children(zh, path, zk_watcher, zk, &sv)
                   : zoo_get_children(zh, path, 0, &sv);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    if (rc != ZOK)
        return zk_translate(rc, true, "children", path, err);
    copy_names(&sv, out);
    deallocate_String_vector(&sv);
    return CORRAL_OK;
}

static void copy_names(const struct String_vector *sv, struct corral_strlist *out)
{
    out->items = NULL;
    out->n = 0;
    if (!sv || sv->count <= 0)
        return;
    out->items = corral_xcalloc((size_t)sv->count, sizeof *out->items);
    for (int i = 0; i < sv->count; i++)
        out->items[i] = corral_xstrdup(sv->data[i]);
    out->n = (size_t)sv->count;
    qsort(out->items, out->n, sizeof *out->items, cmp_str);
}

/* Completion thread: copy the answer (and the parent's cversion when asked), count down. */
static void children_done(int rc, const struct String_vector *sv, const struct Stat *st,
                          const void *data)
{
    const struct zk_pipe_req *req = data;
    if (rc == ZOK)
        copy_names(sv, req->out);
    if (req->out2)
        *(int32_t *)req->out2 = rc == ZOK && st ? st->cversion : -1;
    zk_pipe_answered(req->pipe, req->i, rc);
}

static int children_many(struct zk *zk, const char *const *paths, size_t n, bool watch,
                         struct corral_strlist *outs, int32_t *cversions, struct corral_error *err)
{
    if (n == 0)
        return CORRAL_OK;
    struct zk_pipe pipe;
    zk_pipe_init(&pipe, n);
    struct zk_pipe_req *reqs = corral_xcalloc(n, sizeof *reqs);
    zhandle_t *zh = zk_acquire(zk);
    for (size_t i = 0; i < n; i++) {
        reqs[i] = (struct zk_pipe_req){
            .pipe = &pipe, .i = i, .out = &outs[i], .out2 = cversions ? &cversions[i] : NULL};
        if (cversions)
            cversions[i] = -1;
        zk_pipe_sent(&pipe, i,
                     zh ? zoo_aget_children2(zh, paths[i], watch, children_done, &reqs[i])
                        : ZCLOSING);
    }
    zk_pipe_wait(zk, &pipe, n); /* under the handle, like every answer (zk_touch_rx) */
    zk_release(zk);
    int out = CORRAL_OK;
    for (size_t i = 0; i < n; i++)
        if (pipe.rcs[i] != ZOK && pipe.rcs[i] != ZNONODE && out == CORRAL_OK)
            out = zk_translate(pipe.rcs[i], true, "children", paths[i], err);
    if (out != CORRAL_OK)
        for (size_t i = 0; i < n; i++)
            corral_strlist_cleanup(&outs[i]);
    zk_pipe_cleanup(&pipe);
    free(reqs);
    return out;
}

int zk_children_many(struct zk *zk, const char *const *paths, size_t n, struct corral_strlist *outs,
                     struct corral_error *err)
{
    return children_many(zk, paths, n, false, outs, NULL, err);
}

int zk_children_watch_many(struct zk *zk, const char *const *paths, size_t n,
                           struct corral_strlist *outs, int32_t *cversions,
                           struct corral_error *err)
{
    return children_many(zk, paths, n, true, outs, cversions, err);
}

/* Completion thread of zk_get_many: copy the answer, count down. */
static void get_done(int rc, const char *value, int value_len, const struct Stat *st,
                     const void *data)
{
    const struct zk_pipe_req *req = data;
    struct zk_got *g = req->out;
    if (rc == ZOK) {
        size_t n = value && value_len > 0 ? (size_t)value_len : 0;
        g->data = corral_xmalloc(n + 1);
        if (n)
            memcpy(g->data, value, n);
        g->data[n] = '\0';
        g->len = n;
        g->version = st ? st->version : -1;
        g->ephemeral_owner = st ? st->ephemeralOwner : 0;
        g->ctime_ms = st ? st->ctime : 0;
        g->mtime_ms = st ? st->mtime : 0;
    }
    zk_pipe_answered(req->pipe, req->i, rc);
}

void zk_get_many(struct zk *zk, const char *const *paths, size_t n, bool watch, struct zk_got *outs)
{
    zk_get_many_watch_first(zk, paths, n, watch ? n : 0, outs);
}

void zk_get_many_watch_first(struct zk *zk, const char *const *paths, size_t n, size_t n_watch,
                             struct zk_got *outs)
{
    if (n == 0)
        return;
    struct zk_pipe pipe;
    zk_pipe_init(&pipe, n);
    struct zk_pipe_req *reqs = corral_xcalloc(n, sizeof *reqs);
    zhandle_t *zh = zk_acquire(zk);
    for (size_t i = 0; i < n; i++) {
        outs[i] = (struct zk_got){.version = -1};
        reqs[i] = (struct zk_pipe_req){.pipe = &pipe, .i = i, .out = &outs[i]};
        zk_pipe_sent(&pipe, i,
                     zh ? zoo_aget(zh, paths[i], i < n_watch, get_done, &reqs[i]) : ZCLOSING);
    }
    zk_pipe_wait(zk, &pipe, n); /* under the handle, like every answer (zk_touch_rx) */
    zk_release(zk);
    for (size_t i = 0; i < n; i++) {
        outs[i].rc = zk_translate(pipe.rcs[i], true, "get", paths[i], &outs[i].err);
        if (pipe.rcs[i] == ZNOAUTH) /* a node its creator closed to us: the caller skips it */
            outs[i].rc = outs[i].err.code = CORRAL_EFORBIDDEN;
    }
    zk_pipe_cleanup(&pipe);
    free(reqs);
}

void zk_got_cleanup(struct zk_got *g)
{
    free(g->data);
    g->data = NULL;
    g->len = 0;
}

int zk_set(struct zk *zk, const char *path, const void *data, size_t len, int32_t version,
           struct corral_error *err)
{
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    int rc = zoo_set(zh, path, data, data ? (int)len : -1, version);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    return zk_translate(rc, false, "set", path, err);
}

int zk_delete(struct zk *zk, const char *path, int32_t version, struct corral_error *err)
{
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    int rc = zoo_delete(zh, path, version);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    return zk_translate(rc, false, "delete", path, err);
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
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct sync_wait *w = corral_xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    int rc = zoo_async(zh, path, sync_done, w);
    /* Not held while waiting: a reopen closes the handle, which completes us with ZCLOSING. */
    zk_release(zk);
    if (rc != ZOK) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return zk_translate(rc, true, "sync", path, err);
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
    zk_touch_rx(zk, rc);
    return zk_translate(rc, true, "sync", path, err);
}
