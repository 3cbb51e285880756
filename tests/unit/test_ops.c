/* SPDX-License-Identifier: MIT */
/* Which ops each state change needs (corral/ops.h), checked op by op: kind, path, version and
 * the fence that makes a stale writer change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/assignment.h"
#include "corral/done_entry.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"
#include "corral/txn.h"

#define NS    "/c"
#define ID    "019a1b2c3d4e-9f8e7d6c"
#define FENCE "/c/election/n_x-0000000001"
/* corral_path_bucket(ID) */
static char bucket[3];

static void expect_op(const struct corral_txn *t, size_t i, enum corral_op_kind kind,
                      const char *path, int32_t version)
{
    assert_true(i < t->n);
    if (t->ops[i].kind != kind || strcmp(t->ops[i].path, path) != 0 || t->ops[i].version != version)
        fail_msg("op %zu: %s %s @%d, want %s %s @%d", i, corral_op_kind_name(t->ops[i].kind),
                 t->ops[i].path, (int)t->ops[i].version, corral_op_kind_name(kind), path,
                 (int)version);
}

/* Path of kind ("tasks", "queue") for ID in its bucket. */
static char *bp(const char *kind)
{
    static char buf[8][256];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 256, "/c/%s/%s/%s", kind, bucket, ID);
    return b;
}

/* Path of t's queue entry (its name is the queue codec's business, corral/queue_entry.h). */
static char *qp(const struct corral_task *t)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    assert_int_equal(corral_queue_entry_path(b, 256, NS, t), 0);
    return b;
}

/* A finish time and where its done entry lives: hour 481232, minute 52, slot 521. */
#define FIN_MS   INT64_C(1732438372123)
#define DONE_DIR "/c/done/0481232/52/521"
#define DONE(sk) DONE_DIR "/1732438372123-" ID "-" sk

static struct corral_task task(enum corral_state st, char *worker)
{
    struct corral_task t = {.state = st, .attempt = 1, .epoch = 4, .worker = worker};
    memcpy(t.id, ID, sizeof t.id);
    t.spec.argc = 0;
    return t;
}

static void submit_creates_task_entry_record_and_signals(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_QUEUED, NULL);
    char key[] = "k";
    t.spec.idempotency_key = key;
    struct corral_txn txn;
    corral_txn_init(&txn, "submit");
    struct corral_op_index idx;
    assert_int_equal(corral_ops_submit(&txn, NS, &t, &idx), 0);
    assert_int_equal(txn.n, 4);
    expect_op(&txn, 0, CORRAL_OP_CREATE, bp("tasks"), -1);
    expect_op(&txn, 1, CORRAL_OP_CREATE, qp(&t), -1);
    assert_int_equal(txn.ops[2].kind, CORRAL_OP_CREATE);
    assert_non_null(strstr(txn.ops[2].path, "/c/idem/"));
    assert_memory_equal(txn.ops[2].data, ID, strlen(ID)); /* the record holds the id */
    expect_op(&txn, 3, CORRAL_OP_SET, "/c/queue", -1);
    assert_int_equal(idx.task, 0);
    assert_int_equal(idx.queue, 1);
    assert_int_equal(idx.idem, 2);
    corral_txn_cleanup(&txn);
}

