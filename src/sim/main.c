/* SPDX-License-Identifier: MIT */
/*
 * corral-sim: replays a workload (a JSON-lines file or a built-in generator) over a simulated
 * cluster once per scheduling policy, with the same seed, and prints makespan, waits,
 * utilisation, fairness and never-placed tasks per policy (a table, or JSON), optionally with
 * an SVG chart. The simulation itself is pure (sim.c); this file reads files and prints.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/opts.h"
#include "corral/sched.h"
#include "sim/plot.h"
#include "sim/sim.h"
#include "sim/workload.h"

extern char **environ;

#define INPUT_MAX_BYTES (512u * 1024u * 1024u)
#define DEFAULT_TASKS   1000
#define DEFAULT_GAP_MS  150
#define DEFAULT_WORKERS "2x{zone=a}+2x{slots:8,cpu:8,mem:16384,weight:2,zone=b}"

struct sim_opts {
    const char *workload;
    const char *generate;
    int64_t tasks; /* 0 = not given */
    int64_t seed;
    int64_t gap_ms; /* 0 = not given */
    const char *workers;
    const char *worker_file;
    int64_t slots;
    uint64_t cpu_milli;
    int64_t mem_mb;
    int64_t weight;
    const char *placement;
    const char *order;
    bool json;
    const char *plot;
};

static const char *const generators[] = {"uniform", "heavy-tailed", "bursty", "mixed", NULL};

