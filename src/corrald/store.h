/* SPDX-License-Identifier: MIT */
/*
 * Task store: the reads and writes behind the REST API, each a single ZooKeeper read or one
 * multi (docs/znodes.md). Callable from any thread. A write returns only after ZooKeeper
 * stored it; after an unknown outcome it syncs and re-reads before answering.
 */
#ifndef CORRALD_STORE_H
#define CORRALD_STORE_H

#include <jansson.h>

#include "corral/paths.h"
#include "corral/strlist.h"
#include "corral/task.h"
#include "corrald/replica.h"

/* Create the namespace's directories and buckets (idempotent). */
CORRAL_NODISCARD int store_init_layout(struct replica *r, struct corral_error *err);
/* store_acl.c: with separate worker identities, give the namespace's znodes their ACLs (a
 * check when they have them; once, everything, when not). */
CORRAL_NODISCARD int store_fix_acls(struct replica *r, struct corral_error *err);

/* Read a task; on "not found" sync and read again before answering CORRAL_ENOTFOUND.
 * out must be zeroed; version may be NULL. */
CORRAL_NODISCARD int store_get_task(struct replica *r, const char *id, struct corral_task *out,
                                    int32_t *version, struct corral_error *err);

/* Submit one spec (taken on every path). *created is false when an idempotency key matched an
 * existing task with the same spec (then out is that task). CORRAL_EIDEMPOTENCY when the key
 * is bound to another spec. out must be zeroed. */
CORRAL_NODISCARD int store_submit(struct replica *r, struct corral_spec *spec,
                                  struct corral_task *out, bool *created, struct corral_error *err);

/*
 * Submit n specs (taken) all or none, in one multi; out[] (n, zeroed) gets the tasks in request
 * order and *n_created how many of them are new. An entry whose idempotency key is bound to a
 * task with the same spec gets that task (as store_submit does) and the others are stored
 * without it (when every key exists, nothing is written and *n_created is 0); an entry that
 * repeats an earlier entry's key and spec gets the same task. CORRAL_EIDEMPOTENCY, with field
 * tasks[i].idempotency_key, when entry i's key is bound to another spec: nothing is stored.
 * A batch whose multi would exceed ZooKeeper's request size is CORRAL_ETOOBIG.
 */
CORRAL_NODISCARD int store_submit_batch(struct replica *r, struct corral_spec *specs, size_t n,
                                        struct corral_task *out, size_t *n_created,
                                        struct corral_error *err);

/* Someone follows the output of task id, assigned to worker: make sure its assignment says so
 * for at least CORRAL_FOLLOW_RENEW_MS more (corral/output.h); a write only when it must be
 * renewed. 0 also when the assignment is gone or changed meanwhile (the next poll looks again). */
CORRAL_NODISCARD int store_follow(struct replica *r, const char *worker, const char *id,
                                  int64_t now_ms, struct corral_error *err);

/* Cancel: queued -> cancelled; assigned/running -> cancelling (the worker finishes it).
 * CORRAL_ENOTFOUND, CORRAL_ECONFLICT when already final. out (zeroed) gets the task. */
CORRAL_NODISCARD int store_cancel(struct replica *r, const char *id, struct corral_task *out,
                                  struct corral_error *err);

/* GET /v1/tasks (docs/api.md): at most limit tasks after the cursor `after` (a task id, or
 * NULL), in state (-1 = any). Finished states come from the done index in finish order; the
 * others in id (= submission) order from the queue entries (queued), the assignments
 * (assigned, running, cancelling) or the task buckets (any). Only the page's tasks are read.
 * *tasks: new JSON array; next gets the cursor for the next page, "" at the end. */
CORRAL_NODISCARD int store_list(struct replica *r, int state, size_t limit, const char *after,
                                json_t **tasks, char next[CORRAL_ID_LEN + 1],
                                struct corral_error *err);

/* GET /v1/workers body; NULL with err on failure. */
json_t *store_workers(struct replica *r, struct corral_error *err);

/* GET /v1/leader body; CORRAL_ENOLEADER when there is none. */
CORRAL_NODISCARD int store_leader(struct replica *r, json_t **out, struct corral_error *err);

/* Path helpers bound to this replica's namespace (abort on overflow: the namespace and ids are
 * validated before they get here). */
void store_dir_path(const struct replica *r, enum corral_dir d, char out[CORRAL_PATH_MAX]);
void store_task_path(const struct replica *r, const char *id, char out[CORRAL_PATH_MAX]);
/* The task znodes of ids[0..n), read at once (pipelined; with a data watch on each when watch):
 * got[i] answers ids[i]. The caller cleans each entry (zk_got_cleanup) and frees the array. */
struct zk_got *store_get_tasks(struct replica *r, const char *const *ids, size_t n, bool watch);
/* Children of every bucket of the bucketed folder d, read in one pipelined batch: outs[b] for
 * bucket b (CORRAL_BUCKETS entries, zeroed; free each with corral_strlist_cleanup). */
CORRAL_NODISCARD int store_list_buckets(struct replica *r, enum corral_dir d,
                                        struct corral_strlist *outs, struct corral_error *err);
/* Parse a task read from ZooKeeper; a corrupt node is reported, never trusted. */
CORRAL_NODISCARD int store_read_task(struct replica *r, const char *path, struct corral_task *out,
                                     int32_t *version, struct corral_error *err);

#endif
