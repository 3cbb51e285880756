/* SPDX-License-Identifier: MIT */
/*
 * Placement "random": a uniformly random eligible worker, drawn from the plan's seeded
 * splitmix64 stream, so a plan is reproducible from its seed. Uses rejection sampling so that
 * no worker is favoured when 2^64 is not a multiple of the number of candidates.
 */
#include "sched_internal.h"

corral_place_impl corral_place_random;

size_t corral_place_random(const struct corral_view *view, const struct corral_task_view *t,
                           const size_t *eligible, size_t n, struct corral_sched_state *st,
                           uint64_t *rng)
{
    (void)view;
    (void)t;
    (void)st;
    uint64_t m = (uint64_t)n;
    uint64_t threshold = (0u - m) % m; /* 2^64 mod m: the biased low end that is redrawn */
    uint64_t r;
    do {
        r = corral_rng_next(rng);
    } while (r < threshold);
    return eligible[r % m];
}
