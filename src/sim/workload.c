/* SPDX-License-Identifier: MIT */
/*
 * Simulator inputs (workload.h): JSON-lines workloads and worker files, the compact cluster
 * spec, and the built-in workload generators. Pure: bytes and seeds in, arrays out. Random
 * numbers come only from corral_rng_next (splitmix64) seeded by the caller.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/limits.h"
#include "corral/sched.h"
#include "corral/xalloc.h"
#include "sim/workload.h"

#define LABEL_VALUE_MAX 256u

static void kv_free(struct corral_kv *kv, size_t n)
{
    for (size_t i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static bool label_text_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c == 0x7f || c == '=' || c == ',' || c == '{' || c == '}' || c == '+')
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON lines                                                                                  */

/* Calls fn for each non-blank, non-comment line with its 1-based number; stops on error. */
typedef int line_fn(const char *line, size_t len, size_t lineno, void *ctx,
                    struct corral_error *err);

static int for_each_line(const char *buf, size_t len, line_fn *fn, void *ctx,
                         struct corral_error *err)
{
    size_t lineno = 0, pos = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        lineno++;
        size_t a = pos, b = end;
        while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r'))
            a++;
        while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\r'))
            b--;
        if (b > a && buf[a] != '#') {
            int rc = fn(buf + a, b - a, lineno, ctx, err);
            if (rc != CORRAL_OK)
                return rc;
        }
        pos = end + 1;
    }
    return CORRAL_OK;
}

static json_t *parse_line(const char *line, size_t len, size_t lineno, struct corral_error *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        corral_error_set(err, CORRAL_EINVAL, NULL, "line %zu: invalid JSON: %s", lineno, jerr.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        corral_error_set(err, CORRAL_EINVAL, NULL, "line %zu: must be a JSON object", lineno);
        return NULL;
    }
    return o;
}

static int get_int(json_t *v, const char *key, size_t lineno, int64_t min, int64_t max,
                   int64_t *out, struct corral_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return corral_error_set(err, CORRAL_EINVAL, key,
                                "line %zu: %s: must be an integer in %lld..%lld", lineno, key,
                                (long long)min, (long long)max);
    *out = json_integer_value(v);
    return CORRAL_OK;
}

static int get_cpu(json_t *v, size_t lineno, uint32_t *out, struct corral_error *err)
{
    double max = (double)CORRAL_CPU_MAX_MILLI / 1000.0;
    if (!json_is_number(v) || !(json_number_value(v) >= 0.0) || json_number_value(v) > max)
        return corral_error_set(err, CORRAL_EINVAL, "cpu",
                                "line %zu: cpu: must be a number in 0..%g", lineno, max);
    *out = (uint32_t)llround(json_number_value(v) * 1000.0);
    return CORRAL_OK;
}

static int get_labels(json_t *v, const char *key, size_t lineno, struct corral_kv **out,
                      size_t *n_out, struct corral_error *err)
{
    if (!json_is_object(v))
        return corral_error_set(err, CORRAL_EINVAL, key,
                                "line %zu: %s: must be an object of strings", lineno, key);
    size_t n = json_object_size(v);
    if (n > CORRAL_MAP_MAX_ENTRIES)
        return corral_error_set(err, CORRAL_EINVAL, key, "line %zu: %s: more than %u entries",
                                lineno, key, CORRAL_MAP_MAX_ENTRIES);
    struct corral_kv *kv = corral_xcalloc(n, sizeof *kv);
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!label_text_ok(k, strlen(k), CORRAL_KEY_MAX) || !json_is_string(val) ||
            !label_text_ok(json_string_value(val), json_string_length(val), LABEL_VALUE_MAX)) {
            kv_free(kv, i);
            return corral_error_set(err, CORRAL_EINVAL, key,
                                    "line %zu: %s.%.60s: keys and values must be non-empty "
                                    "strings without spaces, '=', ',', '{', '}' or '+'",
                                    lineno, key, k);
        }
        kv[i].key = corral_xstrdup(k);
        kv[i].value = corral_xstrndup(json_string_value(val), json_string_length(val));
        i++;
    }
    *out = kv;
    *n_out = n;
    return CORRAL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Workloads                                                                                   */

