/* SPDX-License-Identifier: MIT */
/*
 * corral-bench's arithmetic and formatting (docs/benchmarks.md): percentiles, rates, ratios to a
 * ceiling, the cells and rows of the result table, and the VmHWM line of /proc/<pid>/status.
 * Pure: numbers and text in, numbers and text out (tests/unit/test_bench.c). It measures nothing
 * and prints nothing itself.
 */
#ifndef CORRAL_BENCH_STATS_H
#define CORRAL_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* p50, p99 and max of a sample (nearest-rank percentiles); n == 0 means "no sample". */
struct bench_pct {
    int64_t p50, p99, max;
    size_t n;
};

/* Sort v (n values, in place) and fill out. n == 0 gives all zeros. */
void bench_percentiles(int64_t *v, size_t n, struct bench_pct *out);
/* The nearest-rank percentile p (0 < p <= 100) of sorted v (n >= 1): v[ceil(p/100 * n) - 1]. */
int64_t bench_rank(const int64_t *sorted, size_t n, double p);

/* count per second over ms milliseconds; an interval under 1 ms counts as 1 ms. -1 when there is
 * nothing to measure (count == 0 or ms < 0). */
double bench_rate(uint64_t count, int64_t ms);
/* value / ceiling, or -1 when either is unknown (negative) or the ceiling is 0. */
double bench_ratio(double value, double ceiling);

/* Cells of the table; "-" for an unknown value (negative, or a pct without a sample). Each writes
 * a NUL-terminated string into buf (capacity n, truncated to fit) and returns buf. */
char *bench_fmt_rate(char *buf, size_t n, double per_s);             /* "12345", "12.3" under 100 */
char *bench_fmt_pct(char *buf, size_t n, const struct bench_pct *p); /* "3/25/40" */
char *bench_fmt_ratio(char *buf, size_t n, double ratio);            /* "31%", "0.4%" */
char *bench_fmt_mib(char *buf, size_t n, int64_t kib);               /* "12.5" (MiB) */

/* One line of the result table. Unknown values are negative (rss, rates, ratios). */
struct bench_row {
    const char *scenario;   /* "b-batch" */
    uint64_t tasks;         /* planned */
    uint64_t finished;      /* seen finished */
    double submit_per_s;    /* accepted submissions per second */
    double finish_per_s;    /* finishes per second */
    struct bench_pct start; /* submit -> start, ms */
    struct bench_pct end;   /* submit -> finish, ms */
    int64_t rss_corrald_kib;
    int64_t rss_workers_kib;
    double submit_ratio; /* submit_per_s / its ceiling */
    double finish_ratio; /* finish_per_s / its ceiling */
    bool complete;
};

/* The header line and one row (no newline), columns aligned with each other. */
char *bench_format_header(char *buf, size_t n);
char *bench_format_row(char *buf, size_t n, const struct bench_row *r);

/* Peak resident set size in KiB from the text of /proc/<pid>/status (its "VmHWM:" line), or -1
 * when the line is missing or malformed. */
int64_t bench_vmhwm_parse(const char *status_text);

/* The sum of every sample of the counter `name` in Prometheus text (lines "name value" and
 * "name{labels} value"; comments and other metrics skipped), or -1 when it has no sample or one
 * is malformed. Values are whole non-negative numbers (corrald's counters). */
int64_t bench_metric_sum(const char *text, const char *name);

/* CPU time in clock ticks from the text of /proc/<pid>/stat: utime + stime, plus cutime +
 * cstime (its reaped children's) when with_children; -1 when malformed. The command name in
 * parentheses may hold spaces and parentheses: fields are counted after the last ')'. */
int64_t bench_proc_ticks_parse(const char *stat_text, bool with_children);
/* The machine's CPU time in clock ticks from the first line of /proc/stat ("cpu  user nice
 * system idle iowait irq softirq steal ..."): *total of the eight, *busy = total - idle -
 * iowait. False when malformed. */
bool bench_machine_ticks_parse(const char *stat_text, uint64_t *busy, uint64_t *total);
/* Cores kept busy: ticks (at hz a second) over ms of wall time; -1 when unknown (negative ticks,
 * ms <= 0 or hz <= 0). */
double bench_cores(int64_t ticks, int64_t ms, long hz);

#endif
