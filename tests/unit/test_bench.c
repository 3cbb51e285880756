/* SPDX-License-Identifier: MIT */
/* corral-bench's pure part: flags and sizes (bench/args.c), percentiles, rates, ratios, table
 * cells and the VmHWM parser (bench/stats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/args.h"
#include "bench/stats.h"

/* ------------------------------------------------------------------ percentiles and rates */

static void percentiles_are_nearest_rank(void **state)
{
    (void)state;
    int64_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 100 - i; /* 100..1, unsorted */
    struct bench_pct p;
    bench_percentiles(v, 100, &p);
    assert_int_equal(p.n, 100);
    assert_int_equal(p.p50, 50);
    assert_int_equal(p.p99, 99);
    assert_int_equal(p.max, 100);
}

static void percentiles_of_one_value_are_that_value(void **state)
{
    (void)state;
    int64_t v[1] = {7};
    struct bench_pct p;
    bench_percentiles(v, 1, &p);
    assert_int_equal(p.p50, 7);
    assert_int_equal(p.p99, 7);
    assert_int_equal(p.max, 7);
}

static void percentiles_of_nothing_are_empty(void **state)
{
    (void)state;
    struct bench_pct p = {.p50 = 3};
    bench_percentiles(NULL, 0, &p);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.p50, 0);
    assert_int_equal(p.max, 0);
}

static void p99_of_ten_is_the_max(void **state)
{
    (void)state;
    int64_t v[10] = {5, 1, 9, 3, 7, 2, 8, 4, 6, 10};
    struct bench_pct p;
    bench_percentiles(v, 10, &p);
    assert_int_equal(p.p50, 5);
    assert_int_equal(p.p99, 10);
    assert_int_equal(bench_rank(v, 10, 10.0), 1);
    assert_int_equal(bench_rank(v, 10, 11.0), 2);
}

static void rate_is_per_second_and_floors_the_interval(void **state)
{
    (void)state;
    assert_true(bench_rate(500, 250) == 2000.0);
    assert_true(bench_rate(3, 0) == 3000.0); /* under 1 ms counts as 1 ms */
    assert_true(bench_rate(0, 100) < 0.0);
    assert_true(bench_rate(10, -1) < 0.0);
}

static void ratio_is_unknown_without_a_ceiling(void **state)
{
    (void)state;
    assert_true(bench_ratio(30.0, 100.0) == 0.3);
    assert_true(bench_ratio(30.0, 0.0) < 0.0);
    assert_true(bench_ratio(-1.0, 100.0) < 0.0);
    assert_true(bench_ratio(5.0, -1.0) < 0.0);
}

/* ------------------------------------------------------------------ cells and rows */

static void cells_show_a_dash_when_unknown(void **state)
{
    (void)state;
    char b[32];
    struct bench_pct none = {0};
    assert_string_equal(bench_fmt_rate(b, sizeof b, -1.0), "-");
    assert_string_equal(bench_fmt_pct(b, sizeof b, &none), "-");
    assert_string_equal(bench_fmt_ratio(b, sizeof b, -1.0), "-");
    assert_string_equal(bench_fmt_mib(b, sizeof b, -1), "-");
}

static void cells_format_numbers(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(bench_fmt_rate(b, sizeof b, 12345.4), "12345");
    assert_string_equal(bench_fmt_rate(b, sizeof b, 27.25), "27.2");
    struct bench_pct p = {.p50 = 3, .p99 = 25, .max = 40, .n = 9};
    assert_string_equal(bench_fmt_pct(b, sizeof b, &p), "3/25/40");
    assert_string_equal(bench_fmt_ratio(b, sizeof b, 0.314), "31%");
    assert_string_equal(bench_fmt_ratio(b, sizeof b, 0.004), "0.4%");
    assert_string_equal(bench_fmt_mib(b, sizeof b, 2048 + 512), "2.5");
}

static void cells_truncate_to_the_buffer(void **state)
{
    (void)state;
    char b[4];
    assert_string_equal(bench_fmt_rate(b, sizeof b, 123456.0), "123");
}

