/* SPDX-License-Identifier: MIT */
/* Packing state changes into one multi (corral/batch.h): shared fences and signals, the size
 * limits, and mapping a failed op back to the one member that owns it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/batch.h"
#include "corral/ops.h"
#include "corral/task.h"

#define NS    "/c"
#define FENCE "/c/election/n_x-0000000001"

/* A leader assignment of task number i, built by the real builder. */
static void assign_txn(struct corral_txn *t, unsigned i, size_t payload)
{
    struct corral_task task = {0};
    snprintf(task.id, sizeof task.id, "019a1b2c3d4e-%08x", i & 0xfffffffu);
    task.state = CORRAL_STATE_ASSIGNED;
    task.attempt = 1;
    char worker[] = "w1";
    task.worker = worker;
    task.spec.argc = 1;
    char *arg = calloc(payload + 1, 1);
    memset(arg, 'x', payload);
    char *argv[1] = {arg};
    task.spec.argv = argv;
    corral_txn_init(t, "leader.assign");
    assert_int_equal(corral_ops_assign(t, NS, FENCE, &task, 3, task.id, "00112233aabbccdd", false),
                     0);
    free(arg);
}

static size_t count_kind(const struct corral_txn *t, enum corral_op_kind k, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->ops[i].kind == k && (!path || strcmp(t->ops[i].path, path) == 0);
    return n;
}

/* Ten assignments: one fence, and every other op of every member exactly once, in order. */
static void test_shared_fence(void **state)
{
    (void)state;
    struct corral_batch b;
    corral_batch_init(&b, "leader.assign", 0, 0);
    size_t own_ops = 0;
    for (unsigned i = 0; i < 10; i++) {
        struct corral_txn t;
        assign_txn(&t, i, 10);
        own_ops += t.n - 1; /* all but the fence */
        assert_true(corral_batch_add(&b, &t));
        corral_txn_cleanup(&t);
    }
    assert_int_equal(b.n_members, 10);
    assert_int_equal(count_kind(&b.txn, CORRAL_OP_FENCE, FENCE), 1);
    /* The check that the worker is registered is the same in every member: shared too. */
    assert_int_equal(count_kind(&b.txn, CORRAL_OP_CHECK, NULL), 1);
    assert_int_equal(b.txn.n, own_ops - 9 + 1);
    assert_int_equal(corral_batch_owner(&b, 0), -1); /* the shared fence */
    /* Each member's own ops map back to it, members in order. */
    int last = 0;
    for (size_t i = 1; i < b.txn.n; i++) {
        int o = corral_batch_owner(&b, (int)i);
        if (b.txn.ops[i].kind == CORRAL_OP_CHECK &&
            count_kind(&b.txn, CORRAL_OP_CHECK, b.txn.ops[i].path) == 1 && o == -1)
            continue; /* a check every member shares (the worker's registration) */
        assert_true(o >= last && o < 10);
        last = o;
    }
    assert_int_equal(last, 9);
    assert_int_equal(corral_batch_owner(&b, -1), -1);
    assert_int_equal(corral_batch_owner(&b, (int)b.txn.n), -1);
    corral_batch_cleanup(&b);
}

/* However big the members, no multi passes the byte limit (a lone member excepted), and the
 * member limit holds. */
