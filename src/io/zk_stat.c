/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, counting without reading: the number of children of many znodes from their
 * stat (numChildren), pipelined like zk_children_many, and their cversion (has any child come or
 * gone since a listing?). Nothing is listed and no watch is left, so the cost does not grow with
 * the number of children (the backlog count of corrald, the leader's queue buckets).
 */
#include <pthread.h>
#include <stdlib.h>

#include "corral/xalloc.h"
#include "io/zk_internal.h"

/* Which stat field a request copies out. */
enum stat_field { STAT_NUM_CHILDREN, STAT_CVERSION };

struct stat_out {
    enum stat_field field;
    int64_t value;   /* -1 until answered (a missing path stays -1) */
    int32_t version; /* the data version, with any field */
};

/* Completion thread: copy the field, count down. */
static void stat_done(int rc, const struct Stat *st, const void *data)
{
    const struct zk_pipe_req *req = data;
    struct stat_out *o = req->out;
    if (rc == ZOK && st)
        o->value = o->field == STAT_NUM_CHILDREN ? st->numChildren : st->cversion;
    if (rc == ZOK && st)
        o->version = st->version;
    zk_pipe_answered(req->pipe, req->i, rc);
}

/* One field of the stat of n paths, pipelined: every request in flight, then one wait. */
static int stat_many(struct zk *zk, const char *const *paths, size_t n, enum stat_field field,
                     struct stat_out *outs, struct corral_error *err)
{
    struct zk_pipe pipe;
    zk_pipe_init(&pipe, n);
    struct zk_pipe_req *reqs = corral_xcalloc(n, sizeof *reqs);
    zhandle_t *zh = zk_acquire(zk);
    for (size_t i = 0; i < n; i++) {
        outs[i] = (struct stat_out){.field = field, .value = -1, .version = -1};
        reqs[i] = (struct zk_pipe_req){.pipe = &pipe, .i = i, .out = &outs[i]};
        zk_pipe_sent(&pipe, i, zh ? zoo_aexists(zh, paths[i], 0, stat_done, &reqs[i]) : ZCLOSING);
    }
    zk_pipe_wait(zk, &pipe, n); /* under the handle, like every answer (zk_touch_rx) */
    zk_release(zk);
    int out = CORRAL_OK;
    for (size_t i = 0; i < n; i++)
        if (pipe.rcs[i] != ZOK && pipe.rcs[i] != ZNONODE && out == CORRAL_OK)
            out = zk_translate(pipe.rcs[i], true, "exists", paths[i], err);
    zk_pipe_cleanup(&pipe);
    free(reqs);
    return out;
}

int zk_num_children_many(struct zk *zk, const char *const *paths, size_t n, int64_t *counts,
                         struct corral_error *err)
{
    if (n == 0)
        return CORRAL_OK;
    struct stat_out *outs = corral_xcalloc(n, sizeof *outs);
    int rc = stat_many(zk, paths, n, STAT_NUM_CHILDREN, outs, err);
    for (size_t i = 0; i < n; i++)
        counts[i] = rc == CORRAL_OK && outs[i].value > 0 ? outs[i].value : 0;
    free(outs);
    return rc;
}

int zk_cversion_many(struct zk *zk, const char *const *paths, size_t n, int32_t *cversions,
                     struct corral_error *err)
{
    if (n == 0)
        return CORRAL_OK;
    struct stat_out *outs = corral_xcalloc(n, sizeof *outs);
    int rc = stat_many(zk, paths, n, STAT_CVERSION, outs, err);
    for (size_t i = 0; i < n; i++)
        cversions[i] = rc == CORRAL_OK ? (int32_t)outs[i].value : -1;
    free(outs);
    return rc;
}

int zk_stat_node(struct zk *zk, const char *path, int32_t *version, int32_t *cversion,
                 struct corral_error *err)
{
    struct stat_out out;
    const char *paths[1] = {path};
    int rc = stat_many(zk, paths, 1, STAT_CVERSION, &out, err);
    if (rc == CORRAL_OK && out.value < 0)
        rc = corral_error_set(err, CORRAL_ENOTFOUND, NULL, "no node %s", path);
    if (version)
        *version = rc == CORRAL_OK ? out.version : -1;
    if (cversion)
        *cversion = rc == CORRAL_OK ? (int32_t)out.value : -1;
    return rc;
}
