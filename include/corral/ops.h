/* SPDX-License-Identifier: MIT */
/*
 * Which ZooKeeper operations each state change needs (docs/znodes.md "Every state change is one
 * multi"). Each builder appends the ops of one change to a transaction (corral/txn.h); the
 * programs commit it with zk_txn_commit and persist nothing any other way. Pure.
 *
 * Fences: a leader write starts with a FENCE on its own election node (a replica that lost
 * leadership can change nothing); a worker write starts with a FENCE on its assignment znode
 * (an attempt whose assignment was taken back can change nothing). Task writes are SETs at the
 * version read, so two writers never both win.
 *
 * Every change that makes a task final (succeeded, failed, cancelled) also creates its entry in
 * the done index (corral/done_entry.h) in the same multi, and retention deletes the entry with
 * the task: the index lists exactly the finished tasks that exist.
 *
 * Every change of a task's or a worker's state is also recorded for the events feed
 * (corral/event.h): the commit adds its event znode to the same multi.
 *
 * Every builder returns 0, or CORRAL_EINVAL / CORRAL_ETOOBIG when a path cannot be built (ids
 * are validated before they get here, so this means a bug or a corrupt znode name).
 */
#ifndef CORRAL_OPS_H
#define CORRAL_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/assignment.h"
#include "corral/done_entry.h"
#include "corral/election.h"
#include "corral/error.h"
#include "corral/task.h"
#include "corral/txn.h"

/* Indices of ops a caller maps a failure back to; -1 when the op is not in the txn. */
struct corral_op_index {
    int task;  /* create or set of the task znode */
    int queue; /* create of the queue entry */
    int idem;  /* create of the idempotency record */
    int done;  /* create of the done-index entry (a change that makes the task final) */
};

/* Submit (any replica): create the task (queued or scheduled) and its queue entry, the
 * idempotency record when the spec has a key, and bump the queue signal. */
CORRAL_NODISCARD int corral_ops_submit(struct corral_txn *txn, const char *ns,
                                       const struct corral_task *t, struct corral_op_index *idx);

/* Assign (leader): t after CORRAL_EV_ASSIGN, read at version, whose queue entry was
 * entry_name (corral_queue_entry_name of the task before the transition). Fence, check that the
 * worker is still registered, set the task, delete the entry, create assign/<w> when
 * create_dir, create the assignment made for registration reg. */
CORRAL_NODISCARD int corral_ops_assign(struct corral_txn *txn, const char *ns, const char *fence,
                                       const struct corral_task *t, int32_t version,
                                       const char *entry_name, const char *reg, bool create_dir);

/* Start (worker): t after CORRAL_EV_START. Fence on the assignment, set the task. */
CORRAL_NODISCARD int corral_ops_start(struct corral_txn *txn, const char *ns,
                                      const struct corral_task *t, int32_t version);

/*
 * Release an assignment: the end of an attempt, written by its worker (fence == NULL: fenced by
 * the assignment itself) or by the leader for a lost worker (fence = its election node). t is
 * after the transition (SUCCEED, FAIL, TIMEOUT, WORKER_LOST, CANCELLED, RETURN) and worker is
 * the one whose assignment goes. Set the task, delete assign/<worker>/<id>, create the queue
 * entry when t is queued again or the done entry when t is final, bump the queue signal.
 */
CORRAL_NODISCARD int corral_ops_release(struct corral_txn *txn, const char *ns, const char *fence,
                                        const char *worker, const struct corral_task *t,
                                        int32_t version, struct corral_op_index *idx);

/*
 * Cancel (any replica): t after CORRAL_EV_CANCEL, read at version; before is its state before.
 * A queued or scheduled task loses its queue entry and gets its done entry (it is final at once);
 * an assigned or running one gets "cancel" in its assignment (a, read at a_version), which its
 * worker watches.
 */
CORRAL_NODISCARD int corral_ops_cancel(struct corral_txn *txn, const char *ns,
                                       const struct corral_task *t, int32_t version,
                                       enum corral_state before, const struct corral_assignment *a,
                                       int32_t a_version);

