/* SPDX-License-Identifier: MIT */
/*
 * The leader's cache of queued tasks (leader_internal.h): every round lists the queue buckets
 * (one pipelined batch), keeps what it knows, reads what is new and forgets what left. Entry
 * names are decoded by the core (corral/queue_entry.h); a name corral did not make is skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/queue_entry.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/store.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "leader"

void leader_cache_clear(struct leader *l)
{
    for (size_t i = 0; i < l->n_cache; i++)
        corral_task_cleanup(&l->cache[i].task);
    free(l->cache);
    l->cache = NULL;
    l->n_cache = 0;
}

static struct qtask *cache_find(struct leader *l, const char *id)
{
    size_t lo = 0, hi = l->n_cache;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->cache[mid].task.id, id);
        if (c == 0)
            return &l->cache[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int leader_load_queue(struct replica *r, struct round *rd, struct corral_error *err)
{
    struct leader *l = r->leader;
    struct corral_strlist *buckets = corral_xcalloc(CORRAL_BUCKETS, sizeof *buckets);
    int rc = store_list_buckets(r, CORRAL_DIR_QUEUE, buckets, err);
    size_t n_names = 0;
    for (unsigned b = 0; rc == CORRAL_OK && b < CORRAL_BUCKETS; b++)
        n_names += buckets[b].n;
    char **names = corral_xcalloc(n_names, sizeof *names);
    size_t k = 0;
    for (unsigned b = 0; rc == CORRAL_OK && b < CORRAL_BUCKETS; b++)
        for (size_t i = 0; i < buckets[b].n; i++)
            names[k++] = buckets[b].items[i];
    qsort(names, k, sizeof *names, cmp_name);
    struct qtask *next = corral_xcalloc(k, sizeof *next);
    size_t n_next = 0;
    for (size_t i = 0; rc == CORRAL_OK && i < k; i++) {
        char id[CORRAL_ID_LEN + 1];
        if (!corral_queue_entry_parse(names[i], id)) {
            CORRAL_LOG(CORRAL_LOG_WARN, "ignoring odd queue entry name=%.64s", names[i]);
            continue;
        }
        struct qtask *known = cache_find(l, id);
        if (known && !known->gone) {
            next[n_next++] = *known;
            memset(known, 0, sizeof *known); /* moved */
            known->gone = true;
            continue;
        }
        struct corral_task t = {0};
        int32_t version = -1;
        char tpath[CORRAL_PATH_MAX];
        store_task_path(r, id, tpath);
        int trc = store_read_task(r, tpath, &t, &version, err);
        if (trc == CORRAL_OK && t.state == CORRAL_STATE_QUEUED) {
            next[n_next++] = (struct qtask){.task = t, .version = version};
            continue;
        }
        corral_task_cleanup(&t);
        if (trc == CORRAL_OK || trc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = leader_drop_entry(r, names[i], err);
        } else if (trc == CORRAL_EINVAL) {
            corral_error_clear(err); /* corrupt task: logged by store_read_task, skipped */
        } else {
            rc = trc;
        }
    }
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++)
        corral_strlist_cleanup(&buckets[b]);
    free(buckets);
    free(names);
    if (rc != CORRAL_OK) {
        for (size_t i = 0; i < n_next; i++)
            corral_task_cleanup(&next[i].task);
        free(next);
        leader_cache_clear(l);
        return rc;
    }
    leader_cache_clear(l); /* what is left there is no longer queued */
    l->cache = next;
    l->n_cache = n_next;
    rd->q = l->cache;
    rd->n_q = l->n_cache;
    return CORRAL_OK;
}
