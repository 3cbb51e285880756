/* SPDX-License-Identifier: MIT */
/*
 * The commands of the `corral` client (CONTRACT "corral (client)"): flag tables, requests and
 * exit statuses. Spec building and human output are pure and live in spec_build.c and
 * table.c; this file joins them to the HTTP layer. With --json every command prints the body
 * the API sent, unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "corral/limits.h"
#include "corral/opts.h"
#include "corral/paths.h"
#include "corral/strlist.h"
#include "corral/text.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/file.h"
#include "cli/commands.h"
#include "cli/schedule_build.h"
#include "cli/spec_build.h"
#include "cli/table.h"

/* Integer flags accept this range; the server checks the real one and names the field. */
#define FLAG_INT_MIN   (-1000000000000LL)
#define FLAG_INT_MAX   1000000000000LL
#define FLAG_CPU_MAX   1000000000LL    /* thousandths: 1000000 CPUs */
#define FLAG_DELAY_MAX 1000000000000LL /* thousandths; the server bounds delay_s */

#define REQUEST_TIMEOUT_S 30L /* a plain request; long polls get their wait on top */
#define POLL_RETRIES      5   /* consecutive "no replica answered" rounds run/wait sit out */

/* ================================================================ shared helpers */

static void usage_error(const struct corral_error *err)
{
    if (err->field[0])
        fprintf(stderr, "corral: %s: %s\n", err->field, err->msg);
    else
        fprintf(stderr, "corral: %s\n", err->msg);
}

static void print_help(const char *name, const char *args, const char *what,
                       const struct corral_opt *table, size_t n)
{
    printf("usage: corral [global flags] %s%s%s\n\n%s\n\nflags:\n", name, args[0] ? " " : "", args,
           what);
    char *help = corral_opts_help(table, n);
    if (help)
        fputs(help, stdout);
    free(help);
    printf("\nGlobal flags (--server, --token, --json) are described by 'corral --help'.\n");
}

/*
 * Parse the flags of a command. Flags may come before or after the positionals ("get ID" and
 * "wait ID --timeout 5"): argv is reordered so the flags come first, since the table parser
 * stops at the first positional. keep is how many positionals are taken (flags around them are
 * parsed) before the next positional and everything after it stay in place: 0 for submit/run
 * (the command), 1 for schedule add (NAME, then the command), -1 for all of them. "--" always
 * ends the flags. Returns 0 with *first set to the index of the first positional, -1 after
 * printing help (exit 0), or CLI_EXIT_USAGE after printing the error.
 */
static int parse_cmd_flags(const char *name, const char *args, const char *what,
                           const struct corral_opt *table, size_t n, int argc, char **argv,
                           void *out, int keep, int *first)
{
    char **order = calloc((size_t)argc + 1, sizeof(char *));
    if (!order) {
        fputs("corral: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    int nf = 0, np = 0;
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    if (!pos) {
        free(order);
        fputs("corral: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    order[nf++] = argv[0];
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "-h") == 0 || (strncmp(a, "--", 2) == 0)) {
            order[nf++] = argv[i];
            if (strchr(a, '=') || a[1] != '-')
                continue;
            for (size_t k = 0; k < n; k++) {
                if (strcmp(table[k].name, a + 2) == 0 && table[k].kind != CORRAL_OPT_BOOL &&
                    i + 1 < argc) {
                    order[nf++] = argv[++i];
                    break;
                }
            }
            continue;
        }
        if (keep >= 0 && np >= keep)
            break;
        pos[np++] = argv[i];
    }
    int flags_end = nf;
    for (int k = 0; k < np; k++)
        order[nf++] = pos[k];
    for (; i < argc; i++)
        order[nf++] = argv[i];
    free(pos);
    memcpy(argv, order, (size_t)argc * sizeof(char *));
    free(order);

    struct corral_error err = {0};
    struct corral_opts_result res = {0};
    if (corral_opts_parse(table, n, flags_end, argv, 1, NULL, out, &res, &err) != 0) {
        usage_error(&err);
        return CLI_EXIT_USAGE;
    }
    if (res.help) {
        print_help(name, args, what, table, n);
        return -1;
    }
    if (res.version) {
        printf("corral %s\n", CORRAL_VERSION);
        return -1;
    }
    *first = res.next;
    return 0;
}

/* Exactly `want` positionals from argv[first..argc-1]; else a usage error. */
static int want_positionals(const char *name, int argc, char **argv, int first, int want,
                            const char *what)
{
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    int have = argc - first;
    if (have < want) {
        fprintf(stderr, "corral: %s: missing %s\n", name, what);
        return CLI_EXIT_USAGE;
    }
    if (have > want) {
        fprintf(stderr, "corral: %s: unexpected argument '%s'\n", name, argv[first + want]);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int transport_error(const struct corral_error *err)
{
    fprintf(stderr, "corral: %s\n", err->msg);
    return CLI_EXIT_FAIL;
}

/* Every string of an answer made safe to print (core/text.c): a server, or a task's output,
 * cannot send escape sequences to the user's terminal. Newlines stay (output, messages). */
static void strip_controls(json_t *v)
{
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        char *copy = malloc(n + 1);
        if (!copy)
            return;
        memcpy(copy, json_string_value(v), n);
        copy[n] = '\0';
        size_t m = corral_text_strip_controls(copy, n, true);
        if (m != n || memcmp(copy, json_string_value(v), n) != 0)
            json_string_setn(v, copy, m);
        free(copy);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            (void)key;
            strip_controls(x);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) strip_controls(x);
    }
}

/* Print an error answer: {"error","message"} as "corral: <message> (<error>)". */
static int api_error(const struct cli_response *r)
{
    json_t *root = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    strip_controls(root);
    const char *msg = json_string_value(json_object_get(root, "message"));
    const char *code = json_string_value(json_object_get(root, "error"));
    if (msg && code)
        fprintf(stderr, "corral: %s (%s)\n", msg, code);
    else if (msg || code)
        fprintf(stderr, "corral: %s\n", msg ? msg : code);
    else
        fprintf(stderr, "corral: %s: HTTP %ld\n", r->url ? r->url : "server", r->status);
    json_decref(root);
    return CLI_EXIT_FAIL;
}

/* Parse a 2xx body; prints the error and returns NULL when it is not a JSON object. */
static json_t *body_json(const struct cli_response *r)
{
    json_error_t jerr;
    json_t *root = json_loadb(r->body, r->len, 0, &jerr);
    if (!json_is_object(root)) {
        fprintf(stderr, "corral: %s: answer is not a JSON object: %s\n", r->url ? r->url : "server",
                root ? "wrong type" : jerr.text);
        json_decref(root);
        return NULL;
    }
    strip_controls(root);
    return root;
}

/* --json: the body as received, with a final newline. */
static void print_raw(const struct cli_response *r)
{
    /* JSON escapes control characters; raw ones come only from a broken or hostile server. */
    char *text = malloc(r->len + 1);
    if (!text)
        return;
    memcpy(text, r->body, r->len);
    size_t n = corral_text_strip_controls(text, r->len, true);
    fwrite(text, 1, n, stdout);
    free(text);
    if (r->len == 0 || r->body[r->len - 1] != '\n')
        fputc('\n', stdout);
}

/* "/v1/tasks/<id><suffix>" with the id escaped; malloc'd. */
static char *task_path(const char *id, const char *suffix)
{
    char *esc = http_escape(id);
    size_t n = strlen("/v1/tasks/") + strlen(esc) + strlen(suffix) + 1;
    char *p = corral_xmalloc(n);
    snprintf(p, n, "/v1/tasks/%s%s", esc, suffix);
    free(esc);
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static bool is_final(const char *state)
{
    return state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
                     strcmp(state, "cancelled") == 0);
}

/* ================================================================ waiting */

enum poll_result { POLL_FINAL, POLL_TIMEOUT, POLL_ERROR };

/*
 * The events feed (GET /v1/events, docs/api.md "Events"): one long poll wakes the waiter at the
 * task's next change, whoever serves it. feed_head gets the cursor to start from; feed_next
 * long-polls after *cursor for up to wait_s and moves it on, setting *touched when an event of
 * task id came (or the cursor expired: the task must be read again). Both return FEED_OK,
 * FEED_NONE (the replica has no feed, or it failed: the caller polls the task instead) or
 * FEED_RETRY (no replica answered).
 */
enum feed_rc { FEED_OK, FEED_NONE, FEED_RETRY };
#define FEED_CURSOR_MAX 48

static enum feed_rc feed_call(struct cli_ctx *ctx, const char *path, long timeout_s, json_t **out,
                              long *status)
{
    struct cli_response r;
    struct corral_error err = {0};
    *out = NULL;
    int rc = http_request(ctx->http, "GET", path, NULL, true, timeout_s, &r, &err);
    *status = rc == 0 ? r.status : 0;
    enum feed_rc frc = FEED_NONE;
    if (rc == CORRAL_EUNAVAIL || (rc == 0 && r.status == 503))
        frc = FEED_RETRY;
    else if (rc == 0 && r.status == 200) {
        json_error_t jerr;
        json_t *root = json_loadb(r.body, r.len, 0, &jerr);
        if (json_is_object(root) && json_is_string(json_object_get(root, "next")) &&
            json_is_array(json_object_get(root, "events"))) {
            *out = root;
            frc = FEED_OK;
        } else {
            json_decref(root);
        }
    }
    http_response_cleanup(&r);
    return frc;
}

static enum feed_rc feed_head(struct cli_ctx *ctx, char cursor[FEED_CURSOR_MAX])
{
    json_t *root;
    long status;
    enum feed_rc frc = feed_call(ctx, "/v1/events", REQUEST_TIMEOUT_S, &root, &status);
    if (frc == FEED_OK) {
        const char *next = json_string_value(json_object_get(root, "next"));
        if (strlen(next) >= FEED_CURSOR_MAX)
            frc = FEED_NONE;
        else
            snprintf(cursor, FEED_CURSOR_MAX, "%s", next);
    }
    json_decref(root);
    return frc;
}

static enum feed_rc feed_next(struct cli_ctx *ctx, const char *id, int64_t wait_s,
                              char cursor[FEED_CURSOR_MAX], bool *touched)
{
    char *esc = http_escape(cursor);
    char path[160];
    snprintf(path, sizeof path, "/v1/events?after=%s&wait=%lld&limit=1000", esc, (long long)wait_s);
    free(esc);
    json_t *root;
    long status;
    enum feed_rc frc = feed_call(ctx, path, (long)wait_s + REQUEST_TIMEOUT_S, &root, &status);
    *touched = false;
    if (frc == FEED_NONE && status == 410) { /* expired: read the task, start from a new head */
        *touched = true;
        return feed_head(ctx, cursor);
    }
    if (frc != FEED_OK)
        return frc;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(root, "events"), i, ev)
    {
        const char *eid = json_string_value(json_object_get(ev, "id"));
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (eid && kind && strcmp(kind, "task") == 0 && strcmp(eid, id) == 0)
            *touched = true;
    }
    const char *next = json_string_value(json_object_get(root, "next"));
    if (strlen(next) < FEED_CURSOR_MAX)
        snprintf(cursor, FEED_CURSOR_MAX, "%s", next);
    else
        frc = FEED_NONE;
    json_decref(root);
    return frc;
}

