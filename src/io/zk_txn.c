/* SPDX-License-Identifier: MIT */
/*
 * A core transaction as one zoo_multi (zk_txn.h). A transaction that records changes for the
 * events feed gets two more ops here (corral/event.h): a check that the current generation
 * folder is still unsealed (data version 0) and the sequential create of its event znode. When
 * that check fails (the leader sealed the generation, or trimmed it), the generation is looked
 * up again and the multi sent again: nothing of it was applied.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/batch.h"
#include "corral/event.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_txn.h"

/* Commits sent again after a sealed generation, at most. */
#define CORRAL_LOG_MODULE "zk"
#define EVENT_RETRIES     4

static bool too_big(const struct corral_txn *t, struct corral_error *err)
{
    if (t->n <= CORRAL_TXN_MAX_OPS && t->events_n <= CORRAL_EVENTS_PER_NODE_MAX &&
        corral_txn_wire_bytes(t) <= CORRAL_TXN_WIRE_MAX)
        return false;
    corral_error_set(err, CORRAL_ETOOBIG, NULL,
                     "%s: %zu ops, about %zu bytes: over ZooKeeper's request limit", t->label, t->n,
                     corral_txn_wire_bytes(t));
    return true;
}

/*
 * The current generation of ns's feed, looked up when unknown or when force: the newest folder
 * under events/; the first one is created when there is none (a new namespace). 0 with err when
 * ZooKeeper cannot say.
 */
