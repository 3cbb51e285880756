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

#define CORRAL_TXN_MAX_OPS 4094 /* more is CORRAL_ETOOBIG at commit (the feed's 2 ops fit) */

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
    /* The changes this txn makes, for the events feed (corral/event.h): events_n JSON objects,
     * comma-separated, in events (events_len bytes); events_ns is the namespace their znode
     * goes under. The commit adds the event znode's two ops after ops[n-1]. */
    char *events;
    size_t events_len, events_cap;
    size_t events_n;
    char *events_ns;
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

/* Record one change (a JSON object of len bytes, from corral/event.h) for the events feed of
 * namespace ns. */
void corral_txn_add_event(struct corral_txn *t, const char *ns, const char *obj, size_t len);
/* Copy the recorded changes of src after those of dst (a batch gathers its members'). */
void corral_txn_copy_events(struct corral_txn *dst, const struct corral_txn *src);
/* Ops the commit adds for the events feed: 2 when changes are recorded, else 0. */
#define CORRAL_TXN_EVENT_OPS(t) ((t)->events_n > 0 ? 2u : 0u)

/* Index of the first op of kind on path, or -1. For callers that map a failed op back. */
int corral_txn_find(const struct corral_txn *t, enum corral_op_kind kind, const char *path);

/* Bytes the request will roughly take on the wire (paths, data, per-op overhead): callers keep
 * it under ZooKeeper's 1 MiB request limit (CORRAL_TXN_WIRE_MAX). */
size_t corral_txn_wire_bytes(const struct corral_txn *t);
#define CORRAL_TXN_WIRE_MAX (1000u * 1000u)

const char *corral_op_kind_name(enum corral_op_kind k);

#endif
