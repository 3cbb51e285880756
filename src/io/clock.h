/* SPDX-License-Identifier: MIT */
/* Clocks and randomness: the only place that reads them. Monotonic and wall never mix. */
#ifndef CORRAL_IO_CLOCK_H
#define CORRAL_IO_CLOCK_H

#include <stdint.h>

/* Wall clock, ms since the Unix epoch (for timestamps shown to users). */
int64_t clock_wall_ms(void);
/* CLOCK_MONOTONIC in ms (for deadlines, timeouts, leases). */
int64_t clock_mono_ms(void);
/* Random bits from getrandom(2) (falls back to /dev/urandom). */
uint32_t rand_u32(void);
uint64_t rand_u64(void);

#endif