/* The wait of one long poll: the limit's remainder, capped at the server's maximum. */
static int64_t poll_wait_s(int64_t start, int64_t timeout_ms)
{
    int64_t wait_s = CORRAL_WAIT_MAX_S;
    if (timeout_ms >= 0) {
        int64_t left = timeout_ms - (clock_mono_ms() - start);
        wait_s = left <= 0 ? 0 : (left + 999) / 1000;
        if (wait_s > CORRAL_WAIT_MAX_S)
            wait_s = CORRAL_WAIT_MAX_S;
    }
    return wait_s;
}

/*
 * Wait until task id is final or timeout_ms passes (negative: no limit). The task is read, then
 * the events feed is followed (one long poll at a time, any replica) and the task read again
 * only when the feed shows a change of it. A replica without the feed (an older version during
 * a rolling upgrade) is long-polled on the task itself (GET /v1/tasks/{id}?wait=). On
 * POLL_FINAL and POLL_TIMEOUT, *task is the last task seen (owned) and *last its response
 * (clean it). On POLL_ERROR the error has been printed. A leader change or restart makes every
 * replica briefly unreachable or 503: up to POLL_RETRIES such rounds are sat out.
 */
static enum poll_result poll_task(struct cli_ctx *ctx, const char *id, int64_t timeout_ms,
                                  json_t **task, struct cli_response *last)
{
    *task = NULL;
    memset(last, 0, sizeof(*last));
    int64_t start = clock_mono_ms();
    int failures = 0;
    char cursor[FEED_CURSOR_MAX] = "";
    bool feed = feed_head(ctx, cursor) == FEED_OK; /* before the read: no change slips by */
    bool read_task = true;
    for (;;) {
        if (!read_task) {
            bool touched = false;
            int64_t sent = clock_mono_ms();
            enum feed_rc frc = feed_next(ctx, id, poll_wait_s(start, timeout_ms), cursor, &touched);
            if (frc == FEED_RETRY && ++failures <= POLL_RETRIES) {
                sleep_ms(1000);
                continue;
            }
            if (frc == FEED_OK)
                failures = 0;
            else
                feed = false; /* no feed (or it keeps failing): poll the task itself */
            read_task = touched || !feed;
            if (!read_task && timeout_ms >= 0 && clock_mono_ms() - start >= timeout_ms)
                return *task ? POLL_TIMEOUT : POLL_ERROR;
            if (!read_task && clock_mono_ms() - sent < 200)
                sleep_ms(250); /* a server answering at once must not make us spin */
            if (!read_task)
                continue;
        }
        int64_t wait_s = feed ? 0 : poll_wait_s(start, timeout_ms);
        char suffix[32];
        snprintf(suffix, sizeof(suffix), "?wait=%lld", (long long)wait_s);
        char *path = task_path(id, wait_s > 0 ? suffix : "");
        struct cli_response r;
        struct corral_error err = {0};
        int64_t sent = clock_mono_ms();
        int rc = http_request(ctx->http, "GET", path, NULL, true, (long)wait_s + REQUEST_TIMEOUT_S,
                              &r, &err);
        free(path);
        bool unavailable = rc == CORRAL_EUNAVAIL || (rc == 0 && r.status == 503);
        if (unavailable && ++failures <= POLL_RETRIES &&
            (timeout_ms < 0 || clock_mono_ms() - start < timeout_ms)) {
            http_response_cleanup(&r);
            sleep_ms(1000);
            continue;
        }
        if (rc != 0) {
            http_response_cleanup(&r);
            transport_error(&err);
            goto fail;
        }
        if (r.status != 200) {
            api_error(&r);
            http_response_cleanup(&r);
            goto fail;
        }
        failures = 0;
        json_t *t = body_json(&r);
        if (!t) {
            http_response_cleanup(&r);
            goto fail;
        }
        json_decref(*task);
        http_response_cleanup(last);
        *task = t;
        *last = r;
        if (is_final(json_string_value(json_object_get(t, "state"))))
            return POLL_FINAL;
        if (timeout_ms >= 0 && clock_mono_ms() - start >= timeout_ms)
            return POLL_TIMEOUT;
        read_task = false;
        if (!feed && clock_mono_ms() - sent < 200)
            sleep_ms(250); /* a server answering at once must not make us spin */
        if (!feed)
            read_task = true;
    }
fail:
    json_decref(*task);
    *task = NULL;
    http_response_cleanup(last);
    return POLL_ERROR;
}