/* Show why a queued task waits (leader): set the task at version. */
CORRAL_NODISCARD int corral_ops_update(struct corral_txn *txn, const char *ns, const char *fence,
                                       const struct corral_task *t, int32_t version);

/* Release a due delayed task (leader): t after CORRAL_EV_RELEASE (scheduled -> queued), set at
 * version; its queue entry stays (it already carries the due time). */
CORRAL_NODISCARD int corral_ops_release_due(struct corral_txn *txn, const char *ns,
                                            const char *fence, const struct corral_task *t,
                                            int32_t version);

/* Retention (leader): delete a finished task at version, its idempotency record and its done
 * entry (computed from t). */
CORRAL_NODISCARD int corral_ops_retire(struct corral_txn *txn, const char *ns, const char *fence,
                                       const struct corral_task *t, int32_t version);
/* Retention of a finished task that has no done entry (finished before the index existed):
 * delete it at version and its idempotency record. */
CORRAL_NODISCARD int corral_ops_retire_unindexed(struct corral_txn *txn, const char *ns,
                                                 const char *fence, const struct corral_task *t,
                                                 int32_t version);
/* Retention through the index: delete the task of entry e (at version; -1 when it was not
 * read: a finished task is never written again), e itself, and the idempotency record of key
 * (NULL: none, or unknown because the task could not be read). */
CORRAL_NODISCARD int corral_ops_retire_entry(struct corral_txn *txn, const char *ns,
                                             const char *fence, const struct corral_done_entry *e,
                                             int32_t version, const char *key);
/* An entry whose task is gone: delete the entry alone. */
CORRAL_NODISCARD int corral_ops_drop_done_entry(struct corral_txn *txn, const char *ns,
                                                const char *fence,
                                                const struct corral_done_entry *e);
/* Folders of the done index (leader): create one (prepared ahead of time) or delete an empty
 * one (past, pruned), fenced. path comes from corral/done_entry.h. */
CORRAL_NODISCARD int corral_ops_make_dir(struct corral_txn *txn, const char *fence,
                                         const char *path);
CORRAL_NODISCARD int corral_ops_drop_dir(struct corral_txn *txn, const char *fence,
                                         const char *path);

/*
 * A commit of txn failed with CORRAL_ENOTFOUND on op failed_op. When that op creates a
 * done-index entry or a queue entry, its folder is one corral makes on demand (a time slot the
 * leader has not prepared or already pruned, a queue bucket): returns true with the folder's
 * path in buf; the caller creates it with its missing parents (zk_ensure_path) and commits the
 * same change again. False for any other op: a missing parent there means the namespace is
 * gone, and nothing may be created.
 */
bool corral_ops_missing_dir(const struct corral_txn *txn, const char *ns, int failed_op, char *buf,
                            size_t n);

/*
 * Dependencies (docs/workflows.md "Task dependencies"). At submit, for each dependency of a new
 * dependent: set the dependency (dep, after corral_task_add_dependent, read at dep_version; NULL
 * when it is created in the same multi) and, while it has not succeeded, create the edge
 * deps/<bb>/<dep>.<dependent> that the leader resolves.
 */
CORRAL_NODISCARD int corral_ops_link_dependency(struct corral_txn *txn, const char *ns,
                                                const struct corral_task *dep, int32_t dep_version,
                                                const char *dep_id, const char *dependent_id,
                                                bool edge);
/*
 * Resolve an edge (leader): fence; when the dependent changes (dependent non-NULL, after
 * DEPS_MET or CANCEL, read at version) set it, with its queue entry when it is queued now or
 * its done entry when final; delete the edge.
 */
CORRAL_NODISCARD int corral_ops_resolve_edge(struct corral_txn *txn, const char *ns,
                                             const char *fence, const struct corral_task *dependent,
                                             int32_t version, const char *dep_id,
                                             const char *dependent_id);

