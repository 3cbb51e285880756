/* SPDX-License-Identifier: MIT */
/* corral-bench's table and JSON (report.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench/report.h"

static void iso_time(int64_t wall_ms, char *buf, size_t n)
{
    time_t s = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool report_complete(const struct bench_report *r)
{
    if (r->error[0] || r->interrupted)
        return false;
    for (int i = 0; i < r->n; i++)
        if (r->sc[i].ran && !r->sc[i].row.complete)
            return false;
    return true;
}

/* A number of cores ("1.05"), "-" when unknown. */
static char *cores(char *buf, size_t n, double v)
{
    if (v < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.2f", v);
    return buf;
}

void report_print(FILE *f, const struct bench_report *r)
{
    char when[32], a[32], b[32];
    iso_time(r->started_wall_ms, when, sizeof when);
    fprintf(f, "\ncorral-bench %s, %s, %ld CPUs, load average %.2f -> %.2f, ZooKeeper: %s\n",
            CORRAL_VERSION, when, r->cpus, r->load_before[0], r->load_after[0], r->zk_desc);
    const struct bench_ceilings *c = &r->ceil;
    if (c->ran) {
        fprintf(f, "\nCeilings of this machine\n");
        fprintf(f, "  %-52s %9s /s  (%" PRIu64 " in %" PRId64 " ms)\n",
                "fork+exec+waitpid of /bin/true, one at a time",
                bench_fmt_rate(a, sizeof a, c->fork_per_s), c->fork_n, c->fork_ms);
        fprintf(f, "  %-52s %9s /s  (%" PRIu64 "; their deletes %s/s)\n",
                "ZooKeeper async creates, 200 B, 500 in flight",
                bench_fmt_rate(a, sizeof a, c->creates_per_s), c->creates,
                bench_fmt_rate(b, sizeof b, c->deletes_per_s));
        fprintf(f, "  %-52s %9s /s  (%" PRIu64 ")\n",
                "ZooKeeper creates, 200 B, 100 per multi, 8 in flight",
                bench_fmt_rate(a, sizeof a, c->batched_creates_per_s), c->batched_creates);
        for (int i = 0; i < CEIL_MULTI_KS; i++) {
            const struct ceil_multi *m = &c->multi[i];
            if (m->k == 0)
                continue;
            char label[80];
            snprintf(label, sizeof label, "fenced 3-multi task life, k=%d per multi, %d in flight",
                     m->k, m->inflight);
            fprintf(f, "  %-52s %9s /s  (tasks; %s multis/s)\n", label,
                    bench_fmt_rate(a, sizeof a, m->lives_per_s),
                    bench_fmt_rate(b, sizeof b, m->multis_per_s));
        }
    }
    int shown = 0;
    for (int i = 0; i < r->n; i++)
        shown += r->sc[i].ran;
    if (shown) {
        char line[512];
        fprintf(f, "\nScenarios (latency ms p50/p99/max; peak RSS MiB; submit, finish: the rate "
                   "over its ceiling, see the notes)\n");
        fprintf(f, "%s\n", bench_format_header(line, sizeof line));
        for (int i = 0; i < r->n; i++)
            if (r->sc[i].ran)
                fprintf(f, "%s\n", bench_format_row(line, sizeof line, &r->sc[i].row));
        fprintf(f, "\nNotes\n");
        for (int i = 0; i < r->n; i++) {
            const struct bench_result *s = &r->sc[i];
            if (!s->ran && !s->note[0])
                continue;
            fprintf(f, "  %-8s %s", s->name, s->title ? s->title : "");
            if (s->ran && s->submit_ceiling && s->submit_ceiling[0])
                fprintf(f, "; submit ratio against %s", s->submit_ceiling);
            if (s->ran && s->finish_ceiling && s->finish_ceiling[0])
                fprintf(f, ", finish ratio against %s", s->finish_ceiling);
            if (s->ran && s->latency_source)
                fprintf(f, "; latencies from %s", s->latency_source);
            fprintf(f, ".\n");
            if (s->ack.n)
                fprintf(f, "           POST round trip (client side) ms p50/p99/max: %s\n",
                        bench_fmt_pct(a, sizeof a, &s->ack));
            if (s->unknown || s->refused)
                fprintf(
                    f, "           submissions: %" PRIu64 " unknown outcome, %" PRIu64 " refused\n",
                    s->unknown, s->refused);
            if (s->first_assign_ms >= 0)
                fprintf(f, "           workers joined -> first assignment: %" PRId64 " ms\n",
                        s->first_assign_ms);
            if (s->failover_assign_ms >= 0)
                fprintf(f,
                        "           kill -9 of the leader -> new leader's first assignment: "
                        "%" PRId64 " ms\n",
                        s->failover_assign_ms);
            if (s->drain_per_s >= 0)
                fprintf(f, "           drain %s tasks/s (%s of b-batch's finish rate)\n",
                        bench_fmt_rate(a, sizeof a, s->drain_per_s),
                        bench_fmt_ratio(b, sizeof b, s->drain_vs_empty));
            if (s->cpu.machine >= 0) {
                char m[16], z[16], d[16], w[16], b2[16];
                fprintf(f,
                        "           CPU, cores busy over %.1f s: machine %s of %ld = ZooKeeper "
                        "%s + corrald %s + workers %s + corral-bench %s + the rest\n",
                        (double)s->cpu.window_ms / 1000.0, cores(m, sizeof m, s->cpu.machine),
                        r->cpus, cores(z, sizeof z, s->cpu.zk), cores(d, sizeof d, s->cpu.corrald),
                        cores(w, sizeof w, s->cpu.workers), cores(b2, sizeof b2, s->cpu.bench));
            }
            if (s->note[0])
                fprintf(f, "           %s\n", s->note);
        }
    }
    if (r->error[0])
        fprintf(f, "\nERROR: %s\n", r->error);
    if (r->interrupted)
        fprintf(f, "\nInterrupted: the figures above are what was measured until then.\n");
    fflush(f);
}

/* ------------------------------------------------------------------ JSON */

static json_t *num(double v)
{
    return v < 0.0 ? json_null() : json_real(v);
}

static json_t *intn(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *pct(const struct bench_pct *p)
{
    if (p->n == 0)
        return json_null();
    return json_pack("{s:I,s:I,s:I,s:I}", "p50", (json_int_t)p->p50, "p99", (json_int_t)p->p99,
                     "max", (json_int_t)p->max, "n", (json_int_t)p->n);
}

static json_t *scenario_json(const struct bench_result *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "title", json_string(s->title ? s->title : ""));
    json_object_set_new(o, "ran", json_boolean(s->ran));
    json_object_set_new(o, "complete", json_boolean(s->ran && s->row.complete));
    json_object_set_new(o, "tasks", json_integer((json_int_t)s->row.tasks));
    json_object_set_new(o, "submitted", json_integer((json_int_t)s->submitted));
    json_object_set_new(o, "submit_unknown", json_integer((json_int_t)s->unknown));
    json_object_set_new(o, "submit_refused", json_integer((json_int_t)s->refused));
    json_object_set_new(o, "finished", json_integer((json_int_t)s->row.finished));
    json_object_set_new(o, "succeeded", json_integer((json_int_t)s->succeeded));
    json_object_set_new(o, "submitted_per_s", num(s->row.submit_per_s));
    json_object_set_new(o, "finished_per_s", num(s->row.finish_per_s));
    json_object_set_new(o, "submit_to_start_ms", pct(&s->row.start));
    json_object_set_new(o, "submit_to_finish_ms", pct(&s->row.end));
    json_object_set_new(o, "post_round_trip_ms", pct(&s->ack));
    json_object_set_new(o, "latency_source",
                        s->latency_source ? json_string(s->latency_source) : json_null());
    json_object_set_new(o, "fork_exec_before_per_s", num(s->fork_before_per_s));
    json_object_set_new(o, "fork_exec_after_per_s", num(s->fork_after_per_s));
    json_object_set_new(o, "rss_corrald_kib", intn(s->row.rss_corrald_kib));
    json_object_set_new(o, "rss_workers_kib", intn(s->row.rss_workers_kib));
    json_t *each = json_array();
    for (int i = 0; i < s->n_workers && i < 8; i++)
        json_array_append_new(each, intn(s->rss_worker_kib[i]));
    json_object_set_new(o, "rss_each_worker_kib", each);
    json_object_set_new(o, "submit_ratio", num(s->row.submit_ratio));
    json_object_set_new(o, "submit_ceiling",
                        s->submit_ceiling ? json_string(s->submit_ceiling) : json_null());
    json_object_set_new(o, "finish_ratio", num(s->row.finish_ratio));
    json_object_set_new(o, "finish_ceiling",
                        s->finish_ceiling ? json_string(s->finish_ceiling) : json_null());
    if (strcmp(s->name, "e") == 0) {
        json_object_set_new(o, "first_assignment_ms", intn(s->first_assign_ms));
        json_object_set_new(o, "failover_first_assignment_ms", intn(s->failover_assign_ms));
        json_object_set_new(o, "leader_killed", json_boolean(s->leader_killed));
        json_object_set_new(o, "drain_per_s", num(s->drain_per_s));
        json_object_set_new(o, "drain_vs_empty_queue", num(s->drain_vs_empty));
    }
    json_t *cpu = json_object();
    json_object_set_new(cpu, "window_ms",
                        s->cpu.window_ms > 0 ? json_integer(s->cpu.window_ms) : json_null());
    json_object_set_new(cpu, "machine", num(s->cpu.machine));
    json_object_set_new(cpu, "zookeeper", num(s->cpu.zk));
    json_object_set_new(cpu, "corrald", num(s->cpu.corrald));
    json_object_set_new(cpu, "workers", num(s->cpu.workers));
    json_object_set_new(cpu, "bench", num(s->cpu.bench));
    json_object_set_new(o, "cpu_cores", cpu);
    json_object_set_new(o, "note", json_string(s->note));
    return o;
}

int report_write_json(const char *file, const struct bench_report *r, struct corral_error *err)
{
    char when[32];
    iso_time(r->started_wall_ms, when, sizeof when);
    const struct bench_opts *o = r->o;
    json_t *root = json_object();
    json_object_set_new(root, "version", json_string(CORRAL_VERSION));
    json_object_set_new(root, "started_at", json_string(when));
    json_object_set_new(root, "complete", json_boolean(report_complete(r)));
    json_object_set_new(root, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(root, "error", r->error[0] ? json_string(r->error) : json_null());
    json_object_set_new(root, "host",
                        json_pack("{s:I,s:[f,f,f],s:[f,f,f],s:s}", "cpus", (json_int_t)r->cpus,
                                  "loadavg_before", r->load_before[0], r->load_before[1],
                                  r->load_before[2], "loadavg_after", r->load_after[0],
                                  r->load_after[1], r->load_after[2], "zookeeper", r->zk_desc));
    json_t *cfg = json_object();
    json_object_set_new(cfg, "smoke", json_boolean(o->smoke));
    json_object_set_new(cfg, "scenarios", json_string(o->scenarios));
    json_object_set_new(cfg, "tasks", json_integer(o->tasks));
    json_object_set_new(cfg, "e2e_tasks", json_integer(o->e2e_tasks));
    json_object_set_new(cfg, "backlog", json_integer(o->backlog));
    json_object_set_new(cfg, "sim_workers", json_integer(o->sim_workers));
    json_object_set_new(cfg, "sim_slots", json_integer(o->sim_slots));
    json_object_set_new(cfg, "sim_batch", json_integer(o->sim_batch));
    json_object_set_new(cfg, "workers", json_integer(o->workers));
    json_object_set_new(cfg, "worker_slots", json_integer(o->worker_slots));
    json_object_set_new(cfg, "clients", json_integer(o->clients));
    json_object_set_new(cfg, "batch_clients", json_integer(o->batch_clients));
    json_object_set_new(cfg, "rate", json_integer(o->rate));
    json_object_set_new(cfg, "light_s", json_integer(o->light_s));
    json_object_set_new(cfg, "session_ms", json_integer(o->session_ms));
    json_object_set_new(cfg, "zk_servers", json_integer(o->zk_servers));
    json_object_set_new(cfg, "zk_heap_mb", json_integer(o->zk_heap_mb));
    json_object_set_new(cfg, "budget_s", json_integer(o->budget_s));
    json_object_set_new(cfg, "ceil_ms", json_integer(o->ceil_ms));
    json_object_set_new(cfg, "ceil_creates", json_integer(o->ceil_creates));
    json_object_set_new(cfg, "namespace_prefix", json_string(r->ns_prefix ? r->ns_prefix : ""));
    json_object_set_new(cfg, "external_zk", json_boolean(o->zk != NULL));
    json_object_set_new(cfg, "external_server", json_boolean(o->server != NULL));
    json_object_set_new(root, "config", cfg);

    const struct bench_ceilings *c = &r->ceil;
    if (c->ran) {
        json_t *ce = json_object();
        json_object_set_new(ce, "fork_exec_per_s", num(c->fork_per_s));
        json_object_set_new(ce, "fork_exec_count", json_integer((json_int_t)c->fork_n));
        json_object_set_new(ce, "zk_async_creates_per_s", num(c->creates_per_s));
        json_object_set_new(ce, "zk_async_creates", json_integer((json_int_t)c->creates));
        json_object_set_new(ce, "zk_async_deletes_per_s", num(c->deletes_per_s));
        json_object_set_new(ce, "zk_batched_creates_per_s", num(c->batched_creates_per_s));
        json_object_set_new(ce, "zk_batched_creates", json_integer((json_int_t)c->batched_creates));
        json_t *ms = json_array();
        for (int i = 0; i < CEIL_MULTI_KS; i++) {
            const struct ceil_multi *m = &c->multi[i];
            if (m->k == 0)
                continue;
            json_array_append_new(ms,
                                  json_pack("{s:i,s:i,s:o,s:o,s:I,s:I}", "k", m->k, "in_flight",
                                            m->inflight, "tasks_per_s", num(m->lives_per_s),
                                            "multis_per_s", num(m->multis_per_s), "tasks",
                                            (json_int_t)m->lives, "multis", (json_int_t)m->multis));
        }
        json_object_set_new(ce, "zk_fenced_multi", ms);
        json_object_set_new(ce, "zk_fenced_multi_best_tasks_per_s",
                            num(c->multi_best > 0 ? c->multi_best : -1.0));
        json_object_set_new(root, "ceilings", ce);
    } else {
        json_object_set_new(root, "ceilings", json_null());
    }
    json_t *sc = json_object();
    for (int i = 0; i < r->n; i++)
        json_object_set_new(sc, r->sc[i].name, scenario_json(&r->sc[i]));
    json_object_set_new(root, "scenarios", sc);
    int rc = json_dump_file(root, file, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (rc != 0)
        return corral_error_set(err, CORRAL_EINTERNAL, "--json", "cannot write %s", file);
    return CORRAL_OK;
}