#define OPT(field) offsetof(struct sim_opts, field)
static const struct corral_opt opt_table[] = {
    {"workload", NULL, CORRAL_OPT_STRING, "FILE", NULL,
     "replay this JSON-lines workload (one task per line)", OPT(workload), 0, 0, NULL},
    {"generate", NULL, CORRAL_OPT_CHOICE, "KIND", NULL,
     "generate a workload: uniform, heavy-tailed, bursty, mixed", OPT(generate), 0, 0, generators},
    {"tasks", NULL, CORRAL_OPT_INT, "N", NULL, "tasks to generate (default 1000)", OPT(tasks), 1,
     SIM_TASKS_MAX, NULL},
    {"seed", NULL, CORRAL_OPT_INT, "S", "1", "seed of the generator and of every policy run",
     OPT(seed), 0, INT64_MAX, NULL},
    {"mean-gap-ms", NULL, CORRAL_OPT_INT, "MS", NULL,
     "mean time between generated arrivals (default 150)", OPT(gap_ms), 1, 3600000, NULL},
    {"workers", NULL, CORRAL_OPT_STRING, "SPEC", NULL,
     "cluster: a count, or groups like 2x{slots:4,cpu:4,mem:8192,weight:1,zone=a}+1x{...} "
     "(default " DEFAULT_WORKERS ")",
     OPT(workers), 0, 0, NULL},
    {"worker-file", NULL, CORRAL_OPT_STRING, "FILE", NULL,
     "cluster from JSON lines {\"id\",\"slots\",\"cpu\",\"mem_mb\",\"weight\",\"labels\"}",
     OPT(worker_file), 0, 0, NULL},
    {"slots", NULL, CORRAL_OPT_INT, "N", "4", "slots of a worker whose spec leaves them out",
     OPT(slots), 1, 1024, NULL},
    {"cpu", NULL, CORRAL_OPT_MILLI, "N", "4", "cpu of a worker whose spec leaves it out",
     OPT(cpu_milli), 0, 1024000, NULL},
    {"mem-mb", NULL, CORRAL_OPT_INT, "N", "8192",
     "memory (MiB) of a worker whose spec leaves it out", OPT(mem_mb), 0, 1073741824, NULL},
    {"weight", NULL, CORRAL_OPT_INT, "W", "1", "weight of a worker whose spec leaves it out",
     OPT(weight), 1, 1000000, NULL},
    {"placement", NULL, CORRAL_OPT_STRING, "LIST", NULL,
     "placements to run, comma-separated, or all (default: see below)", OPT(placement), 0, 0, NULL},
    {"order", NULL, CORRAL_OPT_STRING, "LIST", NULL,
     "orders to run, comma-separated, or all (default: see below)", OPT(order), 0, 0, NULL},
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the results as JSON", OPT(json), 0, 0, NULL},
    {"plot", NULL, CORRAL_OPT_STRING, "FILE.svg", NULL,
     "also draw wait-time CDFs and utilisation over time per policy", OPT(plot), 0, 0, NULL},
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

static const char *const all_placements[] = {"least-loaded", "round-robin", "random", "weighted",
                                             "bin-pack"};
static const char *const all_orders[] = {"priority", "fifo", "sjf"};
#define N_PLACEMENTS (sizeof all_placements / sizeof all_placements[0])
#define N_ORDERS     (sizeof all_orders / sizeof all_orders[0])
#define MAX_RUNS     (N_PLACEMENTS * N_ORDERS)

static void usage(void)
{
    char *help = corral_opts_help(opt_table, N_OPTS);
    printf("Usage: corral-sim (--workload FILE | --generate KIND [--tasks N]) [FLAGS]\n\n"
           "Simulates corral's scheduler on a workload and a cluster, once per policy with the\n"
           "same seed, and prints makespan, mean and p99 wait, mean utilisation, Jain's\n"
           "fairness across workers and tasks never placed.\n\nFlags:\n%s\n"
           "Without --placement and --order it runs every placement with order priority and\n"
           "every order with placement least-loaded. One of them keeps those runs that match;\n"
           "both run every listed pair. Workload lines look like\n"
           "  {\"submit_ms\":0,\"duration_ms\":1200,\"cpu\":1,\"mem_mb\":256,\"priority\":0,"
           "\"labels\":{\"zone\":\"a\"},\"estimated_ms\":1000}\n"
           "See docs/scheduling.md.\n",
           help);
    free(help);
}

static int usage_error(const char *field, const char *msg)
{
    if (field && field[0])
        fprintf(stderr, "corral-sim: %s: %s\n", field, msg);
    else
        fprintf(stderr, "corral-sim: %s\n", msg);
    return 2;
}

/* Read a whole file (at most INPUT_MAX_BYTES) into a NUL-terminated buffer. */
static char *read_all(const char *path, size_t *len, char *why, size_t why_n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_n, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= INPUT_MAX_BYTES) {
                snprintf(why, why_n, "%s: larger than %u MiB", path, INPUT_MAX_BYTES >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(why, why_n, "read %s: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    if (!buf) {
        if (!why[0])
            snprintf(why, why_n, "out of memory reading %s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parse a comma-separated list of names (or "all") into a bit set over names[]. */
static int parse_list(const char *flag, const char *list, const char *const *names, size_t n,
                      unsigned *set)
{
    *set = 0;
    if (strcmp(list, "all") == 0) {
        *set = (1u << n) - 1u;
        return 0;
    }
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            if (strlen(names[i]) == len && strncmp(names[i], p, len) == 0) {
                *set |= 1u << i;
                found = true;
            }
        }
        if (!found) {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown policy '%.*s' (one of %s, or all)", (int)len, p,
                     n == N_ORDERS ? corral_order_names() : corral_placement_names());
            return usage_error(flag, msg);
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

struct run_spec {
    size_t placement, order;
};

/* The (placement, order) pairs to simulate, in table order. */
static size_t pick_runs(unsigned pset, unsigned oset, bool p_given, bool o_given,
                        struct run_spec *runs)
{
    size_t n = 0;
    for (size_t o = 0; o < N_ORDERS; o++) {
        for (size_t p = 0; p < N_PLACEMENTS; p++) {
            /* The default set: every placement with priority, every order with least-loaded. */
            bool in_default = o == 0 || p == 0;
            bool listed = (pset >> p & 1u) && (oset >> o & 1u);
            bool take = p_given && o_given ? listed : (in_default && listed);
            if (take)
                runs[n++] = (struct run_spec){p, o};
        }
    }
    return n;
}

static void describe(const struct sim_opts *o, const struct sim_workload *w,
                     const struct sim_cluster *c, char *buf, size_t n)
{
    uint64_t slots = 0, cpu = 0, mem = 0;
    for (size_t i = 0; i < c->n; i++) {
        slots += c->workers[i].slots;
        cpu += c->workers[i].cpu_milli;
        mem += c->workers[i].mem_mb;
    }
    char wl[160];
    if (o->generate)
        snprintf(wl, sizeof wl, "%s workload, %zu tasks, seed %lld, mean gap %lld ms", o->generate,
                 w->n, (long long)o->seed, (long long)o->gap_ms);
    else
        snprintf(wl, sizeof wl, "workload %s, %zu tasks, seed %lld", o->workload, w->n,
                 (long long)o->seed);
    snprintf(buf, n, "%s; %zu workers: %llu slots, %g cpu, %llu MiB", wl, c->n,
             (unsigned long long)slots, (double)cpu / 1000.0, (unsigned long long)mem);
}

static void print_table(const char *desc, const struct sim_result *r, size_t n)
{
    printf("corral-sim: %s\n\n", desc);
    printf("%-13s %-9s %11s %12s %11s %7s %9s %13s\n", "placement", "order", "makespan_s",
           "wait_mean_s", "wait_p99_s", "util_%", "fairness", "never_placed");
    for (size_t i = 0; i < n; i++) {
        printf("%-13s %-9s %11.1f %12.2f %11.2f %7.1f %9.3f %13zu\n", r[i].placement, r[i].order,
               (double)r[i].makespan_ms / 1000.0, r[i].wait_mean_ms / 1000.0,
               (double)r[i].wait_p99_ms / 1000.0, r[i].utilisation * 100.0, r[i].fairness,
               r[i].never_placed);
    }
    for (size_t i = 0; i < n; i++) {
        if (r[i].never_placed) {
            printf("\nnever placed: %zu task(s), e.g. \"%s\"\n", r[i].never_placed,
                   r[i].first_reason[0] ? r[i].first_reason : "still queued at the end");
            break;
        }
    }
}

static int print_json(const struct sim_opts *o, const struct sim_workload *w,
                      const struct sim_cluster *c, const struct sim_result *r, size_t n)
{
    json_t *root = json_object(), *wl = json_object(), *cl = json_array(), *res = json_array();
    if (!root || !wl || !cl || !res)
        abort();
    json_object_set_new(wl, "source", json_string(o->generate ? o->generate : o->workload));
    json_object_set_new(wl, "generated", json_boolean(o->generate != NULL));
    json_object_set_new(wl, "tasks", json_integer((json_int_t)w->n));
    json_object_set_new(wl, "seed", json_integer((json_int_t)o->seed));
    if (o->generate)
        json_object_set_new(wl, "mean_gap_ms", json_integer((json_int_t)o->gap_ms));
    for (size_t i = 0; i < c->n; i++) {
        const struct sim_worker *sw = &c->workers[i];
        json_t *labels = json_object();
        for (size_t l = 0; l < sw->n_labels; l++)
            json_object_set_new(labels, sw->labels[l].key, json_string(sw->labels[l].value));
        json_array_append_new(cl, json_pack("{s:s, s:I, s:f, s:I, s:I, s:o}", "id", sw->id, "slots",
                                            (json_int_t)sw->slots, "cpu",
                                            (double)sw->cpu_milli / 1000.0, "mem_mb",
                                            (json_int_t)sw->mem_mb, "weight",
                                            (json_int_t)sw->weight, "labels", labels));
    }
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *s = &r[i];
        json_t *busy = json_array();
        for (size_t k = 0; k < s->n_workers; k++)
            json_array_append_new(busy, json_integer((json_int_t)(s->busy_ms[k] + 0.5)));
        json_array_append_new(
            res,
            json_pack("{s:s, s:s, s:I, s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:o}",
                      "placement", s->placement, "order", s->order, "makespan_ms",
                      (json_int_t)s->makespan_ms, "wait_mean_ms", s->wait_mean_ms, "wait_p50_ms",
                      (json_int_t)s->wait_p50_ms, "wait_p99_ms", (json_int_t)s->wait_p99_ms,
                      "wait_max_ms", (json_int_t)s->wait_max_ms, "utilisation", s->utilisation,
                      "fairness", s->fairness, "placed", (json_int_t)s->placed, "never_placed",
                      (json_int_t)s->never_placed, "plans", (json_int_t)s->plans, "busy_ms", busy));
    }
    json_object_set_new(root, "workload", wl);
    json_object_set_new(root, "workers", cl);
    json_object_set_new(root, "results", res);
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    json_decref(root);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct sim_opts o = {0};
    struct corral_error err = {0};
    struct corral_opts_result res = {0};
    if (corral_opts_parse(opt_table, N_OPTS, argc, argv, 1, environ, &o, &res, &err) != CORRAL_OK)
        return usage_error(err.field, err.msg);
    if (res.help) {
        usage();
        return 0;
    }
    if (res.version) {
        printf("corral %s\n", CORRAL_VERSION);
        return 0;
    }
    if (res.next < argc) {
        char msg[256];
        snprintf(msg, sizeof msg, "unexpected argument '%.200s'", argv[res.next]);
        return usage_error(NULL, msg);
    }
    if (!o.workload == !o.generate)
        return usage_error(NULL, "give exactly one of --workload FILE and --generate KIND");
    if (o.workload && (o.tasks || o.gap_ms))
        return usage_error(o.tasks ? "--tasks" : "--mean-gap-ms", "only with --generate");
    if (o.workers && o.worker_file)
        return usage_error("--worker-file", "give --workers or --worker-file, not both");
    if (!o.tasks)
        o.tasks = DEFAULT_TASKS;
    if (!o.gap_ms)
        o.gap_ms = DEFAULT_GAP_MS;

    unsigned pset = (1u << N_PLACEMENTS) - 1u, oset = (1u << N_ORDERS) - 1u;
    if (o.placement && parse_list("--placement", o.placement, all_placements, N_PLACEMENTS, &pset))
        return 2;
    if (o.order && parse_list("--order", o.order, all_orders, N_ORDERS, &oset))
        return 2;
    struct run_spec runs[MAX_RUNS];
    size_t n_runs = pick_runs(pset, oset, o.placement != NULL, o.order != NULL, runs);

    int rc = 2;
    struct sim_workload w = {0};
    struct sim_cluster c = {0};
    struct sim_result results[MAX_RUNS];
    memset(results, 0, sizeof results);
    char *buf = NULL;
    size_t len = 0;
    char why[256] = "";

    const struct sim_worker_defaults d = {(uint32_t)o.slots, (uint32_t)o.cpu_milli,
                                          (uint64_t)o.mem_mb, (uint32_t)o.weight};
    if (o.worker_file) {
        if (!(buf = read_all(o.worker_file, &len, why, sizeof why))) {
            usage_error("--worker-file", why);
            goto out;
        }
        if (sim_cluster_parse_lines(buf, len, &d, &c, &err) != CORRAL_OK) {
            snprintf(why, sizeof why, "%s: %s", o.worker_file, err.msg);
            usage_error("--worker-file", why);
            goto out;
        }
        free(buf);
        buf = NULL;
    } else if (sim_cluster_parse_spec(o.workers ? o.workers : DEFAULT_WORKERS, &d, &c, &err) !=
               CORRAL_OK) {
        usage_error("--workers", err.msg);
        goto out;
    }

    if (o.workload) {
        if (!(buf = read_all(o.workload, &len, why, sizeof why))) {
            usage_error("--workload", why);
            goto out;
        }
        if (sim_workload_parse(buf, len, &w, &err) != CORRAL_OK) {
            snprintf(why, sizeof why, "%s: %s", o.workload, err.msg);
            usage_error("--workload", why);
            goto out;
        }
    } else if (sim_workload_generate(o.generate, (size_t)o.tasks, (uint64_t)o.seed,
                                     (uint64_t)o.gap_ms, &w, &err) != CORRAL_OK) {
        usage_error(err.field, err.msg);
        goto out;
    }

    rc = 1;
    for (size_t i = 0; i < n_runs; i++) {
        struct corral_policy p = {corral_placement_find(all_placements[runs[i].placement]),
                                  corral_order_find(all_orders[runs[i].order])};
        if (!p.placement || !p.order) {
            fprintf(stderr, "corral-sim: policy table out of date\n");
            goto out;
        }
        if (sim_run(&c, &w, &p, (uint64_t)o.seed, &results[i], &err) != CORRAL_OK) {
            fprintf(stderr, "corral-sim: %s/%s: %s\n", p.placement->name, p.order->name, err.msg);
            goto out;
        }
    }

    char desc[512];
    describe(&o, &w, &c, desc, sizeof desc);
    if (o.json) {
        if (print_json(&o, &w, &c, results, n_runs) != 0)
            goto out;
    } else {
        print_table(desc, results, n_runs);
    }
    if (o.plot) {
        FILE *f = fopen(o.plot, "w");
        if (!f) {
            fprintf(stderr, "corral-sim: --plot: open %s: %s\n", o.plot, strerror(errno));
            goto out;
        }
        sim_plot_svg(f, results, n_runs, desc);
        if (fclose(f) != 0) {
            fprintf(stderr, "corral-sim: --plot: write %s: %s\n", o.plot, strerror(errno));
            goto out;
        }
    }
    rc = fflush(stdout) == 0 ? 0 : 1;

out:
    free(buf);
    for (size_t i = 0; i < MAX_RUNS; i++)
        sim_result_cleanup(&results[i]);
    sim_workload_cleanup(&w);
    sim_cluster_cleanup(&c);
    return rc;
}
