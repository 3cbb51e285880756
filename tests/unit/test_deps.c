/* SPDX-License-Identifier: MIT */
/* Task dependencies: the verdict for a waiting dependent (corral/deps.h), the edge znode's path
 * and name (corral/paths.h) and the ops of linking and resolving (corral/ops.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/deps.h"
#include "corral/ops.h"
#include "corral/paths.h"

#define D1 "019a1b2c3d4e-00000001"
#define D2 "019a1b2c3d4e-00000002"
#define X  "019a1b2c3d4f-0000000a"

static void dependent(struct corral_task *t, bool run)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"command\":[\"true\"],\"depends_on\":[\"" D1 "\",\"" D2
             "\"],\"on_dependency_failure\":\"%s\"}",
             run ? "run" : "cancel");
    struct corral_spec spec = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, NULL), CORRAL_OK);
    corral_task_init_new(t, X, &spec, 1000);
    assert_int_equal(t->state, CORRAL_STATE_WAITING);
}

static void verdicts_for_cancel_and_run(void **state)
{
    (void)state;
    struct corral_task t;
    size_t culprit = 99;
    char why[128];
    dependent(&t, false);
    int pending[] = {CORRAL_STATE_SUCCEEDED, CORRAL_STATE_RUNNING};
    assert_int_equal(corral_deps_decide(&t, pending, &culprit, why, sizeof why),
                     CORRAL_DEPS_PENDING);
    int met[] = {CORRAL_STATE_SUCCEEDED, CORRAL_STATE_SUCCEEDED};
    assert_int_equal(corral_deps_decide(&t, met, &culprit, why, sizeof why), CORRAL_DEPS_MET);
    /* One failure decides at once under "cancel", even with another still running. */
    int failed[] = {CORRAL_STATE_RUNNING, CORRAL_STATE_FAILED};
    assert_int_equal(corral_deps_decide(&t, failed, &culprit, why, sizeof why), CORRAL_DEPS_FAILED);
    assert_int_equal(culprit, 1);
    assert_string_equal(why, "dependency " D2 " failed");
    int gone[] = {-1, CORRAL_STATE_SUCCEEDED};
    assert_int_equal(corral_deps_decide(&t, gone, &culprit, why, sizeof why), CORRAL_DEPS_FAILED);
    assert_string_equal(why, "dependency " D1 " no longer exists");
    corral_task_cleanup(&t);

    dependent(&t, true);
    assert_int_equal(corral_deps_decide(&t, failed, &culprit, why, sizeof why),
                     CORRAL_DEPS_PENDING); /* "run" waits for every one */
    int cancelled[] = {CORRAL_STATE_CANCELLED, CORRAL_STATE_FAILED};
    assert_int_equal(corral_deps_decide(&t, cancelled, &culprit, why, sizeof why), CORRAL_DEPS_MET);
    corral_task_cleanup(&t);
}

static void edges_have_one_path_and_name(void **state)
{
    (void)state;
    char buf[CORRAL_PATH_MAX], bb[3];
    assert_int_equal(corral_path_dep_edge(buf, sizeof buf, "/c", D1, X), 0);
    corral_path_bucket_name(bb, corral_path_bucket(D1));
    char want[128];
    snprintf(want, sizeof want, "/c/deps/%s/" D1 "." X, bb);
    assert_string_equal(buf, want);
    char dep[22], dt[22];
    assert_true(corral_dep_edge_parse(D1 "." X, dep, dt));
    assert_string_equal(dep, D1);
    assert_string_equal(dt, X);
    static const char *const bad[] = {"", D1, D1 "-" X, D1 "." X "x", "019a1b2c3d4e-0000000g." X};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(corral_dep_edge_parse(bad[i], dep, dt));
    assert_int_equal(corral_path_dep_edge(buf, sizeof buf, "/c", "nope", X), CORRAL_EINVAL);
}

