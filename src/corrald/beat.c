/* SPDX-License-Identifier: MIT */
/* The leader's heartbeat thread (beat.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corral/election.h"
#include "corral/ops.h"
#include "corral/xalloc.h"
#include "corrald/beat.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "beat"

struct beat {
    struct replica *r;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    bool changed;               /* beat at once: leadership was just taken */
    char node[CORRAL_PATH_MAX]; /* our election node; "" while not leading */
    uint64_t epoch;
};

/* One fenced write of the record. */
static void write_record(struct beat *b, const char *node, uint64_t epoch)
{
    struct replica *r = b->r;
    struct corral_replica_info info = {.epoch = epoch, .at_ms = clock_wall_ms()};
    snprintf(info.id, sizeof info.id, "%s", r->opts.id);
    snprintf(info.url, sizeof info.url, "%s", r->advertise);
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.beat");
    struct corral_error err = {0};
    int rc = corral_ops_leader_record(&txn, r->opts.ns, node, &info) == CORRAL_OK
                 ? zk_txn_commit(r->zk, &txn, NULL, &err)
                 : CORRAL_EINTERNAL;
    corral_txn_cleanup(&txn);
    /* Fenced: we no longer lead and the main loop finds out on its own; anything else is
     * retried at the next beat. */
    if (rc != CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_DEBUG, "leader record not written: %s", err.msg);
}

static void *beat_main(void *arg)
{
    struct beat *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stopping) {
        if (b->node[0] && b->epoch) {
            char node[CORRAL_PATH_MAX];
            uint64_t epoch = b->epoch;
            memcpy(node, b->node, sizeof node);
            b->changed = false;
            pthread_mutex_unlock(&b->mu);
            write_record(b, node, epoch);
            pthread_mutex_lock(&b->mu);
        }
        if (b->stopping || b->changed)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)CORRAL_LEADER_BEAT_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        (void)pthread_cond_timedwait(&b->cond, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

struct beat *beat_start(struct replica *r)
{
    struct beat *b = corral_xcalloc(1, sizeof *b);
    b->r = r;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&b->thread, NULL, beat_main, b) != 0)
        abort();
    return b;
}

void beat_stop(struct beat *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

void beat_set(struct beat *b, const char *node, uint64_t epoch)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    bool leading = node && *node && epoch;
    bool changed = leading && (b->epoch != epoch || strcmp(b->node, node) != 0);
    snprintf(b->node, sizeof b->node, "%s", leading ? node : "");
    b->epoch = leading ? epoch : 0;
    if (changed) {
        b->changed = true;
        pthread_cond_signal(&b->cond);
    }
    pthread_mutex_unlock(&b->mu);
}
