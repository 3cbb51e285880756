/* SPDX-License-Identifier: MIT */
/*
 * Human output of the `corral` client (CONTRACT "corral (client)": "human output is a readable
 * table"). Pure: renders JSON the API returned; reads no clock (now comes in) and does no IO
 * besides writing to the FILE it is given. Fields a server leaves out print as "-", so an older
 * or newer server never makes the client fail.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "corral/text.h"
#include "corral/xalloc.h"
#include "cli/table.h"

#define NAME_COL_MAX 60 /* code points of the last column of `corral list` */

/* ---------------------------------------------------------------- generic table */

void table_init(struct cli_table *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols ? ncols : 1;
}

/* Copy s for a cell: NULL -> "-", control characters -> '?' (a task name cannot move the
 * terminal cursor or break the row). */
static char *cell_copy(const char *s)
{
    char *c = corral_xstrdup(s ? s : "-");
    for (unsigned char *p = (unsigned char *)c; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    return c;
}

void table_add_row(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap_rows) {
        t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 16;
        t->cells = corral_xrealloc(t->cells, t->cap_rows * t->ncols * sizeof(char *));
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = cell_copy(cells[c]);
    t->nrows++;
}

/* Display width approximated by UTF-8 code points (continuation bytes do not count). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) != 0x80)
            w++;
    }
    return w;
}

void table_print(const struct cli_table *t, FILE *out)
{
    if (t->nrows == 0)
        return;
    size_t *width = corral_xmalloc(t->ncols * sizeof(size_t));
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = text_width(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(cell, out);
            if (c + 1 < t->ncols) {
                for (size_t pad = text_width(cell); pad < width[c] + 2; pad++)
                    fputc(' ', out);
            }
        }
        fputc('\n', out);
    }
    free(width);
}

void table_cleanup(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
    t->cap_rows = 0;
}

/* ---------------------------------------------------------------- value formatting */

/* Any JSON value as text for humans (malloc'd): null/absent "-", strings as is, numbers plain,
 * objects and arrays compact. */
static char *value_text(json_t *v)
{
    char buf[64];
    switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_NULL:
            return corral_xstrdup("-");
        case JSON_STRING:
            return corral_xstrdup(json_string_value(v));
        case JSON_INTEGER:
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            return corral_xstrdup(buf);
        case JSON_REAL:
            snprintf(buf, sizeof(buf), "%g", json_real_value(v));
            return corral_xstrdup(buf);
        case JSON_TRUE:
            return corral_xstrdup("true");
        case JSON_FALSE:
            return corral_xstrdup("false");
        default: {
            char *dump = json_dumps(v, JSON_COMPACT);
            return dump ? dump : corral_xstrdup("?");
        }
    }
}

static char *field_text(json_t *obj, const char *key)
{
    return value_text(json_is_object(obj) ? json_object_get(obj, key) : NULL);
}

void table_format_age(int64_t ms, char *out, size_t n)
{
    int64_t s = ms > 0 ? ms / 1000 : 0;
    if (s < 120)
        snprintf(out, n, "%" PRId64 "s", s);
    else if (s < 120 * 60)
        snprintf(out, n, "%" PRId64 "m", s / 60);
    else if (s < 48 * 3600)
        snprintf(out, n, "%" PRId64 "h", s / 3600);
    else
        snprintf(out, n, "%" PRId64 "d", s / 86400);
}

/* Growable string for joining; aborts on OOM. */
struct sbuf {
    char *s;
    size_t len, cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = corral_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sbuf_puts(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

/* Append an argument, single-quoted when it is empty or holds shell-special characters, so the
 * shown command reads the way it would be typed. */
static void sbuf_arg(struct sbuf *b, const char *arg)
{
    bool plain = *arg != '\0';
    for (const char *p = arg; *p && plain; p++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    "-_./=:,+@%^",
                    *p))
            plain = false;
    }
    if ((unsigned char)*arg >= 0x80)
        plain = true; /* leave UTF-8 words alone */
    if (plain) {
        sbuf_puts(b, arg);
        return;
    }
    sbuf_puts(b, "'");
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            sbuf_puts(b, "'\\''");
        else
            sbuf_add(b, p, 1);
    }
    sbuf_puts(b, "'");
}

char *table_task_command(json_t *task)
{
    json_t *spec = json_object_get(task, "spec");
    json_t *cmd = json_object_get(spec, "command");
    json_t *http = json_object_get(spec, "http");
    struct sbuf b = {0};
    if (json_is_string(cmd)) {
        sbuf_puts(&b, json_string_value(cmd));
    } else if (json_is_array(cmd) && json_array_size(cmd) > 0) {
        size_t i;
        json_t *arg;
        json_array_foreach(cmd, i, arg)
        {
            if (i > 0)
                sbuf_puts(&b, " ");
            sbuf_arg(&b, json_is_string(arg) ? json_string_value(arg) : "?");
        }
    } else if (json_is_object(http)) {
        json_t *method = json_object_get(http, "method");
        json_t *url = json_object_get(http, "url");
        sbuf_puts(&b, "HTTP ");
        sbuf_puts(&b, json_is_string(method) ? json_string_value(method) : "GET");
        sbuf_puts(&b, " ");
        sbuf_puts(&b, json_is_string(url) ? json_string_value(url) : "?");
    } else {
        sbuf_puts(&b, "-");
    }
    return b.s;
}