static int64_t events_gen(struct zk *zk, const char *ns, bool force, struct corral_error *err)
{
    int64_t gen = zk_events_gen(zk);
    if (gen > 0 && !force)
        return gen;
    char dir[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    if (corral_path_dir(dir, sizeof dir, ns, CORRAL_DIR_EVENTS) != CORRAL_OK ||
        corral_path_events_gen(path, sizeof path, ns, 1) != CORRAL_OK) {
        corral_error_set(err, CORRAL_EINVAL, NULL, "events: namespace %s too long", ns);
        return 0;
    }
    struct corral_strlist names = {0};
    int rc = zk_children(zk, dir, false, &names, err);
    if (rc == CORRAL_ENOTFOUND) {
        *err = (struct corral_error){0};
        rc = zk_ensure_path(zk, dir, err);
    }
    gen = 0;
    for (size_t i = 0; rc == CORRAL_OK && i < names.n; i++) {
        int64_t g = corral_event_gen_parse(names.items[i]);
        if (g > gen)
            gen = g;
    }
    corral_strlist_cleanup(&names);
    if (rc == CORRAL_OK && gen == 0) {
        rc = zk_create(zk, path, NULL, 0, ZK_PERSISTENT, NULL, 0, err);
        if (rc == CORRAL_EEXIST) {
            *err = (struct corral_error){0};
            rc = CORRAL_OK;
        }
        gen = 1;
    }
    if (rc != CORRAL_OK)
        return 0;
    zk_events_gen_set(zk, gen);
    return gen;
}

/* Append the feed's two ops for t's recorded changes, in generation gen. */
static void add_event_ops(struct zk_multi *m, const struct corral_txn *t, int64_t gen)
{
    char dir[CORRAL_PATH_MAX], prefix[CORRAL_PATH_MAX];
    if (corral_path_events_gen(dir, sizeof dir, t->events_ns, gen) != CORRAL_OK ||
        corral_path_event_prefix(prefix, sizeof prefix, t->events_ns, gen) != CORRAL_OK)
        return; /* gen and ns were checked by events_gen */
    size_t len = 0;
    char *data = corral_event_node_data(t, &len);
    zk_multi_check(m, dir, 0);
    zk_multi_create(m, prefix, data, len, ZK_PERSISTENT | ZK_SEQUENCE);
    free(data);
}

static struct zk_multi *to_multi(const struct corral_txn *t, int64_t gen)
{
    struct zk_multi *m = zk_multi_new();
    zk_multi_label(m, t->label);
    for (size_t i = 0; i < t->n; i++) {
        const struct corral_op *op = &t->ops[i];
        switch (op->kind) {
            case CORRAL_OP_CREATE:
                zk_multi_create(m, op->path, op->data, op->len, ZK_PERSISTENT);
                break;
            case CORRAL_OP_DELETE:
                zk_multi_delete(m, op->path, op->version);
                break;
            case CORRAL_OP_SET:
                zk_multi_set(m, op->path, op->data, op->len, op->version);
                break;
            case CORRAL_OP_CHECK:
                zk_multi_check(m, op->path, op->version);
                break;
            case CORRAL_OP_FENCE:
                zk_multi_fence(m, op->path, op->version);
                break;
        }
    }
    if (t->events_n > 0 && gen > 0)
        add_event_ops(m, t, gen);
    return m;
}

/* Did commit of t fail on the feed's ops (its generation sealed or gone)? */
static bool failed_on_events(const struct corral_txn *t, int rc, int failed_op)
{
    return t->events_n > 0 && failed_op >= 0 && (size_t)failed_op >= t->n &&
           (rc == CORRAL_ECONFLICT || rc == CORRAL_ENOTFOUND || rc == CORRAL_EEXIST);
}

/* Did the feed's create of t find its sequential name taken? ZooKeeper names it from the
 * folder's child count, so a node made under a name ahead of the count (a worker credential
 * can make one) stops every writer of this generation once the count reaches it. */
static bool name_taken(const struct corral_txn *t, int rc, int failed_op)
{
    return t->events_n > 0 && rc == CORRAL_EEXIST && failed_op >= 0 &&
           (size_t)failed_op == t->n + 1;
}

/* Seal generation gen and open the next one, as the leader does when a generation is full
 * (corral_ops_events_seal without its fence: sealing twice is refused by the version, and a
 * seal is right whoever makes it); a replica's writer does this when gen is squatted. */
static void seal_squatted(struct zk *zk, const char *ns, int64_t gen)
{
    char path[CORRAL_PATH_MAX], next[CORRAL_PATH_MAX];
    if (corral_path_events_gen(path, sizeof path, ns, gen) != CORRAL_OK ||
        corral_path_events_gen(next, sizeof next, ns, gen + 1) != CORRAL_OK)
        return;
    struct zk_multi *m = zk_multi_new();
    zk_multi_label(m, "corrald.events_unsquat");
    zk_multi_create(m, next, NULL, 0, ZK_PERSISTENT);
    char *data = corral_event_seal_encode(clock_wall_ms());
    zk_multi_set(m, path, data, strlen(data), 0);
    free(data);
    struct corral_error err = {0};
    int rc = zk_multi_commit(zk, m, NULL, &err);
    zk_multi_free(m);
    CORRAL_LOG(CORRAL_LOG_WARN,
               "events feed: generation %lld holds a node under a name its writers need (made "
               "by hand or by a worker credential); %s",
               (long long)gen,
               rc == CORRAL_OK ? "sealed it, writers move to the next one"
                               : "it was sealed meanwhile");
}

int zk_txn_commit(struct zk *zk, const struct corral_txn *t, int *failed_op,
                  struct corral_error *err)
{
    int rc = CORRAL_OK, failed = -1;
    zk_txn_commit_many(zk, &t, 1, &rc, &failed, err);
    if (failed_op)
        *failed_op = failed;
    return rc;
}

/* One pass: send ts[i] for each todo[i], as multis in generation gen. */
static void send_pass(struct zk *zk, const struct corral_txn *const *ts, size_t n, const bool *todo,
                      int64_t gen, int *rcs, int *failed_ops, struct corral_error *errs)
{
    struct zk_multi **ms = corral_xcalloc(n ? n : 1, sizeof *ms);
    int *prc = corral_xcalloc(n ? n : 1, sizeof *prc);
    int *pfo = corral_xcalloc(n ? n : 1, sizeof *pfo);
    struct corral_error *perr = corral_xcalloc(n ? n : 1, sizeof *perr);
    size_t k = 0;
    size_t *at = corral_xcalloc(n ? n : 1, sizeof *at);
    for (size_t i = 0; i < n; i++)
        if (todo[i]) {
            ms[k] = to_multi(ts[i], gen);
            at[k++] = i;
        }
    zk_multi_commit_many(zk, ms, k, prc, pfo, perr);
    for (size_t j = 0; j < k; j++) {
        size_t i = at[j];
        rcs[i] = prc[j];
        failed_ops[i] = pfo[j];
        errs[i] = perr[j];
        zk_multi_free(ms[j]);
    }
    free(at);
    free(perr);
    free(pfo);
    free(prc);
    free(ms);
}

void zk_txn_commit_many(struct zk *zk, const struct corral_txn *const *ts, size_t n, int *rcs,
                        int *failed_ops, struct corral_error *errs)
{
    bool *todo = corral_xcalloc(n ? n : 1, sizeof *todo);
    const char *ns = NULL;
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        failed_ops[i] = -1;
        rcs[i] = CORRAL_OK;
        if (ts[i]->n == 0 && ts[i]->events_n == 0)
            continue;
        if (too_big(ts[i], &errs[i])) {
            rcs[i] = CORRAL_ETOOBIG;
            continue;
        }
        if (ts[i]->events_n > 0 && !ns)
            ns = ts[i]->events_ns;
        todo[i] = true;
        left++;
    }
    int64_t gen = 0;
    for (int pass = 0; left > 0 && pass <= EVENT_RETRIES; pass++) {
        if (ns) { /* a generation is needed: the cached one, or a fresh one after a seal */
            struct corral_error gerr = {0};
            gen = events_gen(zk, ns, pass > 0, &gerr);
            if (gen == 0) {
                for (size_t i = 0; i < n; i++)
                    if (todo[i] && ts[i]->events_n > 0) {
                        rcs[i] = gerr.code ? gerr.code : CORRAL_EUNAVAIL;
                        errs[i] = gerr;
                        todo[i] = false;
                        left--;
                    }
                if (left == 0)
                    break;
            }
        }
        send_pass(zk, ts, n, todo, gen, rcs, failed_ops, errs);
        left = 0;
        bool squatted = false;
        for (size_t i = 0; i < n; i++) {
            squatted |= todo[i] && name_taken(ts[i], rcs[i], failed_ops[i]);
            todo[i] = todo[i] && failed_on_events(ts[i], rcs[i], failed_ops[i]);
            left += todo[i];
        }
        if (squatted && gen > 0 && zk_events_may_seal(zk))
            seal_squatted(zk, ns, gen);
    }
    for (size_t i = 0; i < n; i++)
        if (todo[i]) { /* the generation moved under every pass: nothing was applied */
            errs[i] = (struct corral_error){0};
            rcs[i] = corral_error_set(&errs[i], CORRAL_EUNAVAIL, NULL,
                                      "%s: the events feed's generation kept moving", ts[i]->label);
            failed_ops[i] = -1;
        }
    free(todo);
}

static void commit_pass(void *ctx, const struct corral_txn *const *ts, size_t n, int *rcs,
                        int *failed_ops, struct corral_error *errs)
{
    zk_txn_commit_many(ctx, ts, n, rcs, failed_ops, errs);
}

void zk_txn_commit_members(struct zk *zk, const char *label, const struct corral_txn *ms, size_t n,
                           int *rcs, int *failed_ops, struct corral_error *errs)
{
    corral_batch_commit_members(label, ms, n, commit_pass, zk, rcs, failed_ops, errs);
}