static void row_lines_up_with_the_header(void **state)
{
    (void)state;
    char h[512], r[512];
    struct bench_row row = {
        .scenario = "b-batch",
        .tasks = 5000,
        .finished = 4000,
        .submit_per_s = 1234.0,
        .finish_per_s = 567.0,
        .start = {.p50 = 1, .p99 = 20, .max = 31, .n = 4000},
        .end = {.p50 = 2, .p99 = 40, .max = 80, .n = 4000},
        .rss_corrald_kib = 10240,
        .rss_workers_kib = -1,
        .submit_ratio = 0.1,
        .finish_ratio = -1.0,
        .complete = false,
    };
    bench_format_header(h, sizeof h);
    bench_format_row(r, sizeof r, &row);
    assert_non_null(strstr(r, "4000/5000"));
    assert_non_null(strstr(r, "1/20/31"));
    assert_non_null(strstr(r, "10.0"));
    assert_non_null(strstr(r, "INCOMPLETE"));
    /* The status column starts at the same offset in both. */
    const char *hs = strstr(h, "status"), *rs = strstr(r, "INCOMPLETE");
    assert_int_equal(hs - h, rs - r);
    row.complete = true;
    bench_format_row(r, sizeof r, &row);
    assert_null(strstr(r, "INCOMPLETE"));
    assert_non_null(strstr(r, " ok"));
}

/* ------------------------------------------------------------------ VmHWM */

static void metric_sum_adds_every_sample_of_one_counter(void **state)
{
    (void)state;
    const char *text = "# HELP corral_tasks_finished_total Tasks that became final.\n"
                       "# TYPE corral_tasks_finished_total counter\n"
                       "corral_tasks_finished_total{state=\"succeeded\"} 1990\n"
                       "corral_tasks_finished_total{state=\"failed\"} 7\n"
                       "corral_tasks_finished_total_other 1000\n"
                       "corral_tasks_finished_total{state=\"cancelled\"} 3\n"
                       "corral_up 1\n";
    assert_int_equal(bench_metric_sum(text, "corral_tasks_finished_total"), 2000);
    assert_int_equal(bench_metric_sum(text, "corral_up"), 1);
    /* No sample: unknown, not zero. */
    assert_int_equal(bench_metric_sum(text, "corral_missing"), -1);
    assert_int_equal(bench_metric_sum("", "corral_up"), -1);
    /* A malformed sample makes the whole figure unknown. */
    assert_int_equal(bench_metric_sum("corral_up abc\n", "corral_up"), -1);
    assert_int_equal(bench_metric_sum("corral_up{a=\"b\" 3\n", "corral_up"), -1);
    assert_int_equal(bench_metric_sum("corral_up -3\n", "corral_up"), -1);
    assert_int_equal(bench_metric_sum("corral_up 1.5\n", "corral_up"), -1);
    assert_int_equal(bench_metric_sum("corral_up 9223372036854775807\ncorral_up 1\n", "corral_up"),
                     -1);
}

static void vmhwm_is_read_from_proc_status(void **state)
{
    (void)state;
    const char *st = "Name:\tcorrald\nVmPeak:\t  300000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 1 kB\n";
    assert_int_equal(bench_vmhwm_parse(st), 12345);
    assert_int_equal(bench_vmhwm_parse("Name:\tx\n"), -1);
    assert_int_equal(bench_vmhwm_parse("VmHWM:\t  abc kB\n"), -1);
    assert_int_equal(bench_vmhwm_parse("VmHWM:\t 12 MB\n"), -1);
    assert_int_equal(bench_vmhwm_parse(""), -1);
}

/* ------------------------------------------------------------------ CPU time */

static void cpu_ticks_are_read_from_proc_stat(void **state)
{
    (void)state;
    /* pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime priority ... */
    const char *st = "4242 (corrald) S 1 4242 4242 0 -1 4194560 900 0 3 0 150 25 7 3 20 0 17\n";
    assert_int_equal(bench_proc_ticks_parse(st, false), 175);
    assert_int_equal(bench_proc_ticks_parse(st, true), 185);
    /* A name with spaces and a ')' counts from the last ')'. */
    const char *odd = "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 11 22 33 44 20 0 1\n";
    assert_int_equal(bench_proc_ticks_parse(odd, false), 33);
    assert_int_equal(bench_proc_ticks_parse(odd, true), 110);
    assert_int_equal(bench_proc_ticks_parse("7 (x) S 1 2 3\n", false), -1);
    assert_int_equal(bench_proc_ticks_parse("no name here", false), -1);
    assert_int_equal(bench_proc_ticks_parse("7 (x) S 1 7 7 0 -1 0 0 0 0 0 1x 2 3 4\n", false), -1);
}