struct task_vec {
    struct sim_task *v;
    size_t n, cap;
};

static struct sim_task *task_push(struct task_vec *tv)
{
    if (tv->n == tv->cap) {
        size_t cap = tv->cap ? tv->cap * 2 : 64;
        tv->v = corral_xrealloc(tv->v, cap * sizeof *tv->v);
        tv->cap = cap;
    }
    struct sim_task *t = &tv->v[tv->n++];
    memset(t, 0, sizeof *t);
    return t;
}

static void task_free(struct sim_task *t)
{
    kv_free(t->constraints, t->n_constraints);
    t->constraints = NULL;
    t->n_constraints = 0;
}

static int task_line(const char *line, size_t len, size_t lineno, void *ctx,
                     struct corral_error *err)
{
    struct task_vec *tv = ctx;
    if (tv->n >= SIM_TASKS_MAX)
        return corral_error_set(err, CORRAL_ETOOBIG, NULL, "line %zu: more than %u tasks", lineno,
                                SIM_TASKS_MAX);
    json_t *o = parse_line(line, len, lineno, err);
    if (!o)
        return err->code;
    struct sim_task *t = task_push(tv);
    t->cpu_milli = 1000;
    int rc = CORRAL_OK;
    bool has_submit = false, has_duration = false, has_labels = false;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int64_t x = 0;
        if (strcmp(key, "submit_ms") == 0) {
            rc = get_int(v, key, lineno, 0, (int64_t)SIM_SUBMIT_MAX, &x, err);
            t->submit_ms = x;
            has_submit = true;
        } else if (strcmp(key, "duration_ms") == 0) {
            rc = get_int(v, key, lineno, 0, (int64_t)SIM_DURATION_MAX, &x, err);
            t->duration_ms = (uint64_t)x;
            has_duration = true;
        } else if (strcmp(key, "cpu") == 0) {
            rc = get_cpu(v, lineno, &t->cpu_milli, err);
        } else if (strcmp(key, "mem_mb") == 0) {
            rc = get_int(v, key, lineno, 0, (int64_t)CORRAL_MEM_MAX_MB, &x, err);
            t->mem_mb = (uint64_t)x;
        } else if (strcmp(key, "priority") == 0) {
            rc = get_int(v, key, lineno, CORRAL_PRIORITY_MIN, CORRAL_PRIORITY_MAX, &x, err);
            t->priority = (int)x;
        } else if (strcmp(key, "estimated_ms") == 0) {
            rc = get_int(v, key, lineno, 0, (int64_t)SIM_DURATION_MAX, &x, err);
            t->estimated_ms = (uint64_t)x;
            t->has_estimated = true;
        } else if (strcmp(key, "labels") == 0 || strcmp(key, "constraints") == 0) {
            if (has_labels)
                rc = corral_error_set(err, CORRAL_EINVAL, key,
                                      "line %zu: give labels or constraints, not both", lineno);
            else
                rc = get_labels(v, key, lineno, &t->constraints, &t->n_constraints, err);
            has_labels = true;
        } else {
            rc = corral_error_set(err, CORRAL_EINVAL, key, "line %zu: %.60s: unknown field", lineno,
                                  key);
        }
        if (rc != CORRAL_OK)
            break;
    }
    json_decref(o);
    if (rc == CORRAL_OK && !has_submit)
        rc = corral_error_set(err, CORRAL_EINVAL, "submit_ms", "line %zu: submit_ms: missing",
                              lineno);
    if (rc == CORRAL_OK && !has_duration)
        rc = corral_error_set(err, CORRAL_EINVAL, "duration_ms", "line %zu: duration_ms: missing",
                              lineno);
    return rc;
}

