/* SPDX-License-Identifier: MIT */
/*
 * Pipelined ZooKeeper reads on a session of the C client's async API (io/zk.h reads one round
 * trip at a time), for the simulated workers and the completion probe; ceil.c issues its own
 * async calls on the handle. Every wait has a deadline; a batch given up on is freed by its last
 * completion (zookeeper_close completes every request, with ZCLOSING).
 */
#ifndef CORRAL_BENCH_ZKRAW_H
#define CORRAL_BENCH_ZKRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zookeeper/zookeeper.h>

#include "corral/error.h"
#include "corral/limits.h"

struct zkraw;

/* Connect (waits up to 15 s). NULL with err when the session cannot be established. */
struct zkraw *zkraw_open(const char *hosts, int session_ms, struct corral_error *err);
void zkraw_close(struct zkraw *z);
zhandle_t *zkraw_handle(struct zkraw *z);

struct zkraw_get {
    char path[CORRAL_PATH_MAX]; /* in */
    int rc;                     /* out: ZOK, ZNONODE, ... */
    char *data;                 /* out: malloc'd, NUL-terminated; NULL unless ZOK */
    size_t len;
    int32_t version;
};

/*
 * Read every g[i].path, at most max_inflight at a time (pipelined). With sync_first, a sync of
 * sync_path goes first, so the reads see every write acknowledged to any client before it (a
 * write made through another session, e.g. by the leader). 0 when every read was answered (each
 * has its own rc), CORRAL_EUNAVAIL when the session is not usable or deadline_ms (monotonic)
 * passed. Frees earlier data of g first.
 */
CORRAL_NODISCARD int zkraw_get_many(struct zkraw *z, struct zkraw_get *g, size_t n,
                                    const char *sync_path, size_t max_inflight, int64_t deadline_ms,
                                    struct corral_error *err);
void zkraw_gets_free(struct zkraw_get *g, size_t n);

#endif
