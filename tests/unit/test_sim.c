/* SPDX-License-Identifier: MIT */
/* Unit tests of the simulator library (src/sim): metrics, workload and cluster parsing,
 * generators, and small simulations with known answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "sim/plot.h"
#include "sim/sim.h"
#include "sim/workload.h"

/* cmocka's assert_float_equal works in float; results here are doubles. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static const struct sim_worker_defaults DEF = {4, 4000, 8192, 1};

static struct corral_policy policy(const char *placement, const char *order)
{
    struct corral_policy p = {corral_placement_find(placement), corral_order_find(order)};
    assert_non_null(p.placement);
    assert_non_null(p.order);
    return p;
}

static void parse_workload(const char *text, struct sim_workload *w)
{
    struct corral_error err = {0};
    int rc = sim_workload_parse(text, strlen(text), w, &err);
    if (rc != CORRAL_OK)
        fail_msg("workload: %s", err.msg);
}

static void parse_cluster(const char *spec, struct sim_cluster *c)
{
    struct corral_error err = {0};
    int rc = sim_cluster_parse_spec(spec, &DEF, c, &err);
    if (rc != CORRAL_OK)
        fail_msg("cluster: %s", err.msg);
}

static void run(const struct sim_cluster *c, const struct sim_workload *w, const char *placement,
                const char *order, uint64_t seed, struct sim_result *r)
{
    struct corral_policy p = policy(placement, order);
    struct corral_error err = {0};
    int rc = sim_run(c, w, &p, seed, r, &err);
    if (rc != CORRAL_OK)
        fail_msg("sim_run: %s", err.msg);
}

/* ------------------------------------------------------------------------------------------ */

static void jain_is_one_for_equal_shares_and_one_over_n_for_one_busy(void **state)
{
    (void)state;
    double eq[] = {5, 5, 5, 5}, one[] = {7, 0, 0, 0}, zero[] = {0, 0};
    assert_near(sim_jain(eq, 4), 1.0, 1e-12);
    assert_near(sim_jain(one, 4), 0.25, 1e-12);
    assert_near(sim_jain(zero, 2), 1.0, 1e-12);
    assert_near(sim_jain(NULL, 0), 1.0, 1e-12);
    double two[] = {1, 3}; /* 16 / (2 * 10) */
    assert_near(sim_jain(two, 2), 0.8, 1e-12);
}

static void percentile_is_nearest_rank(void **state)
{
    (void)state;
    uint64_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = (uint64_t)i + 1;
    assert_int_equal(sim_percentile(v, 100, 99), 99);
    assert_int_equal(sim_percentile(v, 100, 50), 50);
    assert_int_equal(sim_percentile(v, 100, 100), 100);
    assert_int_equal(sim_percentile(v, 100, 0), 1);
    assert_int_equal(sim_percentile(v, 1, 99), 1);
    assert_int_equal(sim_percentile(v, 0, 99), 0);
    uint64_t w[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1000};
    assert_int_equal(sim_percentile(w, 10, 99), 1000);
    assert_int_equal(sim_percentile(w, 10, 90), 0);
}

/* ------------------------------------------------------------------------------------------ */

static void workload_parses_fields_defaults_and_sorts_by_submit(void **state)
{
    (void)state;
    struct sim_workload w = {0};
    parse_workload("# comment\n"
                   "{\"submit_ms\":500,\"duration_ms\":10}\n"
                   "\n"
                   "  {\"submit_ms\":0,\"duration_ms\":1200,\"cpu\":1.5,\"mem_mb\":256,"
                   "\"priority\":-3,\"labels\":{\"zone\":\"a\"},\"estimated_ms\":1000}\r\n"
                   "{\"submit_ms\":500,\"duration_ms\":20,\"constraints\":{\"k\":\"v\"}}",
                   &w);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.tasks[0].submit_ms, 0);
    assert_int_equal(w.tasks[0].duration_ms, 1200);
    assert_int_equal(w.tasks[0].cpu_milli, 1500);
    assert_int_equal(w.tasks[0].mem_mb, 256);
    assert_int_equal(w.tasks[0].priority, -3);
    assert_true(w.tasks[0].has_estimated);
    assert_int_equal(w.tasks[0].estimated_ms, 1000);
    assert_int_equal(w.tasks[0].n_constraints, 1);
    assert_string_equal(w.tasks[0].constraints[0].key, "zone");
    assert_string_equal(w.tasks[0].constraints[0].value, "a");
    /* Equal submit times keep file order; defaults cpu 1, mem 0, no estimate. */
    assert_int_equal(w.tasks[1].duration_ms, 10);
    assert_int_equal(w.tasks[1].cpu_milli, 1000);
    assert_int_equal(w.tasks[1].mem_mb, 0);
    assert_false(w.tasks[1].has_estimated);
    assert_int_equal(w.tasks[2].duration_ms, 20);
    assert_string_equal(w.tasks[2].constraints[0].key, "k");
    /* Ids sort in submission order. */
    assert_true(strcmp(w.tasks[0].id, w.tasks[1].id) < 0);
    assert_true(strcmp(w.tasks[1].id, w.tasks[2].id) < 0);
    sim_workload_cleanup(&w);
    sim_workload_cleanup(&w); /* idempotent */
}

