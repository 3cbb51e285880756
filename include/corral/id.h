/* SPDX-License-Identifier: MIT */
/*
 * Task ids: "<12 lowercase hex digits of wall-clock ms>-<8 lowercase hex random>", e.g.
 * "019a1b2c3d4e-9f8e7d6c". Unique across replicas without coordination (the create of the task
 * znode is the final arbiter: a collision fails with "exists" and the caller draws again), and
 * sorting ids as strings sorts them by submission time.
 */
#ifndef CORRAL_ID_H
#define CORRAL_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/limits.h"

/* Write the id for (wall_ms, rand32) into out (CORRAL_ID_LEN + 1 bytes). */
void corral_id_make(char out[CORRAL_ID_LEN + 1], uint64_t wall_ms, uint32_t rand32);
/* True when s has exactly the id shape. */
bool corral_id_is_valid(const char *s);
/* The ms timestamp encoded in a valid id; -1 when s is not valid. */
int64_t corral_id_time_ms(const char *s);

#endif
