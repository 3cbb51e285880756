/* SPDX-License-Identifier: MIT */
/*
 * A transaction: the list of ZooKeeper operations of one state change, built by the pure core
 * (corral/ops.h decides which ops a change needs) and executed as one multi by io/zk
 * (zk_txn_commit). Plain data: paths and payloads are copied in, nothing here talks to a server.
 * Only persistent creates exist here: ephemeral nodes are never part of a multi in corral.
 */
#ifndef CORRAL_TXN_H
#define CORRAL_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

#define CORRAL_TXN_MAX_OPS 4096 /* more is CORRAL_ETOOBIG at commit */

enum corral_op_kind {
    CORRAL_OP_CREATE, /* persistent node with data */
    CORRAL_OP_DELETE, /* at version (-1: any) */
    CORRAL_OP_SET,    /* data at version (-1: any) */
    CORRAL_OP_CHECK,  /* the node exists (at version; -1: any) */
    CORRAL_OP_FENCE,  /* a CHECK whose failure means "this writer lost its right to write" */
};

struct corral_op {
    enum corral_op_kind kind;
    char *path; /* owned */
    char *data; /* owned; NULL for none (CREATE/SET store an empty node then) */
    size_t len; /* bytes of data */
    int32_t version;
};

struct corral_txn {
    char label[32]; /* "leader.assign": logs, and failpoints in test builds */
    struct corral_op *ops;
    size_t n, cap;
};

/* Empty transaction named label (copied, truncated to fit). Cannot fail. */
void corral_txn_init(struct corral_txn *t, const char *label);
/* Free every op; idempotent; works on a zeroed struct. */
void corral_txn_cleanup(struct corral_txn *t);

/* Append an op; path and data are copied. Each returns the index of the new op. */
size_t corral_txn_create(struct corral_txn *t, const char *path, const void *data, size_t len);
size_t corral_txn_delete(struct corral_txn *t, const char *path, int32_t version);
size_t corral_txn_set(struct corral_txn *t, const char *path, const void *data, size_t len,
                      int32_t version);
size_t corral_txn_check(struct corral_txn *t, const char *path, int32_t version);
size_t corral_txn_fence(struct corral_txn *t, const char *path, int32_t version);

/* Index of the first op of kind on path, or -1. For callers that map a failed op back. */
int corral_txn_find(const struct corral_txn *t, enum corral_op_kind kind, const char *path);

/* Bytes the request will roughly take on the wire (paths, data, per-op overhead): callers keep
 * it under ZooKeeper's 1 MiB request limit (CORRAL_TXN_WIRE_MAX). */
size_t corral_txn_wire_bytes(const struct corral_txn *t);
#define CORRAL_TXN_WIRE_MAX (1000u * 1000u)

const char *corral_op_kind_name(enum corral_op_kind k);

#endif