static void assign_is_fenced_checks_worker_and_writes_a_decodable_assignment(void **state)
{
    (void)state;
    char w1[] = "w1";
    struct corral_task t = task(CORRAL_STATE_ASSIGNED, w1);
    struct corral_txn txn;
    corral_txn_init(&txn, "assign");
    /* The entry was named while the task was queued, with a retry backoff the transition
     * cleared: that name is the one deleted. */
    struct corral_task queued = t;
    queued.not_before_ms = 1764921605000;
    char entry[CORRAL_QUEUE_NAME_MAX + 1], entry_path[256];
    corral_queue_entry_name(&queued, entry);
    assert_int_equal(corral_queue_entry_path_of_name(entry_path, sizeof entry_path, NS, entry), 0);
    assert_string_not_equal(entry_path, qp(&t));
    assert_int_equal(corral_ops_assign(&txn, NS, FENCE, &t, 12, entry, "00ff", true), 0);
    assert_int_equal(txn.n, 6);
    expect_op(&txn, 0, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 1, CORRAL_OP_CHECK, "/c/workers/w1", -1);
    expect_op(&txn, 2, CORRAL_OP_SET, bp("tasks"), 12);
    expect_op(&txn, 3, CORRAL_OP_DELETE, entry_path, -1);
    expect_op(&txn, 4, CORRAL_OP_CREATE, "/c/assign/w1", -1);
    expect_op(&txn, 5, CORRAL_OP_CREATE, "/c/assign/w1/" ID, -1);
    struct corral_assignment a;
    assert_int_equal(corral_assignment_decode(txn.ops[5].data, txn.ops[5].len, &a, NULL), 0);
    assert_string_equal(a.task, ID);
    assert_string_equal(a.reg, "00ff");
    assert_int_equal(a.attempt, 1);
    assert_int_equal(a.epoch, 4);
    assert_false(a.cancel);
    corral_txn_cleanup(&txn);
    /* No worker or a bad registration id: refused, nothing to commit. */
    corral_txn_init(&txn, "assign");
    assert_int_equal(corral_ops_assign(&txn, NS, FENCE, &t, 12, ID, "XYZ", false), CORRAL_EINVAL);
    corral_txn_cleanup(&txn);
}

static void release_by_worker_is_fenced_by_its_assignment(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_SUCCEEDED, NULL);
    t.finished_at_ms = FIN_MS;
    struct corral_txn txn;
    corral_txn_init(&txn, "finish");
    struct corral_op_index idx;
    assert_int_equal(corral_ops_release(&txn, NS, NULL, "w1", &t, 5, &idx), 0);
    assert_int_equal(txn.n, 5);
    expect_op(&txn, 0, CORRAL_OP_FENCE, "/c/assign/w1/" ID, -1);
    expect_op(&txn, 1, CORRAL_OP_SET, bp("tasks"), 5);
    expect_op(&txn, 2, CORRAL_OP_DELETE, "/c/assign/w1/" ID, -1);
    expect_op(&txn, 3, CORRAL_OP_CREATE, DONE("sn"), -1); /* final: indexed in the same multi */
    expect_op(&txn, 4, CORRAL_OP_SET, "/c/queue", -1);
    assert_int_equal(idx.queue, -1); /* final: no queue entry */
    assert_int_equal(idx.done, 3);
    corral_txn_cleanup(&txn);
}

static void lost_worker_with_attempts_exhausted_indexes_the_failed_task(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_FAILED, NULL);
    t.finished_at_ms = FIN_MS;
    char key[] = "k";
    t.spec.idempotency_key = key;
    struct corral_txn txn;
    corral_txn_init(&txn, "requeue");
    struct corral_op_index idx;
    assert_int_equal(corral_ops_release(&txn, NS, FENCE, "w9", &t, 8, &idx), 0);
    assert_int_equal(txn.n, 5);
    expect_op(&txn, 0, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 3, CORRAL_OP_CREATE, DONE("fk"), -1); /* "k": an idempotency record exists */
    assert_int_equal(idx.done, 3);
    corral_txn_cleanup(&txn);
}

static void requeue_by_leader_is_fenced_by_its_election_node(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_QUEUED, NULL);
    struct corral_txn txn;
    corral_txn_init(&txn, "requeue");
    struct corral_op_index idx;
    assert_int_equal(corral_ops_release(&txn, NS, FENCE, "w9", &t, 8, &idx), 0);
    assert_int_equal(txn.n, 5);
    expect_op(&txn, 0, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 1, CORRAL_OP_SET, bp("tasks"), 8);
    expect_op(&txn, 2, CORRAL_OP_DELETE, "/c/assign/w9/" ID, -1);
    expect_op(&txn, 3, CORRAL_OP_CREATE, qp(&t), -1);
    expect_op(&txn, 4, CORRAL_OP_SET, "/c/queue", -1);
    assert_int_equal(idx.queue, 3);
    assert_int_equal(idx.done, -1); /* not final: not indexed */
    corral_txn_cleanup(&txn);
}

