/* SPDX-License-Identifier: MIT */
/*
 * corral-bench's submitters: threads POSTing `true` tasks, each on its own keep-alive connection,
 * in batches of 1000, one per POST back to back, or one per POST at a fixed rate. 429 and a 503
 * that stored nothing are retried after a pause; outcome_unknown or a lost answer is counted,
 * not retried. Every thread ends at the deadline or on a stop request.
 */
#ifndef CORRAL_BENCH_LOAD_H
#define CORRAL_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/limits.h"

enum load_mode {
    LOAD_BATCH,  /* POST /v1/tasks/batch of up to CORRAL_BATCH_MAX */
    LOAD_SINGLE, /* POST /v1/tasks, back to back */
    LOAD_PACED,  /* POST /v1/tasks at rate per second (all clients together) */
};

struct load_cfg {
    const char *url; /* corrald's base URL */
    enum load_mode mode;
    uint64_t tasks;
    int clients;
    int rate;            /* LOAD_PACED */
    int64_t deadline_ms; /* monotonic */
};

struct load_stats {
    uint64_t accepted;                  /* tasks acknowledged (201) */
    uint64_t unknown;                   /* tasks whose outcome is unknown */
    uint64_t failed;                    /* tasks refused for good (4xx other than 429) */
    uint64_t retries;                   /* requests repeated after 429 or 503 */
    int64_t first_send_ms, last_ack_ms; /* monotonic; 0 = none */
    int64_t *ack_ms;                    /* round trip of each acknowledged request */
    size_t n_ack;
    char error[256]; /* the first refusal or transport error */
};

struct load;

/* Start the threads. cfg->url is copied. */
struct load *load_start(const struct load_cfg *cfg);
uint64_t load_accepted(struct load *l);
/* True once every thread has ended (all sent, deadline or stop). */
bool load_done(struct load *l);
/* Join the threads (they end at the deadline at the latest). */
void load_join(struct load *l);
/* After load_join. */
const struct load_stats *load_stats(const struct load *l);
/* After load_join: the acknowledged ids in submission order, and their count. */
size_t load_ids(const struct load *l, const char (**ids)[CORRAL_ID_LEN + 1]);
void load_free(struct load *l);

#endif
