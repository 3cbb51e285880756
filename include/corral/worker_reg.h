/* SPDX-License-Identifier: MIT */
/*
 * The worker registration znode workers/<id> (ephemeral; docs/znodes.md): written by
 * corral-worker when it registers and when it starts draining, read by every replica (GET
 * /v1/workers and the leader's view). This file is the format's only encoder and decoder.
 * Decoding is strict about the fields it knows and ignores unknown ones (rolling upgrades).
 */
#ifndef CORRAL_WORKER_REG_H
#define CORRAL_WORKER_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/assignment.h"
#include "corral/error.h"
#include "corral/limits.h"
#include "corral/spec.h"

#define CORRAL_WORKER_SLOTS_MAX  (1u << 20)
#define CORRAL_WORKER_WEIGHT_MAX (1u << 20)

struct corral_worker_reg {
    char *id;                     /* the znode's name (the decoder takes it from the caller) */
    char reg[CORRAL_REG_MAX + 1]; /* this incarnation; assignments must carry the same */
    uint32_t slots;               /* 1..CORRAL_WORKER_SLOTS_MAX */
    uint32_t cpu_milli;           /* 0..CORRAL_CPU_MAX_MILLI */
    uint64_t mem_mb;              /* 0..CORRAL_MEM_MAX_MB */
    struct corral_kv *labels;     /* n_labels entries, keys unique */
    size_t n_labels;
    uint32_t weight; /* 1..CORRAL_WORKER_WEIGHT_MAX */
    bool draining;   /* takes no new work */
    /* Attempts of this incarnation: successes, and failed attempts (failed or timed out) since
     * the last success; the leader's failure rule reads them (corral/fleet.h). */
    uint64_t ok_count;
    uint32_t fail_streak;
};

/* Compact JSON text; caller frees. Never NULL. */
char *corral_worker_reg_encode(const struct corral_worker_reg *w);
/* Decode the data of workers/<id>. out must be zeroed; on failure CORRAL_EINVAL with the field
 * named and out left zeroed. id must be a valid name (corral_path_valid_name). */
CORRAL_NODISCARD int corral_worker_reg_decode(const char *id, const char *buf, size_t len,
                                              struct corral_worker_reg *out,
                                              struct corral_error *err);
/* Free everything; idempotent; works on a zeroed struct. */
void corral_worker_reg_cleanup(struct corral_worker_reg *w);

#endif
