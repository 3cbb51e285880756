/* SPDX-License-Identifier: MIT */
/*
 * Group commit (zk_txn.h "zk_group"). No thread of its own: a caller queues its transaction;
 * while fewer than GROUP_INFLIGHT groups are in flight it becomes a committer, takes every
 * transaction queued so far (its own among them), commits them as members of shared multis
 * (zk_txn_commit_members) and hands each caller its own result. Callers that arrive meanwhile
 * queue up and form the next group, so the group grows with the load by itself and a lone
 * caller pays nothing but a lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corral/batch.h"
#include "corral/xalloc.h"
#include "io/zk_internal.h"
#include "io/zk_txn.h"

/* Transactions one committer takes at most (the rest go with the next one). */
#define GROUP_MAX 1024u
/* Groups in flight at once: while one waits for its fsync the next one forms and is sent, so
 * ZooKeeper's own pipeline stays full. */
#ifndef GROUP_INFLIGHT
#define GROUP_INFLIGHT 4u
#endif

struct group_waiter {
    const struct corral_txn *txn;
    int rc;
    int failed_op;
    struct corral_error err;
    bool done;
    struct group_waiter *next;
};

struct zk_group {
    struct zk *zk;
    char label[48];
    pthread_mutex_t mu;
    pthread_cond_t done; /* a group was committed */
    struct group_waiter *head, *tail;
    unsigned committing; /* groups in flight */
    /* counters (under mu): groups committed, transactions in them, the largest group */
    uint64_t groups, members, largest;
};

struct zk_group *zk_group_new(struct zk *zk, const char *label)
{
    struct zk_group *g = corral_xcalloc(1, sizeof *g);
    g->zk = zk;
    snprintf(g->label, sizeof g->label, "%s", label);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->done, NULL);
    return g;
}

void zk_group_free(struct zk_group *g)
{
    if (!g)
        return;
    pthread_cond_destroy(&g->done);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* Under g->mu: unlink up to GROUP_MAX queued waiters into out[], oldest first. */
static size_t take(struct zk_group *g, struct group_waiter **out)
{
    size_t n = 0;
    while (g->head && n < GROUP_MAX) {
        out[n++] = g->head;
        g->head = g->head->next;
    }
    if (!g->head)
        g->tail = NULL;
    return n;
}

/* Commit the members of one group (no lock held) and store each one's result. */
static void commit_group(struct zk_group *g, struct group_waiter **ws, size_t n)
{
    struct corral_txn *ms = corral_xcalloc(n, sizeof *ms);
    int *rcs = corral_xcalloc(n, sizeof *rcs);
    int *failed = corral_xcalloc(n, sizeof *failed);
    struct corral_error *errs = corral_xcalloc(n, sizeof *errs);
    /* Shallow copies: read only, owned by their callers, who wait until we are done. */
    for (size_t i = 0; i < n; i++)
        ms[i] = *ws[i]->txn;
    zk_txn_commit_members(g->zk, g->label, ms, n, rcs, failed, errs);
    for (size_t i = 0; i < n; i++) {
        ws[i]->rc = rcs[i];
        ws[i]->failed_op = failed[i];
        ws[i]->err = errs[i];
    }
    free(errs);
    free(failed);
    free(rcs);
    free(ms);
}

int zk_group_commit(struct zk_group *g, const struct corral_txn *txn, int *failed_op,
                    struct corral_error *err)
{
    struct group_waiter me = {.txn = txn, .failed_op = -1};
    struct group_waiter **batch = NULL;
    pthread_mutex_lock(&g->mu);
    if (g->tail)
        g->tail->next = &me;
    else
        g->head = &me;
    g->tail = &me;
    while (!me.done) {
        if (g->committing >= GROUP_INFLIGHT || !g->head) {
            /* Full pipeline, or our transaction is in a group in flight already. */
            pthread_cond_wait(&g->done, &g->mu);
            continue;
        }
        /* Our turn to commit: everything queued so far, us included (unless over
         * GROUP_MAX ahead of us: then we commit theirs and go round again). */
        g->committing++;
        if (!batch)
            batch = corral_xcalloc(GROUP_MAX, sizeof *batch);
        int hold = zk_fp_group_hold_ms(); /* test builds only: gather a group */
        if (hold > 0) {
            pthread_mutex_unlock(&g->mu);
            struct timespec ts = {.tv_sec = hold / 1000, .tv_nsec = (long)(hold % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) != 0) {
            }
            pthread_mutex_lock(&g->mu);
        }
        size_t n = take(g, batch);
        pthread_mutex_unlock(&g->mu);
        commit_group(g, batch, n);
        pthread_mutex_lock(&g->mu);
        for (size_t i = 0; i < n; i++)
            batch[i]->done = true;
        g->groups++;
        g->members += n;
        if (n > g->largest)
            g->largest = n;
        g->committing--;
        pthread_cond_broadcast(&g->done);
    }
    pthread_mutex_unlock(&g->mu);
    free(batch);
    if (failed_op)
        *failed_op = me.failed_op;
    if (me.rc != CORRAL_OK)
        *err = me.err;
    return me.rc;
}

void zk_group_stats(struct zk_group *g, uint64_t *groups, uint64_t *members, uint64_t *largest)
{
    pthread_mutex_lock(&g->mu);
    *groups = g->groups;
    *members = g->members;
    *largest = g->largest;
    pthread_mutex_unlock(&g->mu);
}