static int cmp_submit(const void *a, const void *b)
{
    const struct sim_task *x = a, *y = b;
    if (x->submit_ms != y->submit_ms)
        return x->submit_ms < y->submit_ms ? -1 : 1;
    /* Stable: ids were the input positions when this runs. */
    return strcmp(x->id, y->id);
}

/* Sort by submission (stable) and name the tasks in that order. */
static void finish_workload(struct task_vec *tv, struct sim_workload *out)
{
    for (size_t i = 0; i < tv->n; i++)
        snprintf(tv->v[i].id, sizeof tv->v[i].id, "p%010zu", i);
    qsort(tv->v, tv->n, sizeof *tv->v, cmp_submit);
    for (size_t i = 0; i < tv->n; i++)
        snprintf(tv->v[i].id, sizeof tv->v[i].id, "t%010zu", i);
    out->tasks = tv->v;
    out->n = tv->n;
}

int sim_workload_parse(const char *buf, size_t len, struct sim_workload *out,
                       struct corral_error *err)
{
    struct task_vec tv = {0};
    int rc = for_each_line(buf, len, task_line, &tv, err);
    if (rc == CORRAL_OK && tv.n == 0)
        rc = corral_error_set(err, CORRAL_EINVAL, NULL, "no tasks in the workload");
    if (rc != CORRAL_OK) {
        struct sim_workload w = {tv.v, tv.n};
        sim_workload_cleanup(&w);
        return rc;
    }
    finish_workload(&tv, out);
    return CORRAL_OK;
}