static void expect_workload_error(const char *text, const char *needle)
{
    struct sim_workload w = {0};
    struct corral_error err = {0};
    int rc = sim_workload_parse(text, strlen(text), &w, &err);
    assert_int_not_equal(rc, CORRAL_OK);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' does not contain '%s'", err.msg, needle);
    assert_null(w.tasks);
    assert_int_equal(w.n, 0);
}

static void workload_errors_name_line_and_field(void **state)
{
    (void)state;
    const char *ok = "{\"submit_ms\":0,\"duration_ms\":1}\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s{\"submit_ms\":0,\"duration_ms\":-5}\n", ok, ok);
    expect_workload_error(buf, "line 3: duration_ms");
    snprintf(buf, sizeof buf, "%s\n{\"submit_ms\":0}\n", ok);
    expect_workload_error(buf, "line 3: duration_ms: missing");
    expect_workload_error("{\"duration_ms\":1}", "line 1: submit_ms: missing");
    expect_workload_error("{\"submit_ms\":0,\"duration_ms\":1,\"colour\":1}",
                          "line 1: colour: unknown field");
    expect_workload_error("{\"submit_ms\":0,\"duration_ms\":1,\"cpu\":\"1\"}", "line 1: cpu");
    expect_workload_error("{\"submit_ms\":0,\"duration_ms\":1,\"cpu\":2000}", "line 1: cpu");
    expect_workload_error("{\"submit_ms\":0,\"duration_ms\":1,\"priority\":1001}",
                          "line 1: priority");
    expect_workload_error("{\"submit_ms\":0.5,\"duration_ms\":1}", "line 1: submit_ms");
    expect_workload_error("{\"submit_ms\":0,\"duration_ms\":1,\"labels\":{\"z\":1}}",
                          "line 1: labels");
    expect_workload_error("{\"submit_ms\":0,\"duration_ms\":1,\"labels\":{},\"constraints\":{}}",
                          "not both");
    snprintf(buf, sizeof buf, "%s{\"submit_ms\":0,", ok);
    expect_workload_error(buf, "line 2: invalid JSON");
    expect_workload_error("[1,2]", "line 1: must be a JSON object");
    expect_workload_error("\n# nothing\n", "no tasks");
}

/* ------------------------------------------------------------------------------------------ */

static void cluster_spec_groups_counts_defaults_and_labels(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    parse_cluster("2x{slots:2,cpu:1.5,mem:100,labels:zone=a,disk=ssd}+{weight:3}", &c);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.workers[0].id, "w01");
    assert_string_equal(c.workers[2].id, "w03");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c.workers[i].slots, 2);
        assert_int_equal(c.workers[i].cpu_milli, 1500);
        assert_int_equal(c.workers[i].mem_mb, 100);
        assert_int_equal(c.workers[i].weight, 1);
        assert_int_equal(c.workers[i].n_labels, 2);
        assert_string_equal(c.workers[i].labels[0].key, "zone");
        assert_string_equal(c.workers[i].labels[1].value, "ssd");
    }
    /* Fields left out come from the defaults. */
    assert_int_equal(c.workers[2].slots, 4);
    assert_int_equal(c.workers[2].cpu_milli, 4000);
    assert_int_equal(c.workers[2].mem_mb, 8192);
    assert_int_equal(c.workers[2].weight, 3);
    assert_int_equal(c.workers[2].n_labels, 0);
    sim_cluster_cleanup(&c);

    parse_cluster("12", &c);
    assert_int_equal(c.n, 12);
    assert_string_equal(c.workers[11].id, "w12");
    assert_int_equal(c.workers[11].slots, 4);
    sim_cluster_cleanup(&c);
}

