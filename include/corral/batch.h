/* SPDX-License-Identifier: MIT */
/*
 * Packing many state changes into one multi (docs/znodes.md "Batches"). Each change is built
 * as its own transaction (corral/ops.h); a batch appends them into one transaction, shares the
 * ops that are the same in every member (the writer's fence, the queue signal), stays under
 * ZooKeeper's request limit, and maps a failed op back to the member that owns it, so that one
 * bad change can be dropped and the rest committed again. Pure.
 */
#ifndef CORRAL_BATCH_H
#define CORRAL_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/txn.h"

/* Defaults for callers: members per multi and bytes per multi (well under 1 MiB). */
#define CORRAL_BATCH_MAX_MEMBERS 128u
#define CORRAL_BATCH_MAX_BYTES   (512u * 1024u)

struct corral_batch {
    struct corral_txn txn; /* the multi to commit */
    int *owner;            /* per op of txn: its member, or -1 for an op members share */
    int *owner_op;         /* per op of txn: its index in its member's own transaction */
    size_t cap_owner;
    size_t n_members;
    size_t wire_bytes; /* corral_txn_wire_bytes(&txn), kept as members are added */
    size_t max_members, max_bytes;
};

/* Empty batch labelled label (the failpoint and log label of its commits). max_members and
 * max_bytes of 0 take the defaults above. */
void corral_batch_init(struct corral_batch *b, const char *label, size_t max_members,
                       size_t max_bytes);
void corral_batch_cleanup(struct corral_batch *b);
/* Empty it again, keeping label and limits. */
void corral_batch_reset(struct corral_batch *b);

/*
 * Append the ops of member m (its index is b->n_members before the call). A FENCE or CHECK
 * identical to one already in the batch, and a SET without data at version -1 of a path
 * already set that way (a signal), are shared instead of repeated. Returns false and adds
 * nothing when the batch already holds a member and m would take it past its limits; a lone
 * member is always added (if it alone is too big, its commit says so).
 */
bool corral_batch_add(struct corral_batch *b, const struct corral_txn *m);

/* The member owning op i of the batch's txn; -1 for a shared op or an index out of range
 * (a failure there concerns every member). */
int corral_batch_owner(const struct corral_batch *b, int op);
/* The index of op i of the batch's txn in its member's own transaction; -1 for a shared op. */
int corral_batch_owner_op(const struct corral_batch *b, int op);

/*
 * Commit n independent changes ms[0..n) in as few multis as fit, through commit (which sends
 * the multis of one pass and answers each with a code, the index of the op that failed or -1,
 * and an error). rcs[i]/errs[i] is member i's own result (failed_ops[i], when failed_ops is not
 * NULL: the index in ms[i] of its op that failed, -1 when none of its own did): a multi that
 * fails on one member's
 * op settles that member with the failure and goes again without it; a failure of a shared op
 * (the fence) or of the whole multi (outcome unknown, no session) settles every member in it.
 * Every pass settles at least one member, so commit is called at most n times. Pure: the seam
 * is commit (io/zk_txn.c in production, a fake in the unit tests).
 */
typedef void (*corral_batch_commit_fn)(void *ctx, const struct corral_txn *const *ts, size_t n,
                                       int *rcs, int *failed_ops, struct corral_error *errs);
void corral_batch_commit_members(const char *label, const struct corral_txn *ms, size_t n,
                                 corral_batch_commit_fn commit, void *ctx, int *rcs,
                                 int *failed_ops, struct corral_error *errs);

#endif