/* ================================================================ output */

struct logs_flags {
    bool follow;
};

/*
 * Print task id's output (GET /v1/tasks/{id}/output, docs/api.md "Live output") to stdout as it
 * is written: with follow, until the task ended and its last byte was printed; without, what
 * there is now (waiting up to 2 s for a running task's worker to publish it). A new attempt's
 * output starts on a line "corral: attempt N" on stderr; bytes a slow reader missed are
 * reported there too. Returns 0, 1 on an error (printed), and the last answer's state in
 * state_out (may be NULL; malloc'd).
 */
static int print_output(struct cli_ctx *ctx, const char *id, bool follow, char **state_out)
{
    uint32_t attempt = 0;
    uint64_t offset = 0;
    int failures = 0, rc = CLI_EXIT_OK;
    bool first = true;
    if (state_out)
        *state_out = NULL;
    for (int rounds = 0; rounds < 1000000; rounds++) {
        int64_t wait_s = follow ? 25 : first ? 2 : 0;
        char suffix[96];
        snprintf(suffix, sizeof suffix, "/output?attempt=%u&offset=%llu&wait=%lld", attempt,
                 (unsigned long long)offset, (long long)wait_s);
        char *path = task_path(id, suffix);
        struct cli_response r;
        struct corral_error err = {0};
        int hrc = http_request(ctx->http, "GET", path, NULL, true, (long)wait_s + REQUEST_TIMEOUT_S,
                               &r, &err);
        free(path);
        if ((hrc == CORRAL_EUNAVAIL || (hrc == 0 && r.status == 503)) &&
            ++failures <= POLL_RETRIES) {
            http_response_cleanup(&r);
            sleep_ms(1000);
            continue;
        }
        if (hrc != 0) {
            http_response_cleanup(&r);
            return transport_error(&err);
        }
        if (r.status != 200) {
            rc = api_error(&r);
            http_response_cleanup(&r);
            return rc;
        }
        failures = 0;
        json_t *o = body_json(&r);
        http_response_cleanup(&r);
        if (!o)
            return CLI_EXIT_FAIL;
        uint32_t a = (uint32_t)json_integer_value(json_object_get(o, "attempt"));
        json_t *data = json_object_get(o, "data");
        json_int_t skipped = json_integer_value(json_object_get(o, "skipped"));
        bool done = json_is_true(json_object_get(o, "done"));
        if (a != attempt && attempt != 0 && follow)
            fprintf(stderr, "corral: attempt %u\n", a);
        if (skipped > 0)
            fprintf(stderr, "corral: %" JSON_INTEGER_FORMAT " bytes of output were not kept\n",
                    skipped);
        size_t len = json_string_length(data);
        if (len > 0) {
            fwrite(json_string_value(data), 1, len, stdout);
            fflush(stdout);
        }
        attempt = a;
        offset = (uint64_t)json_integer_value(json_object_get(o, "next"));
        if (state_out) {
            free(*state_out);
            const char *st = json_string_value(json_object_get(o, "state"));
            *state_out = st ? strdup(st) : NULL;
        }
        json_decref(o);
        first = false;
        if (done || (!follow && len == 0))
            break;
    }
    return rc;
}

static const struct corral_opt logs_opts[] = {
    {"follow", NULL, CORRAL_OPT_BOOL, NULL, NULL, "follow the output until the task ends (also -f)",
     offsetof(struct logs_flags, follow), 0, 0, NULL},
};

static int cmd_logs(struct cli_ctx *ctx, int argc, char **argv)
{
    struct logs_flags f = {0};
    static char follow_flag[] = "--follow";
    for (int i = 1; i < argc; i++) /* -f, as in tail -f */
        if (strcmp(argv[i], "-f") == 0)
            argv[i] = follow_flag;
    int first = 0;
    int rc = parse_cmd_flags(
        "logs", "[-f] ID", "Print a task's output; with -f, follow it until the task ends.",
        logs_opts, sizeof(logs_opts) / sizeof(logs_opts[0]), argc, argv, &f, -1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    rc = want_positionals("logs", argc, argv, first, 1, "task ID");
    if (rc != 0)
        return rc;
    const char *id = argv[argc - 1];
    if (!*id) {
        fprintf(stderr, "corral: logs: empty task ID\n");
        return CLI_EXIT_USAGE;
    }
    return print_output(ctx, id, f.follow, NULL);
}

/* ================================================================ submit / run */

/*
 * The task flags of submit, run and schedule add, in their help order. OFF(field) is the offset
 * of a struct cli_task_flags field in the flag struct of the command.
 */
/* clang-format off */
#define TASK_FLAGS(OFF)                                                                            \
    {"priority", NULL, CORRAL_OPT_INT, "N", NULL,                                                  \
     "priority, higher runs first (-1000..1000)",                                                  \
     OFF(priority), FLAG_INT_MIN, FLAG_INT_MAX, NULL},                                             \
    {"timeout", NULL, CORRAL_OPT_INT, "S", NULL,                                                   \
     "seconds one attempt may run",                                                                \
     OFF(timeout_s), FLAG_INT_MIN, FLAG_INT_MAX, NULL},                                            \
    {"max-attempts", NULL, CORRAL_OPT_INT, "N", NULL,                                              \
     "attempts before the task fails",                                                             \
     OFF(max_attempts), FLAG_INT_MIN, FLAG_INT_MAX, NULL},                                         \
    {"cpu", NULL, CORRAL_OPT_MILLI, "N", NULL,                                                     \
     "CPUs the task needs (fractions allowed)",                                                    \
     OFF(cpu_milli), 0, FLAG_CPU_MAX, NULL},                                                       \
    {"mem-mb", NULL, CORRAL_OPT_INT, "N", NULL,                                                    \
     "memory the task needs, MiB",                                                                 \
     OFF(mem_mb), FLAG_INT_MIN, FLAG_INT_MAX, NULL},                                               \
    {"label", NULL, CORRAL_OPT_LIST, "K=V", NULL,                                                  \
     "worker label the task requires",                                                             \
     OFF(labels), 0, 0, NULL},                                                                     \
    {"estimated-ms", NULL, CORRAL_OPT_INT, "N", NULL,                                              \
     "expected run time (for --order sjf)",                                                        \
     OFF(estimated_ms), FLAG_INT_MIN, FLAG_INT_MAX, NULL},                                         \
    {"run-at", NULL, CORRAL_OPT_STRING, "TIME", NULL,                                              \
     "start at this RFC 3339 time (2026-12-24T18:00:00+01:00)",                                    \
     OFF(run_at), 0, 0, NULL},                                                                     \
    {"delay", NULL, CORRAL_OPT_MILLI, "S", NULL,                                                   \
     "start this many seconds from now (fractions allowed)",                                       \
     OFF(delay_milli), 0, FLAG_DELAY_MAX, NULL},                                                   \
    {"depends-on", NULL, CORRAL_OPT_LIST, "ID", NULL,                                              \
     "run only after this task succeeded",                                                         \
     OFF(depends_on), 0, 0, NULL},                                                                 \
    {"on-dependency-failure", NULL, CORRAL_OPT_STRING, "P", NULL,                                  \
     "cancel (default) or run when a dependency fails",                                            \
     OFF(on_dependency_failure), 0, 0, NULL},                                                      \
    {"idempotency-key", NULL, CORRAL_OPT_STRING, "K", NULL,                                        \
     "submitting again with this key returns the same task",                                       \
     OFF(idempotency_key), 0, 0, NULL},                                                            \
    {"shell", NULL, CORRAL_OPT_BOOL, NULL, NULL,                                                   \
     "run the command as one line with /bin/sh -c",                                                \
     OFF(shell), 0, 0, NULL},                                                                      \
    {"env", NULL, CORRAL_OPT_LIST, "K=V", NULL,                                                    \
     "environment variable for the task",                                                          \
     OFF(env), 0, 0, NULL},                                                                        \
    {"secret-env-file", NULL, CORRAL_OPT_STRING, "FILE", NULL,                                     \
     "secret_env from K=V lines of a private file (mode 0600)",                                    \
     OFF(secret_env_file), 0, 0, NULL},                                                            \
    {"name", NULL, CORRAL_OPT_STRING, "NAME", NULL,                                                \
     "label for humans",                                                                           \
     OFF(name), 0, 0, NULL},                                                                       \
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL,                                                    \
     "print the API's JSON",                                                                       \
     OFF(json), 0, 0, NULL}