void sim_workload_cleanup(struct sim_workload *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        task_free(&w->tasks[i]);
    free(w->tasks);
    w->tasks = NULL;
    w->n = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Generators                                                                                  */

/* Uniform in [0, 1) with 53 random bits. */
static double u01(uint64_t *rng)
{
    return (double)(corral_rng_next(rng) >> 11) * 0x1.0p-53;
}

static uint64_t uniform_int(uint64_t *rng, uint64_t lo, uint64_t hi)
{
    return lo + (uint64_t)(u01(rng) * (double)(hi - lo + 1));
}

static double exponential(uint64_t *rng, double mean)
{
    return -mean * log(1.0 - u01(rng));
}

static double normal(uint64_t *rng)
{
    double u1 = 1.0 - u01(rng), u2 = u01(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static uint64_t noisy_estimate(uint64_t *rng, uint64_t duration, double sigma)
{
    double f = exp(sigma * normal(rng));
    double e = (double)duration * f;
    return e > (double)SIM_DURATION_MAX ? SIM_DURATION_MAX : (uint64_t)llround(e);
}

static void add_constraint(struct sim_task *t, const char *k, const char *v)
{
    t->constraints = corral_xcalloc(1, sizeof *t->constraints);
    t->constraints[0].key = corral_xstrdup(k);
    t->constraints[0].value = corral_xstrdup(v);
    t->n_constraints = 1;
}

static const char *const kinds[] = {"uniform", "heavy-tailed", "bursty", "mixed"};

const char *sim_workload_kinds(void)
{
    return "uniform, heavy-tailed, bursty, mixed";
}

int sim_workload_generate(const char *kind, size_t n, uint64_t seed, uint64_t gap_ms,
                          struct sim_workload *out, struct corral_error *err)
{
    int k = -1;
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kind, kinds[i]) == 0)
            k = (int)i;
    }
    if (k < 0)
        return corral_error_set(err, CORRAL_EINVAL, "--generate", "must be one of %s, got '%s'",
                                sim_workload_kinds(), kind ? kind : "");
    if (n == 0 || n > SIM_TASKS_MAX)
        return corral_error_set(err, CORRAL_EINVAL, "--tasks", "must be in 1..%u", SIM_TASKS_MAX);

    /* Distinct streams for arrivals and task shapes, both from the one seed. */
    uint64_t arr = seed ^ UINT64_C(0x6a09e667f3bcc908), shape = seed ^ UINT64_C(0xbb67ae8584caa73b);
    double gap = (double)gap_ms;
    double now = 0.0;
    size_t burst_left = 0, burst_size = 1;
    struct task_vec tv = {0};
    for (size_t i = 0; i < n; i++) {
        struct sim_task *t = task_push(&tv);
        /* Arrivals. */
        if (k == 2) {
            if (burst_left == 0) {
                burst_size = burst_left = (size_t)uniform_int(&arr, 20, 60);
                /* A quiet gap worth the whole burst keeps the mean gap at gap_ms. */
                if (i > 0)
                    now += gap * (double)burst_size;
            }
            /* The burst's arrivals spread over about 0.2 s. */
            now += u01(&arr) * 400.0 / (double)burst_size;
            burst_left--;
        } else if (i > 0) {
            now += exponential(&arr, gap);
        }
        t->submit_ms = (int64_t)llround(now);
        t->priority = (int)uniform_int(&shape, 0, 3);
        t->cpu_milli = 1000;
        t->mem_mb = 256u * uniform_int(&shape, 1, 4);
        /* Shapes. */
        switch (k) {
            case 1: { /* heavy-tailed: Pareto, alpha 1.5, x_m 1 s (mean 3 s), capped */
                double d = 1000.0 / pow(1.0 - u01(&shape), 1.0 / 1.5);
                t->duration_ms = d > 600000.0 ? 600000u : (uint64_t)llround(d);
                if (u01(&shape) < 0.2)
                    t->cpu_milli = 2000;
                t->estimated_ms = noisy_estimate(&shape, t->duration_ms, 0.5);
                break;
            }
            case 3: { /* mixed sizes and labels */
                double c = u01(&shape);
                if (c < 0.6) {
                    t->cpu_milli = 500;
                    t->mem_mb = 256;
                    t->duration_ms = uniform_int(&shape, 200, 2000);
                } else if (c < 0.9) {
                    t->cpu_milli = 2000;
                    t->mem_mb = 2048;
                    t->duration_ms = uniform_int(&shape, 2000, 10000);
                } else {
                    t->cpu_milli = 4000;
                    t->mem_mb = 6144;
                    t->duration_ms = uniform_int(&shape, 10000, 30000);
                }
                double z = u01(&shape);
                if (z < 0.125)
                    add_constraint(t, "zone", "a");
                else if (z < 0.25)
                    add_constraint(t, "zone", "b");
                t->estimated_ms = noisy_estimate(&shape, t->duration_ms, 0.3);
                break;
            }
            default: /* uniform, bursty */
                t->duration_ms = uniform_int(&shape, 500, 5500);
                t->estimated_ms = (uint64_t)llround((double)t->duration_ms * (0.5 + u01(&shape)));
                break;
        }
        t->has_estimated = true;
    }
    finish_workload(&tv, out);
    return CORRAL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Clusters                                                                                    */

struct worker_vec {
    struct sim_worker *v;
    size_t n;
};

static struct sim_worker *worker_push(struct worker_vec *wv, const struct sim_worker_defaults *d)
{
    /* Capacity is fixed: callers check SIM_WORKERS_MAX first. */
    struct sim_worker *w = &wv->v[wv->n++];
    memset(w, 0, sizeof *w);
    w->slots = d->slots;
    w->cpu_milli = d->cpu_milli;
    w->mem_mb = d->mem_mb;
    w->weight = d->weight ? d->weight : 1;
    return w;
}

static void worker_free(struct sim_worker *w)
{
    kv_free(w->labels, w->n_labels);
    w->labels = NULL;
    w->n_labels = 0;
}

void sim_cluster_cleanup(struct sim_cluster *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        worker_free(&c->workers[i]);
    free(c->workers);
    c->workers = NULL;
    c->n = 0;
}

static int add_label(struct sim_worker *w, const char *k, size_t klen, const char *v, size_t vlen,
                     struct corral_error *err)
{
    if (!label_text_ok(k, klen, CORRAL_KEY_MAX) || !label_text_ok(v, vlen, LABEL_VALUE_MAX))
        return corral_error_set(err, CORRAL_EINVAL, "labels",
                                "label '%.*s=%.*s' needs a non-empty key and value", (int)klen, k,
                                (int)vlen, v);
    for (size_t i = 0; i < w->n_labels; i++) {
        if (strlen(w->labels[i].key) == klen && memcmp(w->labels[i].key, k, klen) == 0)
            return corral_error_set(err, CORRAL_EINVAL, "labels", "label '%.*s' given twice",
                                    (int)klen, k);
    }
    if (w->n_labels >= CORRAL_MAP_MAX_ENTRIES)
        return corral_error_set(err, CORRAL_EINVAL, "labels", "more than %u labels",
                                CORRAL_MAP_MAX_ENTRIES);
    struct corral_kv *kv = corral_xrealloc(w->labels, (w->n_labels + 1) * sizeof *kv);
    kv[w->n_labels].key = corral_xstrndup(k, klen);
    kv[w->n_labels].value = corral_xstrndup(v, vlen);
    w->labels = kv;
    w->n_labels++;
    return CORRAL_OK;
}

/* Parse an unsigned decimal s[0..len) in [min, max]. */
static bool parse_uint(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Parse a decimal with up to 3 fraction digits into thousandths, at most max. */
static bool parse_milli(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    const char *dot = memchr(s, '.', len);
    size_t ilen = dot ? (size_t)(dot - s) : len;
    uint64_t ip = 0, fp = 0;
    if (!parse_uint(s, ilen, 0, max / 1000u, &ip))
        return false;
    if (dot) {
        size_t flen = len - ilen - 1;
        if (flen == 0 || flen > 3)
            return false;
        if (!parse_uint(dot + 1, flen, 0, 999, &fp))
            return false;
        for (size_t i = flen; i < 3; i++)
            fp *= 10u;
    }
    uint64_t v = ip * 1000u + fp;
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* One "key:value" or "K=V" field of a group into w. */
static int spec_field(struct sim_worker *w, const char *f, size_t len, struct corral_error *err)
{
    const char *colon = memchr(f, ':', len);
    const char *eq = memchr(f, '=', len);
    if (!colon) {
        if (!eq)
            return corral_error_set(err, CORRAL_EINVAL, "--workers",
                                    "'%.*s': expected key:value or a label K=V", (int)len, f);
        return add_label(w, f, (size_t)(eq - f), eq + 1, len - (size_t)(eq - f) - 1, err);
    }
    size_t klen = (size_t)(colon - f);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
    uint64_t x = 0;
    bool ok;
    if (klen == 5 && memcmp(f, "slots", 5) == 0) {
        ok = parse_uint(v, vlen, 1, 1024, &x);
        w->slots = (uint32_t)x;
    } else if (klen == 3 && memcmp(f, "cpu", 3) == 0) {
        ok = parse_milli(v, vlen, CORRAL_CPU_MAX_MILLI, &x);
        w->cpu_milli = (uint32_t)x;
    } else if ((klen == 3 && memcmp(f, "mem", 3) == 0) ||
               (klen == 6 && memcmp(f, "mem_mb", 6) == 0)) {
        ok = parse_uint(v, vlen, 0, CORRAL_MEM_MAX_MB, &x);
        w->mem_mb = x;
    } else if (klen == 6 && memcmp(f, "weight", 6) == 0) {
        ok = parse_uint(v, vlen, 1, 1000000, &x);
        w->weight = (uint32_t)x;
    } else if (klen == 6 && memcmp(f, "labels", 6) == 0) {
        const char *e = memchr(v, '=', vlen);
        if (!e)
            return corral_error_set(err, CORRAL_EINVAL, "--workers", "'%.*s': labels takes K=V",
                                    (int)len, f);
        return add_label(w, v, (size_t)(e - v), e + 1, vlen - (size_t)(e - v) - 1, err);
    } else {
        return corral_error_set(err, CORRAL_EINVAL, "--workers",
                                "'%.*s': unknown field (slots, cpu, mem, weight, labels)",
                                (int)klen, f);
    }
    if (!ok)
        return corral_error_set(err, CORRAL_EINVAL, "--workers", "'%.*s': bad value", (int)len, f);
    return CORRAL_OK;
}

static void name_workers(struct worker_vec *wv)
{
    int width = wv->n >= 100 ? (wv->n >= 1000 ? 4 : 3) : 2;
    for (size_t i = 0; i < wv->n; i++)
        snprintf(wv->v[i].id, sizeof wv->v[i].id, "w%0*zu", width, i + 1);
}

int sim_cluster_parse_spec(const char *spec, const struct sim_worker_defaults *d,
                           struct sim_cluster *out, struct corral_error *err)
{
    struct worker_vec wv = {corral_xcalloc(SIM_WORKERS_MAX, sizeof(struct sim_worker)), 0};
    int rc = CORRAL_OK;
    size_t len = strlen(spec);
    uint64_t count = 0;
    if (parse_uint(spec, len, 1, SIM_WORKERS_MAX, &count)) {
        for (uint64_t i = 0; i < count; i++)
            worker_push(&wv, d);
        goto out;
    }
    const char *p = spec, *end = spec + len;
    while (rc == CORRAL_OK) {
        /* [N x]{fields} */
        count = 1;
        const char *brace = memchr(p, '{', (size_t)(end - p));
        if (!brace) {
            rc = corral_error_set(err, CORRAL_EINVAL, "--workers",
                                  "'%.40s': expected a count or [N x]{field,...}", p);
            break;
        }
        if (brace > p) {
            size_t nlen = (size_t)(brace - p);
            if (p[nlen - 1] != 'x' || !parse_uint(p, nlen - 1, 1, SIM_WORKERS_MAX, &count)) {
                rc = corral_error_set(err, CORRAL_EINVAL, "--workers",
                                      "'%.*s': expected a count like 4x before '{'", (int)nlen, p);
                break;
            }
        }
        const char *close = memchr(brace, '}', (size_t)(end - brace));
        if (!close) {
            rc = corral_error_set(err, CORRAL_EINVAL, "--workers", "missing '}'");
            break;
        }
        if (wv.n + count > SIM_WORKERS_MAX) {
            rc = corral_error_set(err, CORRAL_ETOOBIG, "--workers", "more than %u workers",
                                  SIM_WORKERS_MAX);
            break;
        }
        struct sim_worker proto = {0};
        struct worker_vec pv = {&proto, 0};
        worker_push(&pv, d);
        const char *f = brace + 1;
        while (rc == CORRAL_OK && f < close) {
            const char *comma = memchr(f, ',', (size_t)(close - f));
            const char *fend = comma ? comma : close;
            if (fend > f)
                rc = spec_field(&proto, f, (size_t)(fend - f), err);
            f = fend + 1;
        }
        for (uint64_t i = 0; rc == CORRAL_OK && i < count; i++) {
            struct sim_worker *w = worker_push(&wv, d);
            *w = proto;
            w->labels = NULL;
            w->n_labels = 0;
            for (size_t l = 0; l < proto.n_labels; l++)
                rc = add_label(w, proto.labels[l].key, strlen(proto.labels[l].key),
                               proto.labels[l].value, strlen(proto.labels[l].value), err);
        }
        worker_free(&proto);
        p = close + 1;
        if (p == end)
            break;
        if (*p != '+') {
            rc = corral_error_set(err, CORRAL_EINVAL, "--workers",
                                  "'%.40s': groups are joined by '+'", p);
            break;
        }
        p++;
    }
out:
    if (rc != CORRAL_OK) {
        struct sim_cluster c = {wv.v, wv.n};
        sim_cluster_cleanup(&c);
        return rc;
    }
    name_workers(&wv);
    out->workers = wv.v;
    out->n = wv.n;
    return CORRAL_OK;
}

struct file_ctx {
    struct worker_vec wv;
    const struct sim_worker_defaults *d;
};

static int worker_line(const char *line, size_t len, size_t lineno, void *ctx,
                       struct corral_error *err)
{
    struct file_ctx *fc = ctx;
    if (fc->wv.n >= SIM_WORKERS_MAX)
        return corral_error_set(err, CORRAL_ETOOBIG, NULL, "line %zu: more than %u workers", lineno,
                                SIM_WORKERS_MAX);
    json_t *o = parse_line(line, len, lineno, err);
    if (!o)
        return err->code;
    struct sim_worker *w = worker_push(&fc->wv, fc->d);
    snprintf(w->id, sizeof w->id, "w%02zu", fc->wv.n);
    int rc = CORRAL_OK;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int64_t x = 0;
        if (strcmp(key, "id") == 0) {
            const char *s = json_string_value(v);
            if (!s || !label_text_ok(s, strlen(s), sizeof w->id - 1))
                rc = corral_error_set(err, CORRAL_EINVAL, key,
                                      "line %zu: id: must be a string of 1..%zu characters", lineno,
                                      sizeof w->id - 1);
            else
                snprintf(w->id, sizeof w->id, "%s", s);
        } else if (strcmp(key, "slots") == 0) {
            rc = get_int(v, key, lineno, 1, 1024, &x, err);
            w->slots = (uint32_t)x;
        } else if (strcmp(key, "cpu") == 0) {
            rc = get_cpu(v, lineno, &w->cpu_milli, err);
        } else if (strcmp(key, "mem_mb") == 0) {
            rc = get_int(v, key, lineno, 0, (int64_t)CORRAL_MEM_MAX_MB, &x, err);
            w->mem_mb = (uint64_t)x;
        } else if (strcmp(key, "weight") == 0) {
            rc = get_int(v, key, lineno, 1, 1000000, &x, err);
            w->weight = (uint32_t)x;
        } else if (strcmp(key, "labels") == 0) {
            rc = get_labels(v, key, lineno, &w->labels, &w->n_labels, err);
        } else {
            rc = corral_error_set(err, CORRAL_EINVAL, key, "line %zu: %.60s: unknown field", lineno,
                                  key);
        }
        if (rc != CORRAL_OK)
            break;
    }
    json_decref(o);
    for (size_t i = 0; rc == CORRAL_OK && i + 1 < fc->wv.n; i++) {
        if (strcmp(fc->wv.v[i].id, w->id) == 0)
            rc = corral_error_set(err, CORRAL_EINVAL, "id", "line %zu: id: '%s' used twice", lineno,
                                  w->id);
    }
    return rc;
}

static int cmp_worker_id(const void *a, const void *b)
{
    const struct sim_worker *x = a, *y = b;
    return strcmp(x->id, y->id);
}

int sim_cluster_parse_lines(const char *buf, size_t len, const struct sim_worker_defaults *d,
                            struct sim_cluster *out, struct corral_error *err)
{
    struct file_ctx fc = {{corral_xcalloc(SIM_WORKERS_MAX, sizeof(struct sim_worker)), 0}, d};
    int rc = for_each_line(buf, len, worker_line, &fc, err);
    if (rc == CORRAL_OK && fc.wv.n == 0)
        rc = corral_error_set(err, CORRAL_EINVAL, NULL, "no workers in the file");
    if (rc != CORRAL_OK) {
        struct sim_cluster c = {fc.wv.v, fc.wv.n};
        sim_cluster_cleanup(&c);
        return rc;
    }
    /* The leader presents workers sorted by id; so does the simulator. */
    qsort(fc.wv.v, fc.wv.n, sizeof *fc.wv.v, cmp_worker_id);
    out->workers = fc.wv.v;
    out->n = fc.wv.n;
    return CORRAL_OK;
}
