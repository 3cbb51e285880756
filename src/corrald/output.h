/* SPDX-License-Identifier: MIT */
/*
 * Live output, read side (GET /v1/tasks/{id}/output; corral/output.h): what a follower at
 * (attempt, offset) gets now, and the request that keeps the task's worker publishing.
 */
#ifndef CORRALD_OUTPUT_H
#define CORRALD_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "corral/limits.h"
#include "corrald/replica.h"

/* A follower's position: the attempt it reads (0: the current one) and the byte offset in it. */
struct output_pos {
    char id[CORRAL_ID_LEN + 1];
    uint32_t attempt;
    uint64_t offset;
};

/*
 * Read task pos->id and what follows pos in its output; *answer gets the body
 * {"task","attempt","state","offset","next","skipped","data","done","tail"} and *empty is true
 * when it carries no byte and the task may still write some (a long poll waits then). A task
 * still unfinished has its assignment marked as followed (store_follow). CORRAL_ENOTFOUND for
 * an unknown task, CORRAL_EUNAVAIL without ZooKeeper.
 */
CORRAL_NODISCARD int output_read(struct replica *r, const struct output_pos *pos, json_t **answer,
                                 bool *empty, struct corral_error *err);

/* The znodes whose change a waiting follower of task id waits for: output/<id>, tasks/../<id>. */
void output_wait_paths(const struct replica *r, const char *id, char out_path[CORRAL_PATH_MAX],
                       char task_path[CORRAL_PATH_MAX]);

#endif