static void machine_ticks_are_read_from_proc_stat(void **state)
{
    (void)state;
    uint64_t busy = 0, total = 0;
    const char *st = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
    assert_true(bench_machine_ticks_parse(st, &busy, &total));
    assert_int_equal(total, 1180);
    assert_int_equal(busy, 160);
    assert_false(bench_machine_ticks_parse("cpu0 1 2 3 4 5 6 7 8\n", &busy, &total));
    assert_false(bench_machine_ticks_parse("cpu  1 2 3\n", &busy, &total));
}

static void cores_are_ticks_over_wall_time(void **state)
{
    (void)state;
    assert_float_equal(bench_cores(300, 2000, 100), 1.5, 1e-9);
    assert_float_equal(bench_cores(0, 1000, 100), 0.0, 1e-9);
    assert_true(bench_cores(-1, 1000, 100) < 0);
    assert_true(bench_cores(10, 0, 100) < 0);
    assert_true(bench_cores(10, 1000, 0) < 0);
}

/* ------------------------------------------------------------------ flags */

/* Parse args (NULL-terminated); the strings are copied into writable storage as argv is. */
static int parse(struct bench_opts *o, struct corral_error *err, const char *const *args)
{
    static char store[16][128];
    char *argv[17] = {0};
    int argc = 0;
    for (; args[argc] && argc < 16; argc++) {
        snprintf(store[argc], sizeof store[argc], "%s", args[argc]);
        argv[argc] = store[argc];
    }
    struct corral_opts_result res = {0};
    memset(o, 0, sizeof *o);
    memset(err, 0, sizeof *err);
    return bench_opts_parse(argc, argv, o, &res, err);
}

static void scenarios_parse_letters_and_all(void **state)
{
    (void)state;
    unsigned m = 0;
    struct corral_error err = {0};
    assert_int_equal(bench_parse_scenarios("a,c,e", &m, &err), CORRAL_OK);
    assert_int_equal(m, BENCH_SC_CEIL | BENCH_SC_E2E | BENCH_SC_BACKLOG);
    assert_int_equal(bench_parse_scenarios("all", &m, &err), CORRAL_OK);
    assert_int_equal(m, BENCH_SC_ALL);
    assert_int_equal(bench_parse_scenarios("b", &m, &err), CORRAL_OK);
    assert_int_equal(m, BENCH_SC_SIM);
}

static void scenarios_reject_unknown_and_empty(void **state)
{
    (void)state;
    unsigned m = 0;
    const char *bad[] = {"", "f", "a,,b", "ab", "a,", ",a", "A"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct corral_error err = {0};
        assert_int_equal(bench_parse_scenarios(bad[i], &m, &err), CORRAL_EUSAGE);
        assert_string_equal(err.field, "--scenarios");
        assert_int_equal(m, 0);
    }
}

static void defaults_depend_on_smoke(void **state)
{
    (void)state;
    struct bench_opts o;
    struct corral_error err;
    const char *full[] = {"corral-bench", NULL};
    assert_int_equal(parse(&o, &err, full), CORRAL_OK);
    assert_int_equal(o.tasks, 10000);
    assert_int_equal(o.budget_s, 60);
    assert_int_equal(o.scenario_mask, BENCH_SC_ALL);
    assert_string_equal(o.zk_jar, "/usr/share/java/zookeeper.jar");
    const char *smoke[] = {"corral-bench", "--smoke", NULL};
    assert_int_equal(parse(&o, &err, smoke), CORRAL_OK);
    assert_true(o.smoke);
    assert_int_equal(o.tasks, 300);
    assert_int_equal(o.session_ms, 1000);
    assert_int_equal(o.workers, 2);
    assert_int_equal(o.worker_slots, 8);
}

static void given_sizes_beat_the_smoke_defaults(void **state)
{
    (void)state;
    struct bench_opts o;
    struct corral_error err;
    const char *argv[] = {"corral-bench", "--smoke", "--tasks", "42", "--scenarios=b,d", NULL};
    assert_int_equal(parse(&o, &err, argv), CORRAL_OK);
    assert_int_equal(o.tasks, 42);
    assert_int_equal(o.backlog, 600);
    assert_int_equal(o.scenario_mask, BENCH_SC_SIM | BENCH_SC_LIGHT);
}

