/* SPDX-License-Identifier: MIT */
/*
 * corral-bench (docs/benchmarks.md): the machine's ceilings, then corral's throughput, latency
 * and backlog figures beside them, in one run. This file parses the flags, starts ZooKeeper
 * (unless --zk), runs the selected scenarios in order, prints the table, writes the JSON, and
 * stops every process it started on every path out (the end, an error, SIGINT or SIGTERM).
 */
#define _DEFAULT_SOURCE /* getloadavg */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench/args.h"
#include "bench/bench.h"
#include "bench/ceil.h"
#include "bench/cluster.h"
#include "bench/report.h"
#include "bench/scenario.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/proc.h"

static void on_signal(int sig)
{
    (void)sig;
    bench_request_stop();
}

static void usage(void)
{
    char *help = bench_opts_help();
    printf("Usage: corral-bench [FLAGS]\n\n"
           "Measures, in one run, the ceilings of this machine (a: fork/exec of true, ZooKeeper\n"
           "async creates and fenced multis) and corral beside them: (b) scheduler throughput\n"
           "with simulated workers, batch and single submits; (c) end to end with real\n"
           "corral-workers running true; (d) submit->start/finish latency at light load; (e) a\n"
           "backlog drained by workers, with a kill -9 of the leader halfway. It starts its own\n"
           "ZooKeeper and corrald replicas on free loopback ports (or uses --zk/--server),\n"
           "prints a table, and writes JSON with --json FILE. See docs/benchmarks.md.\n\n"
           "Flags:\n%s\n"
           "Exit status: 0 every scenario complete, 1 one incomplete or interrupted, 2 usage\n"
           "error, 3 the cluster could not be set up.\n",
           help);
    free(help);
}

static int usage_error(const struct corral_error *err)
{
    if (err->field[0])
        fprintf(stderr, "corral-bench: %s: %s\n", err->field, err->msg);
    else
        fprintf(stderr, "corral-bench: %s\n", err->msg);
    return 2;
}

/* The directory of this executable (where the build put corrald and corral-worker too). */
static void own_dir(char *out, size_t n)
{
    char exe[PATH_MAX];
    if (!proc_self_exe(exe, sizeof exe)) {
        snprintf(out, n, ".");
        return;
    }
    snprintf(out, n, "%s", dirname(exe));
}

