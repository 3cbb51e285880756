/* SPDX-License-Identifier: MIT */
/*
 * Finished tasks as the leader sees them, for /metrics (leader_internal.h): every finish
 * writes an entry into the done index (done/<hour>/<minute>/<slot>/<ms>-<id>-<state><key>,
 * corral/done_entry.h), whoever made the task final. Once a second the leader looks at the
 * slots of the last LEADER_FIN_WINDOW_SLOTS (a stat of each, pipelined; a slot is listed again
 * only when its cversion moved) and counts the names it has not seen: final states, and the
 * time from submission (the id's clock) to the finish. It costs the scheduling path nothing: no
 * write, one pipelined stat per second, and each finish listed about once. A finish whose
 * writer's clock lags by more than the window lands in a slot no longer looked at and is not
 * counted (docs/operations.md "Metrics").
 */
#include <stdlib.h>
#include <string.h>

#include "corral/done_entry.h"
#include "corral/id.h"
#include "corral/metrics.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "io/clock.h"

void leader_finishes_reset(struct leader *l)
{
    for (size_t i = 0; i < LEADER_FIN_WINDOW_SLOTS; i++) {
        corral_strlist_cleanup(&l->fin_seen[i]);
        l->fin_slot[i] = -1;
        l->fin_cversion[i] = -1;
    }
    l->fin_start_slot = -1;
    l->fin_last_ms = 0;
}

/* Is name in the sorted list l? */
static bool seen_has(const struct corral_strlist *l, const char *name)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->items[mid], name);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void count(struct replica *r, const char *name, int64_t now_wall)
{
    struct corral_done_entry e;
    if (!corral_done_entry_parse(name, &e))
        return;
    size_t s = e.state == CORRAL_STATE_SUCCEEDED ? 0 : e.state == CORRAL_STATE_FAILED ? 1 : 2;
    atomic_fetch_add(&r->n_finished[s], 1);
    int64_t submitted = corral_id_time_ms(e.id);
    if (submitted < 0)
        return;
    int64_t ms = e.finished_ms - submitted;
    if (ms < 0 || ms > now_wall - submitted + 60000)
        ms = 0; /* clocks apart: count it, in the first bucket */
    size_t b = corral_histo_index(corral_wait_le_s, CORRAL_WAIT_BUCKETS, (double)ms / 1e3);
    atomic_fetch_add(&r->submit_to_finish[b], 1);
    atomic_fetch_add(&r->submit_to_finish_sum_ms, (uint_fast64_t)ms);
}

int leader_finishes_tick(struct replica *r, int64_t now_mono, int64_t now_wall,
                         struct corral_error *err)
{
    struct leader *l = r->leader;
    if (now_mono - l->fin_last_ms < LEADER_FIN_PERIOD_MS)
        return CORRAL_OK;
    l->fin_last_ms = now_mono;
    int64_t cur = corral_done_slot_of(now_wall);
    if (l->fin_start_slot < 0)
        l->fin_start_slot = cur; /* a new term counts the finishes from now on */
    int64_t first = cur - (int64_t)LEADER_FIN_WINDOW_SLOTS + 1;
    if (first < l->fin_start_slot)
        first = l->fin_start_slot;
    size_t n = (size_t)(cur - first + 1);
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    int32_t *cv = corral_xcalloc(n, sizeof *cv);
    size_t m = 0;
    for (int64_t s = first; s <= cur; s++)
        if (corral_done_slot_path(paths[m], CORRAL_PATH_MAX, r->opts.ns, s) == CORRAL_OK)
            ptrs[m] = paths[m], m++;
    int rc = zk_cversion_many(r->zk, ptrs, m, cv, err);
    /* The slots whose children changed since we listed them. */
    const char **want = corral_xcalloc(m ? m : 1, sizeof *want);
    int64_t *want_slot = corral_xcalloc(m ? m : 1, sizeof *want_slot);
    int32_t *want_cv = corral_xcalloc(m ? m : 1, sizeof *want_cv);
    size_t k = 0;
    for (size_t i = 0; rc == CORRAL_OK && i < m; i++) {
        int64_t s = first + (int64_t)i;
        size_t at = (size_t)(s % (int64_t)LEADER_FIN_WINDOW_SLOTS);
        if (l->fin_slot[at] != s) { /* a slot new to the window: nothing seen in it yet */
            corral_strlist_cleanup(&l->fin_seen[at]);
            l->fin_slot[at] = s;
            l->fin_cversion[at] = -1;
        }
        if (cv[i] < 0 || cv[i] == l->fin_cversion[at])
            continue;
        want[k] = ptrs[i];
        want_slot[k] = s;
        want_cv[k++] = cv[i];
    }
    struct corral_strlist *lists = corral_xcalloc(k ? k : 1, sizeof *lists);
    if (rc == CORRAL_OK && k > 0)
        rc = zk_children_many(r->zk, want, k, lists, err);
    for (size_t i = 0; rc == CORRAL_OK && i < k; i++) {
        size_t at = (size_t)(want_slot[i] % (int64_t)LEADER_FIN_WINDOW_SLOTS);
        struct corral_strlist *seen = &l->fin_seen[at];
        for (size_t j = 0; j < lists[i].n; j++)
            if (!seen_has(seen, lists[i].items[j]))
                count(r, lists[i].items[j], now_wall);
        corral_strlist_cleanup(seen);
        *seen = lists[i];
        memset(&lists[i], 0, sizeof lists[i]);
        l->fin_cversion[at] = want_cv[i];
    }
    for (size_t i = 0; i < k; i++)
        corral_strlist_cleanup(&lists[i]);
    free(lists);
    free(want_cv);
    free(want_slot);
    free(want);
    free(cv);
    free(ptrs);
    free(paths);
    return rc;
}
