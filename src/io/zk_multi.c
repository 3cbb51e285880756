/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, multis: build a list of create/delete/set/check ops (fences are checks
 * whose failure means the writer lost its right to write) and commit them as one zoo_multi,
 * all or nothing. Test builds pass each labelled commit through the failpoints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/xalloc.h"
#include "io/zk_internal.h"

enum op_kind { OP_CREATE, OP_DELETE, OP_SET, OP_CHECK };

struct multi_op {
    enum op_kind kind;
    char *path;
    char *data; /* NULL = no data */
    size_t len;
    int32_t version;
    int flags;
    bool fence;
};

struct zk_multi {
    struct multi_op *ops; /* n used of cap */
    size_t n, cap;
    bool overflow;
    char label[32];
};

void zk_multi_label(struct zk_multi *m, const char *label)
{
    snprintf(m->label, sizeof m->label, "%s", label);
}

struct zk_multi *zk_multi_new(void)
{
    return corral_xcalloc(1, sizeof(struct zk_multi));
}

void zk_multi_free(struct zk_multi *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->ops[i].path);
        free(m->ops[i].data);
    }
    free(m->ops);
    free(m);
}

static struct multi_op *add_op(struct zk_multi *m, enum op_kind kind, const char *path,
                               const void *data, size_t len, int32_t version)
{
    if (m->n >= ZK_MULTI_MAX_OPS) {
        m->overflow = true;
        return NULL;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        m->ops = corral_xrealloc(m->ops, cap * sizeof *m->ops);
        m->cap = cap;
    }
    struct multi_op *op = &m->ops[m->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->path = corral_xstrdup(path);
    if (data) {
        op->data = corral_xmalloc(len);
        memcpy(op->data, data, len);
        op->len = len;
    }
    op->version = version;
    return op;
}

void zk_multi_create(struct zk_multi *m, const char *path, const void *data, size_t len, int flags)
{
    struct multi_op *op = add_op(m, OP_CREATE, path, data, len, -1);
    if (op)
        op->flags = flags;
}

void zk_multi_delete(struct zk_multi *m, const char *path, int32_t version)
{
    (void)add_op(m, OP_DELETE, path, NULL, 0, version);
}

void zk_multi_set(struct zk_multi *m, const char *path, const void *data, size_t len,
                  int32_t version)
{
    (void)add_op(m, OP_SET, path, data, len, version);
}

void zk_multi_check(struct zk_multi *m, const char *path, int32_t version)
{
    (void)add_op(m, OP_CHECK, path, NULL, 0, version);
}

void zk_multi_fence(struct zk_multi *m, const char *path, int32_t version)
{
    struct multi_op *op = add_op(m, OP_CHECK, path, NULL, 0, version);
    if (op)
        op->fence = true;
}

size_t zk_multi_count(const struct zk_multi *m)
{
    return m->n;
}

static const char *op_name(enum op_kind k)
{
    static const char *const names[] = {"create", "delete", "set", "check"};
    return names[k];
}

int zk_multi_commit(struct zk *zk, struct zk_multi *m, int *failed_op, struct corral_error *err)
{
    if (failed_op)
        *failed_op = -1;
    if (m->overflow)
        return corral_error_set(err, CORRAL_ETOOBIG, NULL, "multi over %d ops", ZK_MULTI_MAX_OPS);
    if (m->n == 0)
        return CORRAL_OK;
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    zoo_op_t *ops = corral_xcalloc(m->n, sizeof *ops);
    zoo_op_result_t *res = corral_xcalloc(m->n, sizeof *res);
    struct Stat *stats = corral_xcalloc(m->n, sizeof *stats);
    for (size_t i = 0; i < m->n; i++) {
        struct multi_op *op = &m->ops[i];
        int dlen = op->data ? (int)op->len : -1;
        switch (op->kind) {
            case OP_CREATE:
                zoo_create_op_init(&ops[i], op->path, op->data, dlen, zk_acl(zk),
                                   zk_create_mode(op->flags), NULL, 0);
                break;
            case OP_DELETE:
                zoo_delete_op_init(&ops[i], op->path, op->version);
                break;
            case OP_SET:
                zoo_set_op_init(&ops[i], op->path, op->data, dlen, op->version, &stats[i]);
                break;
            case OP_CHECK:
                zoo_check_op_init(&ops[i], op->path, op->version);
                break;
        }
    }
    enum zk_fp_action fp = zk_fp_before(m->label);
    int rc = zoo_multi(zh, (int)m->n, ops, res);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    rc = zk_fp_after(m->label, fp, rc);
    int out = rc == ZOK ? CORRAL_OK : -1;
    /* Find the op that failed: the others report ZOK or ZRUNTIMEINCONSISTENCY. */
    for (size_t i = 0; out < 0 && i < m->n; i++) {
        int orc = res[i].err;
        if (orc == ZOK || orc == ZRUNTIMEINCONSISTENCY || orc != rc)
            continue;
        if (failed_op)
            *failed_op = (int)i;
        if (m->ops[i].fence && (orc == ZNONODE || orc == ZBADVERSION))
            out = corral_error_set(err, CORRAL_EFENCED, NULL, "fence %s no longer holds",
                                   m->ops[i].path);
        else
            out = zk_translate(orc, false, op_name(m->ops[i].kind), m->ops[i].path, err);
    }
    if (out < 0)
        out = zk_translate(rc, false, "multi", m->ops[0].path, err);
    free(ops);
    free(res);
    free(stats);
    return out;
}
