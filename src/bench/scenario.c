/* SPDX-License-Identifier: MIT */
/* Scenarios b to e (scenario.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/http.h"
#include "bench/load.h"
#include "bench/probe.h"
#include "bench/scenario.h"
#include "bench/simworker.h"
#include "bench/stats.h"
#include "bench/zkraw.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "corral/xalloc.h"
#include "io/clock.h"

#define READY_MS             30000 /* replicas, leader, workers: each must be up within this */
#define TICK_MS              100
#define PROBE_MS             200
#define PROBE_GATED_EVERY_MS 5000 /* gated probe: a pass at least this often anyway */
#define SIM_SESSION          4000 /* simulated workers: ZooKeeper's upper bound with tickTime 200 */
#define MAX_PROCS            64

/* What one scenario started. */
struct setup {
    char ns[CORRAL_PATH_MAX];
    const char *url;
    struct bproc *replicas[2];
    int n_replicas;
    struct bproc *workers[MAX_PROCS];
    int n_workers;
    struct simworker *sims[MAX_PROCS];
    int n_sims;
    char leader[128];
    uint64_t epoch;
};

/* The simulated workers' figures, merged. */
struct simagg {
    uint64_t finished, dropped, dropped_commit, unknown, multis, fallbacks, read_errors;
    char commit_error[32];
    int64_t first_registered, first_seen, last_finish; /* wall ms; 0 = none */
    int64_t *start, *end;
    size_t n;
};

static void result_init(struct bench_result *r, const char *name, const char *title, uint64_t tasks)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->title = title;
    r->row.scenario = r->name;
    r->row.tasks = tasks;
    r->row.submit_per_s = r->row.finish_per_s = -1.0;
    r->row.submit_ratio = r->row.finish_ratio = -1.0;
    r->row.rss_corrald_kib = r->row.rss_workers_kib = -1;
    r->first_assign_ms = r->failover_assign_ms = -1;
    r->drain_per_s = r->drain_vs_empty = -1.0;
    r->fork_before_per_s = r->fork_after_per_s = -1.0;
    r->cpu = (struct bench_cpu){-1.0, -1.0, -1.0, -1.0, -1.0, 0};
}

