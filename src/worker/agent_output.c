/* SPDX-License-Identifier: MIT */
/*
 * Live output (corral/output.h): while the assignment of a running task says that someone
 * follows it (follow_until_ms ahead), the newest CORRAL_OUTPUT_WINDOW bytes of its output go to
 * output/<id>, at most every CORRAL_OUTPUT_PUBLISH_MS and only when the output grew, each write
 * fenced by the assignment. When a published attempt ends, its final bytes are published
 * before its finish is written, so that a follower that sees the task final has seen all of it.
 * A task nobody follows costs nothing here: no read, no write.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "corral/ops.h"
#include "corral/output.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_txn.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

/* A final publish that keeps failing is given up after this many tries (the finish must not
 * wait for ever; the follower then reads the task's stored output tail). */
#define PUBLISH_TRIES 5

static bool wants_final(const struct local *l)
{
    return l->published && !l->published_final && l->run.done;
}

bool agent_output_settled(const struct local *l)
{
    return !wants_final(l);
}

static void publish(struct agent *a, struct local *l, int64_t now, bool final)
{
    char *data = NULL;
    size_t len = 0;
    uint64_t size = 0;
    if (!l->run.output_path[0] ||
        !runner_output_window(l->run.output_path, CORRAL_OUTPUT_WINDOW, &data, &len, &size)) {
        if (final)
            l->published_final = true; /* nothing more to say */
        return;
    }
    if (!final && size == l->published_size) {
        free(data);
        return;
    }
    struct corral_output o = {.attempt = l->attempt,
                              .size = size,
                              .from = size - len,
                              .final = final,
                              .data = data,
                              .len = len};
    size_t rec_len = 0;
    char *rec = corral_output_encode(&o, &rec_len);
    free(data);
    struct corral_txn txn;
    corral_txn_init(&txn, "worker.output");
    struct corral_error err = {0};
    int failed = -1;
    int rc =
        corral_ops_output_publish(&txn, a->cfg->ns, a->cfg->id, l->id, rec, rec_len, l->published);
    if (rc == CORRAL_OK)
        rc = zk_txn_commit(a->zk, &txn, &failed, &err);
    if (rc == CORRAL_EEXIST || (rc == CORRAL_ENOTFOUND && l->published)) {
        /* An earlier attempt's record (create), or it was removed (set): write the other way. */
        corral_txn_cleanup(&txn);
        corral_txn_init(&txn, "worker.output");
        corral_error_clear(&err);
        rc = corral_ops_output_publish(&txn, a->cfg->ns, a->cfg->id, l->id, rec, rec_len,
                                       !l->published);
        if (rc == CORRAL_OK)
            rc = zk_txn_commit(a->zk, &txn, &failed, &err);
    }
    corral_txn_cleanup(&txn);
    free(rec);
    if (rc == CORRAL_OK) {
        l->published = true;
        l->published_size = size;
        l->published_final = final;
        l->publish_failures = 0;
    } else if (rc == CORRAL_EFENCED) {
        l->published_final = true; /* the attempt is no longer ours: nothing to add */
    } else if (++l->publish_failures >= PUBLISH_TRIES && final) {
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s final output not published: %s", l->id, err.msg);
        l->published_final = true;
    }
    l->next_publish_ms = now + CORRAL_OUTPUT_PUBLISH_MS;
}

void agent_publish_outputs(struct agent *a, int64_t now)
{
    int64_t wall = clock_wall_ms();
    for (size_t i = 0; i < a->n_locals; i++) {
        struct local *l = a->locals[i];
        if (l->dropped)
            continue;
        if (wants_final(l))
            publish(a, l, now, true);
        else if (!l->run.done && l->follow_until_ms > wall && now >= l->next_publish_ms)
            publish(a, l, now, false);
    }
}
