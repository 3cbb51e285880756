/* SPDX-License-Identifier: MIT */
/*
 * Live workers as the replicas see them: the registration JSON of workers/<id> (written by
 * corral-worker) plus the usage derived from assign/<id>/<task>. Used by GET /v1/workers and by
 * the leader's scheduling view.
 */
#ifndef CORRALD_WORKERS_H
#define CORRALD_WORKERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/spec.h"
#include "corrald/replica.h"

struct worker_info {
    char *id;
    char reg[32]; /* registration id of the live incarnation */
    uint32_t slots;
    uint32_t cpu_milli;
    uint64_t mem_mb;
    struct corral_kv *labels;
    size_t n_labels;
    uint32_t weight;
    bool draining; /* accepts no new work */
    /* usage from assignments of this incarnation */
    uint32_t running;
    uint32_t used_cpu_milli;
    uint64_t used_mem_mb;
};

struct worker_set {
    struct worker_info *items; /* sorted by id */
    size_t n;
};

/* Parse a worker znode's JSON; false if it is malformed (such a worker is ignored). */
bool workers_parse(const char *id, const char *data, size_t len, struct worker_info *out);

/* Read all live workers (with a child watch on workers/ when watch). With with_usage, also
 * their usage, from the assignments of their current incarnation (one read per task). */
CORRAL_NODISCARD int workers_load(struct replica *r, struct worker_set *out, bool watch,
                                  bool with_usage, struct corral_error *err);

json_t *workers_to_json(const struct worker_info *w);
const struct worker_info *workers_find(const struct worker_set *ws, const char *id);
void workers_info_cleanup(struct worker_info *w);
void workers_cleanup(struct worker_set *ws);

#endif
