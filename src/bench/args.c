/* SPDX-License-Identifier: MIT */
/* corral-bench's flags and the sizes of a run (args.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bench/args.h"
#include "corral/paths.h"

#define OPT(field) offsetof(struct bench_opts, field)
static const struct corral_opt opt_table[] = {
    {"smoke", NULL, CORRAL_OPT_BOOL, NULL, NULL,
     "tiny sizes: every scenario in a few seconds (a check that it works, not a measurement)",
     OPT(smoke), 0, 0, NULL},
    {"scenarios", NULL, CORRAL_OPT_STRING, "LIST", "a,b,c,d,e",
     "which to run: a ceilings, b simulated workers, c real workers, d light load, e backlog",
     OPT(scenarios), 0, 0, NULL},
    {"tasks", NULL, CORRAL_OPT_INT, "N", NULL,
     "b: tasks per submit mode (batch, single) (default 10000; smoke 300)", OPT(tasks), 1, 10000000,
     NULL},
    {"e2e-tasks", NULL, CORRAL_OPT_INT, "N", NULL,
     "c: tasks run by the real workers (default 1000; smoke 40)", OPT(e2e_tasks), 1, 10000000,
     NULL},
    {"backlog", NULL, CORRAL_OPT_INT, "N", NULL,
     "e: tasks queued before any worker joins (default 10000; smoke 600)", OPT(backlog), 1,
     10000000, NULL},
    {"zk", NULL, CORRAL_OPT_STRING, "HOSTS", NULL,
     "use this ZooKeeper instead of starting one (host:port[,host:port...])", OPT(zk), 0, 0, NULL},
    {"server", NULL, CORRAL_OPT_STRING, "URL", NULL,
     "use this corrald instead of starting replicas (needs --zk; no leader kill in e)", OPT(server),
     0, 0, NULL},
    {"namespace", NULL, CORRAL_OPT_STRING, "PATH", NULL,
     "namespace of the --server cluster (default /corral)", OPT(ns), 0, 0, NULL},
    {"build-dir", NULL, CORRAL_OPT_STRING, "DIR", NULL,
     "where corrald and corral-worker are (default: corral-bench's own directory)", OPT(build_dir),
     0, 0, NULL},
    {"json", NULL, CORRAL_OPT_STRING, "FILE", NULL, "also write every result as JSON to FILE",
     OPT(json), 0, 0, NULL},
    {"zk-jar", NULL, CORRAL_OPT_STRING, "FILE", "/usr/share/java/zookeeper.jar",
     "ZooKeeper server jar (its manifest names its dependencies)", OPT(zk_jar), 0, 0, NULL},
    {"zk-heap-mb", NULL, CORRAL_OPT_INT, "N", NULL, "heap of the ZooKeeper it starts (default 512)",
     OPT(zk_heap_mb), 64, 65536, NULL},
    {"zk-servers", NULL, CORRAL_OPT_INT, "N", NULL,
     "servers of the ZooKeeper it starts: 1 standalone, 3 or 5 an ensemble on loopback (default 1)",
     OPT(zk_servers), 1, 5, NULL},
    {"sim-workers", NULL, CORRAL_OPT_INT, "N", NULL, "b, e: simulated workers (default 4; smoke 2)",
     OPT(sim_workers), 1, 64, NULL},
    {"sim-slots", NULL, CORRAL_OPT_INT, "N", NULL,
     "b, e: slots of each simulated worker (default 256; smoke 32)", OPT(sim_slots), 1, 100000,
     NULL},
    {"sim-batch", NULL, CORRAL_OPT_INT, "N", NULL,
     "b, e: finishes per multi of a simulated worker (default 100)", OPT(sim_batch), 1, 1000, NULL},
    {"workers", NULL, CORRAL_OPT_INT, "N", NULL, "c, d: real corral-workers (default 2)",
     OPT(workers), 1, 64, NULL},
    {"worker-slots", NULL, CORRAL_OPT_INT, "N", NULL,
     "c, d: --slots (and --cpu) of each real worker (default 8)", OPT(worker_slots), 1, 1024, NULL},
    {"clients", NULL, CORRAL_OPT_INT, "N", NULL,
     "b: keep-alive clients posting one task per request (default 8)", OPT(clients), 1, 256, NULL},
    {"batch-clients", NULL, CORRAL_OPT_INT, "N", NULL,
     "b, c, e: clients posting batches of 1000 (default 4; smoke 2)", OPT(batch_clients), 1, 64,
     NULL},
    {"rate", NULL, CORRAL_OPT_INT, "N", NULL, "d: tasks per second of the light load (default 20)",
     OPT(rate), 1, 10000, NULL},
    {"light-s", NULL, CORRAL_OPT_INT, "S", NULL, "d: seconds of light load (default 5; smoke 2)",
     OPT(light_s), 1, 3600, NULL},
    {"session-ms", NULL, CORRAL_OPT_INT, "MS", NULL,
     "ZooKeeper session timeout of corrald and workers (default 2000; smoke 1000)", OPT(session_ms),
     400, 4000, NULL},
    {"budget-s", NULL, CORRAL_OPT_INT, "S", NULL,
     "time budget of each scenario; past it, it is reported incomplete (default 60; smoke 20)",
     OPT(budget_s), 1, 86400, NULL},
    {"ceil-ms", NULL, CORRAL_OPT_INT, "MS", NULL,
     "a: length of each timed ceiling loop (default 2000; smoke 400)", OPT(ceil_ms), 50, 600000,
     NULL},
    {"ceil-creates", NULL, CORRAL_OPT_INT, "N", NULL,
     "a: znodes of the async create ceiling (default 20000; smoke 2000)", OPT(ceil_creates), 100,
     10000000, NULL},
    {"keep-logs", NULL, CORRAL_OPT_BOOL, NULL, NULL,
     "keep the temp dir with every process's log (kept anyway after a failure)", OPT(keep_logs), 0,
     0, NULL},
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

char *bench_opts_help(void)
{
    return corral_opts_help(opt_table, N_OPTS);
}

int bench_parse_scenarios(const char *s, unsigned *mask, struct corral_error *err)
{
    *mask = 0;
    if (!s || !*s)
        return corral_error_set(err, CORRAL_EUSAGE, "--scenarios", "must not be empty");
    if (strcmp(s, "all") == 0) {
        *mask = BENCH_SC_ALL;
        return CORRAL_OK;
    }
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len != 1 || p[0] < 'a' || p[0] > 'e') {
            *mask = 0;
            return corral_error_set(err, CORRAL_EUSAGE, "--scenarios",
                                    "unknown scenario '%.*s' (use a,b,c,d,e or all)",
                                    (int)(len > 40 ? 40 : len), p);
        }
        *mask |= 1u << (p[0] - 'a');
        if (p[len] == '\0')
            return CORRAL_OK;
        p += len + 1;
    }
}

/* v = full or smoke unless given. */
static void dflt(int64_t *v, bool smoke, int64_t full, int64_t small)
{
    if (*v == 0)
        *v = smoke ? small : full;
}

