/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, counting without reading: the number of children of many znodes from their
 * stat (numChildren), pipelined like zk_children_many. Nothing is listed and no watch is left,
 * so the cost does not grow with the number of children (the backlog count of corrald).
 */
#include <pthread.h>
#include <stdlib.h>

#include "corral/xalloc.h"
#include "io/zk_internal.h"

/* Completion thread: copy the count, count down. */
static void stat_done(int rc, const struct Stat *st, const void *data)
{
    const struct zk_pipe_req *req = data;
    *(int64_t *)req->out = rc == ZOK && st ? st->numChildren : 0;
    zk_pipe_answered(req->pipe, req->i, rc);
}

int zk_num_children_many(struct zk *zk, const char *const *paths, size_t n, int64_t *counts,
                         struct corral_error *err)
{
    for (size_t i = 0; i < n; i++)
        counts[i] = 0;
    if (n == 0)
        return CORRAL_OK;
    struct zk_pipe pipe;
    zk_pipe_init(&pipe, n);
    struct zk_pipe_req *reqs = corral_xcalloc(n, sizeof *reqs);
    /* All requests in flight first, then one wait: n answers in about one round trip. */
    zhandle_t *zh = zk_acquire(zk);
    for (size_t i = 0; i < n; i++) {
        reqs[i] = (struct zk_pipe_req){.pipe = &pipe, .i = i, .out = &counts[i]};
        zk_pipe_sent(&pipe, i, zh ? zoo_aexists(zh, paths[i], 0, stat_done, &reqs[i]) : ZCLOSING);
    }
    zk_release(zk);
    zk_pipe_wait(zk, &pipe, n);
    int out = CORRAL_OK;
    for (size_t i = 0; i < n; i++)
        if (pipe.rcs[i] != ZOK && pipe.rcs[i] != ZNONODE && out == CORRAL_OK)
            out = zk_translate(pipe.rcs[i], true, "exists", paths[i], err);
    if (out != CORRAL_OK)
        for (size_t i = 0; i < n; i++)
            counts[i] = 0;
    zk_pipe_cleanup(&pipe);
    free(reqs);
    return out;
}