static void cancel_of_queued_drops_entry_of_running_flags_assignment(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_CANCELLED, NULL);
    t.finished_at_ms = FIN_MS;
    struct corral_txn txn;
    corral_txn_init(&txn, "cancel");
    assert_int_equal(corral_ops_cancel(&txn, NS, &t, 3, CORRAL_STATE_QUEUED, NULL, -1), 0);
    assert_int_equal(txn.n, 3);
    expect_op(&txn, 0, CORRAL_OP_SET, bp("tasks"), 3);
    expect_op(&txn, 1, CORRAL_OP_DELETE, qp(&t), -1);
    expect_op(&txn, 2, CORRAL_OP_CREATE, DONE("cn"), -1); /* final at once: indexed */
    corral_txn_cleanup(&txn);

    char w1[] = "w1";
    t = task(CORRAL_STATE_CANCELLING, w1);
    struct corral_assignment a = {.task = ID, .reg = "ab", .attempt = 1, .epoch = 4};
    corral_txn_init(&txn, "cancel");
    assert_int_equal(corral_ops_cancel(&txn, NS, &t, 3, CORRAL_STATE_RUNNING, &a, 2), 0);
    assert_int_equal(txn.n, 2);
    expect_op(&txn, 1, CORRAL_OP_SET, "/c/assign/w1/" ID, 2);
    struct corral_assignment got;
    assert_int_equal(corral_assignment_decode(txn.ops[1].data, txn.ops[1].len, &got, NULL), 0);
    assert_true(got.cancel);
    assert_string_equal(got.reg, "ab");
    corral_txn_cleanup(&txn);
}

static void scheduled_task_gets_its_entry_at_submit_and_loses_it_on_cancel(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_SCHEDULED, NULL);
    t.not_before_ms = FIN_MS + 60000; /* its due time, carried by the entry's name */
    struct corral_txn txn;
    corral_txn_init(&txn, "submit");
    assert_int_equal(corral_ops_submit(&txn, NS, &t, NULL), 0);
    expect_op(&txn, 0, CORRAL_OP_CREATE, bp("tasks"), -1);
    expect_op(&txn, 1, CORRAL_OP_CREATE, qp(&t), -1);
    const char *p = txn.ops[1].path, *tail = ".1935d60997b"; /* hex of not_before, last key */
    assert_string_equal(p + strlen(p) - strlen(tail), tail);
    corral_txn_cleanup(&txn);

    t.state = CORRAL_STATE_CANCELLED;
    t.finished_at_ms = FIN_MS;
    corral_txn_init(&txn, "cancel");
    assert_int_equal(corral_ops_cancel(&txn, NS, &t, 0, CORRAL_STATE_SCHEDULED, NULL, -1), 0);
    assert_int_equal(txn.n, 3);
    expect_op(&txn, 0, CORRAL_OP_SET, bp("tasks"), 0);
    expect_op(&txn, 1, CORRAL_OP_DELETE, qp(&t), -1);
    expect_op(&txn, 2, CORRAL_OP_CREATE, DONE("cn"), -1);
    corral_txn_cleanup(&txn);
}

static void retire_deletes_task_at_version_its_key_and_its_entry(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_SUCCEEDED, NULL);
    t.finished_at_ms = FIN_MS;
    char key[] = "k";
    t.spec.idempotency_key = key;
    struct corral_txn txn;
    corral_txn_init(&txn, "retention");
    assert_int_equal(corral_ops_retire(&txn, NS, FENCE, &t, 9), 0);
    assert_int_equal(txn.n, 4);
    expect_op(&txn, 0, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 1, CORRAL_OP_DELETE, bp("tasks"), 9);
    expect_op(&txn, 2, CORRAL_OP_DELETE, DONE("sk"), -1);
    assert_int_equal(txn.ops[3].kind, CORRAL_OP_DELETE);
    assert_non_null(strstr(txn.ops[3].path, "/c/idem/"));
    corral_txn_cleanup(&txn);

    /* Finished before the index existed: task and record only. */
    corral_txn_init(&txn, "retention");
    assert_int_equal(corral_ops_retire_unindexed(&txn, NS, FENCE, &t, 9), 0);
    assert_int_equal(txn.n, 3);
    expect_op(&txn, 1, CORRAL_OP_DELETE, bp("tasks"), 9);
    assert_non_null(strstr(txn.ops[2].path, "/c/idem/"));
    corral_txn_cleanup(&txn);

    /* Not final: nothing to retire. */
    t.state = CORRAL_STATE_RUNNING;
    corral_txn_init(&txn, "retention");
    assert_int_equal(corral_ops_retire(&txn, NS, FENCE, &t, 9), CORRAL_EINVAL);
    corral_txn_cleanup(&txn);
}