static void cluster_spec_rejects_bad_text(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "0",
                         "2x",
                         "2x{slots:0}",
                         "{slots:x}",
                         "{cpu:1.2345}",
                         "{colour:red}",
                         "{slots:2",
                         "{zone=}",
                         "{}{}",
                         "3y{}",
                         "{zone=a,zone=b}",
                         "2000x{}",
                         "{labels:zone}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sim_cluster c = {0};
        struct corral_error err = {0};
        if (sim_cluster_parse_spec(bad[i], &DEF, &c, &err) == CORRAL_OK)
            fail_msg("spec '%s' was accepted", bad[i]);
        assert_null(c.workers);
    }
}

static void worker_file_parses_and_sorts_by_id(void **state)
{
    (void)state;
    const char *text = "{\"id\":\"zz\",\"slots\":1,\"cpu\":0.5,\"labels\":{\"zone\":\"b\"}}\n"
                       "{\"id\":\"aa\",\"weight\":5,\"mem_mb\":64}\n";
    struct sim_cluster c = {0};
    struct corral_error err = {0};
    assert_int_equal(sim_cluster_parse_lines(text, strlen(text), &DEF, &c, &err), CORRAL_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.workers[0].id, "aa");
    assert_int_equal(c.workers[0].weight, 5);
    assert_int_equal(c.workers[0].slots, 4);
    assert_string_equal(c.workers[1].id, "zz");
    assert_int_equal(c.workers[1].cpu_milli, 500);
    assert_string_equal(c.workers[1].labels[0].value, "b");
    sim_cluster_cleanup(&c);

    const char *dup = "{\"id\":\"a\"}\n{\"id\":\"a\"}\n";
    assert_int_not_equal(sim_cluster_parse_lines(dup, strlen(dup), &DEF, &c, &err), CORRAL_OK);
    assert_non_null(strstr(err.msg, "line 2: id"));
}

/* ------------------------------------------------------------------------------------------ */

static void generators_are_deterministic_sorted_and_sized(void **state)
{
    (void)state;
    const char *kinds[] = {"uniform", "heavy-tailed", "bursty", "mixed"};
    for (size_t k = 0; k < 4; k++) {
        struct sim_workload a = {0}, b = {0}, c = {0};
        struct corral_error err = {0};
        assert_int_equal(sim_workload_generate(kinds[k], 500, 7, 100, &a, &err), CORRAL_OK);
        assert_int_equal(sim_workload_generate(kinds[k], 500, 7, 100, &b, &err), CORRAL_OK);
        assert_int_equal(sim_workload_generate(kinds[k], 500, 8, 100, &c, &err), CORRAL_OK);
        assert_int_equal(a.n, 500);
        bool differs = false;
        for (size_t i = 0; i < a.n; i++) {
            assert_int_equal(a.tasks[i].submit_ms, b.tasks[i].submit_ms);
            assert_int_equal(a.tasks[i].duration_ms, b.tasks[i].duration_ms);
            assert_int_equal(a.tasks[i].cpu_milli, b.tasks[i].cpu_milli);
            if (i > 0)
                assert_true(a.tasks[i - 1].submit_ms <= a.tasks[i].submit_ms);
            assert_true(a.tasks[i].duration_ms > 0);
            differs = differs || a.tasks[i].duration_ms != c.tasks[i].duration_ms;
        }
        assert_true(differs);
        /* The mean gap is about as asked (500 arrivals of mean 100 ms: within 25%). */
        double mean_gap = (double)a.tasks[a.n - 1].submit_ms / (double)(a.n - 1);
        assert_true(mean_gap > 75.0 && mean_gap < 125.0);
        sim_workload_cleanup(&a);
        sim_workload_cleanup(&b);
        sim_workload_cleanup(&c);
    }
    struct sim_workload w = {0};
    struct corral_error err = {0};
    assert_int_not_equal(sim_workload_generate("normal", 5, 1, 100, &w, &err), CORRAL_OK);
    assert_int_not_equal(sim_workload_generate("uniform", 0, 1, 100, &w, &err), CORRAL_OK);
}

static void heavy_tailed_has_a_heavy_tail(void **state)
{
    (void)state;
    struct sim_workload w = {0};
    struct corral_error err = {0};
    assert_int_equal(sim_workload_generate("heavy-tailed", 5000, 3, 100, &w, &err), CORRAL_OK);
    uint64_t max = 0, min = UINT64_MAX;
    double sum = 0;
    for (size_t i = 0; i < w.n; i++) {
        max = w.tasks[i].duration_ms > max ? w.tasks[i].duration_ms : max;
        min = w.tasks[i].duration_ms < min ? w.tasks[i].duration_ms : min;
        sum += (double)w.tasks[i].duration_ms;
    }
    assert_true(min >= 1000);
    assert_true(max > 50 * 1000);            /* some jobs are 50x the minimum */
    assert_true(max <= 600000);              /* capped at 10 minutes */
    assert_true(sum / (double)w.n < 6000.0); /* but the mean stays small (3 s in theory) */
    sim_workload_cleanup(&w);
}