static void bad_flags_are_usage_errors(void **state)
{
    (void)state;
    struct bench_opts o;
    struct corral_error err;
    const char *unknown[] = {"corral-bench", "--frobnicate", NULL};
    assert_int_equal(parse(&o, &err, unknown), CORRAL_EUSAGE);
    const char *range[] = {"corral-bench", "--tasks", "0", NULL};
    assert_int_equal(parse(&o, &err, range), CORRAL_EUSAGE);
    assert_string_equal(err.field, "--tasks");
    const char *garbage[] = {"corral-bench", "--tasks", "12x", NULL};
    assert_int_equal(parse(&o, &err, garbage), CORRAL_EUSAGE);
    const char *positional[] = {"corral-bench", "extra", NULL};
    assert_int_equal(parse(&o, &err, positional), CORRAL_EUSAGE);
    const char *scen[] = {"corral-bench", "--scenarios", "x", NULL};
    assert_int_equal(parse(&o, &err, scen), CORRAL_EUSAGE);
    assert_string_equal(err.field, "--scenarios");
}

static void server_needs_zk_and_namespace_needs_server(void **state)
{
    (void)state;
    struct bench_opts o;
    struct corral_error err;
    const char *no_zk[] = {"corral-bench", "--server", "http://127.0.0.1:7070", NULL};
    assert_int_equal(parse(&o, &err, no_zk), CORRAL_EUSAGE);
    assert_string_equal(err.field, "--server");
    const char *ns[] = {"corral-bench", "--namespace", "/x", NULL};
    assert_int_equal(parse(&o, &err, ns), CORRAL_EUSAGE);
    assert_string_equal(err.field, "--namespace");
    const char *bad_url[] = {"corral-bench", "--zk",           "127.0.0.1:2181",
                             "--server",     "127.0.0.1:7070", NULL};
    assert_int_equal(parse(&o, &err, bad_url), CORRAL_EUSAGE);
    const char *ok[] = {"corral-bench",          "--zk",        "127.0.0.1:2181", "--server",
                        "http://127.0.0.1:7070", "--namespace", "/prod",          NULL};
    assert_int_equal(parse(&o, &err, ok), CORRAL_OK);
    assert_string_equal(o.ns, "/prod");
    const char *bad_ns[] = {"corral-bench", "--zk",        "h:1",   "--server",
                            "http://h:2",   "--namespace", "prod/", NULL};
    assert_int_equal(parse(&o, &err, bad_ns), CORRAL_EUSAGE);
}

static void help_lists_every_flag(void **state)
{
    (void)state;
    char *h = bench_opts_help();
    const char *flags[] = {"--smoke",          "--tasks N",   "--backlog N",
                           "--scenarios LIST", "--zk HOSTS",  "--server URL",
                           "--build-dir DIR",  "--json FILE", "--zk-jar FILE"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strstr(h, flags[i]))
            fail_msg("help lacks %s", flags[i]);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percentiles_are_nearest_rank),
        cmocka_unit_test(percentiles_of_one_value_are_that_value),
        cmocka_unit_test(percentiles_of_nothing_are_empty),
        cmocka_unit_test(p99_of_ten_is_the_max),
        cmocka_unit_test(rate_is_per_second_and_floors_the_interval),
        cmocka_unit_test(ratio_is_unknown_without_a_ceiling),
        cmocka_unit_test(cells_show_a_dash_when_unknown),
        cmocka_unit_test(cells_format_numbers),
        cmocka_unit_test(cells_truncate_to_the_buffer),
        cmocka_unit_test(row_lines_up_with_the_header),
        cmocka_unit_test(metric_sum_adds_every_sample_of_one_counter),
        cmocka_unit_test(vmhwm_is_read_from_proc_status),
        cmocka_unit_test(cpu_ticks_are_read_from_proc_stat),
        cmocka_unit_test(machine_ticks_are_read_from_proc_stat),
        cmocka_unit_test(cores_are_ticks_over_wall_time),
        cmocka_unit_test(scenarios_parse_letters_and_all),
        cmocka_unit_test(scenarios_reject_unknown_and_empty),
        cmocka_unit_test(defaults_depend_on_smoke),
        cmocka_unit_test(given_sizes_beat_the_smoke_defaults),
        cmocka_unit_test(bad_flags_are_usage_errors),
        cmocka_unit_test(server_needs_zk_and_namespace_needs_server),
        cmocka_unit_test(help_lists_every_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
