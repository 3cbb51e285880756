/* SPDX-License-Identifier: MIT */
/*
 * Queue entries queue/<bb>/<name> (docs/znodes.md): one per queued task, created in the same
 * multi that makes the task queued and deleted in the one that takes it out. The name is what
 * the leader lists; the data is empty. The name carries everything ordering and a first fit
 * check need, so the leader orders the queue from its listing alone and reads only the tasks
 * it is about to assign:
 *   <id>.<priority+1000>.<submitted_at_ms>.<estimated_ms or ->.<cpu_milli>.<mem_mb>.<not_before_ms>
 * numbers in lowercase hex without leading zeros (e.g.
 * "019a1b2c3d4e-9f8e7d6c.3e8.19a1b2c3d4e.-.3e8.0.0"). The entry sits in the bucket of its task id
 * (bb = corral_path_bucket(id)). A bare id is the older form (corral before the queue index): still
 * read, its keys unknown until its task is read.
 */
#ifndef CORRAL_QUEUE_ENTRY_H
#define CORRAL_QUEUE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/limits.h"
#include "corral/task.h"

#define CORRAL_QUEUE_NAME_MAX 128u

/* What an entry name says about its task. */
struct corral_queue_key {
    char id[CORRAL_ID_LEN + 1];
    bool legacy; /* a bare id: nothing else is known */
    int priority;
    int64_t submitted_at_ms;
    bool has_estimated;
    uint64_t estimated_ms;
    uint32_t cpu_milli;
    uint64_t mem_mb;
    int64_t not_before_ms;
};

/* The key of task t (queued). */
void corral_queue_key_of(const struct corral_task *t, struct corral_queue_key *k);
/* Name of key k into out (k not legacy). */
void corral_queue_key_format(const struct corral_queue_key *k, char out[CORRAL_QUEUE_NAME_MAX + 1]);
/* The name key k was listed as (the bare id for the older form). */
void corral_queue_key_name(const struct corral_queue_key *k, char out[CORRAL_QUEUE_NAME_MAX + 1]);
/* Decode a listed name; false for a name corral did not make (skip it, log it). */
bool corral_queue_key_decode(const char *name, struct corral_queue_key *k);
/* Path <ns>/queue/<bb>/<name> of an entry listed as name (bucket of the id in it). */
CORRAL_NODISCARD int corral_queue_entry_path_of_name(char *buf, size_t n, const char *ns,
                                                     const char *name);

/* Entry name of task t into out. */
void corral_queue_entry_name(const struct corral_task *t, char out[CORRAL_QUEUE_NAME_MAX + 1]);
/* Full path of t's entry: <ns>/queue/<bb>/<name>. */
CORRAL_NODISCARD int corral_queue_entry_path(char *buf, size_t n, const char *ns,
                                             const struct corral_task *t);
/* Task id of an entry name; false for a name corral did not make (skip it). */
bool corral_queue_entry_parse(const char *name, char id[CORRAL_ID_LEN + 1]);

/* The idempotency record idem/<bb>/<hexkey> holds the id of the task that took the key. */
CORRAL_NODISCARD int corral_idem_decode(const char *buf, size_t len, char id[CORRAL_ID_LEN + 1],
                                        struct corral_error *err);

#endif