/* ------------------------------------------------------------------------------------------ */

static void one_slot_fifo_has_known_waits_makespan_and_utilisation(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    struct sim_workload w = {0};
    parse_cluster("{slots:1,cpu:1,mem:100}", &c);
    parse_workload("{\"submit_ms\":0,\"duration_ms\":100}\n"
                   "{\"submit_ms\":0,\"duration_ms\":200}\n"
                   "{\"submit_ms\":0,\"duration_ms\":300}\n",
                   &w);
    struct sim_result r = {0};
    run(&c, &w, "least-loaded", "fifo", 1, &r);
    assert_int_equal(r.placed, 3);
    assert_int_equal(r.never_placed, 0);
    /* Starts at 0, 100, 300. */
    assert_int_equal(r.waits[0], 0);
    assert_int_equal(r.waits[1], 100);
    assert_int_equal(r.waits[2], 300);
    assert_near(r.wait_mean_ms, 400.0 / 3.0, 1e-9);
    assert_int_equal(r.wait_p99_ms, 300);
    assert_int_equal(r.makespan_ms, 600);
    assert_near(r.utilisation, 1.0, 1e-9);
    assert_near(r.fairness, 1.0, 1e-12);
    assert_int_equal(r.plans, 3); /* at 0, 100 and 300; nothing queued at 600 */
    double bins[4];
    sim_util_bins(&r, r.makespan_ms, bins, 4);
    for (int i = 0; i < 4; i++)
        assert_near(bins[i], 1.0, 1e-9);
    sim_util_bins(&r, 2 * r.makespan_ms, bins, 4);
    assert_near(bins[0], 1.0, 1e-9);
    assert_near(bins[1], 1.0, 1e-9);
    assert_near(bins[2], 0.0, 1e-9);
    sim_result_cleanup(&r);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
}

static void sjf_runs_the_short_job_first(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    struct sim_workload w = {0};
    parse_cluster("{slots:1,cpu:1}", &c);
    /* A blocker, then a long and a short job queued behind it. */
    parse_workload("{\"submit_ms\":0,\"duration_ms\":1000,\"estimated_ms\":1000}\n"
                   "{\"submit_ms\":10,\"duration_ms\":5000,\"estimated_ms\":5000}\n"
                   "{\"submit_ms\":20,\"duration_ms\":100,\"estimated_ms\":100}\n",
                   &w);
    struct sim_result fifo = {0}, sjf = {0};
    run(&c, &w, "least-loaded", "fifo", 1, &fifo);
    run(&c, &w, "least-loaded", "sjf", 1, &sjf);
    /* fifo: waits 0, 990, 5980; sjf: 0, 980 (short), 1090 (long). */
    assert_int_equal(fifo.waits[2], 5980);
    assert_int_equal(sjf.waits[1], 980);
    assert_int_equal(sjf.waits[2], 1090);
    assert_true(sjf.wait_mean_ms < fifo.wait_mean_ms);
    assert_int_equal(sjf.makespan_ms, fifo.makespan_ms);
    sim_result_cleanup(&fifo);
    sim_result_cleanup(&sjf);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
}

static void priority_starts_high_before_low_behind_a_blocker(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    struct sim_workload w = {0};
    parse_cluster("{slots:1}", &c);
    parse_workload("{\"submit_ms\":0,\"duration_ms\":1000}\n"
                   "{\"submit_ms\":10,\"duration_ms\":100,\"priority\":0}\n"
                   "{\"submit_ms\":20,\"duration_ms\":100,\"priority\":10}\n",
                   &w);
    struct sim_result r = {0};
    run(&c, &w, "least-loaded", "priority", 1, &r);
    /* High waits 980 (starts at 1000), low waits 1090 (starts at 1100). */
    assert_int_equal(r.waits[1], 980);
    assert_int_equal(r.waits[2], 1090);
    sim_result_cleanup(&r);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
}

