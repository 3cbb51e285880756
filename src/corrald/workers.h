/* SPDX-License-Identifier: MIT */
/*
 * Live workers as the replicas see them: the registration of workers/<id> (decoded by
 * corral/worker_reg.h) plus its usage, counted from the assignments made for that very
 * registration (assign/<id>/<task> whose "reg" matches; an assignment of an earlier incarnation
 * of the same id is the leader's to requeue and costs the new incarnation nothing). Used by
 * GET /v1/workers; the leader counts usage itself from its own cache.
 */
#ifndef CORRALD_WORKERS_H
#define CORRALD_WORKERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/fleet.h"
#include "corral/worker_reg.h"
#include "corrald/replica.h"

struct worker_info {
    struct corral_worker_reg reg; /* as registered */
    bool has_fleet;               /* fleet/<id> exists (cordon, drain, or a forgiving uncordon) */
    struct corral_fleet_rec fleet;
    int32_t fleet_version;
    /* usage by assignments of this registration */
    uint32_t running;
    uint32_t used_cpu_milli;
    uint64_t used_mem_mb;
};

struct worker_set {
    struct worker_info *items; /* sorted by id */
    size_t n;
};

/* Read all live workers and their fleet records (with a child watch on workers/ and fleet/ and a
 * data watch on each registration and record when watch: the leader keeps the set until one
 * fires); a malformed registration is skipped, a malformed record counts as a cordon (an
 * operator's intent is not dropped silently), each with one log line. With with_usage, also their
 * usage (two reads per assignment). */
CORRAL_NODISCARD int workers_load(struct replica *r, struct worker_set *out, bool watch,
                                  bool with_usage, struct corral_error *err);
/* GET /v1/workers entry of w. */
json_t *workers_to_json(const struct worker_info *w);
/* The fleet record of w, or NULL (active, nothing forgiven). */
const struct corral_fleet_rec *workers_fleet(const struct worker_info *w);
/* Does w take new work (not cordoned, not draining)? */
bool workers_takes_work(const struct worker_info *w);
/* The worker with id, or NULL (ws is sorted by id). */
struct worker_info *workers_find(const struct worker_set *ws, const char *id);
void workers_cleanup(struct worker_set *ws);

#endif