static void link_and_resolve_ops(void **state)
{
    (void)state;
    struct corral_task t;
    dependent(&t, false);
    struct corral_txn txn;
    corral_txn_init(&txn, "t");
    /* A dependency stored in the same multi: the edge only. */
    assert_int_equal(corral_ops_link_dependency(&txn, "/c", NULL, -1, D1, X, true), 0);
    assert_int_equal(txn.n, 1);
    assert_int_equal(txn.ops[0].kind, CORRAL_OP_CREATE);
    assert_non_null(strstr(txn.ops[0].path, "/c/deps/"));
    corral_txn_cleanup(&txn);

    /* Resolve as met: fence, edge delete, set, queue entry, signal. */
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_DEPS_MET,
                                            &(struct corral_transition_ctx){.now_ms = 2000}, NULL),
                     0);
    corral_txn_init(&txn, "t");
    assert_int_equal(corral_ops_resolve_edge(&txn, "/c", "/c/election/n_x-01", &t, 4, D1, X), 0);
    assert_int_equal(txn.n, 5);
    assert_int_equal(txn.ops[0].kind, CORRAL_OP_FENCE);
    assert_int_equal(txn.ops[1].kind, CORRAL_OP_DELETE);
    assert_int_equal(txn.ops[2].kind, CORRAL_OP_SET);
    assert_int_equal(txn.ops[2].version, 4);
    assert_int_equal(txn.ops[3].kind, CORRAL_OP_CREATE);
    assert_non_null(strstr(txn.ops[3].path, "/c/queue/"));
    corral_txn_cleanup(&txn);
    /* Pending: the edge alone. */
    corral_txn_init(&txn, "t");
    assert_int_equal(corral_ops_resolve_edge(&txn, "/c", "/c/election/n_x-01", NULL, -1, D1, X), 0);
    assert_int_equal(txn.n, 2);
    corral_txn_cleanup(&txn);
    corral_task_cleanup(&t);

    /* Cancelled for a failed dependency: its done entry, the error naming it. */
    dependent(&t, false);
    assert_int_equal(corral_task_transition(
                         &t, CORRAL_EV_CANCEL,
                         &(struct corral_transition_ctx){.now_ms = 2000, .error = "dependency x"},
                         NULL),
                     0);
    assert_int_equal(t.state, CORRAL_STATE_CANCELLED);
    assert_string_equal(t.error, "dependency x");
    corral_txn_init(&txn, "t");
    assert_int_equal(corral_ops_resolve_edge(&txn, "/c", "/c/election/n_x-01", &t, 4, D1, X), 0);
    assert_int_equal(txn.ops[3].kind, CORRAL_OP_CREATE);
    assert_non_null(strstr(txn.ops[3].path, "/c/done/"));
    corral_txn_cleanup(&txn);
    corral_task_cleanup(&t);
}

static void dependents_render_parse_and_cap(void **state)
{
    (void)state;
    struct corral_task t;
    dependent(&t, false);
    assert_true(corral_task_add_dependent(&t, D1));
    assert_true(corral_task_add_dependent(&t, D1)); /* no repeat */
    assert_true(corral_task_add_dependent(&t, D2));
    assert_int_equal(t.n_dependents, 2);
    char *text = corral_task_render(&t);
    assert_non_null(strstr(text, "\"dependents\":[\"" D1 "\",\"" D2 "\"]"));
    struct corral_task back = {0};
    assert_int_equal(corral_task_parse(text, strlen(text), &back, NULL), 0);
    char *again = corral_task_render(&back);
    assert_string_equal(text, again);
    free(again);
    free(text);
    corral_task_cleanup(&back);
    for (unsigned i = 0; t.n_dependents < CORRAL_DEPENDENTS_MAX; i++) {
        char id[22];
        snprintf(id, sizeof id, "019a1b2c3d50-%08x", i);
        assert_true(corral_task_add_dependent(&t, id));
    }
    assert_false(corral_task_add_dependent(&t, "019a1b2c3d51-00000000"));
    corral_task_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts_for_cancel_and_run),
        cmocka_unit_test(edges_have_one_path_and_name),
        cmocka_unit_test(link_and_resolve_ops),
        cmocka_unit_test(dependents_render_parse_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
