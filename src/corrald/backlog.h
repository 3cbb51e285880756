/* SPDX-License-Identifier: MIT */
/*
 * Admission control of submissions (CONTRACT corrald --max-queued): past max_queued unfinished
 * tasks (queued, assigned or running) POST /v1/tasks and /v1/tasks/batch get 429 backlog_full
 * and nothing is stored. The count comes from znode stats, never from reading tasks; how it is
 * counted (the queue layout) is known to backlog.c alone. Callable from any thread.
 */
#ifndef CORRALD_BACKLOG_H
#define CORRALD_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

struct replica;
struct backlog;

/* Refresh the count from ZooKeeper at most this often (one refresh at a time)... */
#define BACKLOG_REFRESH_MS 250
/* ...or this often while less than half of a limit of at least BACKLOG_FAR_MIN is used: a
 * refresh stats every queue bucket and assignment folder (~260 reads), 4 a second under a
 * steady stream of POSTs was ~1 read per task; the other half of the limit is the margin for
 * what the other replicas admit meanwhile (100,000 tasks: 50,000 a second for 2 s). */
#define BACKLOG_REFRESH_FAR_MS 2000
#define BACKLOG_FAR_MIN        200000

/* State for a limit of max_queued (>= 1) unfinished tasks. Never NULL. */
struct backlog *backlog_new(int64_t max_queued);
/* NULL is fine. */
void backlog_free(struct backlog *b);

/*
 * May adding more tasks be stored? 0 (they are then counted as this replica's own until the
 * next refresh has seen them), CORRAL_EFULL when the unfinished tasks plus adding would pass
 * the limit (a batch is refused whole), or CORRAL_EUNAVAIL when ZooKeeper cannot be counted.
 * The count is cached and refreshed at most every BACKLOG_REFRESH_MS (BACKLOG_REFRESH_FAR_MS
 * while a large limit is less than half used); between refreshes the
 * tasks admitted here are added to it. Other replicas' submissions are seen at the next
 * refresh, so the limit is approximate by what all replicas admit within one refresh. A
 * replica without a backlog (r->backlog NULL) admits everything.
 */
CORRAL_NODISCARD int backlog_check(struct replica *r, size_t adding, struct corral_error *err);

/* ---- the pure accounting behind backlog_check (exposed for the unit test) ---- */

struct backlog_tally {
    int64_t stored;     /* unfinished tasks counted at the last refresh; -1 before the first */
    int64_t accepted;   /* admitted here and not yet known to be in `stored` */
    int64_t at_start;   /* `accepted` when the refresh in progress began */
    int64_t counted_ms; /* monotonic start of the last successful refresh */
    int64_t started_ms; /* monotonic start of the refresh in progress */
    bool refreshing;    /* a refresh is in progress (one at a time) */
};

/* A fresh tally: nothing counted yet. */
static inline void backlog_tally_init(struct backlog_tally *t)
{
    *t = (struct backlog_tally){.stored = -1};
}

/* True when a refresh is due at now_ms (for a limit of max) and none is running. */
static inline bool backlog_tally_due(const struct backlog_tally *t, int64_t now_ms, int64_t max)
{
    if (t->refreshing)
        return false;
    if (t->stored < 0)
        return true;
    bool far = max >= BACKLOG_FAR_MIN && t->stored + t->accepted <= max / 2;
    return now_ms - t->counted_ms >= (far ? BACKLOG_REFRESH_FAR_MS : BACKLOG_REFRESH_MS);
}

/* A refresh begins: what was admitted before now is in ZooKeeper by the time it counts (or
 * its write failed: its reservation ends with this refresh either way). */
static inline void backlog_tally_begin(struct backlog_tally *t, int64_t now_ms)
{
    t->refreshing = true;
    t->at_start = t->accepted;
    t->started_ms = now_ms;
}

/* The refresh ended: with ok, count is the unfinished tasks in ZooKeeper; the tasks admitted
 * while it ran stay in `accepted` (the count may not have seen them). Without ok nothing else
 * changes and the next check tries again. */
static inline void backlog_tally_end(struct backlog_tally *t, bool ok, int64_t count)
{
    t->refreshing = false;
    if (!ok)
        return;
    t->stored = count;
    t->accepted -= t->at_start;
    t->at_start = 0;
    t->counted_ms = t->started_ms;
}

/* Admit adding tasks when they fit under max (counted then); false when they would pass it. */
static inline bool backlog_tally_admit(struct backlog_tally *t, int64_t max, size_t adding)
{
    int64_t stored = t->stored > 0 ? t->stored : 0;
    if ((uint64_t)adding > (uint64_t)max || stored + t->accepted > max - (int64_t)adding)
        return false;
    t->accepted += (int64_t)adding;
    return true;
}

#endif
