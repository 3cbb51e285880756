/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, multis: build a list of create/delete/set/check ops (fences are checks
 * whose failure means the writer lost its right to write) and commit them as one zoo_multi,
 * all or nothing. Test builds pass each labelled commit through the failpoints.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* One multi on its way: the request and where its answer goes. */
struct pending {
    zoo_op_t *ops;
    zoo_op_result_t *res;
    struct Stat *stats;
    struct zk_acl_buf **acls; /* of the create ops */
    enum zk_fp_action fp;
};

static void on_multi_done(int rc, const void *data)
{
    const struct zk_pipe_req *req = data;
    zk_pipe_answered(req->pipe, req->i, rc);
}

static void build_ops(struct zk *zk, const struct zk_multi *m, struct pending *p)
{
    p->ops = corral_xcalloc(m->n, sizeof *p->ops);
    p->res = corral_xcalloc(m->n, sizeof *p->res);
    p->stats = corral_xcalloc(m->n, sizeof *p->stats);
    p->acls = corral_xcalloc(m->n, sizeof *p->acls);
    bool per_path = zk_acl_has_setup(zk);
    for (size_t i = 0; i < m->n; i++) {
        const struct multi_op *op = &m->ops[i];
        int dlen = op->data ? (int)op->len : -1;
        switch (op->kind) {
            case OP_CREATE:
                /* Per-path ACLs need room for each create's own; otherwise one ACL for all. */
                if (per_path)
                    p->acls[i] = corral_xmalloc(sizeof *p->acls[i]);
                zoo_create_op_init(&p->ops[i], op->path, op->data, dlen,
                                   per_path ? zk_acl_for(zk, op->path, p->acls[i]) : zk_acl(zk),
                                   zk_create_mode(op->flags), NULL, 0);
                break;
            case OP_DELETE:
                zoo_delete_op_init(&p->ops[i], op->path, op->version);
                break;
            case OP_SET:
                zoo_set_op_init(&p->ops[i], op->path, op->data, dlen, op->version, &p->stats[i]);
                break;
            case OP_CHECK:
                zoo_check_op_init(&p->ops[i], op->path, op->version);
                break;
        }
    }
}

/* The corral code of one answered multi; *failed_op is the op that failed, if one did. */
static int translate(const struct zk_multi *m, const struct pending *p, int rc, int *failed_op,
                     struct corral_error *err)
{
    int out = rc == ZOK ? CORRAL_OK : -1;
    /* Find the op that failed: the others report ZOK or ZRUNTIMEINCONSISTENCY. */
    for (size_t i = 0; out < 0 && i < m->n; i++) {
        int orc = p->res[i].err;
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
    return out;
}

void zk_multi_commit_many(struct zk *zk, struct zk_multi *const *ms, size_t n, int *rcs,
                          int *failed_ops, struct corral_error *errs)
{
    struct pending *ps = corral_xcalloc(n ? n : 1, sizeof *ps);
    struct zk_pipe_req *reqs = corral_xcalloc(n ? n : 1, sizeof *reqs);
    struct zk_pipe pipe;
    zk_pipe_init(&pipe, n);
    zhandle_t *zh = zk_acquire(zk);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t sent = 0;
    for (size_t i = 0; i < n; i++) {
        const struct zk_multi *m = ms[i];
        failed_ops[i] = -1;
        zk_pipe_sent(&pipe, i, ZCLOSING); /* until it is sent: no contact to note */
        if (m->overflow) {
            rcs[i] = corral_error_set(&errs[i], CORRAL_ETOOBIG, NULL, "multi over %d ops",
                                      ZK_MULTI_MAX_OPS);
            continue;
        }
        if (m->n == 0) {
            rcs[i] = CORRAL_OK;
            continue;
        }
        /* An expired (or rejected) session: nothing can be sent. libzookeeper_mt 3.8's
         * zoo_amulti frees the request twice on that path (a crash seen after SIGCONT of a
         * worker whose session expired while it was stopped), so it is not called then. */
        int state = zh ? zoo_state(zh) : 0;
        if (!zh || state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
            rcs[i] = corral_error_set(&errs[i], CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
            continue;
        }
        build_ops(zk, m, &ps[i]);
        ps[i].fp = zk_fp_before(m->label);
        reqs[i] = (struct zk_pipe_req){.pipe = &pipe, .i = i, .out = &ps[i]};
        zk_pipe_sent(&pipe, i,
                     zoo_amulti(zh, (int)m->n, ps[i].ops, ps[i].res, on_multi_done, &reqs[i]));
        sent++;
    }
    /* The handle stays held until every answer is in: the results point into ps. */
    zk_pipe_wait(zk, &pipe, n);
    zk_release(zk);
    if (sent > 0) { /* one round trip, however many multis went out together */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int64_t us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
        if (us < 0)
            us = 0;
        size_t b =
            corral_histo_index(corral_latency_le_s, CORRAL_LATENCY_BUCKETS, (double)us / 1e6);
        atomic_fetch_add(&zk->multi_lat[b], 1);
        atomic_fetch_add(&zk->multi_lat_sum_us, (uint_fast64_t)us);
    }
    for (size_t i = 0; i < n; i++) {
        if (!ps[i].ops)
            continue; /* answered above without a request */
        int rc = zk_fp_after(ms[i]->label, ps[i].fp, pipe.rcs[i]);
        rcs[i] = translate(ms[i], &ps[i], rc, &failed_ops[i], &errs[i]);
        for (size_t k = 0; k < ms[i]->n; k++)
            free(ps[i].acls[k]);
        free(ps[i].acls);
        free(ps[i].ops);
        free(ps[i].res);
        free(ps[i].stats);
    }
    zk_pipe_cleanup(&pipe);
    free(ps);
    free(reqs);
}

void zk_multi_latency(struct zk *zk, uint64_t counts[CORRAL_LATENCY_BUCKETS + 1], double *sum_s)
{
    for (size_t i = 0; i <= CORRAL_LATENCY_BUCKETS; i++)
        counts[i] = atomic_load(&zk->multi_lat[i]);
    *sum_s = (double)atomic_load(&zk->multi_lat_sum_us) / 1e6;
}

int zk_multi_commit(struct zk *zk, struct zk_multi *m, int *failed_op, struct corral_error *err)
{
    int rc = CORRAL_OK, failed = -1;
    zk_multi_commit_many(zk, &m, 1, &rc, &failed, err);
    if (failed_op)
        *failed_op = failed;
    return rc;
}
