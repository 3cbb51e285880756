/* SPDX-License-Identifier: MIT */
/* corral-bench's arithmetic and table cells (stats.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/stats.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t bench_rank(const int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    double r = ceil(p / 100.0 * (double)n);
    size_t i = r < 1.0 ? 0 : (size_t)r - 1;
    return sorted[i < n ? i : n - 1];
}

void bench_percentiles(int64_t *v, size_t n, struct bench_pct *out)
{
    *out = (struct bench_pct){.n = n};
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_i64);
    out->p50 = bench_rank(v, n, 50.0);
    out->p99 = bench_rank(v, n, 99.0);
    out->max = v[n - 1];
}

double bench_rate(uint64_t count, int64_t ms)
{
    if (count == 0 || ms < 0)
        return -1.0;
    return (double)count * 1000.0 / (double)(ms < 1 ? 1 : ms);
}

double bench_ratio(double value, double ceiling)
{
    if (value < 0.0 || ceiling <= 0.0)
        return -1.0;
    return value / ceiling;
}

char *bench_fmt_rate(char *buf, size_t n, double per_s)
{
    if (per_s < 0.0)
        snprintf(buf, n, "-");
    else if (per_s < 100.0)
        snprintf(buf, n, "%.1f", per_s);
    else
        snprintf(buf, n, "%.0f", per_s);
    return buf;
}

char *bench_fmt_pct(char *buf, size_t n, const struct bench_pct *p)
{
    if (p->n == 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%" PRId64 "/%" PRId64 "/%" PRId64, p->p50, p->p99, p->max);
    return buf;
}

char *bench_fmt_ratio(char *buf, size_t n, double ratio)
{
    if (ratio < 0.0)
        snprintf(buf, n, "-");
    else if (ratio < 0.1)
        snprintf(buf, n, "%.1f%%", ratio * 100.0);
    else
        snprintf(buf, n, "%.0f%%", ratio * 100.0);
    return buf;
}

char *bench_fmt_mib(char *buf, size_t n, int64_t kib)
{
    if (kib < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1f", (double)kib / 1024.0);
    return buf;
}

/* Column widths of the table; the header and every row use the same ones. */
#define ROW_FMT "%-10s %15s %9s %9s %16s %16s %8s %8s %7s %7s %s"

char *bench_format_header(char *buf, size_t n)
{
    snprintf(buf, n, ROW_FMT, "scenario", "finished", "submit/s", "finish/s", "start p50/99/max",
             "end p50/99/max", "corrald", "workers", "submit", "finish", "status");
    return buf;
}

char *bench_format_row(char *buf, size_t n, const struct bench_row *r)
{
    char done[48], sub[24], fin[24], st[64], en[64], rc[24], rw[24], qs[24], qf[24];
    snprintf(done, sizeof done, "%" PRIu64 "/%" PRIu64, r->finished, r->tasks);
    snprintf(buf, n, ROW_FMT, r->scenario ? r->scenario : "?", done,
             bench_fmt_rate(sub, sizeof sub, r->submit_per_s),
             bench_fmt_rate(fin, sizeof fin, r->finish_per_s),
             bench_fmt_pct(st, sizeof st, &r->start), bench_fmt_pct(en, sizeof en, &r->end),
             bench_fmt_mib(rc, sizeof rc, r->rss_corrald_kib),
             bench_fmt_mib(rw, sizeof rw, r->rss_workers_kib),
             bench_fmt_ratio(qs, sizeof qs, r->submit_ratio),
             bench_fmt_ratio(qf, sizeof qf, r->finish_ratio), r->complete ? "ok" : "INCOMPLETE");
    return buf;
}

int64_t bench_vmhwm_parse(const char *status_text)
{
    static const char key[] = "VmHWM:";
    for (const char *line = status_text; line && *line;) {
        if (strncmp(line, key, sizeof key - 1) == 0) {
            const char *p = line + sizeof key - 1;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p < '0' || *p > '9')
                return -1;
            char *end = NULL;
            unsigned long long v = strtoull(p, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            if (strncmp(end, "kB", 2) != 0 || v > (unsigned long long)INT64_MAX)
                return -1;
            return (int64_t)v;
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

int64_t bench_metric_sum(const char *text, const char *name)
{
    size_t nlen = strlen(name);
    int64_t sum = 0;
    bool seen = false;
    for (const char *line = text; nlen > 0 && line && *line;) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, name, nlen) == 0 && (line[nlen] == ' ' || line[nlen] == '{')) {
            const char *p = line + nlen;
            if (*p == '{') {
                const char *close = strchr(p, '}');
                if (!close || (nl && close > nl))
                    return -1;
                p = close + 1;
            }
            if (*p != ' ')
                return -1;
            while (*p == ' ')
                p++;
            if (*p < '0' || *p > '9')
                return -1;
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(p, &end, 10);
            if (errno || v > (unsigned long long)(INT64_MAX - sum) ||
                (*end != '\n' && *end != '\0' && *end != ' '))
                return -1;
            sum += (int64_t)v;
            seen = true;
        }
        line = nl ? nl + 1 : NULL;
    }
    return seen ? sum : -1;
}

int64_t bench_proc_ticks_parse(const char *stat_text, bool with_children)
{
    const char *p = strrchr(stat_text, ')');
    if (!p)
        return -1;
    p++;
    /* After the name: field 3 (state) is the first; utime is field 14, stime 15, cutime 16,
     * cstime 17. */
    int64_t sum = 0;
    for (int field = 3; field <= 17; field++) {
        while (*p == ' ')
            p++;
        if (!*p || *p == '\n')
            return -1;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\n')
            p++;
        if (field < 14 || (field > 15 && !with_children))
            continue;
        char *end = NULL;
        long long v = strtoll(tok, &end, 10);
        if (end != p || v < 0)
            return -1;
        sum += v;
    }
    return sum;
}

bool bench_machine_ticks_parse(const char *stat_text, uint64_t *busy, uint64_t *total)
{
    if (strncmp(stat_text, "cpu ", 4) != 0)
        return false;
    const char *p = stat_text + 4;
    uint64_t v[8], sum = 0;
    for (int i = 0; i < 8; i++) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        char *end = NULL;
        unsigned long long x = strtoull(p, &end, 10);
        v[i] = x;
        sum += x;
        p = end;
    }
    *total = sum;
    *busy = sum - v[3] - v[4];
    return true;
}

double bench_cores(int64_t ticks, int64_t ms, long hz)
{
    if (ticks < 0 || ms <= 0 || hz <= 0)
        return -1.0;
    return (double)ticks / (double)hz / ((double)ms / 1000.0);
}
