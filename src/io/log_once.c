/* SPDX-License-Identifier: MIT */
/* The set behind CORRAL_LOG_ONCE (log_once.h): open addressing over 64-bit hashes. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "io/log_once.h"

#define SLOTS (2u * LOG_ONCE_MAX) /* a power of two, at most half full */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slots[SLOTS]; /* 0 = empty */
static unsigned used;

static uint64_t key_hash(const char *kind, const char *name)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over kind, a separator, name */
    for (const char *s = kind ? kind : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (const char *s = name ? name : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* Index of h's slot, or of the empty slot where it would go. Under mu. */
static unsigned find(uint64_t h)
{
    unsigned i = (unsigned)(h & (SLOTS - 1u));
    while (slots[i] != 0 && slots[i] != h)
        i = (i + 1u) & (SLOTS - 1u);
    return i;
}

bool log_once_first(const char *kind, const char *name)
{
    uint64_t h = key_hash(kind, name);
    pthread_mutex_lock(&mu);
    unsigned i = find(h);
    bool first = slots[i] == 0;
    if (first) {
        if (used >= LOG_ONCE_MAX) {
            memset(slots, 0, sizeof slots);
            used = 0;
            i = find(h);
        }
        slots[i] = h;
        used++;
    }
    pthread_mutex_unlock(&mu);
    return first;
}

void log_once_forget(const char *kind, const char *name)
{
    uint64_t h = key_hash(kind, name);
    pthread_mutex_lock(&mu);
    unsigned i = find(h);
    if (slots[i] != 0) {
        /* Re-insert the rest of the cluster so that lookups past the hole still find theirs. */
        slots[i] = 0;
        used--;
        for (unsigned j = (i + 1u) & (SLOTS - 1u); slots[j] != 0; j = (j + 1u) & (SLOTS - 1u)) {
            uint64_t moved = slots[j];
            slots[j] = 0;
            slots[find(moved)] = moved;
        }
    }
    pthread_mutex_unlock(&mu);
}