static void test_limits(void **state)
{
    (void)state;
    const size_t max_bytes = 64 * 1024;
    struct corral_batch b;
    corral_batch_init(&b, "leader.assign", 8, max_bytes);
    size_t batches = 0, members = 0;
    for (unsigned i = 0; i < 200; i++) {
        struct corral_txn t;
        assign_txn(&t, i, (i * 7919u) % 20000u);
        if (!corral_batch_add(&b, &t)) {
            assert_true(b.n_members >= 1);
            assert_true(b.n_members <= 8);
            assert_true(corral_txn_wire_bytes(&b.txn) <= max_bytes);
            members += b.n_members;
            batches++;
            corral_batch_reset(&b);
            assert_int_equal(b.n_members, 0);
            assert_string_equal(b.txn.label, "leader.assign");
            assert_true(corral_batch_add(&b, &t));
        }
        corral_txn_cleanup(&t);
    }
    members += b.n_members;
    assert_int_equal(members, 200);
    assert_true(batches >= 200 / 8);
    corral_batch_cleanup(&b);

    /* A lone member over the limit is still taken: its commit reports it. */
    corral_batch_init(&b, "x", 0, 1024);
    struct corral_txn big;
    assign_txn(&big, 1, 4096);
    assert_true(corral_batch_add(&b, &big));
    assert_false(corral_batch_add(&b, &big));
    assert_int_equal(b.n_members, 1);
    corral_txn_cleanup(&big);
    corral_batch_cleanup(&b);
}

/* Data-less signal sets are shared; sets with data and creates are never merged. */
static void test_signal_shared_data_not(void **state)
{
    (void)state;
    struct corral_batch b;
    corral_batch_init(&b, "t", 0, 0);
    for (int i = 0; i < 3; i++) {
        struct corral_txn t;
        corral_txn_init(&t, "t");
        corral_txn_set(&t, "/c/queue", NULL, 0, -1);
        corral_txn_set(&t, "/c/tasks/00/a", "x", 1, 4);
        corral_txn_create(&t, "/c/done/a", NULL, 0);
        assert_true(corral_batch_add(&b, &t));
        corral_txn_cleanup(&t);
    }
    assert_int_equal(count_kind(&b.txn, CORRAL_OP_SET, "/c/queue"), 1);
    assert_int_equal(count_kind(&b.txn, CORRAL_OP_SET, "/c/tasks/00/a"), 3);
    assert_int_equal(count_kind(&b.txn, CORRAL_OP_CREATE, "/c/done/a"), 3);
    /* The data sets and creates are owned by members 0, 1, 2 in turn. */
    int seen[3] = {0};
    for (size_t i = 0; i < b.txn.n; i++) {
        int o = corral_batch_owner(&b, (int)i);
        if (o >= 0)
            seen[o]++;
    }
    assert_int_equal(seen[0], 2);
    assert_int_equal(seen[1], 2);
    assert_int_equal(seen[2], 2);
    corral_batch_cleanup(&b);
}

/* A fake ZooKeeper for corral_batch_commit_members: a multi fails on the first op whose path
 * is in bad[] (code bad_rc), or as a whole with whole_rc; it records what it was sent. */
struct fake {
    const char *bad[4];
    int bad_rc;
    int whole_rc;
    size_t calls, multis, max_ops;
    size_t ops_sent;
};

static void fake_commit(void *ctx, const struct corral_txn *const *ts, size_t n, int *rcs,
                        int *failed_ops, struct corral_error *errs)
{
    struct fake *f = ctx;
    f->calls++;
    for (size_t k = 0; k < n; k++) {
        f->multis++;
        f->ops_sent += ts[k]->n;
        if (ts[k]->n > f->max_ops)
            f->max_ops = ts[k]->n;
        rcs[k] = CORRAL_OK;
        failed_ops[k] = -1;
        if (f->whole_rc) {
            rcs[k] = corral_error_set(&errs[k], f->whole_rc, NULL, "whole multi");
            continue;
        }
        for (size_t i = 0; i < ts[k]->n && rcs[k] == CORRAL_OK; i++)
            for (size_t b = 0; b < 4 && f->bad[b]; b++)
                if (strcmp(ts[k]->ops[i].path, f->bad[b]) == 0) {
                    rcs[k] = corral_error_set(&errs[k], f->bad_rc, NULL, "op %zu", i);
                    failed_ops[k] = (int)i;
                    break;
                }
    }
}

