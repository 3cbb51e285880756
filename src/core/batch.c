/* SPDX-License-Identifier: MIT */
/* Packing state changes into one multi (batch.h). */
#include <stdlib.h>
#include <string.h>

#include "corral/batch.h"
#include "corral/event.h"
#include "corral/xalloc.h"

void corral_batch_init(struct corral_batch *b, const char *label, size_t max_members,
                       size_t max_bytes)
{
    memset(b, 0, sizeof *b);
    corral_txn_init(&b->txn, label);
    b->max_members = max_members ? max_members : CORRAL_BATCH_MAX_MEMBERS;
    b->max_bytes = max_bytes ? max_bytes : CORRAL_BATCH_MAX_BYTES;
    b->wire_bytes = corral_txn_wire_bytes(&b->txn);
}

void corral_batch_cleanup(struct corral_batch *b)
{
    corral_txn_cleanup(&b->txn);
    free(b->owner);
    free(b->owner_op);
    b->owner = NULL;
    b->owner_op = NULL;
    b->cap_owner = 0;
    b->n_members = 0;
}

void corral_batch_reset(struct corral_batch *b)
{
    char label[sizeof b->txn.label];
    memcpy(label, b->txn.label, sizeof label);
    size_t max_members = b->max_members, max_bytes = b->max_bytes;
    corral_batch_cleanup(b);
    corral_batch_init(b, label, max_members, max_bytes);
}

/* An op every member may carry once for all: a fence or check, or a signal (data-less SET at
 * any version). */
static bool shareable(const struct corral_op *op)
{
    return op->kind == CORRAL_OP_FENCE || op->kind == CORRAL_OP_CHECK ||
           (op->kind == CORRAL_OP_SET && op->len == 0 && op->version == -1);
}

static int find_same(const struct corral_batch *b, const struct corral_op *op)
{
    for (size_t i = 0; i < b->txn.n; i++) {
        const struct corral_op *o = &b->txn.ops[i];
        if (o->kind == op->kind && o->version == op->version && o->len == op->len &&
            strcmp(o->path, op->path) == 0)
            return (int)i;
    }
    return -1;
}

bool corral_batch_add(struct corral_batch *b, const struct corral_txn *m)
{
    /* Bytes m adds at most (shared ops only make it less). */
    size_t add_bytes = corral_txn_wire_bytes(m) - corral_txn_wire_bytes(&(struct corral_txn){0});
    if (b->n_members > 0 &&
        (b->n_members + 1 > b->max_members || b->wire_bytes + add_bytes > b->max_bytes ||
         b->txn.n + m->n > CORRAL_TXN_MAX_OPS ||
         b->txn.events_n + m->events_n > CORRAL_EVENTS_PER_NODE_MAX))
        return false;
    int member = (int)b->n_members++;
    corral_txn_copy_events(&b->txn, m);
    for (size_t i = 0; i < m->n; i++) {
        const struct corral_op *op = &m->ops[i];
        int same = shareable(op) ? find_same(b, op) : -1;
        if (same >= 0) {
            b->owner[same] = -1;
            continue;
        }
        size_t k = 0;
        switch (op->kind) {
            case CORRAL_OP_CREATE:
                k = corral_txn_create(&b->txn, op->path, op->data, op->len);
                break;
            case CORRAL_OP_DELETE:
                k = corral_txn_delete(&b->txn, op->path, op->version);
                break;
            case CORRAL_OP_SET:
                k = corral_txn_set(&b->txn, op->path, op->data, op->len, op->version);
                break;
            case CORRAL_OP_CHECK:
                k = corral_txn_check(&b->txn, op->path, op->version);
                break;
            case CORRAL_OP_FENCE:
                k = corral_txn_fence(&b->txn, op->path, op->version);
                break;
        }
        if (k >= b->cap_owner) {
            b->cap_owner = b->cap_owner ? b->cap_owner * 2 : 16;
            while (b->cap_owner <= k)
                b->cap_owner *= 2;
            b->owner = corral_xrealloc(b->owner, b->cap_owner * sizeof *b->owner);
            b->owner_op = corral_xrealloc(b->owner_op, b->cap_owner * sizeof *b->owner_op);
        }
        b->owner[k] = member;
        b->owner_op[k] = (int)i;
    }
    b->wire_bytes = corral_txn_wire_bytes(&b->txn);
    return true;
}

int corral_batch_owner(const struct corral_batch *b, int op)
{
    if (op < 0 || (size_t)op >= b->txn.n)
        return -1;
    return b->owner[op];
}

int corral_batch_owner_op(const struct corral_batch *b, int op)
{
    if (corral_batch_owner(b, op) < 0)
        return -1;
    return b->owner_op[op];
}

void corral_batch_commit_members(const char *label, const struct corral_txn *ms, size_t n,
                                 corral_batch_commit_fn commit, void *ctx, int *rcs,
                                 int *failed_ops, struct corral_error *errs)
{
    size_t cap = n ? n : 1;
    bool *pending = corral_xcalloc(cap, sizeof *pending);
    struct corral_batch *bs = corral_xcalloc(cap, sizeof *bs);
    size_t *first = corral_xcalloc(cap + 1, sizeof *first); /* batch k: who[first[k]..] */
    size_t *who = corral_xcalloc(cap, sizeof *who);         /* members, in batch order */
    const struct corral_txn **ts = corral_xcalloc(cap, sizeof *ts);
    int *brc = corral_xcalloc(cap, sizeof *brc);
    int *failed = corral_xcalloc(cap, sizeof *failed);
    struct corral_error *berr = corral_xcalloc(cap, sizeof *berr);
    for (size_t i = 0; i < n; i++)
        pending[i] = true;
    for (size_t pass = 0; pass < n; pass++) {
        size_t nb = 0, nw = 0;
        for (size_t i = 0; i < n; i++) {
            if (!pending[i])
                continue;
            if (nb == 0 || !corral_batch_add(&bs[nb - 1], &ms[i])) {
                corral_batch_init(&bs[nb], label, 0, 0);
                (void)corral_batch_add(&bs[nb], &ms[i]);
                first[nb++] = nw;
            }
            who[nw++] = i;
        }
        if (nb == 0)
            break;
        first[nb] = nw;
        for (size_t k = 0; k < nb; k++) {
            ts[k] = &bs[k].txn;
            failed[k] = -1;
        }
        commit(ctx, ts, nb, brc, failed, berr);
        for (size_t k = 0; k < nb; k++) {
            int owner = corral_batch_owner(&bs[k], failed[k]);
            for (size_t j = first[k]; j < first[k + 1]; j++) {
                size_t i = who[j];
                /* Settled: the multi went through, or failed on this member's own op, or on
                 * one every member shares. Otherwise it goes again without the culprit. */
                if (brc[k] == CORRAL_OK || owner < 0 || (size_t)owner == j - first[k]) {
                    pending[i] = false;
                    rcs[i] = brc[k];
                    if (failed_ops)
                        failed_ops[i] = owner >= 0 ? corral_batch_owner_op(&bs[k], failed[k]) : -1;
                    if (brc[k] != CORRAL_OK)
                        errs[i] = berr[k];
                }
            }
            corral_batch_cleanup(&bs[k]);
        }
    }
    free(pending);
    free(bs);
    free(first);
    free(who);
    free(ts);
    free(brc);
    free(failed);
    free(berr);
}