/* clang-format on */

#define TASK_OFF(f) offsetof(struct cli_task_flags, f)
static const struct corral_opt task_opts[] = {TASK_FLAGS(TASK_OFF)};
#define N_TASK_OPTS (sizeof(task_opts) / sizeof(task_opts[0]))

/* --secret-env-file: read the file into f->secret_env. Returns 0 or an exit status (printed). */
static int load_secret_env(struct cli_task_flags *f)
{
    if (!f->secret_env_file)
        return 0;
    /* A secret on the command line would be visible in ps: only from a private file. */
    struct corral_error err = {0};
    char *text = NULL;
    size_t len = 0;
    int rc =
        corral_config_file_read(f->secret_env_file, "--secret-env-file", true, &text, &len, &err);
    if (rc == CORRAL_OK)
        rc = cli_env_lines(text, "--secret-env-file", &f->secret_env, &err);
    corral_config_file_free(text, len);
    if (rc != CORRAL_OK) {
        usage_error(&err);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* A failed cli_spec_build / cli_schedule_body: print it, return the exit status. */
static int build_error(const char *name, const struct corral_error *err)
{
    if (err->field[0])
        usage_error(err);
    else
        fprintf(stderr, "corral: %s: %s\n", name, err->msg);
    return err->code == CORRAL_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

/*
 * Parse task flags and the command, then POST the spec. Returns 0 with *resp holding the 200/201
 * answer, -1 after --help, or an exit status after printing the error.
 */
static int submit_task(struct cli_ctx *ctx, const char *name, const char *what, int argc,
                       char **argv, struct cli_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    int first = 0;
    int rc = parse_cmd_flags(name, "[task flags] -- CMD [ARG...]", what, task_opts, N_TASK_OPTS,
                             argc, argv, &f, 0, &first);
    if (rc != 0)
        return rc;
    if (f.json)
        ctx->json = true;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;

    struct corral_error err = {0};
    char *body = NULL;
    json_t *spec = NULL;
    rc = load_secret_env(&f);
    if (rc != 0)
        goto out;
    spec = cli_spec_build(&f, argc - first, argv + first, &err);
    if (!spec) {
        rc = build_error(name, &err);
        goto out;
    }
    body = json_dumps(spec, JSON_COMPACT);
    if (!body) {
        fputs("corral: out of memory\n", stderr);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    /* Without an idempotency key a second replica could store the task a second time. */
    if (http_request(ctx->http, "POST", "/v1/tasks", body, f.idempotency_key != NULL,
                     REQUEST_TIMEOUT_S, resp, &err) != 0) {
        rc = transport_error(&err);
        goto out;
    }
    if (resp->status != 200 && resp->status != 201) {
        rc = api_error(resp);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        http_response_cleanup(resp);
    free(body);
    json_decref(spec);
    corral_strlist_cleanup(&f.secret_env);
    corral_opts_cleanup(task_opts, N_TASK_OPTS, &f);
    return rc;
}

/* A task answer (submit, schedule trigger): its id, or with --json the body. Exit status. */
static int print_task_id(struct cli_ctx *ctx, const struct cli_response *r)
{
    if (ctx->json) {
        print_raw(r);
        return CLI_EXIT_OK;
    }
    json_t *task = body_json(r);
    const char *id = json_string_value(json_object_get(task, "id"));
    int rc = CLI_EXIT_OK;
    if (id)
        printf("%s\n", id);
    else
        rc = CLI_EXIT_FAIL;
    if (task && !id)
        fprintf(stderr, "corral: %s: answer has no task id\n", r->url);
    json_decref(task);
    return rc;
}

static int cmd_submit(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_response r;
    int rc = submit_task(ctx, "submit", "Submit a task and print its id.", argc, argv, &r);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    rc = print_task_id(ctx, &r);
    http_response_cleanup(&r);
    return rc;
}

/* Exit status of `corral run` for a final task: its exit code when it fits 0..255. */
static int task_exit_status(json_t *task)
{
    const char *state = json_string_value(json_object_get(task, "state"));
    json_t *code = json_object_get(task, "exit_code");
    bool has_code = json_is_integer(code);
    json_int_t c = has_code ? json_integer_value(code) : 1;
    if (state && strcmp(state, "succeeded") == 0)
        return has_code && c >= 0 && c <= 255 ? (int)c : CLI_EXIT_OK;
    if (state && strcmp(state, "failed") == 0 && has_code && c > 0 && c <= 255)
        return (int)c;
    return CLI_EXIT_FAIL;
}

static int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_response r;
    int rc = submit_task(ctx, "run",
                         "Submit a task, print its output as it is written and exit with its "
                         "exit code.",
                         argc, argv, &r);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    json_t *sub = body_json(&r);
    char *id = NULL;
    const char *sid = json_string_value(json_object_get(sub, "id"));
    if (sid)
        id = strdup(sid);
    else if (sub)
        fprintf(stderr, "corral: %s: answer has no task id\n", r.url);
    json_decref(sub);
    http_response_cleanup(&r);
    if (!id)
        return CLI_EXIT_FAIL;

    /* The output as it is written (--json: the final task only); then the final task. */
    if (!ctx->json && print_output(ctx, id, true, NULL) != CLI_EXIT_OK) {
        free(id);
        return CLI_EXIT_FAIL;
    }
    json_t *task;
    struct cli_response last;
    enum poll_result pr = poll_task(ctx, id, -1, &task, &last);
    if (pr != POLL_FINAL) {
        free(id);
        json_decref(task);
        http_response_cleanup(&last);
        return CLI_EXIT_FAIL;
    }
    if (ctx->json)
        print_raw(&last);
    fflush(stdout);
    const char *state = json_string_value(json_object_get(task, "state"));
    const char *error = json_string_value(json_object_get(task, "error"));
    if (state && strcmp(state, "succeeded") != 0 && (error || strcmp(state, "cancelled") == 0))
        fprintf(stderr, "corral: task %s %s%s%s\n", id, state, error ? ": " : "",
                error ? error : "");
    rc = task_exit_status(task);
    free(id);
    json_decref(task);
    http_response_cleanup(&last);
    return rc;
}

/* ================================================================ get / wait / cancel */

struct id_flags {
    int64_t timeout_s;
    bool json;
};

static const struct corral_opt get_opts[] = {
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON",
     offsetof(struct id_flags, json), 0, 0, NULL},
};

static const struct corral_opt wait_opts[] = {
    {"timeout", NULL, CORRAL_OPT_INT, "S", NULL, "give up after S seconds (default: never)",
     offsetof(struct id_flags, timeout_s), 0, FLAG_INT_MAX, NULL},
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON",
     offsetof(struct id_flags, json), 0, 0, NULL},
};

/* Parse "<name> [flags] ID"; returns 0, -1 after help, or an exit status. */
static int parse_id_cmd(struct cli_ctx *ctx, const char *name, const char *what,
                        const struct corral_opt *table, size_t n, int argc, char **argv,
                        struct id_flags *f, const char **id)
{
    int first = 0;
    int rc = parse_cmd_flags(name, n > 1 ? "ID [--timeout S]" : "ID", what, table, n, argc, argv, f,
                             -1, &first);
    if (rc != 0)
        return rc;
    if (f->json)
        ctx->json = true;
    rc = want_positionals(name, argc, argv, first, 1, "task ID");
    if (rc != 0)
        return rc;
    *id = argv[argc - 1];
    if (!**id) {
        fprintf(stderr, "corral: %s: empty task ID\n", name);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int cmd_get(struct cli_ctx *ctx, int argc, char **argv)
{
    struct id_flags f = {.timeout_s = -1};
    const char *id;
    int rc = parse_id_cmd(ctx, "get", "Print a task.", get_opts,
                          sizeof(get_opts) / sizeof(get_opts[0]), argc, argv, &f, &id);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    char *path = task_path(id, "");
    struct cli_response r;
    struct corral_error err = {0};
    if (http_request(ctx->http, "GET", path, NULL, true, REQUEST_TIMEOUT_S, &r, &err) != 0) {
        rc = transport_error(&err);
    } else if (r.status != 200) {
        rc = api_error(&r);
    } else if (ctx->json) {
        print_raw(&r);
    } else {
        json_t *task = body_json(&r);
        if (task)
            table_print_task(stdout, task);
        else
            rc = CLI_EXIT_FAIL;
        json_decref(task);
    }
    http_response_cleanup(&r);
    free(path);
    return rc;
}

static int cmd_wait(struct cli_ctx *ctx, int argc, char **argv)
{
    struct id_flags f = {.timeout_s = -1};
    const char *id;
    int rc = parse_id_cmd(ctx, "wait",
                          "Wait until a task is finished; exit 0 if it succeeded, 1 otherwise.",
                          wait_opts, sizeof(wait_opts) / sizeof(wait_opts[0]), argc, argv, &f, &id);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    json_t *task;
    struct cli_response last;
    int64_t timeout_ms = f.timeout_s < 0 ? -1 : f.timeout_s * 1000;
    enum poll_result pr = poll_task(ctx, id, timeout_ms, &task, &last);
    if (pr == POLL_ERROR)
        return CLI_EXIT_FAIL;
    const char *state = json_string_value(json_object_get(task, "state"));
    if (ctx->json) {
        print_raw(&last);
    } else if (pr == POLL_FINAL) {
        json_t *code = json_object_get(task, "exit_code");
        if (json_is_integer(code))
            printf("%s %s exit_code %" JSON_INTEGER_FORMAT "\n", id, state,
                   json_integer_value(code));
        else
            printf("%s %s\n", id, state);
    }
    if (pr == POLL_TIMEOUT)
        fprintf(stderr, "corral: timed out waiting for task %s (still %s)\n", id,
                state ? state : "unfinished");
    rc = pr == POLL_FINAL && strcmp(state, "succeeded") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    json_decref(task);
    http_response_cleanup(&last);
    return rc;
}

/* POST path (body may be NULL) and print "ID STATE" from the answer (fallback when it has no
 * state), or the raw JSON with --json; the exit status of the request. */
static int post_and_print_state(struct cli_ctx *ctx, const char *path, const char *body,
                                bool idempotent, const char *id, const char *fallback)
{
    struct cli_response r;
    struct corral_error err = {0};
    int rc = CLI_EXIT_OK;
    if (http_request(ctx->http, "POST", path, body, idempotent, REQUEST_TIMEOUT_S, &r, &err) != 0) {
        rc = transport_error(&err);
    } else if (r.status != 200) {
        rc = api_error(&r);
    } else if (ctx->json) {
        print_raw(&r);
    } else {
        json_t *obj = body_json(&r);
        const char *state = json_string_value(json_object_get(obj, "state"));
        if (obj)
            printf("%s %s\n", id, state ? state : fallback);
        else
            rc = CLI_EXIT_FAIL;
        json_decref(obj);
    }
    http_response_cleanup(&r);
    return rc;
}

static int cmd_cancel(struct cli_ctx *ctx, int argc, char **argv)
{
    struct id_flags f = {.timeout_s = -1};
    const char *id;
    int rc =
        parse_id_cmd(ctx, "cancel", "Cancel a task; exit 1 if it is unknown or already finished.",
                     get_opts, sizeof(get_opts) / sizeof(get_opts[0]), argc, argv, &f, &id);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    char *path = task_path(id, "/cancel");
    /* Not idempotent for our exit status: a retried cancel that had worked would say 409. */
    rc = post_and_print_state(ctx, path, NULL, false, id, "cancelled");
    free(path);
    return rc;
}

/* ================================================================ list / workers / leader */

struct list_flags {
    const char *state;
    int64_t limit;
    const char *after;
    bool json;
};

static const struct corral_opt list_opts[] = {
    {"state", NULL, CORRAL_OPT_STRING, "S", NULL,
     "only tasks in this state (scheduled, waiting, queued, assigned, running, succeeded, "
     "failed, cancelled)",
     offsetof(struct list_flags, state), 0, 0, NULL},
    {"limit", NULL, CORRAL_OPT_INT, "N", NULL, "at most N tasks (server default 100, max 1000)",
     offsetof(struct list_flags, limit), FLAG_INT_MIN, FLAG_INT_MAX, NULL},
    {"after", NULL, CORRAL_OPT_STRING, "ID", NULL, "start after this task id (the page's next)",
     offsetof(struct list_flags, after), 0, 0, NULL},
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON",
     offsetof(struct list_flags, json), 0, 0, NULL},
};

static const struct corral_opt json_only_opts[] = {
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON", 0, 0, 0, NULL},
};

/* Append "&key=escaped(value)" (or "?..." first) to a path buffer of capacity n. */
static void add_query(char *path, size_t n, const char *key, const char *value)
{
    char *esc = http_escape(value);
    size_t len = strlen(path);
    snprintf(path + len, n - len, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc);
    free(esc);
}

/* GET path; on 200 returns the parsed object (owned) and fills *r, else prints and NULL. */
static json_t *get_json(struct cli_ctx *ctx, const char *path, struct cli_response *r)
{
    struct corral_error err = {0};
    if (http_request(ctx->http, "GET", path, NULL, true, REQUEST_TIMEOUT_S, r, &err) != 0) {
        transport_error(&err);
        return NULL;
    }
    if (r->status != 200) {
        api_error(r);
        return NULL;
    }
    return body_json(r);
}

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct list_flags f = {.limit = CLI_UNSET_INT};
    int first = 0;
    int rc = parse_cmd_flags("list", "[--state S] [--limit N]", "List tasks.", list_opts,
                             sizeof(list_opts) / sizeof(list_opts[0]), argc, argv, &f, -1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (f.json)
        ctx->json = true;
    rc = want_positionals("list", argc, argv, first, 0, "");
    if (rc != 0)
        return rc;
    size_t cap = 64 + 3 * (f.state ? strlen(f.state) : 0) + 3 * (f.after ? strlen(f.after) : 0);
    char *path = malloc(cap);
    if (!path) {
        fputs("corral: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    snprintf(path, cap, "/v1/tasks");
    if (f.state)
        add_query(path, cap, "state", f.state);
    if (f.limit != CLI_UNSET_INT) {
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)f.limit);
        add_query(path, cap, "limit", num);
    }
    if (f.after)
        add_query(path, cap, "after", f.after);
    struct cli_response r;
    json_t *root = get_json(ctx, path, &r);
    if (!root) {
        rc = CLI_EXIT_FAIL;
    } else if (ctx->json) {
        print_raw(&r);
    } else {
        table_print_tasks(stdout, json_object_get(root, "tasks"), clock_wall_ms());
        const char *next = json_string_value(json_object_get(root, "next"));
        if (next)
            fprintf(stderr, "corral: more tasks: corral list --after %s\n", next);
    }
    json_decref(root);
    http_response_cleanup(&r);
    free(path);
    return rc;
}

static int cmd_workers(struct cli_ctx *ctx, int argc, char **argv)
{
    bool json = false;
    int first = 0;
    int rc = parse_cmd_flags("workers", "",
                             "List the registered workers (CPU and MEM_MB are used/capacity).",
                             json_only_opts, 1, argc, argv, &json, -1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    ctx->json = ctx->json || json;
    rc = want_positionals("workers", argc, argv, first, 0, "");
    if (rc != 0)
        return rc;
    struct cli_response r;
    json_t *root = get_json(ctx, "/v1/workers", &r);
    if (!root)
        rc = CLI_EXIT_FAIL;
    else if (ctx->json)
        print_raw(&r);
    else
        table_print_workers(stdout, json_object_get(root, "workers"));
    json_decref(root);
    http_response_cleanup(&r);
    return rc;
}

/* ================================================================ fleet control */

struct fleet_flags {
    const char *reason;
    int64_t timeout_s;
    bool json;
};

static const struct corral_opt fleet_opts[] = {
    {"reason", NULL, CORRAL_OPT_STRING, "TEXT", NULL, "why (shown in corral workers --json)",
     offsetof(struct fleet_flags, reason), 0, 0, NULL},
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON",
     offsetof(struct fleet_flags, json), 0, 0, NULL},
    {"timeout", NULL, CORRAL_OPT_INT, "S", NULL,
     "return running tasks after S seconds (default: the worker's --drain-timeout)",
     offsetof(struct fleet_flags, timeout_s), 0, 86400, NULL},
};

/* corral cordon|uncordon|drain ID: POST /v1/workers/ID/<action>. */
static int fleet_cmd(struct cli_ctx *ctx, const char *action, const char *what, int argc,
                     char **argv)
{
    struct fleet_flags f = {.timeout_s = -1};
    size_t n_opts = strcmp(action, "drain") == 0 ? 3 : strcmp(action, "cordon") == 0 ? 2 : 0;
    const struct corral_opt *opts = n_opts ? fleet_opts : fleet_opts + 1;
    int first = 0;
    int rc =
        parse_cmd_flags(action, "ID", what, opts, n_opts ? n_opts : 1, argc, argv, &f, -1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    ctx->json = ctx->json || f.json;
    rc = want_positionals(action, argc, argv, first, 1, "worker ID");
    if (rc != 0)
        return rc;
    const char *id = argv[argc - 1];
    if (!corral_path_valid_name(id)) {
        fprintf(stderr, "corral: %s: '%.64s' is not a worker id (1..%u of A-Z a-z 0-9 . _ -)\n",
                action, id, CORRAL_WORKER_ID_MAX);
        return CLI_EXIT_USAGE;
    }
    json_t *body = json_object();
    if (f.reason)
        json_object_set_new(body, "reason", json_string(f.reason));
    if (f.timeout_s >= 0)
        json_object_set_new(body, "drain_timeout_s", json_integer(f.timeout_s));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        fprintf(stderr, "corral: %s: the reason is not valid UTF-8\n", action);
        return CLI_EXIT_USAGE;
    }
    size_t n = strlen("/v1/workers/") + strlen(id) + strlen(action) + 2;
    char *path = corral_xmalloc(n);
    snprintf(path, n, "/v1/workers/%s/%s", id, action);
    /* Idempotent: the same request twice leaves the same record. */
    rc = post_and_print_state(ctx, path, text, true, id, "?");
    free(path);
    free(text);
    return rc;
}

static int cmd_cordon(struct cli_ctx *ctx, int argc, char **argv)
{
    return fleet_cmd(ctx, "cordon",
                     "Give a worker no new work (its running tasks go on); exit 1 if it is not "
                     "live.",
                     argc, argv);
}

static int cmd_uncordon(struct cli_ctx *ctx, int argc, char **argv)
{
    return fleet_cmd(ctx, "uncordon", "Put a cordoned or drained worker back in service.", argc,
                     argv);
}

static int cmd_drain(struct cli_ctx *ctx, int argc, char **argv)
{
    return fleet_cmd(ctx, "drain",
                     "Cordon a worker and return its running tasks to the queue after the drain "
                     "timeout; the worker keeps running. Exit 1 if it is not live.",
                     argc, argv);
}

static int cmd_leader(struct cli_ctx *ctx, int argc, char **argv)
{
    bool json = false;
    int first = 0;
    int rc = parse_cmd_flags("leader", "", "Print the current leader as: id url epoch.",
                             json_only_opts, 1, argc, argv, &json, -1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    ctx->json = ctx->json || json;
    rc = want_positionals("leader", argc, argv, first, 0, "");
    if (rc != 0)
        return rc;
    struct cli_response r;
    json_t *root = get_json(ctx, "/v1/leader", &r);
    if (!root) {
        rc = CLI_EXIT_FAIL;
    } else if (ctx->json) {
        print_raw(&r);
    } else {
        const char *id = json_string_value(json_object_get(root, "id"));
        const char *url = json_string_value(json_object_get(root, "url"));
        json_t *epoch = json_object_get(root, "epoch");
        if (!id) {
            fprintf(stderr, "corral: no leader\n");
            rc = CLI_EXIT_FAIL;
        } else {
            printf("%s %s %" JSON_INTEGER_FORMAT "\n", id, url ? url : "-",
                   json_is_integer(epoch) ? json_integer_value(epoch) : (json_int_t)0);
        }
    }
    json_decref(root);
    http_response_cleanup(&r);
    return rc;
}

/* ================================================================ schedule */

/* The task flags of `schedule add` live in the task member of struct cli_schedule_flags. */
#define SCHED_OFF(f) offsetof(struct cli_schedule_flags, task.f)

static const char *const misfire_choices[] = {"skip", "fire_once", "fire_all", NULL};
static const char *const overlap_choices[] = {"allow", "skip", "queue", "cancel_previous", NULL};

static const struct corral_opt schedule_add_opts[] = {
    {"cron", NULL, CORRAL_OPT_STRING, "EXPR", NULL,
     "when it fires: minute hour day-of-month month day-of-week, a leading seconds field, or "
     "@hourly @daily @weekly @monthly @yearly (required)",
     offsetof(struct cli_schedule_flags, cron), 0, 0, NULL},
    {"timezone", NULL, CORRAL_OPT_STRING, "TZ", NULL,
     "IANA time zone of the cron times (server default UTC)",
     offsetof(struct cli_schedule_flags, timezone), 0, 0, NULL},
    {"misfire", NULL, CORRAL_OPT_CHOICE, "P", NULL,
     "fires missed while no leader ran, server default fire_once",
     offsetof(struct cli_schedule_flags, misfire), 0, 0, misfire_choices},
    {"overlap", NULL, CORRAL_OPT_CHOICE, "P", NULL,
     "a fire while the last task is unfinished, server default skip",
     offsetof(struct cli_schedule_flags, overlap), 0, 0, overlap_choices},
    {"catchup-window", NULL, CORRAL_OPT_INT, "S", NULL,
     "missed fires older than S seconds are not caught up (server default 3600)",
     offsetof(struct cli_schedule_flags, catchup_window_s), 0, FLAG_INT_MAX, NULL},
    {"paused", NULL, CORRAL_OPT_BOOL, NULL, NULL, "create it paused (no fires until resume)",
     offsetof(struct cli_schedule_flags, paused), 0, 0, NULL},
    TASK_FLAGS(SCHED_OFF),
};
#define N_SCHEDULE_ADD_OPTS (sizeof(schedule_add_opts) / sizeof(schedule_add_opts[0]))

struct fires_flags {
    int64_t limit;
    bool json;
};

static const struct corral_opt fires_opts[] = {
    {"limit", NULL, CORRAL_OPT_INT, "N", NULL, "at most N fires (server default 20, max 1000)",
     offsetof(struct fires_flags, limit), FLAG_INT_MIN, FLAG_INT_MAX, NULL},
    {"json", NULL, CORRAL_OPT_BOOL, NULL, NULL, "print the API's JSON",
     offsetof(struct fires_flags, json), 0, 0, NULL},
};

/* "/v1/schedules/<name><suffix>" (name already checked, escaped anyway); malloc'd. */
static char *schedule_path(const char *name, const char *suffix)
{
    char *esc = http_escape(name);
    size_t n = strlen("/v1/schedules/") + strlen(esc) + strlen(suffix) + 1;
    char *p = corral_xmalloc(n);
    snprintf(p, n, "/v1/schedules/%s%s", esc, suffix);
    free(esc);
    return p;
}

/* How a schedule answer is shown to humans. */
enum schedule_show { SHOW_SCHEDULE, SHOW_SCHEDULES, SHOW_FIRES, SHOW_TASK_ID, SHOW_DELETED };

/*
 * Send method path and print the answer: with --json the body as is, else as `show` says.
 * ok is the success status (a 201 also accepts 200, as submit does). Returns the exit status.
 */
static int schedule_call(struct cli_ctx *ctx, const char *method, const char *path, bool idempotent,
                         long ok, enum schedule_show show, const char *name)
{
    struct cli_response r;
    struct corral_error err = {0};
    int rc = CLI_EXIT_OK;
    if (http_request(ctx->http, method, path, NULL, idempotent, REQUEST_TIMEOUT_S, &r, &err) != 0) {
        rc = transport_error(&err);
    } else if (r.status != ok && !(ok == 201 && r.status == 200)) {
        rc = api_error(&r);
    } else if (show == SHOW_TASK_ID) {
        rc = print_task_id(ctx, &r);
    } else if (ctx->json) {
        print_raw(&r);
    } else {
        json_t *root = body_json(&r);
        if (!root)
            rc = CLI_EXIT_FAIL;
        else if (show == SHOW_SCHEDULE)
            table_print_schedule(stdout, root);
        else if (show == SHOW_SCHEDULES)
            table_print_schedules(stdout, json_object_get(root, "schedules"));
        else if (show == SHOW_FIRES)
            table_print_fires(stdout, json_object_get(root, "fires"));
        else
            printf("%s deleted\n", name);
        json_decref(root);
    }
    http_response_cleanup(&r);
    return rc;
}

/* Refuse a NAME that cannot go into a URL path as is: a usage error. */
static int check_name(const char *name)
{
    struct corral_error err = {0};
    if (cli_schedule_name_check(name, &err) == CORRAL_OK)
        return 0;
    usage_error(&err);
    return CLI_EXIT_USAGE;
}

static int cmd_schedule_add(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *name = "schedule add";
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    int first = 0;
    int rc = parse_cmd_flags(name, "NAME --cron EXPR [flags] [task flags] -- CMD [ARG...]",
                             "Create a cron schedule: at each fire time it submits a task built "
                             "from the task flags and CMD, as 'corral submit' would.",
                             schedule_add_opts, N_SCHEDULE_ADD_OPTS, argc, argv, &f, 1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (f.task.json)
        ctx->json = true;
    json_t *body = NULL;
    char *text = NULL;
    if (first >= argc || strcmp(argv[first], "--") == 0) {
        fprintf(stderr, "corral: %s: missing schedule NAME\n", name);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    const char *sname = argv[first++];
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    rc = check_name(sname);
    if (rc == 0)
        rc = load_secret_env(&f.task);
    if (rc != 0)
        goto out;
    struct corral_error err = {0};
    body = cli_schedule_body(sname, &f, argc - first, argv + first, &err);
    if (!body) {
        rc = build_error(name, &err);
        goto out;
    }
    text = json_dumps(body, JSON_COMPACT);
    if (!text) {
        fputs("corral: out of memory\n", stderr);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    /* Not idempotent: a retry elsewhere of a create that was stored would answer 409. */
    struct cli_response r;
    if (http_request(ctx->http, "POST", "/v1/schedules", text, false, REQUEST_TIMEOUT_S, &r,
                     &err) != 0) {
        rc = transport_error(&err);
    } else if (r.status != 201 && r.status != 200) {
        rc = api_error(&r);
    } else if (ctx->json) {
        print_raw(&r);
    } else {
        json_t *s = body_json(&r);
        if (s)
            table_print_schedule(stdout, s);
        else
            rc = CLI_EXIT_FAIL;
        json_decref(s);
    }
    http_response_cleanup(&r);
out:
    free(text);
    json_decref(body);
    corral_strlist_cleanup(&f.task.secret_env);
    corral_opts_cleanup(schedule_add_opts, N_SCHEDULE_ADD_OPTS, &f);
    return rc;
}

static int cmd_schedule_list(struct cli_ctx *ctx, int argc, char **argv)
{
    bool json = false;
    int first = 0;
    int rc = parse_cmd_flags("schedule list", "",
                             "List the schedules (LAST_FIRE and NEXT_FIRE are RFC 3339 times).",
                             json_only_opts, 1, argc, argv, &json, -1, &first);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    ctx->json = ctx->json || json;
    rc = want_positionals("schedule list", argc, argv, first, 0, "");
    if (rc != 0)
        return rc;
    return schedule_call(ctx, "GET", "/v1/schedules", true, 200, SHOW_SCHEDULES, NULL);
}

/* Parse "<name> [flags] NAME" and check NAME; returns 0, -1 after help, or an exit status. */
static int parse_name_cmd(struct cli_ctx *ctx, const char *name, const char *args, const char *what,
                          const struct corral_opt *table, size_t n, int argc, char **argv,
                          void *flags, bool *json, const char **sname)
{
    int first = 0;
    int rc = parse_cmd_flags(name, args, what, table, n, argc, argv, flags, -1, &first);
    if (rc != 0)
        return rc;
    if (*json)
        ctx->json = true;
    rc = want_positionals(name, argc, argv, first, 1, "schedule NAME");
    if (rc != 0)
        return rc;
    *sname = argv[argc - 1];
    return check_name(*sname);
}

/* get, rm, pause, resume, trigger: NAME and --json, one request. */
static int schedule_name_cmd(struct cli_ctx *ctx, int argc, char **argv, const char *name,
                             const char *what, const char *method, const char *suffix,
                             bool idempotent, long ok, enum schedule_show show)
{
    bool json = false;
    const char *sname;
    int rc = parse_name_cmd(ctx, name, "NAME", what, json_only_opts, 1, argc, argv, &json, &json,
                            &sname);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    char *path = schedule_path(sname, suffix);
    rc = schedule_call(ctx, method, path, idempotent, ok, show, sname);
    free(path);
    return rc;
}

static int cmd_schedule_get(struct cli_ctx *ctx, int argc, char **argv)
{
    return schedule_name_cmd(ctx, argc, argv, "schedule get",
                             "Print a schedule; exit 1 if it is unknown.", "GET", "", true, 200,
                             SHOW_SCHEDULE);
}

static int cmd_schedule_rm(struct cli_ctx *ctx, int argc, char **argv)
{
    /* Not idempotent for our exit status: a retried delete that had worked would say 404. */
    return schedule_name_cmd(ctx, argc, argv, "schedule rm",
                             "Delete a schedule (its tasks stay); exit 1 if it is unknown.",
                             "DELETE", "", false, 200, SHOW_DELETED);
}

static int cmd_schedule_pause(struct cli_ctx *ctx, int argc, char **argv)
{
    return schedule_name_cmd(ctx, argc, argv, "schedule pause",
                             "Pause a schedule: no fires until it is resumed.", "POST", "/pause",
                             true, 200, SHOW_SCHEDULE);
}

static int cmd_schedule_resume(struct cli_ctx *ctx, int argc, char **argv)
{
    return schedule_name_cmd(ctx, argc, argv, "schedule resume",
                             "Resume a paused schedule; it fires next at its next cron time.",
                             "POST", "/resume", true, 200, SHOW_SCHEDULE);
}

static int cmd_schedule_trigger(struct cli_ctx *ctx, int argc, char **argv)
{
    /* Not idempotent: every trigger creates a task. */
    return schedule_name_cmd(ctx, argc, argv, "schedule trigger",
                             "Fire a schedule now, outside its cron times; print the task id.",
                             "POST", "/trigger", false, 201, SHOW_TASK_ID);
}

static int cmd_schedule_fires(struct cli_ctx *ctx, int argc, char **argv)
{
    struct fires_flags f = {.limit = CLI_UNSET_INT};
    const char *sname;
    int rc = parse_name_cmd(ctx, "schedule fires", "NAME [--limit N]",
                            "List a schedule's fires, newest first (TASK is the task a fire "
                            "created; STATE is its state, or skipped).",
                            fires_opts, sizeof(fires_opts) / sizeof(fires_opts[0]), argc, argv, &f,
                            &f.json, &sname);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    char suffix[48] = "/fires";
    if (f.limit != CLI_UNSET_INT) {
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)f.limit);
        add_query(suffix, sizeof(suffix), "limit", num);
    }
    char *path = schedule_path(sname, suffix);
    rc = schedule_call(ctx, "GET", path, true, 200, SHOW_FIRES, sname);
    free(path);
    return rc;
}

static const struct cli_command schedule_commands[] = {
    {"add", "NAME --cron EXPR [flags] -- CMD [ARG...]", "create a schedule", cmd_schedule_add},
    {"list", "", "list schedules", cmd_schedule_list},
    {"get", "NAME", "print a schedule", cmd_schedule_get},
    {"rm", "NAME", "delete a schedule", cmd_schedule_rm},
    {"pause", "NAME", "stop firing until resumed", cmd_schedule_pause},
    {"resume", "NAME", "fire again at the cron times", cmd_schedule_resume},
    {"trigger", "NAME", "fire now, print the task id", cmd_schedule_trigger},
    {"fires", "NAME [--limit N]", "list the latest fires and their tasks", cmd_schedule_fires},
    {NULL, NULL, NULL, NULL},
};

static void print_schedule_help(void)
{
    printf("usage: corral [global flags] schedule SUBCOMMAND [flags] [ARGS]\n\n"
           "Manage cron schedules: a schedule submits a task at each time its cron expression "
           "matches.\n\nsubcommands:\n");
    for (const struct cli_command *c = schedule_commands; c->name; c++) {
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
        printf("  %-46s %s\n", left, c->summary);
    }
    printf("\nNAME: 1 to %d characters of A-Z a-z 0-9 . _ - not starting with '.'.\n"
           "Run 'corral schedule SUBCOMMAND --help' for the flags of a subcommand.\n"
           "Global flags (--server, --token, --json) are described by 'corral --help'.\n",
           CLI_SCHEDULE_NAME_MAX);
}

static int cmd_schedule(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "corral: schedule: missing subcommand (see corral schedule --help)\n");
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        print_schedule_help();
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "--version") == 0) {
        printf("corral %s\n", CORRAL_VERSION);
        return CLI_EXIT_OK;
    }
    for (const struct cli_command *c = schedule_commands; c->name; c++) {
        if (strcmp(c->name, sub) == 0)
            return c->run(ctx, argc - 1, argv + 1);
    }
    char shown[80];
    snprintf(shown, sizeof(shown), "%s", sub);
    size_t n = corral_text_strip_controls(shown, strlen(shown), false);
    shown[n] = '\0';
    fprintf(stderr, "corral: schedule: unknown subcommand '%s' (see corral schedule --help)\n",
            shown);
    return CLI_EXIT_USAGE;
}

/* ================================================================ table */

const struct cli_command cli_commands[] = {
    {"submit", "[task flags] -- CMD [ARG...]", "submit a task, print its id", cmd_submit},
    {"run", "[task flags] -- CMD [ARG...]",
     "submit, print the output as it is written, exit with the task's code", cmd_run},
    {"get", "ID", "print a task", cmd_get},
    {"wait", "ID [--timeout S]", "wait until a task is finished; 0 iff it succeeded", cmd_wait},
    {"list", "[--state S] [--limit N]", "list tasks", cmd_list},
    {"cancel", "ID", "cancel a task", cmd_cancel},
    {"workers", "", "list workers", cmd_workers},
    {"cordon", "ID [--reason TEXT]", "give a worker no new work", cmd_cordon},
    {"uncordon", "ID", "put a worker back in service", cmd_uncordon},
    {"drain", "ID [--reason TEXT] [--timeout S]",
     "cordon a worker and return its tasks after a timeout", cmd_drain},
    {"leader", "", "print the current leader: id url epoch", cmd_leader},
    {"logs", "[-f] ID", "print a task's output; -f follows it until the task ends", cmd_logs},
    {"schedule", "SUBCOMMAND [ARGS]", "manage cron schedules (corral schedule --help)",
     cmd_schedule},
    {NULL, NULL, NULL, NULL},
};

const struct cli_command *cli_command_find(const char *name)
{
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}