/* n members "fence, create /m/<i>": the fence shared, the create each member's own. */
static struct corral_txn *members(size_t n, const char *fence)
{
    struct corral_txn *ms = calloc(n, sizeof *ms);
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "/m/%zu", i);
        corral_txn_init(&ms[i], "t");
        corral_txn_fence(&ms[i], fence, -1);
        corral_txn_create(&ms[i], path, "x", 1);
    }
    return ms;
}

static void free_members(struct corral_txn *ms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        corral_txn_cleanup(&ms[i]);
    free(ms);
}

/* One bad member in each of two multis: only those two fail, the rest is committed. */
static void test_culprits_isolated(void **state)
{
    (void)state;
    const size_t n = 300;
    struct corral_txn *ms = members(n, "/e/n1");
    struct fake f = {.bad = {"/m/7", "/m/200"}, .bad_rc = CORRAL_ENOTFOUND};
    int rcs[300], failed[300];
    struct corral_error errs[300] = {0};
    corral_batch_commit_members("t", ms, n, fake_commit, &f, rcs, failed, errs);
    for (size_t i = 0; i < n; i++) {
        /* The failed op named in the member's own terms: its create is its op 1. */
        assert_int_equal(failed[i], i == 7 || i == 200 ? 1 : -1);
        if (i == 7 || i == 200) {
            assert_int_equal(rcs[i], CORRAL_ENOTFOUND);
            /* The error is that of its multi: op 8 (the fence, then 7 creates before it) in the
             * first, op 73 (200 - 128 + 1) in the second. */
            assert_string_equal(errs[i].msg, i == 7 ? "op 8" : "op 73");
        } else if (rcs[i] != CORRAL_OK) {
            fail_msg("member %zu: %d", i, rcs[i]);
        }
    }
    /* 300 members at 128 a multi: 3 multis, then the two that failed go again without their
     * culprit: one more pass. Nothing over the limit, the fence once per multi. */
    assert_int_equal(f.calls, 2);
    assert_int_equal(f.multis, 5);
    assert_true(f.max_ops <= CORRAL_BATCH_MAX_MEMBERS + 1);
    free_members(ms, n);
}

/* A failure of what members share, or of the whole multi, is every member's. */
static void test_shared_failures(void **state)
{
    (void)state;
    int rcs[10], failed[10];
    struct corral_error errs[10] = {0};
    struct corral_txn *ms = members(10, "/e/n1");
    struct fake fenced = {.bad = {"/e/n1"}, .bad_rc = CORRAL_EFENCED};
    corral_batch_commit_members("t", ms, 10, fake_commit, &fenced, rcs, failed, errs);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(rcs[i], CORRAL_EFENCED);
        assert_int_equal(failed[i], -1); /* the shared fence: no member's own op */
    }
    assert_int_equal(fenced.calls, 1);
    struct fake lost = {.whole_rc = CORRAL_EUNKNOWN};
    corral_batch_commit_members("t", ms, 10, fake_commit, &lost, rcs, NULL, errs);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(rcs[i], CORRAL_EUNKNOWN);
    assert_int_equal(lost.calls, 1);
    free_members(ms, 10);
}

/* Every member bad: each is settled alone, one per pass at worst, never an endless loop. */
static void test_all_bad_terminates(void **state)
{
    (void)state;
    struct corral_txn *ms = members(3, "/e/n1");
    struct fake f = {.bad = {"/m/0", "/m/1", "/m/2"}, .bad_rc = CORRAL_EEXIST};
    int rcs[3];
    struct corral_error errs[3] = {0};
    corral_batch_commit_members("t", ms, 3, fake_commit, &f, rcs, NULL, errs);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rcs[i], CORRAL_EEXIST);
    assert_int_equal(f.calls, 3);
    free_members(ms, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_fence),           cmocka_unit_test(test_limits),
        cmocka_unit_test(test_signal_shared_data_not), cmocka_unit_test(test_culprits_isolated),
        cmocka_unit_test(test_shared_failures),        cmocka_unit_test(test_all_bad_terminates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
