/* SPDX-License-Identifier: MIT */
/*
 * Scheduling: ordering (which queued task goes first) and placement (which worker gets it),
 * as pure functions over a snapshot. The leader builds a corral_view from ZooKeeper, calls
 * corral_sched_plan() and executes the plan as fenced multis. Adding a policy = one file in
 * src/core (place_*.c or order_*.c) + one row in the tables of sched.c.
 */
#ifndef CORRAL_SCHED_H
#define CORRAL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/limits.h"
#include "corral/spec.h"

struct corral_worker_view {
    const char *id;   /* borrowed */
    uint32_t slots;   /* capacity */
    uint32_t running; /* tasks assigned and unfinished */
    uint32_t cpu_milli, used_cpu_milli;
    uint64_t mem_mb, used_mem_mb;
    const struct corral_kv *labels; /* borrowed, n_labels entries */
    size_t n_labels;
    uint32_t weight; /* >= 1 */
};

struct corral_task_view {
    const char *id; /* borrowed; ids sort in submission order */
    int priority;
    int64_t submitted_at_ms; /* wall clock; FIFO key together with id */
    int64_t not_before_ms;   /* not eligible before (retry backoff); 0 = none */
    uint32_t cpu_milli;
    uint64_t mem_mb;
    const struct corral_kv *constraints; /* borrowed */
    size_t n_constraints;
    bool has_estimated;
    uint64_t estimated_ms;
};

struct corral_view {
    struct corral_worker_view *workers; /* borrowed */
    size_t n_workers;
    struct corral_task_view *tasks; /* borrowed; the queued tasks */
    size_t n_tasks;
};

/* State that some policies carry from one plan to the next (round-robin cursor, least-loaded
 * tie cursor, smooth weighted current weights). Owned by the caller; zero-initialise before the
 * first plan and pass the same one to every plan (the leader keeps one per term). */
#define CORRAL_SCHED_STATE_MAX_WORKERS 1024
struct corral_sched_state {
    char rr_last[CORRAL_WORKER_ID_MAX + 1]; /* id of the worker round-robin picked last, "" none */
    char ll_last[CORRAL_WORKER_ID_MAX + 1]; /* id of the worker least-loaded picked last, "" */
    struct {
        char id[CORRAL_WORKER_ID_MAX + 1];
        int64_t current;
    } swrr[CORRAL_SCHED_STATE_MAX_WORKERS]; /* smooth weighted round-robin current weights */
    size_t n_swrr;
};

/* Placement: choose one of the eligible workers for task t. eligible[] holds indexes into
 * view->workers (with their usage already updated for earlier picks of this plan), n >= 1,
 * in view order. Returns the chosen index into view->workers. rng is a splitmix64 state. */
typedef size_t (*corral_place_fn)(const struct corral_view *view, const struct corral_task_view *t,
                                  const size_t *eligible, size_t n, struct corral_sched_state *st,
                                  uint64_t *rng);

/* Ordering: compare two queued tasks at time now_ms (aging may depend on it); < 0 when a goes
 * first. Must be a total order (ties broken by submitted_at_ms, then id).
 *   fifo:     submitted_at_ms, then id.
 *   priority: effective priority descending, then fifo; effective = priority + whole minutes
 *             waited ((now_ms - submitted_at_ms) / 60000), +1 point per minute, so a
 *             low-priority task is never starved.
 *   sjf:      response ratio (waited + estimate) / estimate descending (HRRN), then estimate
 *             ascending, then fifo; estimate = estimated_ms clamped to 1 ms .. 7 days, and
 *             7 days + 1 ms without an estimate (those rank after every task with one that
 *             waited as long). Waiting counts in units of the task's own estimate, so short jobs
 *             go first while a long one still passes once its ratio is the highest. */
typedef int (*corral_order_fn)(const struct corral_task_view *a, const struct corral_task_view *b,
                               int64_t now_ms);

struct corral_placement {
    const char *name; /* "least-loaded", "round-robin", "random", "weighted", "bin-pack" */
    corral_place_fn place;
};
struct corral_order {
    const char *name; /* "priority", "fifo", "sjf" */
    corral_order_fn compare;
};

/* Lookups by name; NULL when unknown. */
const struct corral_placement *corral_placement_find(const char *name);
const struct corral_order *corral_order_find(const char *name);
/* "least-loaded, round-robin, ..." for help texts and error messages. */
const char *corral_placement_names(void);
const char *corral_order_names(void);

struct corral_policy {
    const struct corral_placement *placement;
    const struct corral_order *order;
};

struct corral_plan_assign {
    size_t task;   /* index into view->tasks */
    size_t worker; /* index into view->workers */
};

struct corral_unschedulable {
    size_t task;      /* index into view->tasks */
    char reason[160]; /* "unschedulable: needs cpu 64, largest worker has 16" */
};

struct corral_plan {
    struct corral_plan_assign *assign; /* n_assign entries, in execution order */
    size_t n_assign;
    struct corral_unschedulable *unsched; /* tasks no worker could ever fit, even when idle */
    size_t n_unsched;
};

/* True when worker w could run t now: a free slot, free cpu and memory, every constraint
 * label equal on the worker. */
bool corral_sched_fits_now(const struct corral_worker_view *w, const struct corral_task_view *t);
/* True when worker w could run t if it were idle (capacity and labels only). */
bool corral_sched_fits_ever(const struct corral_worker_view *w, const struct corral_task_view *t);

/*
 * Decide the assignments of one tick. Pure: same view, policy, state, now and seed give the same
 * plan. Tasks with not_before_ms > now_ms are skipped. A task that fits nowhere now does not
 * block the tasks behind it. view->workers' usage fields are not modified (a private copy is
 * updated as the plan grows). out must be zeroed; free it with corral_plan_cleanup().
 *
 * Tasks are taken in policy->order. A task no worker could run even when idle goes to
 * out->unsched with a reason. A task that fits some worker now is placed by the placement among
 * those workers. A task that fits no worker now is blocked; head-of-line rule: the FIRST blocked
 * task of the tick reserves, among the workers that could ever run it, the one with the most
 * free slots (ties: earliest in view order), and no later task of this tick is placed there, so
 * small tasks backfill the other workers but cannot starve a big one forever. At most one
 * reservation per tick; it is not remembered between ticks.
 * Errors: CORRAL_EINTERNAL for a NULL argument or out of memory (out is then empty).
 */
CORRAL_NODISCARD int corral_sched_plan(const struct corral_view *view,
                                       const struct corral_policy *policy,
                                       struct corral_sched_state *st, int64_t now_ms, uint64_t seed,
                                       struct corral_plan *out, struct corral_error *err);
void corral_plan_cleanup(struct corral_plan *plan);

/* splitmix64 step: advances *state and returns the next pseudo-random value. */
uint64_t corral_rng_next(uint64_t *state);

#endif