/* Cut s (in place) to at most max code points, ending with "..." when cut. */
static void truncate_text(char *s, size_t max)
{
    if (text_width(s) <= max || max < 4)
        return;
    size_t cps = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80) {
            if (cps == max - 3) {
                strcpy(p, "...");
                return;
            }
            cps++;
        }
    }
}

/* ---------------------------------------------------------------- tasks */

void table_print_tasks(FILE *out, json_t *tasks, int64_t now_ms)
{
    struct cli_table t;
    table_init(&t, 7);
    const char *header[] = {"ID", "STATE", "PRIO", "ATTEMPT", "WORKER", "AGE", "NAME"};
    table_add_row(&t, header);
    size_t i;
    json_t *task;
    json_array_foreach(tasks, i, task)
    {
        json_t *spec = json_object_get(task, "spec");
        char *id = field_text(task, "id");
        char *state = field_text(task, "state");
        char *prio = field_text(spec, "priority");
        char *attempt = field_text(task, "attempt");
        char *worker = field_text(task, "worker");
        char age[24] = "-";
        json_t *sub = json_object_get(task, "submitted_at");
        int64_t sub_ms;
        if (json_is_string(sub) && corral_time_parse(json_string_value(sub), &sub_ms) == 0)
            table_format_age(now_ms - sub_ms, age, sizeof(age));
        json_t *jname = json_object_get(task, "name");
        if (!json_is_string(jname) || !*json_string_value(jname))
            jname = json_object_get(spec, "name");
        char *name = json_is_string(jname) && *json_string_value(jname)
                         ? corral_xstrdup(json_string_value(jname))
                         : table_task_command(task);
        truncate_text(name, NAME_COL_MAX);
        const char *row[] = {id, state, prio, attempt, worker, age, name};
        table_add_row(&t, row);
        free(id);
        free(state);
        free(prio);
        free(attempt);
        free(worker);
        free(name);
    }
    table_print(&t, out);
    table_cleanup(&t);
}

/* ---------------------------------------------------------------- workers */

static char *used_cap(json_t *w, const char *key)
{
    char *used = field_text(json_object_get(w, "used"), key);
    char *cap = field_text(json_object_get(w, "capacity"), key);
    struct sbuf b = {0};
    sbuf_puts(&b, used);
    sbuf_puts(&b, "/");
    sbuf_puts(&b, cap);
    free(used);
    free(cap);
    return b.s;
}

static char *labels_text(json_t *labels)
{
    if (!json_is_object(labels) || json_object_size(labels) == 0)
        return corral_xstrdup("-");
    struct sbuf b = {0};
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (b.len > 0)
            sbuf_puts(&b, ",");
        char *vt = value_text(v);
        sbuf_puts(&b, k);
        sbuf_puts(&b, "=");
        sbuf_puts(&b, vt);
        free(vt);
    }
    return b.s;
}

void table_print_workers(FILE *out, json_t *workers)
{
    struct cli_table t;
    table_init(&t, 8);
    const char *header[] = {"ID", "STATE", "SLOTS", "RUNNING", "CPU", "MEM_MB", "WEIGHT", "LABELS"};
    table_add_row(&t, header);
    size_t i;
    json_t *w;
    json_array_foreach(workers, i, w)
    {
        char *id = field_text(w, "id");
        char *state = field_text(w, "state");
        char *slots = field_text(w, "slots");
        char *running = field_text(w, "running");
        char *cpu = used_cap(w, "cpu");
        char *mem = used_cap(w, "mem_mb");
        char *weight = field_text(w, "weight");
        char *labels = labels_text(json_object_get(w, "labels"));
        const char *row[] = {id, state, slots, running, cpu, mem, weight, labels};
        table_add_row(&t, row);
        free(id);
        free(state);
        free(slots);
        free(running);
        free(cpu);
        free(mem);
        free(weight);
        free(labels);
    }
    table_print(&t, out);
    table_cleanup(&t);
}

/* ---------------------------------------------------------------- one task */

static void print_kv(FILE *out, const char *key, const char *value)
{
    fprintf(out, "%-11s %s\n", key, value);
}

static void print_field(FILE *out, const char *key, json_t *obj, const char *field)
{
    char *v = field_text(obj, field);
    print_kv(out, key, v);
    free(v);
}

