/* SPDX-License-Identifier: MIT */
/*
 * Backlog limit (--max-queued): counts the unfinished tasks from znode stats and admits or
 * refuses submissions. Unfinished = the queue entries (the children of every queue bucket)
 * plus the assignments (the children of every assign/<worker> folder); both come from
 * numChildren, read pipelined, so a refresh costs two round trips whatever the backlog.
 * This file is the only one that knows how the backlog is laid out in ZooKeeper.
 */
#include <pthread.h>
#include <stdlib.h>

#include "corral/limits.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/backlog.h"
#include "corrald/replica.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "backlog"

struct backlog {
    pthread_mutex_t mu;   /* guards t */
    pthread_cond_t ended; /* a refresh ended */
    struct backlog_tally t;
    int64_t max; /* --max-queued */
};

struct backlog *backlog_new(int64_t max_queued)
{
    struct backlog *b = corral_xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->ended, NULL);
    backlog_tally_init(&b->t);
    b->max = max_queued;
    return b;
}

void backlog_free(struct backlog *b)
{
    if (!b)
        return;
    pthread_cond_destroy(&b->ended);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* The unfinished tasks in ZooKeeper now: queue entries plus assignments. */
static int count_unfinished(struct replica *r, int64_t *out, struct corral_error *err)
{
    char assign[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ASSIGN, assign);
    struct corral_strlist workers = {0};
    int rc = zk_children(r->zk, assign, false, &workers, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t n = CORRAL_BUCKETS + workers.n;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    int64_t *counts = corral_xcalloc(n, sizeof *counts);
    size_t k = 0;
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        if (corral_path_queue_bucket(paths[k], CORRAL_PATH_MAX, r->opts.ns, b) != CORRAL_OK)
            abort(); /* a validated namespace: the path always fits */
        ptrs[k] = paths[k];
        k++;
    }
    /* A child name ZooKeeper gave us that does not make a path is skipped, not trusted. */
    for (size_t i = 0; i < workers.n; i++) {
        if (corral_path_child(paths[k], CORRAL_PATH_MAX, assign, workers.items[i]) != CORRAL_OK)
            continue;
        ptrs[k] = paths[k];
        k++;
    }
    corral_strlist_cleanup(&workers);
    rc = zk_num_children_many(r->zk, ptrs, k, counts, err);
    int64_t sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += counts[i];
    free(counts);
    free(ptrs);
    free(paths);
    if (rc == CORRAL_OK)
        *out = sum;
    return rc;
}

int backlog_check(struct replica *r, size_t adding, struct corral_error *err)
{
    struct backlog *b = r->backlog;
    if (!b)
        return CORRAL_OK;
    pthread_mutex_lock(&b->mu);
    if (backlog_tally_due(&b->t, clock_mono_ms(), b->max)) {
        /* This thread refreshes; the others go on with the cached count meanwhile (or wait,
         * when there is none yet). ZooKeeper is not called under the lock. */
        backlog_tally_begin(&b->t, clock_mono_ms());
        pthread_mutex_unlock(&b->mu);
        int64_t count = 0;
        struct corral_error cerr = {0};
        int rc = count_unfinished(r, &count, &cerr);
        pthread_mutex_lock(&b->mu);
        backlog_tally_end(&b->t, rc == CORRAL_OK, count);
        pthread_cond_broadcast(&b->ended);
        if (rc != CORRAL_OK) {
            pthread_mutex_unlock(&b->mu);
            CORRAL_LOG(CORRAL_LOG_WARN, "cannot count the backlog: %s", cerr.msg);
            return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                    "cannot count the backlog (%s); nothing was stored, retry",
                                    cerr.msg);
        }
    }
    while (b->t.stored < 0 && b->t.refreshing)
        pthread_cond_wait(&b->ended, &b->mu);
    if (b->t.stored < 0) { /* the first count failed in another thread */
        pthread_mutex_unlock(&b->mu);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                "cannot count the backlog yet; nothing was stored, retry");
    }
    bool ok = backlog_tally_admit(&b->t, b->max, adding);
    int64_t unfinished = b->t.stored + b->t.accepted;
    pthread_mutex_unlock(&b->mu);
    if (ok)
        return CORRAL_OK;
    CORRAL_LOG(CORRAL_LOG_DEBUG, "backlog full unfinished=%lld adding=%zu max=%lld",
               (long long)unfinished, adding, (long long)b->max);
    return corral_error_set(err, CORRAL_EFULL, NULL,
                            "backlog full: %lld unfinished tasks, %zu more would pass "
                            "--max-queued %lld; nothing was stored, retry later",
                            (long long)unfinished, adding, (long long)b->max);
}