static void retire_through_the_index_needs_no_task_read(void **state)
{
    (void)state;
    struct corral_done_entry e;
    assert_true(corral_done_entry_parse("1732438372123-" ID "-fn", &e));
    struct corral_txn txn;
    corral_txn_init(&txn, "retention");
    assert_int_equal(corral_ops_retire_entry(&txn, NS, FENCE, &e, -1, NULL), 0);
    assert_int_equal(txn.n, 3);
    expect_op(&txn, 0, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 1, CORRAL_OP_DELETE, bp("tasks"), -1);
    expect_op(&txn, 2, CORRAL_OP_DELETE, DONE("fn"), -1);
    corral_txn_cleanup(&txn);

    corral_txn_init(&txn, "retention");
    assert_int_equal(corral_ops_drop_done_entry(&txn, NS, FENCE, &e), 0);
    assert_int_equal(txn.n, 2);
    expect_op(&txn, 1, CORRAL_OP_DELETE, DONE("fn"), -1);
    corral_txn_cleanup(&txn);

    corral_txn_init(&txn, "done.dirs");
    assert_int_equal(corral_ops_make_dir(&txn, FENCE, DONE_DIR), 0);
    assert_int_equal(corral_ops_drop_dir(&txn, FENCE, DONE_DIR), 0);
    assert_int_equal(txn.n, 4);
    expect_op(&txn, 1, CORRAL_OP_CREATE, DONE_DIR, -1);
    expect_op(&txn, 2, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 3, CORRAL_OP_DELETE, DONE_DIR, -1);
    assert_int_equal(corral_ops_make_dir(&txn, FENCE, "relative"), CORRAL_EINVAL);
    assert_int_equal(corral_ops_drop_dir(&txn, FENCE, NULL), CORRAL_EINVAL);
    corral_txn_cleanup(&txn);
}

static void missing_folder_is_named_only_for_folders_made_on_demand(void **state)
{
    (void)state;
    char dir[CORRAL_PATH_MAX];
    struct corral_task t = task(CORRAL_STATE_SUCCEEDED, NULL);
    t.finished_at_ms = FIN_MS;
    struct corral_txn txn;
    corral_txn_init(&txn, "finish");
    struct corral_op_index idx;
    assert_int_equal(corral_ops_release(&txn, NS, NULL, "w1", &t, 5, &idx), 0);
    assert_true(corral_ops_missing_dir(&txn, NS, idx.done, dir, sizeof dir));
    assert_string_equal(dir, DONE_DIR);
    assert_false(corral_ops_missing_dir(&txn, NS, idx.task, dir, sizeof dir)); /* a SET */
    assert_false(corral_ops_missing_dir(&txn, NS, 0, dir, sizeof dir));        /* the fence */
    assert_false(corral_ops_missing_dir(&txn, NS, -1, dir, sizeof dir));
    assert_false(corral_ops_missing_dir(&txn, NS, (int)txn.n, dir, sizeof dir));
    assert_false(corral_ops_missing_dir(&txn, NS, idx.done, dir, 8)); /* does not fit */
    assert_false(corral_ops_missing_dir(&txn, "/other", idx.done, dir, sizeof dir));
    corral_txn_cleanup(&txn);

    /* A retried task's queue entry: its bucket. */
    t = task(CORRAL_STATE_QUEUED, NULL);
    corral_txn_init(&txn, "finish");
    assert_int_equal(corral_ops_release(&txn, NS, NULL, "w1", &t, 5, &idx), 0);
    assert_true(corral_ops_missing_dir(&txn, NS, idx.queue, dir, sizeof dir));
    char want[64];
    snprintf(want, sizeof want, "/c/queue/%s", bucket);
    assert_string_equal(dir, want);
    corral_txn_cleanup(&txn);

    /* The task itself (its bucket gone means the namespace is gone) and top folders: never. */
    corral_txn_init(&txn, "submit");
    assert_int_equal(corral_ops_submit(&txn, NS, &t, &idx), 0);
    assert_false(corral_ops_missing_dir(&txn, NS, idx.task, dir, sizeof dir));
    assert_string_equal(dir, "");
    (void)corral_txn_create(&txn, "/c/done/0000001", NULL, 0);
    assert_false(corral_ops_missing_dir(&txn, NS, (int)txn.n - 1, dir, sizeof dir));
    (void)corral_txn_create(&txn, "/c/donex/0000001/00", NULL, 0);
    assert_false(corral_ops_missing_dir(&txn, NS, (int)txn.n - 1, dir, sizeof dir));
    corral_txn_cleanup(&txn);
}

