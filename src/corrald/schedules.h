/* SPDX-License-Identifier: MIT */
/*
 * Cron schedules on a replica: the reads and writes behind /v1/schedules (any replica), and the
 * leader's firing (leader_schedules.c). The formats and decisions are the core's
 * (corral/schedule.h); this is the ZooKeeper side. Callable from any thread.
 */
#ifndef CORRALD_SCHEDULES_H
#define CORRALD_SCHEDULES_H

#include <jansson.h>

#include "corral/schedule.h"
#include "corral/task.h"
#include "corrald/replica.h"

/* Read schedule name (after a sync when not found at once). out zeroed; version may be NULL. */
CORRAL_NODISCARD int sched_read(struct replica *r, const char *name, struct corral_schedule *out,
                                int32_t *version, struct corral_error *err);

/* The API object of s now (next_fire computed in its zone). NULL only when its zone cannot be
 * loaded any more (err says why). */
json_t *sched_public(const struct corral_schedule *s, struct corral_error *err);

/* POST /v1/schedules: validate (400), check the zone exists (400 "timezone"), store (409 when
 * the name is taken). *out (new object) is the stored schedule. */
CORRAL_NODISCARD int sched_create(struct replica *r, const json_t *body, json_t **out,
                                  struct corral_error *err);
/* GET /v1/schedules: {"schedules": [...]} sorted by name. */
CORRAL_NODISCARD int sched_list(struct replica *r, json_t **out, struct corral_error *err);
/* GET one: the object. */
CORRAL_NODISCARD int sched_get(struct replica *r, const char *name, json_t **out,
                               struct corral_error *err);
/* DELETE: the object as it was. Tasks it created stay. */
CORRAL_NODISCARD int sched_delete(struct replica *r, const char *name, json_t **out,
                                  struct corral_error *err);
/* pause / resume: the object after. Fires missed while paused follow the misfire policy. */
CORRAL_NODISCARD int sched_set_paused(struct replica *r, const char *name, bool paused,
                                      json_t **out, struct corral_error *err);
/* trigger: a fire now, once (overlap does not apply), recorded in the ledger with its task in one
 * multi. out (zeroed) is the task. */
CORRAL_NODISCARD int sched_trigger(struct replica *r, const char *name, struct corral_task *out,
                                   struct corral_error *err);
/* GET .../fires?limit=N: {"fires": [...]} newest first, each with its task's state now
 * ("skipped" for none; "deleted" once retention removed the task). */
CORRAL_NODISCARD int sched_fires(struct replica *r, const char *name, size_t limit, json_t **out,
                                 struct corral_error *err);

#endif