static void note(struct bench_result *r, const char *fmt, ...) CORRAL_PRINTF(2, 3);
static void note(struct bench_result *r, const char *fmt, ...)
{
    size_t len = strlen(r->note);
    if (len + 3 >= sizeof r->note)
        return;
    if (len) {
        memcpy(r->note + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ CPU accounting */

/* CPU ticks at one moment: the machine's, and the sums of each kind of process. */
struct cpu_mark {
    int64_t ms;
    uint64_t busy, total;
    bool machine_ok;
    int64_t kind[3]; /* BPROC_ZK, BPROC_CORRALD, BPROC_WORKER: -1 when none was read */
    int64_t self;
};

static void cpu_mark(struct bench_ctx *x, struct cpu_mark *m)
{
    char buf[1024];
    m->ms = clock_mono_ms();
    m->machine_ok = cluster_read_text("/proc/stat", buf, sizeof buf) &&
                    bench_machine_ticks_parse(buf, &m->busy, &m->total);
    m->self = cluster_read_text("/proc/self/stat", buf, sizeof buf)
                  ? bench_proc_ticks_parse(buf, false)
                  : -1;
    /* Every process of the run, of this scenario or gone before it (those keep their last
     * figure, so they add nothing to a difference). */
    for (int k = 0; k < 3; k++)
        m->kind[k] = -1;
    for (int i = 0; i < x->cl->n; i++) {
        struct bproc *p = &x->cl->procs[i];
        int64_t v = cluster_read_cpu(p);
        if (v >= 0 && (int)p->kind < 3)
            m->kind[p->kind] = (m->kind[p->kind] < 0 ? 0 : m->kind[p->kind]) + v;
    }
}

static double kind_cores(const struct cpu_mark *a, const struct cpu_mark *b, int kind, int64_t ms,
                         long hz)
{
    if (a->kind[kind] < 0 || b->kind[kind] < 0)
        return -1.0;
    return bench_cores(b->kind[kind] - a->kind[kind], ms, hz);
}

/* The cores each kind kept busy between a and b (the scenario's processes are x->cl's). */
static void cpu_figures(const struct cpu_mark *a, const struct cpu_mark *b, struct bench_result *r)
{
    long hz = sysconf(_SC_CLK_TCK);
    int64_t ms = b->ms - a->ms;
    r->cpu.window_ms = ms;
    r->cpu.machine = a->machine_ok && b->machine_ok && b->busy >= a->busy
                         ? bench_cores((int64_t)(b->busy - a->busy), ms, hz)
                         : -1.0;
    r->cpu.zk = kind_cores(a, b, BPROC_ZK, ms, hz);
    r->cpu.corrald = kind_cores(a, b, BPROC_CORRALD, ms, hz);
    r->cpu.workers = kind_cores(a, b, BPROC_WORKER, ms, hz);
    r->cpu.bench = a->self >= 0 && b->self >= 0 ? bench_cores(b->self - a->self, ms, hz) : -1.0;
}

/* ------------------------------------------------------------------ setup and teardown */

static int setup_replicas(struct bench_ctx *x, struct setup *s, const char *tag, int n,
                          struct bench_result *res)
{
    struct corral_error err = {0};
    if (x->o->server) {
        snprintf(s->ns, sizeof s->ns, "%s", x->o->ns);
        s->url = x->o->server;
    } else {
        snprintf(s->ns, sizeof s->ns, "%s-%s", x->ns_prefix, tag);
        for (int i = 0; i < n; i++) {
            char name[48];
            snprintf(name, sizeof name, "bench-%s-r%d", tag, i + 1);
            struct bproc *p =
                cluster_start_corrald(x->cl, name, x->zk_hosts, s->ns, (int)x->o->session_ms, &err);
            if (!p) {
                note(res, "setup: %s", err.msg);
                return err.code;
            }
            s->replicas[s->n_replicas++] = p;
        }
        s->url = s->replicas[0]->url;
    }
    if (cluster_wait_leader(s->url, clock_mono_ms() + READY_MS, s->leader, sizeof s->leader,
                            &s->epoch, &err) != CORRAL_OK) {
        note(res, "setup: %s", err.msg);
        return err.code;
    }
    return CORRAL_OK;
}

static int setup_workers(struct bench_ctx *x, struct setup *s, const char *tag,
                         struct bench_result *res)
{
    struct corral_error err = {0};
    const char *ids[MAX_PROCS];
    int n = (int)x->o->workers;
    for (int i = 0; i < n && i < MAX_PROCS; i++) {
        char name[48];
        snprintf(name, sizeof name, "bench-%s-w%d", tag, i + 1);
        struct bproc *p = cluster_start_worker(
            x->cl, name, x->zk_hosts, s->ns, (int)x->o->worker_slots, (int)x->o->session_ms, &err);
        if (!p) {
            note(res, "setup: %s", err.msg);
            return err.code;
        }
        s->workers[s->n_workers++] = p;
        ids[i] = p->name;
    }
    if (cluster_wait_listed(s->url, ids, s->n_workers, s->workers, clock_mono_ms() + READY_MS,
                            &err)) {
        note(res, "setup: %s (see the workers' logs)", err.msg);
        return err.code;
    }
    return CORRAL_OK;
}

static int setup_sims(struct bench_ctx *x, struct setup *s, const char *tag,
                      struct bench_result *res)
{
    struct simworker_cfg cfg = {
        .hosts = x->zk_hosts,
        .ns = s->ns,
        .session_ms = SIM_SESSION,
        .slots = (uint32_t)x->o->sim_slots,
        .batch = (uint32_t)x->o->sim_batch,
    };
    const char *ids[MAX_PROCS];
    char names[MAX_PROCS][48];
    int n = (int)x->o->sim_workers;
    for (int i = 0; i < n && i < MAX_PROCS; i++) {
        snprintf(names[i], sizeof names[i], "bench-%s-sim%d-%ld", tag, i + 1, (long)getpid());
        ids[i] = names[i];
        s->sims[s->n_sims++] = simworker_start(&cfg, names[i]);
    }
    int64_t deadline = clock_mono_ms() + READY_MS;
    for (;;) {
        int ready = 0;
        char why[256];
        for (int i = 0; i < s->n_sims; i++) {
            if (simworker_failed(s->sims[i], why, sizeof why)) {
                note(res, "setup: simulated worker %s: %s", ids[i], why);
                return CORRAL_EUNAVAIL;
            }
            ready += simworker_registered(s->sims[i]);
        }
        if (ready == s->n_sims)
            break;
        if (clock_mono_ms() >= deadline || !bench_sleep_ms(20)) {
            note(res, "setup: simulated workers not registered in time");
            return CORRAL_EUNAVAIL;
        }
    }
    struct corral_error err = {0};
    if (cluster_wait_listed(s->url, ids, s->n_sims, NULL, deadline, &err)) {
        note(res, "setup: %s", err.msg);
        return err.code;
    }
    return CORRAL_OK;
}

static uint64_t sims_finished(struct setup *s)
{
    uint64_t n = 0;
    for (int i = 0; i < s->n_sims; i++)
        n += simworker_finished(s->sims[i]);
    return n;
}

static bool sims_failed(struct setup *s, struct bench_result *res)
{
    char why[256];
    for (int i = 0; i < s->n_sims; i++)
        if (simworker_failed(s->sims[i], why, sizeof why)) {
            note(res, "a simulated worker failed: %s", why);
            return true;
        }
    return false;
}

/* Stop the simulated workers and merge their figures. */
static void sims_stop(struct setup *s, struct simagg *a)
{
    memset(a, 0, sizeof *a);
    size_t total = 0;
    for (int i = 0; i < s->n_sims; i++) {
        simworker_stop(s->sims[i]);
        total += simworker_stats(s->sims[i])->n_lat;
    }
    a->start = corral_xcalloc(total ? total : 1, sizeof *a->start);
    a->end = corral_xcalloc(total ? total : 1, sizeof *a->end);
    for (int i = 0; i < s->n_sims; i++) {
        const struct simworker_stats *st = simworker_stats(s->sims[i]);
        a->finished += st->finished;
        a->dropped += st->dropped;
        a->dropped_commit += st->dropped_commit;
        if (!a->commit_error[0] && st->last_commit_error[0])
            snprintf(a->commit_error, sizeof a->commit_error, "%s", st->last_commit_error);
        a->unknown += st->unknown;
        a->read_errors += st->read_errors;
        a->multis += st->multis;
        a->fallbacks += st->fallbacks;
        if (st->registered_wall_ms &&
            (!a->first_registered || st->registered_wall_ms < a->first_registered))
            a->first_registered = st->registered_wall_ms;
        if (st->first_seen_wall_ms && (!a->first_seen || st->first_seen_wall_ms < a->first_seen))
            a->first_seen = st->first_seen_wall_ms;
        if (st->last_finish_wall_ms > a->last_finish)
            a->last_finish = st->last_finish_wall_ms;
        memcpy(a->start + a->n, st->start_ms, st->n_lat * sizeof *a->start);
        memcpy(a->end + a->n, st->end_ms, st->n_lat * sizeof *a->end);
        a->n += st->n_lat;
    }
}

/* The first time any simulated worker read an assignment of an epoch above epoch (0: none). */
static int64_t sims_first_after_epoch(struct setup *s, uint64_t epoch)
{
    int64_t first = 0;
    for (int i = 0; i < s->n_sims; i++) {
        const struct simworker_stats *st = simworker_stats(s->sims[i]);
        for (size_t j = 0; j < st->n_epochs; j++)
            if (st->epochs[j].epoch > epoch && (!first || st->epochs[j].first_wall_ms < first))
                first = st->epochs[j].first_wall_ms;
    }
    return first;
}

/* Peak RSS of the processes, then stop them all (workers first). */
static void teardown(struct setup *s, struct bench_result *res, struct simagg *agg)
{
    if (agg)
        sims_stop(s, agg);
    for (int i = 0; i < s->n_replicas; i++) {
        int64_t v = cluster_read_rss(s->replicas[i]);
        if (v > res->row.rss_corrald_kib)
            res->row.rss_corrald_kib = v;
    }
    for (int i = 0; i < s->n_workers; i++) {
        int64_t v = cluster_read_rss(s->workers[i]);
        if (i < 8)
            res->rss_worker_kib[i] = v;
        if (v > res->row.rss_workers_kib)
            res->row.rss_workers_kib = v;
    }
    res->n_workers = s->n_workers < 8 ? s->n_workers : 8;
    for (int i = 0; i < s->n_workers; i++)
        cluster_stop(s->workers[i], 5000);
    for (int i = 0; i < s->n_replicas; i++)
        cluster_stop(s->replicas[i], 5000);
    for (int i = 0; i < s->n_sims; i++)
        simworker_free(s->sims[i]);
    s->n_sims = 0;
}

static void agg_free(struct simagg *a)
{
    free(a->start);
    free(a->end);
}

/* ------------------------------------------------------------------ progress and figures */

struct ticker {
    const char *name;
    int64_t next_ms;
    uint64_t last_fin;
    int64_t last_ms;
};

static void tick(struct ticker *t, uint64_t submitted, uint64_t planned, uint64_t finished,
                 const char *extra)
{
    int64_t now = clock_mono_ms();
    if (now < t->next_ms)
        return;
    double rate = t->last_ms ? bench_rate(finished - t->last_fin, now - t->last_ms) : -1.0;
    char r[24];
    bench_progress("%s: submitted %" PRIu64 "/%" PRIu64 ", finished %" PRIu64 " (%s/s now)%s%s",
                   t->name, submitted, planned, finished,
                   bench_fmt_rate(r, sizeof r, rate < 0 ? 0.0 : rate), extra ? " " : "",
                   extra ? extra : "");
    t->last_fin = finished;
    t->last_ms = now;
    t->next_ms = now + 1000;
}

static void submit_figures(struct load *l, struct bench_result *res)
{
    const struct load_stats *st = load_stats(l);
    res->submitted = st->accepted;
    res->unknown = st->unknown;
    res->refused = st->failed;
    res->row.submit_per_s = bench_rate(st->accepted, st->last_ack_ms - st->first_send_ms);
    int64_t *ack = corral_xcalloc(st->n_ack ? st->n_ack : 1, sizeof *ack);
    memcpy(ack, st->ack_ms, st->n_ack * sizeof *ack);
    bench_percentiles(ack, st->n_ack, &res->ack);
    free(ack);
    if (st->error[0])
        note(res, "submit: %s", st->error);
}

/* Wait for the load to end (all sent, deadline or stop), with progress. */
static void wait_load(struct load *l, struct ticker *t, uint64_t planned, int64_t deadline,
                      struct bench_result *res)
{
    while (!load_done(l)) {
        if (bench_stopping())
            break;
        if (clock_mono_ms() >= deadline) {
            note(res, "submissions not done within the budget");
            break;
        }
        tick(t, load_accepted(l), planned, 0, NULL);
        bench_sleep_ms(TICK_MS);
    }
    load_join(l);
}

/*
 * Tasks the leader counted as final (corral_tasks_finished_total on /metrics), or -1 when that
 * cannot be read (a follower counts nothing, a token may be needed: the probe is not gated then).
 */
static int64_t leader_finished(struct http_client *hc)
{
    long status = 0;
    struct corral_error err = {0};
    if (http_do(hc, "GET", "/metrics", NULL, 0, 2000, &status, &err) != CORRAL_OK || status != 200)
        return -1;
    size_t len = 0;
    return bench_metric_sum(http_body(hc, &len), "corral_tasks_finished_total");
}

/*
 * Probe the submitted tasks until all are finished or the deadline; returns the probe.
 *
 * Reading task znodes is load on the ZooKeeper being measured (with a window of at least 64 every
 * 200 ms, ~320 reads a second, most of them of tasks not yet run). So while the leader's counter
 * of final tasks (read through /metrics, base: its value before the load) says fewer than all
 * are done, the probe reads nothing, except one pass every PROBE_GATED_EVERY_MS in case the
 * counter is wrong; then it reads every task once, back to back. The figures come from the
 * tasks' own timestamps, so when the probe reads them does not change them. Without the counter
 * (base < 0) every PROBE_MS has a pass, as before.
 */
static struct probe *wait_finished(struct bench_ctx *x, struct setup *s, struct load *l,
                                   struct ticker *t, int64_t deadline, int64_t base,
                                   struct bench_result *res, struct zkraw **zr)
{
    const char(*ids)[CORRAL_ID_LEN + 1] = NULL;
    size_t n = load_ids(l, &ids);
    struct corral_error err = {0};
    *zr = zkraw_open(x->zk_hosts, SIM_SESSION, &err);
    if (!*zr) {
        note(res, "probe: %s", err.msg);
        return NULL;
    }
    struct http_client *hc = base >= 0 ? http_client_new(s->url) : NULL;
    struct probe *p = probe_new(*zr, s->ns, ids, n);
    int64_t next_pass = clock_mono_ms();
    while (probe_finished(p) < n && !bench_stopping()) {
        int64_t now = clock_mono_ms();
        if (now >= deadline) {
            note(res, "not finished within the budget");
            break;
        }
        int64_t counted = hc ? leader_finished(hc) : -1;
        uint64_t done = counted >= base ? (uint64_t)(counted - base) : 0;
        bool all_counted = counted >= 0 && done >= n;
        size_t before = probe_finished(p);
        bool progressed = false;
        if (!hc || all_counted || now >= next_pass) {
            corral_error_clear(&err);
            if (probe_pass(p, now + 10000, &err) != CORRAL_OK) {
                note(res, "probe: %s", err.msg);
                break;
            }
            next_pass = clock_mono_ms() + PROBE_GATED_EVERY_MS;
            progressed = probe_finished(p) > before;
        }
        uint64_t shown = probe_finished(p);
        if (hc && done > shown)
            shown = done < n ? done : n;
        tick(t, n, res->row.tasks, shown, NULL);
        /* Back to back only while the final reads make progress: a counter that also counts
         * tasks of others (a given --server) must not turn this into a busy loop. */
        if (probe_finished(p) < n && !(all_counted && progressed))
            bench_sleep_ms(PROBE_MS);
    }
    http_client_free(hc);
    return p;
}

static void probe_figures(struct probe *p, int64_t wall0, struct bench_result *res)
{
    res->row.finished = probe_finished(p);
    res->succeeded = probe_succeeded(p);
    struct probe_times pt;
    probe_times(p, &pt);
    bench_percentiles(pt.start_ms, pt.n_start, &res->row.start);
    bench_percentiles(pt.end_ms, pt.n_end, &res->row.end);
    if (pt.last_finished_wall_ms)
        res->row.finish_per_s = bench_rate(res->row.finished, pt.last_finished_wall_ms - wall0);
    if (res->succeeded < res->row.finished)
        note(res, "%" PRIu64 " finished tasks did not succeed", res->row.finished - res->succeeded);
    free(pt.start_ms);
    free(pt.end_ms);
}

/* What the simulated workers could not finish, if anything. */
static void sim_notes(const struct simagg *a, struct bench_result *res)
{
    if (a->dropped || a->unknown)
        note(res,
             "simulated workers: %" PRIu64 " assignments left alone (%" PRIu64
             " whose finish failed: %s), %" PRIu64 " commits with an unknown outcome",
             a->dropped, a->dropped_commit, a->commit_error[0] ? a->commit_error : "-", a->unknown);
    if (a->read_errors)
        note(res, "simulated workers: %" PRIu64 " reads of an assignment failed (read again)",
             a->read_errors);
}

/*
 * After an incomplete run: the state of every accepted task that is not final, counted by state
 * and, for those held by a worker, by worker (at most a few are named), so that a stall shows
 * where it sits: queued (the leader), assigned or running (a worker).
 */
static void note_unfinished(struct bench_ctx *x, struct setup *s, struct load *l,
                            struct bench_result *res)
{
    const char(*ids)[CORRAL_ID_LEN + 1] = NULL;
    size_t n = load_ids(l, &ids);
    if (n == 0)
        return;
    struct corral_error err = {0};
    struct zkraw *z = zkraw_open(x->zk_hosts, SIM_SESSION, &err);
    if (!z) {
        note(res, "unfinished tasks: %s", err.msg);
        return;
    }
    enum { CHUNK = 1000, NAMED = 4 };
    size_t by_state[CORRAL_STATE_COUNT] = {0}, gone = 0, unreadable = 0;
    char named[NAMED][CORRAL_ID_LEN + 80];
    size_t n_named = 0;
    struct zkraw_get *g = corral_xcalloc(CHUNK, sizeof *g);
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        for (size_t i = 0; i < k; i++)
            if (corral_path_task(g[i].path, sizeof g[i].path, s->ns, ids[at + i]) != CORRAL_OK)
                g[i].path[0] = '\0';
        if (zkraw_get_many(z, g, k, NULL, 1000, clock_mono_ms() + 20000, &err) != CORRAL_OK) {
            note(res, "unfinished tasks: %s", err.msg);
            break;
        }
        for (size_t i = 0; i < k; i++) {
            if (g[i].rc == ZNONODE) {
                gone++;
                continue;
            }
            struct corral_task t = {0};
            struct corral_error e = {0};
            if (g[i].rc != ZOK || corral_task_parse(g[i].data, g[i].len, &t, &e) != CORRAL_OK) {
                unreadable++;
            } else if (!corral_state_is_final(t.state)) {
                by_state[t.state]++;
                if (n_named < NAMED)
                    snprintf(named[n_named++], sizeof named[0], "%s %s%s%s", ids[at + i],
                             corral_state_name(t.state), t.worker ? " on " : "",
                             t.worker ? t.worker : "");
            }
            corral_task_cleanup(&t);
        }
        zkraw_gets_free(g, k);
    }
    free(g);
    zkraw_close(z);
    char text[512] = "";
    size_t pos = 0;
    for (int st = 0; st < CORRAL_STATE_COUNT; st++)
        if (by_state[st] && pos < sizeof text)
            pos += (size_t)snprintf(text + pos, sizeof text - pos, "%s%s %zu", pos ? ", " : "",
                                    corral_state_name((enum corral_state)st), by_state[st]);
    char eg[NAMED * (CORRAL_ID_LEN + 90)] = "";
    size_t egpos = 0;
    for (size_t i = 0; i < n_named && egpos < sizeof eg; i++)
        egpos +=
            (size_t)snprintf(eg + egpos, sizeof eg - egpos, "%s%s", i ? ", " : " (e.g. ", named[i]);
    note(res, "unfinished tasks: %s; %zu deleted, %zu unreadable%s%s", pos ? text : "none", gone,
         unreadable, eg, n_named ? ")" : "");
}

static void sim_figures(const struct simagg *a, int64_t wall0, struct bench_result *res)
{
    res->row.finished = a->finished;
    res->succeeded = a->finished;
    bench_percentiles(a->start, a->n, &res->row.start);
    bench_percentiles(a->end, a->n, &res->row.end);
    if (a->last_finish)
        res->row.finish_per_s = bench_rate(a->finished, a->last_finish - wall0);
    sim_notes(a, res);
    note(res, "%" PRIu64 " finish multis (%.1f tasks each)", a->multis,
         a->multis ? (double)a->finished / (double)a->multis : 0.0);
}

/* ------------------------------------------------------------------ b */

void scenario_sim(struct bench_ctx *x, bool single, struct bench_result *res)
{
    const struct bench_opts *o = x->o;
    result_init(res, single ? "b-single" : "b-batch",
                single ? "simulated workers; one task per POST /v1/tasks from --clients "
                         "keep-alive clients"
                       : "simulated workers; POST /v1/tasks/batch of 1000 from --batch-clients",
                (uint64_t)o->tasks);
    res->latency_source = "the simulated workers' clock (task submitted_at -> their start, "
                          "their commit)";
    res->submit_ceiling = single ? "zk_async_creates" : "zk_batched_creates";
    res->finish_ceiling = "zk_fenced_multi (best k)";
    struct setup s = {0};
    struct simagg agg = {0};
    const char *tag = single ? "b2" : "b1";
    if (setup_replicas(x, &s, tag, 1, res) != CORRAL_OK || setup_sims(x, &s, tag, res)) {
        teardown(&s, res, &agg);
        agg_free(&agg);
        return;
    }
    res->ran = true;
    int64_t t0 = clock_mono_ms(), deadline = t0 + o->budget_s * 1000;
    int64_t wall0 = clock_wall_ms();
    struct load_cfg lc = {
        .url = s.url,
        .mode = single ? LOAD_SINGLE : LOAD_BATCH,
        .tasks = (uint64_t)o->tasks,
        .clients = (int)(single ? o->clients : o->batch_clients),
        .deadline_ms = deadline,
    };
    struct cpu_mark c0, c1;
    cpu_mark(x, &c0);
    struct load *l = load_start(&lc);
    struct ticker t = {.name = res->name};
    bool failed = false;
    while (!bench_stopping()) {
        uint64_t fin = sims_finished(&s), acc = load_accepted(l);
        if (load_done(l) && fin >= acc)
            break;
        if ((failed = sims_failed(&s, res)))
            break;
        if (clock_mono_ms() >= deadline) {
            note(res, "not finished within the budget (--budget-s %" PRId64 ")", o->budget_s);
            break;
        }
        tick(&t, acc, (uint64_t)o->tasks, fin, NULL);
        bench_sleep_ms(TICK_MS);
    }
    cpu_mark(x, &c1);
    cpu_figures(&c0, &c1, res);
    load_join(l);
    submit_figures(l, res);
    bool stalled = !failed && !bench_stopping() && sims_finished(&s) < load_accepted(l);
    if (stalled) /* before the teardown: the cluster still holds them */
        note_unfinished(x, &s, l, res);
    teardown(&s, res, &agg);
    sim_figures(&agg, wall0, res);
    res->row.complete = !failed && !bench_stopping() && res->submitted == (uint64_t)o->tasks &&
                        res->row.finished >= (uint64_t)o->tasks;
    res->row.submit_ratio = bench_ratio(
        res->row.submit_per_s, single ? x->ceil->creates_per_s : x->ceil->batched_creates_per_s);
    res->row.finish_ratio = bench_ratio(res->row.finish_per_s, x->ceil->multi_best);
    if (!single)
        x->empty_finish_per_s = res->row.finish_per_s;
    load_free(l);
    agg_free(&agg);
}

/* ------------------------------------------------------------------ c and d */

static void real_workers(struct bench_ctx *x, struct bench_result *res, const char *tag, bool light)
{
    const struct bench_opts *o = x->o;
    res->latency_source = "task JSON timestamps (submitted_at, started_at, finished_at), read "
                          "from the task znodes";
    /* The fork ceiling moves with the machine (a shared VM's speed changes from minute to
     * minute): c is compared with the loop run again right before and right after it, with
     * nothing of the scenario running. */
    bool around = !light && x->ceil->ran && !bench_stopping();
    struct corral_error ferr = {0};
    if (around && ceil_fork_fresh(o->ceil_ms, &res->fork_before_per_s, &ferr) != CORRAL_OK)
        note(res, "fork ceiling before: %s", ferr.msg);
    struct setup s = {0};
    if (setup_replicas(x, &s, tag, 1, res) != CORRAL_OK ||
        setup_workers(x, &s, tag, res) != CORRAL_OK) {
        teardown(&s, res, NULL);
        return;
    }
    res->ran = true;
    int64_t t0 = clock_mono_ms();
    int64_t deadline = t0 + (light ? o->light_s * 1000 : 0) + o->budget_s * 1000;
    int64_t wall0 = clock_wall_ms();
    struct load_cfg lc = {
        .url = s.url,
        .mode = light ? LOAD_PACED : LOAD_BATCH,
        .tasks = res->row.tasks,
        .clients = light ? 4 : (int)o->batch_clients,
        .rate = (int)o->rate,
        .deadline_ms = deadline,
    };
    struct http_client *hc = http_client_new(s.url);
    int64_t base = leader_finished(hc); /* -1: the probe is not gated */
    http_client_free(hc);
    struct cpu_mark c0, c1;
    cpu_mark(x, &c0);
    struct load *l = load_start(&lc);
    struct ticker t = {.name = res->name};
    wait_load(l, &t, res->row.tasks, deadline, res);
    submit_figures(l, res);
    struct zkraw *zr = NULL;
    struct probe *p = NULL;
    if (!bench_stopping())
        p = wait_finished(x, &s, l, &t, deadline, base, res, &zr);
    cpu_mark(x, &c1);
    cpu_figures(&c0, &c1, res);
    teardown(&s, res, NULL);
    if (p)
        probe_figures(p, wall0, res);
    probe_free(p);
    zkraw_close(zr);
    res->row.complete = !bench_stopping() && res->submitted == res->row.tasks &&
                        res->row.finished >= res->row.tasks;
    if (around && !bench_stopping() &&
        ceil_fork_fresh(o->ceil_ms, &res->fork_after_per_s, &ferr) != CORRAL_OK)
        note(res, "fork ceiling after: %s", ferr.msg);
    if (!light) {
        double fork = x->ceil->fork_per_s;
        if (res->fork_before_per_s > 0 && res->fork_after_per_s > 0) {
            fork = (res->fork_before_per_s + res->fork_after_per_s) / 2.0;
            note(res,
                 "fork ceiling right before / after: %.0f / %.0f /s; finish ratio against their "
                 "mean %.0f/s (against a's %.0f/s: %.0f %%)",
                 res->fork_before_per_s, res->fork_after_per_s, fork, x->ceil->fork_per_s,
                 x->ceil->fork_per_s > 0 ? 100.0 * res->row.finish_per_s / x->ceil->fork_per_s
                                         : 0.0);
        }
        res->row.submit_ratio = bench_ratio(res->row.submit_per_s, x->ceil->batched_creates_per_s);
        res->row.finish_ratio = bench_ratio(res->row.finish_per_s, fork);
    }
    load_free(l);
}

void scenario_e2e(struct bench_ctx *x, struct bench_result *res)
{
    result_init(res, "c",
                "real corral-workers (--workers x --worker-slots) running true; batch submits",
                (uint64_t)x->o->e2e_tasks);
    res->submit_ceiling = "zk_batched_creates";
    res->finish_ceiling = "fork_exec";
    real_workers(x, res, "c", false);
}

void scenario_light(struct bench_ctx *x, struct bench_result *res)
{
    result_init(res, "d", "light load: --rate tasks/s, one per POST, real workers running true",
                (uint64_t)(x->o->rate * x->o->light_s));
    real_workers(x, res, "d", true);
}

/* ------------------------------------------------------------------ e */

void scenario_backlog(struct bench_ctx *x, struct bench_result *res)
{
    const struct bench_opts *o = x->o;
    result_init(res, "e",
                "backlog: --backlog tasks queued with no worker, then simulated workers drain "
                "it; kill -9 of the leader halfway",
                (uint64_t)o->backlog);
    res->latency_source = "the simulated workers' clock";
    res->submit_ceiling = "zk_batched_creates";
    res->finish_ceiling = "zk_fenced_multi (best k)";
    bool can_kill = !o->server;
    struct setup s = {0};
    struct simagg agg = {0};
    if (setup_replicas(x, &s, "e", can_kill ? 2 : 1, res) != CORRAL_OK) {
        teardown(&s, res, &agg);
        agg_free(&agg);
        return;
    }
    res->ran = true;
    int64_t t0 = clock_mono_ms(), deadline = t0 + o->budget_s * 1000;
    struct load_cfg lc = {
        .url = s.url,
        .mode = LOAD_BATCH,
        .tasks = (uint64_t)o->backlog,
        .clients = (int)o->batch_clients,
        .deadline_ms = deadline,
    };
    struct load *l = load_start(&lc);
    struct ticker t = {.name = "e"};
    wait_load(l, &t, (uint64_t)o->backlog, deadline, res);
    submit_figures(l, res);
    struct corral_error err = {0};
    uint64_t old_epoch = 0;
    char leader[128] = "";
    bool ok =
        !bench_stopping() && cluster_wait_leader(s.url, clock_mono_ms() + READY_MS, leader,
                                                 sizeof leader, &old_epoch, &err) == CORRAL_OK;
    if (!ok && !bench_stopping())
        note(res, "no leader: %s", err.msg);
    bench_progress("e: %" PRIu64 " queued; leader %s (epoch %" PRIu64 "); workers join now",
                   res->submitted, leader, old_epoch);
    struct cpu_mark c0, c1;
    cpu_mark(x, &c0); /* the drain, from the workers' joining */
    if (ok && setup_sims(x, &s, "e", res) != CORRAL_OK)
        ok = false;
    bool failed = !ok, killed = false;
    int64_t kill_wall = 0;
    while (ok && !bench_stopping()) {
        uint64_t fin = sims_finished(&s);
        if (fin >= res->submitted)
            break;
        if ((failed = sims_failed(&s, res)))
            break;
        if (clock_mono_ms() >= deadline) {
            note(res, "backlog not drained within the budget (--budget-s %" PRId64 ")",
                 o->budget_s);
            break;
        }
        if (can_kill && !killed && fin * 2 >= res->submitted) {
            struct bproc *p = cluster_find(x->cl, leader);
            if (p && cluster_alive(p)) {
                kill_wall = clock_wall_ms();
                cluster_kill9(p);
                bench_progress("e: kill -9 of the leader %s (pid %ld) after %" PRIu64 " finished",
                               leader, (long)p->pid, fin);
            } else {
                note(res, "leader %s is not a process of this run: not killed", leader);
            }
            killed = true;
        }
        tick(&t, res->submitted, (uint64_t)o->backlog, fin, NULL);
        /* Until the kill, look often: the backlog must not be drained past half before it. */
        bench_sleep_ms(killed || !can_kill ? TICK_MS : 5);
    }
    cpu_mark(x, &c1);
    if (ok)
        cpu_figures(&c0, &c1, res);
    sims_stop(&s, &agg); /* joined: their figures may be read now */
    int64_t first_new = kill_wall ? sims_first_after_epoch(&s, old_epoch) : 0;
    teardown(&s, res, NULL);
    res->leader_killed = kill_wall != 0;
    res->row.finished = agg.finished;
    res->succeeded = agg.finished;
    bench_percentiles(agg.start, agg.n, &res->row.start);
    bench_percentiles(agg.end, agg.n, &res->row.end);
    if (agg.first_seen && agg.first_registered)
        res->first_assign_ms = agg.first_seen - agg.first_registered;
    if (kill_wall && first_new)
        res->failover_assign_ms = first_new - kill_wall;
    else if (kill_wall)
        note(res, "no assignment by a new leader was seen after the kill (was every task "
                  "already assigned? use a --backlog well above --sim-workers x --sim-slots)");
    if (agg.first_seen && agg.last_finish)
        res->drain_per_s = bench_rate(agg.finished, agg.last_finish - agg.first_seen);
    res->row.finish_per_s = res->drain_per_s;
    res->drain_vs_empty = bench_ratio(res->drain_per_s, x->empty_finish_per_s);
    res->row.submit_ratio = bench_ratio(res->row.submit_per_s, x->ceil->batched_creates_per_s);
    res->row.finish_ratio = bench_ratio(res->row.finish_per_s, x->ceil->multi_best);
    if (!can_kill)
        note(res, "a given cluster (--server): its leader is not killed");
    sim_notes(&agg, res);
    res->row.complete = !failed && !bench_stopping() && res->submitted == (uint64_t)o->backlog &&
                        res->row.finished >= res->submitted &&
                        (!can_kill || res->failover_assign_ms >= 0);
    load_free(l);
    agg_free(&agg);
}
