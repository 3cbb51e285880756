/* SPDX-License-Identifier: MIT */
/* Metrics from the events feed (feedstat.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corral/event.h"
#include "corral/id.h"
#include "corral/metrics.h"
#include "corral/xalloc.h"
#include "corrald/events.h"
#include "corrald/feedstat.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "feedstat"

struct feedstat {
    struct replica *r;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    /* only the thread touches these */
    bool started;
    uint64_t epoch; /* the term the cursor belongs to */
    struct corral_event_cursor cur;
};

static void count_event(void *ctx, const struct corral_event_rec *e,
                        const struct corral_event_cursor *after, int64_t at_ms)
{
    (void)after;
    struct replica *r = ctx;
    if (e->kind != CORRAL_EVENT_TASK)
        return;
    if (strcmp(e->state, "running") == 0) {
        int64_t submitted = corral_id_time_ms(e->id);
        if (submitted < 0)
            return;
        int64_t ms = at_ms - submitted;
        if (ms < 0)
            ms = 0;
        size_t b = corral_histo_index(corral_wait_le_s, CORRAL_WAIT_BUCKETS, (double)ms / 1e3);
        atomic_fetch_add(&r->submit_to_start[b], 1);
        atomic_fetch_add(&r->submit_to_start_sum_ms, (uint_fast64_t)ms);
    } else if (e->outcome[0]) {
        static const char *const by[4] = {"failed", "timed_out", "worker_lost", "returned"};
        for (size_t i = 0; i < 4; i++)
            if (strcmp(e->outcome, by[i]) == 0)
                atomic_fetch_add(&r->n_requeued_by[i], 1);
    }
}

/* One pass: follow the feed as far as FEEDSTAT_READS reads go. */
static void pass(struct feedstat *f)
{
    struct replica *r = f->r;
    uint64_t epoch = atomic_load(&r->epoch);
    if (!atomic_load(&r->leading) || epoch == 0) {
        f->started = false;
        return;
    }
    struct corral_error err = {0};
    if (!f->started || f->epoch != epoch) { /* a new term counts from now on */
        if (events_head(r, &f->cur, &err) == CORRAL_OK) {
            f->started = true;
            f->epoch = epoch;
        }
        return;
    }
    for (int i = 0; i < FEEDSTAT_READS; i++) {
        struct corral_event_cursor next;
        int rc = events_scan(r, &f->cur, 4096, count_event, r, &next, &err);
        if (rc == CORRAL_EGONE) { /* fell behind the trim: skip to the head */
            atomic_fetch_add(&r->n_feed_skipped, 1);
            f->started = false;
            return;
        }
        if (rc != CORRAL_OK) {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "reading the events feed: %s", err.msg);
            return;
        }
        bool moved = memcmp(&next, &f->cur, sizeof next) != 0;
        f->cur = next;
        if (!moved)
            return;
    }
}

static void *feedstat_main(void *arg)
{
    struct feedstat *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->stopping) {
        pthread_mutex_unlock(&f->mu);
        pass(f);
        pthread_mutex_lock(&f->mu);
        if (f->stopping)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)FEEDSTAT_PERIOD_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        (void)pthread_cond_timedwait(&f->cond, &f->mu, &ts);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

struct feedstat *feedstat_start(struct replica *r)
{
    struct feedstat *f = corral_xcalloc(1, sizeof *f);
    f->r = r;
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&f->thread, NULL, feedstat_main, f) != 0)
        abort(); /* out of threads at startup */
    return f;
}

void feedstat_stop(struct feedstat *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mu);
    free(f);
}