void table_print_task(FILE *out, json_t *task)
{
    json_t *spec = json_object_get(task, "spec");
    print_field(out, "id:", task, "id");
    json_t *name = json_object_get(task, "name");
    print_field(out, "name:", json_is_null(name) || !name ? spec : task, "name");
    print_field(out, "state:", task, "state");
    char *attempt = field_text(task, "attempt");
    char *max = field_text(spec, "max_attempts");
    fprintf(out, "%-11s %s of %s\n", "attempt:", attempt, max);
    free(attempt);
    free(max);
    print_field(out, "worker:", task, "worker");
    print_field(out, "epoch:", task, "epoch");
    print_field(out, "priority:", spec, "priority");
    print_field(out, "submitted:", task, "submitted_at");
    print_field(out, "started:", task, "started_at");
    print_field(out, "finished:", task, "finished_at");
    print_field(out, "exit_code:", task, "exit_code");
    print_field(out, "error:", task, "error");
    char *cmd = table_task_command(task);
    print_kv(out, "command:", cmd);
    free(cmd);

    json_t *history = json_object_get(task, "history");
    if (!json_is_array(history) || json_array_size(history) == 0) {
        print_kv(out, "history:", "-");
    } else {
        fprintf(out, "history:\n");
        size_t i;
        json_t *h;
        json_array_foreach(history, i, h)
        {
            char *a = field_text(h, "attempt");
            char *w = field_text(h, "worker");
            char *e = field_text(h, "epoch");
            char *o = field_text(h, "outcome");
            char *x = field_text(h, "exit_code");
            char *s = field_text(h, "started_at");
            char *f = field_text(h, "finished_at");
            fprintf(out, "  attempt %s  worker %s  epoch %s  %s  exit_code %s  %s .. %s\n", a, w, e,
                    o, x, s, f);
            free(a);
            free(w);
            free(e);
            free(o);
            free(x);
            free(s);
            free(f);
        }
    }

    json_t *output = json_object_get(task, "output");
    const char *text = json_is_string(output) ? json_string_value(output) : "";
    size_t len = json_is_string(output) ? json_string_length(output) : 0;
    if (len == 0) {
        print_kv(out, "output:", "-");
        return;
    }
    fprintf(out, "output:\n");
    fwrite(text, 1, len, out);
    if (text[len - 1] != '\n')
        fputc('\n', out);
}

/* ---------------------------------------------------------------- schedules */

/* A schedule's "paused" for humans: yes, no, or "-" when absent. */
static const char *yes_no(json_t *v)
{
    return json_is_boolean(v) ? (json_is_true(v) ? "yes" : "no") : NULL;
}

void table_print_schedules(FILE *out, json_t *schedules)
{
    struct cli_table t;
    table_init(&t, 6);
    const char *header[] = {"NAME", "CRON", "TZ", "PAUSED", "LAST_FIRE", "NEXT_FIRE"};
    table_add_row(&t, header);
    size_t i;
    json_t *s;
    json_array_foreach(schedules, i, s)
    {
        char *name = field_text(s, "name");
        char *cron = field_text(s, "cron");
        char *tz = field_text(s, "timezone");
        char *last = field_text(s, "last_fire");
        char *next = field_text(s, "next_fire");
        const char *row[] = {name, cron, tz, yes_no(json_object_get(s, "paused")), last, next};
        table_add_row(&t, row);
        free(name);
        free(cron);
        free(tz);
        free(last);
        free(next);
    }
    table_print(&t, out);
    table_cleanup(&t);
}

void table_print_schedule(FILE *out, json_t *schedule)
{
    print_field(out, "name:", schedule, "name");
    print_field(out, "cron:", schedule, "cron");
    print_field(out, "timezone:", schedule, "timezone");
    const char *paused = yes_no(json_object_get(schedule, "paused"));
    print_kv(out, "paused:", paused ? paused : "-");
    print_field(out, "misfire:", schedule, "misfire");
    print_field(out, "overlap:", schedule, "overlap");
    print_field(out, "catchup:", schedule, "catchup_window_s");
    print_field(out, "last_fire:", schedule, "last_fire");
    print_field(out, "next_fire:", schedule, "next_fire");
    /* table_task_command reads "spec": the schedule's "task" is a spec, so wrap it. */
    json_t *task = json_object_get(schedule, "task");
    json_t *wrap = json_pack("{sO}", "spec", json_is_object(task) ? task : json_null());
    char *cmd = table_task_command(wrap);
    print_kv(out, "command:", cmd);
    free(cmd);
    json_decref(wrap);
}

void table_print_fires(FILE *out, json_t *fires)
{
    struct cli_table t;
    table_init(&t, 4);
    const char *header[] = {"SCHEDULED_AT", "FIRED_AT", "TASK", "STATE"};
    table_add_row(&t, header);
    size_t i;
    json_t *f;
    json_array_foreach(fires, i, f)
    {
        char *sched = field_text(f, "scheduled_at");
        char *fired = field_text(f, "fired_at");
        char *task = field_text(f, "task");
        char *state = field_text(f, "state");
        const char *row[] = {sched, fired, task, state};
        table_add_row(&t, row);
        free(sched);
        free(fired);
        free(task);
        free(state);
    }
    table_print(&t, out);
    table_cleanup(&t);
}