int main(int argc, char **argv)
{
    /* Hidden mode: the fork ceiling alone, in a fresh process (ceil_fork_fresh). */
    if (argc >= 2 && strcmp(argv[1], "--fork-loop") == 0) {
        if (argc != 3) {
            fprintf(stderr, "corral-bench: --fork-loop takes one argument, milliseconds\n");
            return 2;
        }
        return ceil_fork_loop_main(argv[2]);
    }
    struct bench_opts o = {0};
    struct corral_error err = {0};
    struct corral_opts_result res = {0};
    if (bench_opts_parse(argc, argv, &o, &res, &err) != CORRAL_OK)
        return usage_error(&err);
    if (res.help) {
        usage();
        return 0;
    }
    if (res.version) {
        printf("corral %s\n", CORRAL_VERSION);
        return 0;
    }
    char bin_dir[PATH_MAX];
    if (o.build_dir)
        snprintf(bin_dir, sizeof bin_dir, "%s", o.build_dir);
    else
        own_dir(bin_dir, sizeof bin_dir);

    log_init("corral-bench", CORRAL_LOG_WARN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "corral-bench: cannot initialise libcurl\n");
        return 3;
    }

    static struct bench_report rep;
    rep.o = &o;
    rep.started_wall_ms = clock_wall_ms();
    rep.cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (getloadavg(rep.load_before, 3) < 0)
        rep.load_before[0] = rep.load_before[1] = rep.load_before[2] = -1.0;
    bench_set_start(clock_mono_ms());
    bench_progress("corral-bench %s: scenarios %s%s; binaries from %s", CORRAL_VERSION, o.scenarios,
                   o.smoke ? " (smoke sizes)" : "", bin_dir);

    int exit_code = 0;
    static struct cluster cl;
    bool cluster_made = false;
    unsigned m = o.scenario_mask;

    /* The fork loop first: before any thread and before the JVM starts. */
    if ((m & BENCH_SC_CEIL) && !bench_stopping()) {
        if (ceil_fork(o.ceil_ms, &rep.ceil, &err) != CORRAL_OK) {
            snprintf(rep.error, sizeof rep.error, "fork ceiling: %s", err.msg);
        } else {
            rep.ceil.ran = true;
            bench_progress("a: fork+exec+waitpid of true: %.0f/s (%" PRIu64 " in %" PRId64 " ms)",
                           rep.ceil.fork_per_s, rep.ceil.fork_n, rep.ceil.fork_ms);
        }
    }
    const char *hosts = o.zk;
    if (!rep.error[0] && !bench_stopping()) {
        if (cluster_init(&cl, bin_dir, &err) != CORRAL_OK) {
            snprintf(rep.error, sizeof rep.error, "%s", err.msg);
        } else {
            cluster_made = true;
            bench_progress("temp dir %s (logs of every process)", cl.dir);
            if (!hosts) {
                if (cluster_start_zk(&cl, o.zk_jar, (int)o.zk_heap_mb, (int)o.zk_servers, &err) !=
                    CORRAL_OK) {
                    snprintf(rep.error, sizeof rep.error, "%s", err.msg);
                } else {
                    hosts = cl.zk_hosts;
                    char kind[48] = "standalone";
                    if (o.zk_servers > 1)
                        snprintf(kind, sizeof kind, "ensemble of %" PRId64 " servers",
                                 o.zk_servers);
                    snprintf(rep.zk_desc, sizeof rep.zk_desc,
                             "started here at %s (%s, tickTime 200, forceSync on, heap "
                             "%" PRId64 " MiB each)",
                             hosts, kind, o.zk_heap_mb);
                    bench_progress("ZooKeeper ready at %s", hosts);
                }
            } else {
                snprintf(rep.zk_desc, sizeof rep.zk_desc, "given: %s", hosts);
            }
        }
    }
    struct bench_ctx x = {
        .o = &o, .cl = &cl, .zk_hosts = hosts, .ceil = &rep.ceil, .empty_finish_per_s = -1.0};
    snprintf(x.ns_prefix, sizeof x.ns_prefix, "/corral-bench-%ld", (long)getpid());
    rep.ns_prefix = x.ns_prefix;
    if ((m & BENCH_SC_CEIL) && !rep.error[0] && !bench_stopping()) {
        char root[96];
        snprintf(root, sizeof root, "%s-ceil", x.ns_prefix);
        if (ceil_zk(hosts, root, &o, &rep.ceil, &err) != CORRAL_OK)
            snprintf(rep.error, sizeof rep.error, "ZooKeeper ceilings: %s", err.msg);
    }
    struct {
        unsigned bit;
        int which;
    } plan[] = {{BENCH_SC_SIM, 0},
                {BENCH_SC_SIM, 1},
                {BENCH_SC_E2E, 2},
                {BENCH_SC_LIGHT, 3},
                {BENCH_SC_BACKLOG, 4}};
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        if (!(m & plan[i].bit) || rep.error[0] || bench_stopping())
            continue;
        struct bench_result *r = &rep.sc[rep.n++];
        switch (plan[i].which) {
            case 0:
                scenario_sim(&x, false, r);
                break;
            case 1:
                scenario_sim(&x, true, r);
                break;
            case 2:
                scenario_e2e(&x, r);
                break;
            case 3:
                scenario_light(&x, r);
                break;
            default:
                scenario_backlog(&x, r);
                break;
        }
        char line[512];
        if (r->ran)
            bench_progress("%s done: %s", r->name, bench_format_row(line, sizeof line, &r->row));
        else
            bench_progress("%s could not run: %s", r->name, r->note);
        if (!r->ran && !bench_stopping())
            exit_code = 3;
    }
    rep.interrupted = bench_stopping();
    if (getloadavg(rep.load_after, 3) < 0)
        rep.load_after[0] = rep.load_after[1] = rep.load_after[2] = -1.0;
    /* An incomplete scenario keeps the logs too: they say why. */
    bool incomplete = false;
    for (int i = 0; i < rep.n; i++)
        incomplete |= rep.sc[i].ran && !rep.sc[i].row.complete && !rep.interrupted;
    if (cluster_made)
        cluster_cleanup(&cl, o.keep_logs || rep.error[0] || exit_code == 3 || incomplete);
    report_print(stdout, &rep);
    if (o.json) {
        corral_error_clear(&err);
        if (report_write_json(o.json, &rep, &err) != CORRAL_OK) {
            fprintf(stderr, "corral-bench: %s\n", err.msg);
            if (exit_code == 0)
                exit_code = 1;
        }
    }
    curl_global_cleanup();
    if (exit_code == 0 && rep.error[0])
        exit_code = 3;
    if (exit_code == 0 && !report_complete(&rep))
        exit_code = 1;
    return exit_code;
}
