/* SPDX-License-Identifier: MIT */
/*
 * Shared internals of the scheduler (sched.c and the place_*.c / order_*.c policy files). Not
 * installed, not part of the API. A policy file declares its function with the function types
 * below and sched.c lists it in one table row.
 */
#ifndef CORRAL_SCHED_INTERNAL_H
#define CORRAL_SCHED_INTERNAL_H

#include <stdint.h>

#include "corral/sched.h"

/* Function types (not pointers) so a policy file can declare its entry point:
 *   corral_place_impl corral_place_random;                                            */
typedef size_t corral_place_impl(const struct corral_view *view, const struct corral_task_view *t,
                                 const size_t *eligible, size_t n, struct corral_sched_state *st,
                                 uint64_t *rng);
typedef int corral_order_impl(const struct corral_task_view *a, const struct corral_task_view *b,
                              int64_t now_ms);

/* An exact non-negative ratio num/den (den > 0): loads are compared without floating point so
 * the plan is the same on every machine. */
struct corral_frac {
    uint64_t num, den;
};

/* <0, 0, >0 as a/b is below, equal to, above c/d. Exact for every uint64 input. */
int corral_frac_cmp(struct corral_frac a, struct corral_frac b);

/* Load of w after placing t on it: max(running/slots, cpu used/cpu, mem used/mem), skipping a
 * dimension whose capacity is 0. Requires w->slots > 0 (true for every eligible worker). */
struct corral_frac corral_sched_load_after(const struct corral_worker_view *w,
                                           const struct corral_task_view *t);

/* The eligible worker whose load after taking t is the lowest (prefer_higher false) or the
 * highest (true); ties go to the earliest in view order (bin-pack's rule; least-loaded rotates
 * its ties instead, see place_least_loaded.c). */
size_t corral_sched_pick_by_load(const struct corral_view *view, const struct corral_task_view *t,
                                 const size_t *eligible, size_t n, bool prefer_higher);

/* ms that t has waited at now_ms: 0 when now is before its submission, capped at 2^52 so that
 * aging arithmetic cannot overflow. */
int64_t corral_sched_waited_ms(const struct corral_task_view *t, int64_t now_ms);

/* FIFO tie-break shared by every order: submitted_at_ms, then id. */
int corral_order_fifo_cmp(const struct corral_task_view *a, const struct corral_task_view *b);

#endif