/*
 * A cron schedule's znode (corral/schedule.h): create it (version < 0, no fence: any replica
 * stores a new schedule like a submit), or set it at version (fence = the leader's election node
 * for a fire, NULL for a replica's pause, resume or trigger). A fire's tasks are added to the
 * same txn with corral_ops_submit, so the fire is recorded exactly when its tasks exist.
 */
CORRAL_NODISCARD int corral_ops_schedule_write(struct corral_txn *txn, const char *ns,
                                               const char *fence, const char *name,
                                               const char *data, int32_t version);
/*
 * Write the fleet record of worker (corral/fleet.h): set it at version (-1: any) when it exists,
 * else create it; with data NULL, delete it at version. fence: the leader's election node for
 * the failure rule's cordon, NULL for an operator's request through any replica.
 */
CORRAL_NODISCARD int corral_ops_fleet_write(struct corral_txn *txn, const char *ns,
                                            const char *fence, const char *worker, const char *data,
                                            bool exists, int32_t version);

/* Repairs (leader): a stale assignment, an empty assign/<worker> folder, an orphan queue
 * entry (by its name as listed). */
CORRAL_NODISCARD int corral_ops_drop_assignment(struct corral_txn *txn, const char *ns,
                                                const char *fence, const char *worker,
                                                const char *id);
CORRAL_NODISCARD int corral_ops_drop_assign_dir(struct corral_txn *txn, const char *ns,
                                                const char *fence, const char *worker);
CORRAL_NODISCARD int corral_ops_drop_queue_entry(struct corral_txn *txn, const char *ns,
                                                 const char *fence, const char *entry_name);
/* Rewrite (leader): the queued task t is listed under entry_name, which is not its canonical
 * entry (the bare-id form of older versions, or any odd name): fence, delete the listed entry,
 * create the canonical one. */
CORRAL_NODISCARD int corral_ops_rewrite_queue_entry(struct corral_txn *txn, const char *ns,
                                                    const char *fence, const char *entry_name,
                                                    const struct corral_task *t);

/*
 * The events feed (corral/event.h). A worker's state in the feed: fence = the leader's election
 * node (a worker it saw leave: "gone"), or NULL for the worker's own announcement ("active" at
 * registration), which then checks that its registration exists. Seal (leader): create
 * generation gen + 1 and mark gen sealed (set at version 0, so that it happens once), fenced.
 * Trim (leader): delete the event znodes names[0..n) of generation gen and, when folder, the
 * folder itself (after them), fenced.
 */
CORRAL_NODISCARD int corral_ops_worker_event(struct corral_txn *txn, const char *ns,
                                             const char *fence, const char *worker,
                                             const char *state);
CORRAL_NODISCARD int corral_ops_events_seal(struct corral_txn *txn, const char *ns,
                                            const char *fence, int64_t gen, int64_t now_ms);
CORRAL_NODISCARD int corral_ops_events_trim(struct corral_txn *txn, const char *ns,
                                            const char *fence, int64_t gen,
                                            const char *const *names, size_t n, bool folder);

/*
 * Live output (corral/output.h). Follow (any replica): set follow_until_ms in the assignment a
 * of worker (read at a_version; its other fields kept). Publish (worker): the record data of
 * the task id into output/<id> (create unless exists), fenced by the worker's assignment.
 * Drop (leader): delete output/<id> at version, fenced.
 */
CORRAL_NODISCARD int corral_ops_follow(struct corral_txn *txn, const char *ns,
                                       const struct corral_assignment *a, int32_t a_version,
                                       const char *worker, int64_t until_ms);
CORRAL_NODISCARD int corral_ops_output_publish(struct corral_txn *txn, const char *ns,
                                               const char *worker, const char *id, const char *data,
                                               size_t len, bool exists);
CORRAL_NODISCARD int corral_ops_output_drop(struct corral_txn *txn, const char *ns,
                                            const char *fence, const char *id, int32_t version);

/* Leader record (leader): set <ns>/leader to info (claim and heartbeat). */
CORRAL_NODISCARD int corral_ops_leader_record(struct corral_txn *txn, const char *ns,
                                              const char *fence,
                                              const struct corral_replica_info *info);

#endif