int bench_opts_resolve(struct bench_opts *o, struct corral_error *err)
{
    int rc = bench_parse_scenarios(o->scenarios, &o->scenario_mask, err);
    if (rc != CORRAL_OK)
        return rc;
    bool s = o->smoke;
    dflt(&o->tasks, s, 10000, 300);
    dflt(&o->e2e_tasks, s, 1000, 40);
    dflt(&o->backlog, s, 10000, 600);
    dflt(&o->zk_heap_mb, s, 512, 512);
    dflt(&o->zk_servers, s, 1, 1);
    dflt(&o->sim_workers, s, 4, 2);
    dflt(&o->sim_slots, s, 256, 32);
    dflt(&o->sim_batch, s, 100, 100);
    dflt(&o->workers, s, 2, 2);
    dflt(&o->worker_slots, s, 8, 8);
    dflt(&o->clients, s, 8, 8);
    dflt(&o->batch_clients, s, 4, 2);
    dflt(&o->rate, s, 20, 20);
    dflt(&o->light_s, s, 5, 2);
    dflt(&o->session_ms, s, 2000, 1000);
    dflt(&o->budget_s, s, 60, 20);
    dflt(&o->ceil_ms, s, 2000, 400);
    dflt(&o->ceil_creates, s, 20000, 2000);
    if (o->server && !o->zk)
        return corral_error_set(err, CORRAL_EUSAGE, "--server",
                                "needs --zk (the simulated workers register in its ZooKeeper)");
    if (o->ns && !o->server)
        return corral_error_set(err, CORRAL_EUSAGE, "--namespace",
                                "only with --server (otherwise every scenario has its own)");
    if (!o->ns)
        o->ns = "/corral";
    if (!corral_path_valid_namespace(o->ns))
        return corral_error_set(err, CORRAL_EUSAGE, "--namespace",
                                "must be an absolute znode path like /corral, got '%s'", o->ns);
    if (o->server && strncmp(o->server, "http://", 7) != 0 && strncmp(o->server, "https://", 8))
        return corral_error_set(err, CORRAL_EUSAGE, "--server", "must be an http(s) URL, got '%s'",
                                o->server);
    return CORRAL_OK;
}

int bench_opts_parse(int argc, char *const *argv, struct bench_opts *o,
                     struct corral_opts_result *res, struct corral_error *err)
{
    int rc = corral_opts_parse(opt_table, N_OPTS, argc, argv, 1, NULL, o, res, err);
    if (rc != CORRAL_OK || res->help || res->version)
        return rc;
    if (res->next < argc)
        return corral_error_set(err, CORRAL_EUSAGE, NULL, "unexpected argument '%s'",
                                argv[res->next]);
    return bench_opts_resolve(o, err);
}
