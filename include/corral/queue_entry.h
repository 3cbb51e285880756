/* SPDX-License-Identifier: MIT */
/*
 * Queue entries queue/<bb>/<name> (docs/znodes.md): one per queued task, created in the same
 * multi that makes the task queued and deleted in the one that takes it out. The name is what
 * the leader lists; the data is empty. This file alone knows how a task maps to its entry name
 * (today: the task id, bucketed like the task) and back, so that a richer encoding (priority,
 * order keys) is a change here.
 */
#ifndef CORRAL_QUEUE_ENTRY_H
#define CORRAL_QUEUE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/error.h"
#include "corral/limits.h"
#include "corral/task.h"

#define CORRAL_QUEUE_NAME_MAX 64u

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