/* A queued task listed under the bare-id entry of older versions: the leader's rewrite is fenced,
 * deletes exactly the listed entry and creates the canonical one, in one multi. */
static void rewrite_replaces_the_listed_entry_with_the_canonical_one(void **state)
{
    (void)state;
    struct corral_task t = task(CORRAL_STATE_QUEUED, NULL);
    struct corral_txn txn;
    corral_txn_init(&txn, "rewrite");
    assert_int_equal(corral_ops_rewrite_queue_entry(&txn, NS, FENCE, ID, &t), 0);
    assert_int_equal(txn.n, 3);
    expect_op(&txn, 0, CORRAL_OP_FENCE, FENCE, -1);
    expect_op(&txn, 1, CORRAL_OP_DELETE, bp("queue"), -1);
    expect_op(&txn, 2, CORRAL_OP_CREATE, qp(&t), -1);
    corral_txn_cleanup(&txn);
    /* A name that is no entry at all: refused, nothing to commit. */
    corral_txn_init(&txn, "rewrite");
    assert_int_not_equal(corral_ops_rewrite_queue_entry(&txn, NS, FENCE, "../x", &t), 0);
    corral_txn_cleanup(&txn);
}

static void txn_copies_and_measures(void **state)
{
    (void)state;
    struct corral_txn txn;
    corral_txn_init(&txn, "a-label-that-is-much-longer-than-thirty-two-bytes");
    assert_int_equal(strlen(txn.label), sizeof txn.label - 1);
    char path[] = "/c/x";
    char data[] = "payload";
    size_t i = corral_txn_create(&txn, path, data, 7);
    path[1] = 'z';
    data[0] = 'X';
    assert_string_equal(txn.ops[i].path, "/c/x");
    assert_memory_equal(txn.ops[i].data, "payload", 7);
    assert_int_equal(corral_txn_find(&txn, CORRAL_OP_CREATE, "/c/x"), 0);
    assert_int_equal(corral_txn_find(&txn, CORRAL_OP_DELETE, "/c/x"), -1);
    assert_true(corral_txn_wire_bytes(&txn) > 7 + 4);
    for (int k = 0; k < 100; k++)
        (void)corral_txn_check(&txn, "/c/y", k);
    assert_int_equal(txn.n, 101);
    corral_txn_cleanup(&txn);
    corral_txn_cleanup(&txn); /* idempotent */
}

int main(void)
{
    snprintf(bucket, sizeof bucket, "%02x", corral_path_bucket(ID));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_creates_task_entry_record_and_signals),
        cmocka_unit_test(assign_is_fenced_checks_worker_and_writes_a_decodable_assignment),
        cmocka_unit_test(release_by_worker_is_fenced_by_its_assignment),
        cmocka_unit_test(requeue_by_leader_is_fenced_by_its_election_node),
        cmocka_unit_test(cancel_of_queued_drops_entry_of_running_flags_assignment),
        cmocka_unit_test(scheduled_task_gets_its_entry_at_submit_and_loses_it_on_cancel),
        cmocka_unit_test(lost_worker_with_attempts_exhausted_indexes_the_failed_task),
        cmocka_unit_test(retire_deletes_task_at_version_its_key_and_its_entry),
        cmocka_unit_test(retire_through_the_index_needs_no_task_read),
        cmocka_unit_test(missing_folder_is_named_only_for_folders_made_on_demand),
        cmocka_unit_test(rewrite_replaces_the_listed_entry_with_the_canonical_one),
        cmocka_unit_test(txn_copies_and_measures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