static void unschedulable_tasks_are_never_placed_and_others_run(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    struct sim_workload w = {0};
    parse_cluster("2x{slots:2,cpu:2,zone=a}", &c);
    parse_workload("{\"submit_ms\":0,\"duration_ms\":100,\"cpu\":64}\n"
                   "{\"submit_ms\":0,\"duration_ms\":100,\"labels\":{\"zone\":\"b\"}}\n"
                   "{\"submit_ms\":5,\"duration_ms\":100,\"labels\":{\"zone\":\"a\"}}\n",
                   &w);
    struct sim_result r = {0};
    run(&c, &w, "bin-pack", "priority", 1, &r);
    assert_int_equal(r.placed, 1);
    assert_int_equal(r.never_placed, 2);
    assert_string_equal(r.first_reason, "unschedulable: needs cpu 64, largest worker has 2");
    assert_int_equal(r.makespan_ms, 105);
    sim_result_cleanup(&r);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
}

static void weighted_split_follows_weights_and_fairness_sees_it(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    struct sim_workload w = {0};
    parse_cluster("{slots:64,cpu:64,weight:1}+{slots:64,cpu:64,weight:2}+"
                  "{slots:64,cpu:64,weight:3}",
                  &c);
    char *text = calloc(60, 64);
    assert_non_null(text);
    for (int i = 0; i < 60; i++)
        snprintf(text + strlen(text), 64, "{\"submit_ms\":0,\"duration_ms\":1000}\n");
    parse_workload(text, &w);
    free(text);
    struct sim_result r = {0};
    run(&c, &w, "weighted", "fifo", 1, &r);
    /* Busy time per worker is 1000 ms per task (each worker has cpu 64, task cpu 1: 1/64). */
    assert_near(r.busy_ms[0], 10 * 1000.0 / 64.0, 1e-6);
    assert_near(r.busy_ms[1], 20 * 1000.0 / 64.0, 1e-6);
    assert_near(r.busy_ms[2], 30 * 1000.0 / 64.0, 1e-6);
    /* Jain of 1:2:3 = 36 / (3 * 14). */
    assert_near(r.fairness, 36.0 / 42.0, 1e-9);
    sim_result_cleanup(&r);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
}

static void same_seed_same_result_for_random_placement(void **state)
{
    (void)state;
    struct sim_cluster c = {0};
    struct sim_workload w = {0};
    struct corral_error err = {0};
    parse_cluster("{slots:2,cpu:2}+{slots:4,cpu:4}+{slots:8,cpu:8,zone=a}", &c);
    assert_int_equal(sim_workload_generate("mixed", 400, 5, 80, &w, &err), CORRAL_OK);
    struct sim_result a = {0}, b = {0};
    run(&c, &w, "random", "sjf", 99, &a);
    run(&c, &w, "random", "sjf", 99, &b);
    assert_int_equal(a.placed, b.placed);
    assert_int_equal(a.makespan_ms, b.makespan_ms);
    assert_memory_equal(a.waits, b.waits, a.placed * sizeof *a.waits);
    assert_memory_equal(a.busy_ms, b.busy_ms, c.n * sizeof *a.busy_ms);
    /* zone=b tasks have no worker here. */
    assert_true(a.never_placed > 0);
    assert_int_equal(a.placed + a.never_placed, w.n);
    assert_true(a.utilisation > 0.0 && a.utilisation <= 1.0);

    /* The chart is well-formed enough to start and end as SVG and name the policy. */
    char *svg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&svg, &len);
    assert_non_null(f);
    sim_plot_svg(f, &a, 1, "test & <subtitle>");
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(svg, "<svg "));
    assert_non_null(strstr(svg, "random / sjf"));
    assert_non_null(strstr(svg, "test &amp; &lt;subtitle&gt;"));
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);
    sim_result_cleanup(&a);
    sim_result_cleanup(&b);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jain_is_one_for_equal_shares_and_one_over_n_for_one_busy),
        cmocka_unit_test(percentile_is_nearest_rank),
        cmocka_unit_test(workload_parses_fields_defaults_and_sorts_by_submit),
        cmocka_unit_test(workload_errors_name_line_and_field),
        cmocka_unit_test(cluster_spec_groups_counts_defaults_and_labels),
        cmocka_unit_test(cluster_spec_rejects_bad_text),
        cmocka_unit_test(worker_file_parses_and_sorts_by_id),
        cmocka_unit_test(generators_are_deterministic_sorted_and_sized),
        cmocka_unit_test(heavy_tailed_has_a_heavy_tail),
        cmocka_unit_test(one_slot_fifo_has_known_waits_makespan_and_utilisation),
        cmocka_unit_test(sjf_runs_the_short_job_first),
        cmocka_unit_test(priority_starts_high_before_low_behind_a_blocker),
        cmocka_unit_test(unschedulable_tasks_are_never_placed_and_others_run),
        cmocka_unit_test(weighted_split_follows_weights_and_fairness_sees_it),
        cmocka_unit_test(same_seed_same_result_for_random_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
