/* SPDX-License-Identifier: MIT */
/*
 * corral-bench's flags (docs/benchmarks.md "Flags"): the flag table, parsing with corral_opts
 * (core/opts.c), the scenario list, and the sizes a run uses (full run or --smoke). Pure: argv
 * in, a filled struct bench_opts or a usage error out (tests/unit/test_bench.c).
 */
#ifndef CORRAL_BENCH_ARGS_H
#define CORRAL_BENCH_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/opts.h"

/* The scenarios, one bit each (--scenarios a,b,c,d,e). */
enum bench_scenario {
    BENCH_SC_CEIL = 1u << 0,    /* a: ceilings of the machine */
    BENCH_SC_SIM = 1u << 1,     /* b: simulated workers, batch and single submits */
    BENCH_SC_E2E = 1u << 2,     /* c: real corral-workers running true */
    BENCH_SC_LIGHT = 1u << 3,   /* d: latency at light load */
    BENCH_SC_BACKLOG = 1u << 4, /* e: backlog, drain and a leader kill */
};
#define BENCH_SC_ALL 0x1fu

struct bench_opts {
    /* As given (0 / NULL = not given: bench_opts_resolve fills the default of the mode). */
    bool smoke;
    int64_t tasks;     /* b: tasks per submit mode */
    int64_t e2e_tasks; /* c: tasks for the real workers */
    int64_t backlog;   /* e: tasks queued before the workers start */
    const char *scenarios;
    const char *zk;     /* use this ZooKeeper instead of starting one */
    const char *server; /* use this corrald (needs --zk) */
    const char *ns;     /* the namespace of --server's cluster */
    const char *build_dir;
    const char *json;
    const char *zk_jar;
    int64_t zk_heap_mb;
    int64_t zk_servers; /* of the ZooKeeper it starts: 1, or an ensemble */
    int64_t sim_workers, sim_slots, sim_batch;
    int64_t workers, worker_slots;
    int64_t clients, batch_clients;
    int64_t rate, light_s;
    int64_t session_ms;
    int64_t budget_s;
    int64_t ceil_ms; /* length of each timed ceiling loop */
    int64_t ceil_creates;
    bool keep_logs;

    /* Resolved by bench_opts_resolve. */
    unsigned scenario_mask;
};

/*
 * Parse argv[1..] (and nothing from the environment: a benchmark's sizes come from its command
 * line). On success the options are resolved (defaults of the mode filled, cross-checks done).
 * Returns 0, or CORRAL_EUSAGE with the flag in err->field. res->help / res->version as in
 * corral_opts_parse (then nothing is resolved).
 */
CORRAL_NODISCARD int bench_opts_parse(int argc, char *const *argv, struct bench_opts *o,
                                      struct corral_opts_result *res, struct corral_error *err);
/* The flag lines of --help; caller frees. */
char *bench_opts_help(void);

/* "a,b,e" or "all" -> bit mask; CORRAL_EUSAGE naming the bad entry. */
CORRAL_NODISCARD int bench_parse_scenarios(const char *s, unsigned *mask, struct corral_error *err);
/* Fill every size not given with the default of the mode (full or --smoke), check the flags
 * against each other (--server needs --zk). CORRAL_EUSAGE on a conflict. */
CORRAL_NODISCARD int bench_opts_resolve(struct bench_opts *o, struct corral_error *err);

#endif
