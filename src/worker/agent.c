/* SPDX-License-Identifier: MIT */
/*
 * The worker agent (agent.h). One thread owns all state: a poll() loop over the ZooKeeper event
 * fd, the supervisors' result pipes and a signal self-pipe, with a short timeout for periodic
 * work. Watches are hints only: after every event and every reconnect it re-reads and
 * reconciles, and it reconciles every 2 s anyway. Every write follows docs/znodes.md: the start
 * and finish multis are fenced by the assignment znode, and version-checked on the task znode.
 * It never exits on a ZooKeeper problem (only on SIGTERM/SIGINT, or when its id stays taken).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "corral/id.h"
#include "corral/limits.h"
#include "corral/opts.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk.h"
#include "worker/agent.h"
#include "worker/runner.h"

#define CORRAL_LOG_MODULE "worker"

#define TICK_MS            200
#define RECONCILE_MS       2000
#define REREAD_MS          30000 /* full re-read of running assignments, besides watches */
#define REGISTER_RETRY_MS  500
#define REGISTER_LOG_MS    10000
#define WRITE_RETRY_MS     500
#define REOPEN_RETRY_MS    1000
#define CONFLICT_RETRIES   5
#define DRAIN_EXTRA_MIN_MS 10000 /* after the drain kill: time to write the returns */
#define DRAIN_SETTLE_MS    500   /* after "draining" is stored: last assignments may land */

/* ------------------------------------------------------------------ state */

struct local {
    char id[CORRAL_ID_LEN + 1];
    uint32_t attempt;
    uint64_t epoch;
    bool is_http;
    struct run run;
    bool cancel_requested; /* the assignment said "cancel": the supervisor was told */
    bool returning;        /* drain timeout: report RETURN, not the result */
    bool dropped;          /* the attempt is void (session expired, assignment gone) */
    bool result_ready;     /* run done; the finish write is pending */
    bool unknown_write;    /* the last finish write had an unknown outcome */
    int64_t next_try_ms;   /* monotonic: next finish write attempt */
};

struct agent {
    const struct agent_config *cfg;
    struct zk *zk;
    struct runner *runner;

    char reg[17]; /* this registration's random id (16 hex) */
    bool connected;
    bool registered;
    int timeout_ms;               /* negotiated session timeout, last known; requested until then */
    int64_t next_register_log_ms; /* persistent failures are logged every REGISTER_LOG_MS */
    int64_t exists_since_ms, next_register_ms, next_ping_ms, next_reconcile_ms, next_reread_ms;
    bool need_reconcile, need_reread;
    bool reopen_pending;
    int64_t next_reopen_ms;

    bool draining;
    bool drain_written;    /* workers/<id> says "draining": true */
    bool drain_reconciled; /* a reconcile ran while draining: unstarted work was returned */
    bool drain_killed;
    int64_t drain_written_ms; /* monotonic: when "draining" was stored */
    int64_t drain_deadline_ms, drain_give_up_ms;

    struct local **locals;
    size_t n_locals, cap_locals;
    struct corral_strlist ignored; /* assignments we leave to the leader (other reg, bad data) */

    bool stop;
    int exit_code;

    char p_workers[CORRAL_PATH_MAX], p_worker[CORRAL_PATH_MAX], p_assign_root[CORRAL_PATH_MAX],
        p_assign_dir[CORRAL_PATH_MAX], p_queue[CORRAL_PATH_MAX];
};

/* ------------------------------------------------------------------ signals */

static int sig_wfd = -1;

static void on_signal(int sig)
{
    /* Only a write: the loop does the work (STYLE §6). */
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_wfd, &b, 1);
    (void)w;
    errno = saved;
}

static int setup_signals(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        (void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    sig_wfd = fds[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ------------------------------------------------------------------ helpers */

static int64_t lease_ms(const struct agent *a)
{
    return (int64_t)a->timeout_ms * 3 / 4;
}

static bool strlist_has(const struct corral_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

static void strlist_add(struct corral_strlist *l, const char *s)
{
    if (strlist_has(l, s))
        return;
    char **n = realloc(l->items, (l->n + 1) * sizeof *n);
    char *d = strdup(s);
    if (!n || !d)
        abort();
    l->items = n;
    l->items[l->n++] = d;
}

/* Keep only the entries also in keep (forget assignments that are gone). */
static void strlist_intersect(struct corral_strlist *l, const struct corral_strlist *keep)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (strlist_has(keep, l->items[i]))
            l->items[j++] = l->items[i];
        else
            free(l->items[i]);
    }
    l->n = j;
}

static struct local *find_local(struct agent *a, const char *id)
{
    for (size_t i = 0; i < a->n_locals; i++)
        if (!a->locals[i]->dropped && strcmp(a->locals[i]->id, id) == 0)
            return a->locals[i];
    return NULL;
}

static size_t running_count(const struct agent *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_locals; i++)
        n += !a->locals[i]->dropped;
    return n;
}

static struct local *add_local(struct agent *a)
{
    if (a->n_locals == a->cap_locals) {
        size_t cap = a->cap_locals ? a->cap_locals * 2 : 8;
        struct local **n = realloc(a->locals, cap * sizeof *n);
        if (!n)
            abort();
        a->locals = n;
        a->cap_locals = cap;
    }
    struct local *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->run.fd = -1;
    a->locals[a->n_locals++] = l;
    return l;
}

static void remove_local(struct agent *a, struct local *l)
{
    for (size_t i = 0; i < a->n_locals; i++) {
        if (a->locals[i] == l) {
            a->locals[i] = a->locals[--a->n_locals];
            break;
        }
    }
    runner_close(&l->run);
    free(l);
}

static bool assign_path(const struct agent *a, const char *id, char *buf, size_t n)
{
    return corral_path_assign(buf, n, a->cfg->ns, a->cfg->id, id) == CORRAL_OK;
}

/* ------------------------------------------------------------------ registration */

static char *worker_json(const struct agent *a)
{
    const struct agent_config *c = a->cfg;
    json_t *labels = json_object();
    for (size_t i = 0; i < c->n_labels; i++)
        json_object_set_new(labels, c->labels[i].key, json_string(c->labels[i].value));
    json_t *cpu = c->cpu_milli % 1000 == 0 ? json_integer(c->cpu_milli / 1000)
                                           : json_real((double)c->cpu_milli / 1000.0);
    json_t *o =
        json_pack("{s:s, s:I, s:o, s:I, s:o, s:I, s:s, s:b}", "id", c->id, "slots",
                  (json_int_t)c->slots, "cpu", cpu, "mem_mb", (json_int_t)c->mem_mb, "labels",
                  labels, "weight", (json_int_t)c->weight, "reg", a->reg, "draining", a->draining);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        abort();
    return s;
}

static void new_reg(struct agent *a)
{
    snprintf(a->reg, sizeof a->reg, "%016" PRIx64, rand_u64());
}

static void do_register(struct agent *a, int64_t now)
{
    struct corral_error err = {0};
    int rc = zk_ensure_path(a->zk, a->p_workers, &err);
    if (!rc)
        rc = zk_ensure_path(a->zk, a->p_assign_root, &err);
    if (!rc)
        rc = zk_ensure_path(a->zk, a->p_queue, &err);
    if (rc) {
        if (now >= a->next_register_log_ms) {
            CORRAL_LOG(CORRAL_LOG_WARN, "cannot prepare znodes: %s", err.msg);
            a->next_register_log_ms = now + REGISTER_LOG_MS;
        }
        a->next_register_ms = now + REGISTER_RETRY_MS;
        return;
    }
    char *json = worker_json(a);
    rc = zk_create(a->zk, a->p_worker, json, strlen(json), ZK_EPHEMERAL, NULL, 0, &err);
    free(json);
    if (rc == CORRAL_EEXIST) {
        /* Ours when an earlier create of this session had an unknown outcome; otherwise the
         * previous incarnation's session has not expired yet (or another worker has our id). */
        int64_t owner = 0;
        char *data = NULL;
        corral_error_clear(&err);
        rc = zk_get_meta(a->zk, a->p_worker, &data, NULL, NULL, NULL, &owner, &err);
        free(data);
        if (rc == CORRAL_OK && owner == zk_session_id(a->zk)) {
            rc = CORRAL_OK;
        } else {
            int limit_ms =
                3 * (a->timeout_ms > a->cfg->session_timeout_ms ? a->timeout_ms
                                                                : a->cfg->session_timeout_ms);
            if (a->exists_since_ms == 0) {
                a->exists_since_ms = now;
                CORRAL_LOG(CORRAL_LOG_WARN,
                           "worker id is registered by another session (an earlier run not yet "
                           "expired?); retrying for up to %d ms worker=%s",
                           limit_ms, a->cfg->id);
            } else if (now - a->exists_since_ms > limit_ms) {
                CORRAL_LOG(CORRAL_LOG_ERROR,
                           "worker id %s is in use by another live session; giving up", a->cfg->id);
                a->stop = true;
                a->exit_code = 1;
            }
            a->next_register_ms = now + REGISTER_RETRY_MS;
            return;
        }
    }
    if (rc == CORRAL_OK) {
        corral_error_clear(&err);
        rc = zk_ensure_path(a->zk, a->p_assign_dir, &err);
    }
    if (rc) {
        /* EUNKNOWN: the create may have happened; the next try adopts it (owner check). */
        if (now >= a->next_register_log_ms) {
            CORRAL_LOG(CORRAL_LOG_WARN, "registration failed: %s", err.msg);
            a->next_register_log_ms = now + REGISTER_LOG_MS;
        }
        a->next_register_ms = now + (rc == CORRAL_EUNKNOWN ? 0 : REGISTER_RETRY_MS);
        return;
    }
    a->registered = true;
    a->exists_since_ms = 0;
    a->drain_written = a->draining;
    a->drain_written_ms = now;
    a->need_reconcile = true;
    a->next_ping_ms = now;
    CORRAL_LOG(CORRAL_LOG_INFO, "registered worker=%s reg=%s slots=%u session_timeout_ms=%d",
               a->cfg->id, a->reg, a->cfg->slots, a->timeout_ms);
}

static void write_draining(struct agent *a, int64_t now)
{
    char *json = worker_json(a);
    struct corral_error err = {0};
    int rc = zk_set(a->zk, a->p_worker, json, strlen(json), -1, &err);
    free(json);
    if (rc == CORRAL_OK) {
        a->drain_written = true;
        /* A leader that read us before this write may still assign to us: one more
         * reconcile a little later returns those too. */
        a->drain_written_ms = now;
        CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s marked draining", a->cfg->id);
    } else {
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot mark worker draining: %s", err.msg);
    }
}

/* ------------------------------------------------------------------ finishing */

/* What to write at the end of an attempt (or instead of starting one). */
struct finish_req {
    const char *id;
    uint32_t attempt;
    bool is_http;
    bool returning;               /* RETURN (drain, refusal) */
    const struct run_result *res; /* NULL: never started */
    const char *output_path;      /* NULL: no output */
};

enum { FINISH_DONE, FINISH_RETRY, FINISH_UNKNOWN };

/*
 * Choose the event for a re-read task. Returns false when the task is no longer ours to
 * finish (someone else moved it on): the caller drops the result.
 */
static bool decide(const struct agent *a, const struct finish_req *f, const struct corral_task *t,
                   enum corral_event *ev, struct corral_transition_ctx *ctx, char *err, size_t n)
{
    /* A cancel won the race against the result: whatever happened, the user asked to stop. */
    if (t->state == CORRAL_STATE_CANCELLING) {
        *ev = CORRAL_EV_CANCELLED;
        return true;
    }
    if (t->state != CORRAL_STATE_ASSIGNED && t->state != CORRAL_STATE_RUNNING)
        return false;
    if (!t->worker || strcmp(t->worker, a->cfg->id) != 0 || t->attempt != f->attempt)
        return false;
    if (t->state == CORRAL_STATE_ASSIGNED || f->returning || !f->res) {
        *ev = CORRAL_EV_RETURN;
        return true;
    }
    const struct run_result *r = f->res;
    switch (r->outcome) {
        case SUP_EXITED:
            if (f->is_http) {
                *ev = r->exit_code == 0 ? CORRAL_EV_SUCCEED : CORRAL_EV_FAIL;
                snprintf(err, n, "%s", r->error);
            } else {
                ctx->has_exit_code = true;
                ctx->exit_code = r->exit_code;
                *ev = r->exit_code == 0 ? CORRAL_EV_SUCCEED : CORRAL_EV_FAIL;
                snprintf(err, n, "exit code %d", r->exit_code);
            }
            break;
        case SUP_SIGNALED:
            *ev = CORRAL_EV_FAIL;
            snprintf(err, n, "killed by signal %d", r->signal);
            break;
        case SUP_TIMED_OUT:
            *ev = CORRAL_EV_TIMEOUT;
            break;
        case SUP_SPAWN_FAILED:
        case SUP_LOST:
            *ev = CORRAL_EV_FAIL;
            snprintf(err, n, "%s", r->error[0] ? r->error : "could not start");
            break;
        case SUP_LEASE_EXPIRED:
            *ev = CORRAL_EV_WORKER_LOST;
            snprintf(err, n, "worker lost contact with ZooKeeper; task killed");
            break;
        case SUP_CANCELLED:
        default:
            /* Killed by us without a cancel in the task (drain, worker shutting down). */
            *ev = CORRAL_EV_RETURN;
            break;
    }
    if (*ev != CORRAL_EV_SUCCEED && err[0])
        ctx->error = err;
    return true;
}

static void log_transition(const char *id, uint32_t attempt, enum corral_state from,
                           const struct corral_task *t, const struct corral_transition_ctx *ctx)
{
    char extra[320] = "";
    size_t off = 0;
    if (ctx->has_exit_code)
        off += (size_t)snprintf(extra + off, sizeof extra - off, " exit_code=%d", ctx->exit_code);
    if (ctx->error && off < sizeof extra)
        snprintf(extra + off, sizeof extra - off, " error=\"%s\"", ctx->error);
    CORRAL_LOG(CORRAL_LOG_INFO, "task=%s state=%s->%s attempt=%u%s", id, corral_state_name(from),
               corral_state_name(t->state), attempt, extra);
}

/*
 * One finish write (docs/znodes.md "finish"): fence on the assignment, set the task at the
 * version read, delete the assignment, requeue when retried, bump the queue. Returns
 * FINISH_DONE when nothing more is to be done (written, fenced, or no longer ours).
 */
static int finish_write(struct agent *a, const struct finish_req *f)
{
    char p_assign[CORRAL_PATH_MAX], p_task[CORRAL_PATH_MAX], p_entry[CORRAL_PATH_MAX];
    if (!assign_path(a, f->id, p_assign, sizeof p_assign) ||
        corral_path_task(p_task, sizeof p_task, a->cfg->ns, f->id) != CORRAL_OK ||
        corral_path_queue_entry(p_entry, sizeof p_entry, a->cfg->ns, f->id) != CORRAL_OK)
        return FINISH_DONE;
    char *output =
        f->output_path ? runner_output_tail(f->output_path, CORRAL_OUTPUT_TAIL_BYTES) : NULL;
    int result = FINISH_RETRY;
    for (int tries = 0; tries < CONFLICT_RETRIES; tries++) {
        struct corral_error err = {0};
        char *data = NULL;
        size_t len = 0;
        int32_t version = 0;
        int rc = zk_get(a->zk, p_task, false, &data, &len, &version, &err);
        if (rc == CORRAL_ENOTFOUND) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s vanished; result dropped", f->id);
            result = FINISH_DONE;
            break;
        }
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot read: %s", f->id, err.msg);
            break;
        }
        struct corral_task t = {0};
        rc = corral_task_parse(data, len, &t, &err);
        free(data);
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s unreadable (%s); result dropped", f->id, err.msg);
            corral_task_cleanup(&t);
            result = FINISH_DONE;
            break;
        }
        enum corral_event ev;
        char errtext[300] = "";
        struct corral_transition_ctx ctx = {
            .now_ms = clock_wall_ms(), .output = output, .jitter = rand_u32()};
        if (!decide(a, f, &t, &ev, &ctx, errtext, sizeof errtext)) {
            CORRAL_LOG(CORRAL_LOG_WARN,
                       "task=%s is %s (worker=%s attempt=%u), not our attempt %u; result "
                       "dropped",
                       f->id, corral_state_name(t.state), t.worker ? t.worker : "-", t.attempt,
                       f->attempt);
            corral_task_cleanup(&t);
            result = FINISH_DONE;
            break;
        }
        enum corral_state from = t.state;
        rc = corral_task_transition(&t, ev, &ctx, &err);
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s: %s; result dropped", f->id, err.msg);
            corral_task_cleanup(&t);
            result = FINISH_DONE;
            break;
        }
        char *json = corral_task_render(&t);
        struct zk_multi *m = zk_multi_new();
        zk_multi_label(m, ev == CORRAL_EV_RETURN ? "worker.return" : "worker.finish");
        /* The fence: if the leader gave the task away (assignment deleted), this attempt's
         * result must change nothing. */
        zk_multi_fence(m, p_assign, -1);
        zk_multi_set(m, p_task, json, strlen(json), version);
        zk_multi_delete(m, p_assign, -1);
        int create_op = -1;
        if (t.state == CORRAL_STATE_QUEUED) {
            create_op = (int)zk_multi_count(m);
            zk_multi_create(m, p_entry, NULL, 0, ZK_PERSISTENT);
        }
        zk_multi_set(m, a->p_queue, "", 0, -1); /* wakes the leader */
        int failed_op = -1;
        rc = zk_multi_commit(a->zk, m, &failed_op, &err);
        zk_multi_free(m);
        free(json);
        if (rc == CORRAL_OK)
            log_transition(f->id, f->attempt, from, &t, &ctx);
        corral_task_cleanup(&t);
        if (rc == CORRAL_OK) {
            result = FINISH_DONE;
            break;
        }
        if (rc == CORRAL_EFENCED) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s assignment is gone (given away); result dropped",
                       f->id);
            result = FINISH_DONE;
            break;
        }
        if (rc == CORRAL_ENOTFOUND && failed_op == create_op) {
            /* The queue bucket is missing: create it and try again. */
            char bucket[CORRAL_PATH_MAX];
            struct corral_error e2 = {0};
            if (corral_path_queue_bucket(bucket, sizeof bucket, a->cfg->ns,
                                         corral_path_bucket(f->id)) == CORRAL_OK &&
                zk_ensure_path(a->zk, bucket, &e2) != CORRAL_OK)
                break;
            continue;
        }
        if (rc == CORRAL_ECONFLICT) {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s changed under us; re-reading", f->id);
            continue;
        }
        if (rc == CORRAL_EUNKNOWN) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s finish outcome unknown: %s", f->id, err.msg);
            result = FINISH_UNKNOWN;
            break;
        }
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s finish not written: %s", f->id, err.msg);
        break;
    }
    free(output);
    return result;
}

/* Try the pending finish of a local whose run is done. */
static void finish_local(struct agent *a, struct local *l, int64_t now)
{
    if (l->unknown_write) {
        /* After an unknown outcome: if the assignment is gone, the write happened (or the
         * leader took the task); either way there is nothing left to write. */
        char p[CORRAL_PATH_MAX];
        struct corral_error err = {0};
        int rc = assign_path(a, l->id, p, sizeof p) ? zk_exists(a->zk, p, false, NULL, &err)
                                                    : CORRAL_ENOTFOUND;
        if (rc == CORRAL_ENOTFOUND) {
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s finish was applied (assignment gone)", l->id);
            remove_local(a, l);
            return;
        }
        if (rc) {
            l->next_try_ms = now + WRITE_RETRY_MS;
            return;
        }
    }
    struct finish_req f = {
        .id = l->id,
        .attempt = l->attempt,
        .is_http = l->is_http,
        .returning = l->returning,
        .res = &l->run.result,
        .output_path = l->run.output_path,
    };
    int r = finish_write(a, &f);
    if (r == FINISH_DONE) {
        remove_local(a, l);
        return;
    }
    l->unknown_write = l->unknown_write || r == FINISH_UNKNOWN;
    l->next_try_ms = now + WRITE_RETRY_MS;
}

/* ------------------------------------------------------------------ starting */

struct assignment {
    char task[CORRAL_ID_LEN + 1];
    char reg[17];
    uint32_t attempt;
    uint64_t epoch;
    bool cancel;
};

static bool parse_assignment(const char *data, size_t len, struct assignment *out)
{
    json_error_t jerr;
    json_t *o = json_loadb(data, len, 0, &jerr);
    const char *task = json_string_value(json_object_get(o, "task"));
    const char *reg = json_string_value(json_object_get(o, "reg"));
    json_t *att = json_object_get(o, "attempt");
    bool ok = task && reg && strlen(task) <= CORRAL_ID_LEN && strlen(reg) < sizeof out->reg &&
              json_is_integer(att);
    if (ok) {
        snprintf(out->task, sizeof out->task, "%s", task);
        snprintf(out->reg, sizeof out->reg, "%s", reg);
        out->attempt = (uint32_t)json_integer_value(att);
        out->epoch = (uint64_t)json_integer_value(json_object_get(o, "epoch"));
        out->cancel = json_is_true(json_object_get(o, "cancel"));
    }
    json_decref(o);
    return ok;
}

static void start_supervisor(struct agent *a, const struct corral_task *t)
{
    struct local *l = add_local(a);
    snprintf(l->id, sizeof l->id, "%s", t->id);
    l->attempt = t->attempt;
    l->epoch = t->epoch;
    l->is_http = t->spec.has_http;
    struct corral_error err = {0};
    /* Starting many tasks in one round can take longer than the lease while the loop is busy:
     * publish the contact we just had (the start multi) before the supervisor checks it. */
    runner_set_lease(a->runner, zk_last_rx_ms(a->zk), lease_ms(a));
    if (runner_start(a->runner, &l->run, t->id, t->attempt, t->epoch, &t->spec, &err)) {
        /* Report it like an exec failure: the attempt fails and may be retried elsewhere. */
        CORRAL_LOG(CORRAL_LOG_ERROR, "task=%s cannot start a supervisor: %s", t->id, err.msg);
        l->run.done = true;
        l->run.has_result = true;
        l->run.result.outcome = SUP_SPAWN_FAILED;
        snprintf(l->run.result.error, sizeof l->run.result.error, "worker: %s", err.msg);
        l->result_ready = true;
        return;
    }
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u supervisor pid=%ld", t->id, t->attempt,
               (long)l->run.pid);
}

/* Return an assignment we will not run (draining, no slot) or finalise a cancelled one. */
static void finish_unstarted(struct agent *a, const char *id, uint32_t attempt, const char *why)
{
    CORRAL_LOG(CORRAL_LOG_INFO, "task=%s not started: %s", id, why);
    struct finish_req f = {.id = id, .attempt = attempt, .returning = true};
    (void)finish_write(a, &f); /* on failure the next reconcile sees it again */
}

/* A child of assign/<me> we do not run yet. */
static void handle_assignment(struct agent *a, const char *name)
{
    char p_assign[CORRAL_PATH_MAX], p_task[CORRAL_PATH_MAX];
    if (!corral_id_is_valid(name) || !assign_path(a, name, p_assign, sizeof p_assign) ||
        corral_path_task(p_task, sizeof p_task, a->cfg->ns, name) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "ignoring odd assignment name=%s", name);
        strlist_add(&a->ignored, name);
        return;
    }
    struct corral_error err = {0};
    char *data = NULL;
    size_t len = 0;
    /* The data watch is how a cancel reaches us. */
    int rc = zk_get(a->zk, p_assign, true, &data, &len, NULL, &err);
    if (rc) {
        if (rc != CORRAL_ENOTFOUND)
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assignment %s: %s", name, err.msg);
        return;
    }
    struct assignment as;
    bool ok = parse_assignment(data, len, &as);
    free(data);
    if (!ok || strcmp(as.task, name) != 0) {
        CORRAL_LOG(CORRAL_LOG_WARN, "ignoring malformed assignment task=%s", name);
        strlist_add(&a->ignored, name);
        return;
    }
    if (strcmp(as.reg, a->reg) != 0) {
        /* Made for an earlier registration of this id: the leader requeues those. */
        CORRAL_LOG(CORRAL_LOG_DEBUG, "ignoring assignment task=%s of reg=%s (ours is %s)", name,
                   as.reg, a->reg);
        strlist_add(&a->ignored, name);
        return;
    }

    for (int tries = 0; tries < CONFLICT_RETRIES; tries++) {
        int32_t version = 0;
        corral_error_clear(&err);
        rc = zk_get(a->zk, p_task, false, &data, &len, &version, &err);
        if (rc) {
            if (rc == CORRAL_ENOTFOUND)
                strlist_add(&a->ignored, name);
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot read: %s", name, err.msg);
            return;
        }
        struct corral_task t = {0};
        rc = corral_task_parse(data, len, &t, &err);
        free(data);
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s unreadable: %s", name, err.msg);
            corral_task_cleanup(&t);
            strlist_add(&a->ignored, name);
            return;
        }
        bool ours = t.worker && strcmp(t.worker, a->cfg->id) == 0 && t.attempt == as.attempt;
        if (t.state == CORRAL_STATE_CANCELLING && ours) {
            struct finish_req f = {.id = name, .attempt = as.attempt};
            (void)finish_write(a, &f);
            corral_task_cleanup(&t);
            return;
        }
        if (!ours || (t.state != CORRAL_STATE_ASSIGNED && t.state != CORRAL_STATE_RUNNING)) {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assignment task=%s: task is %s worker=%s; left alone",
                       name, corral_state_name(t.state), t.worker ? t.worker : "-");
            corral_task_cleanup(&t);
            strlist_add(&a->ignored, name);
            return;
        }
        /* The leader guarantees a free slot; refusing beyond --slots is defence only. */
        const char *refuse = a->draining                         ? "worker is draining"
                             : running_count(a) >= a->cfg->slots ? "no free slot"
                                                                 : NULL;
        if (refuse) {
            corral_task_cleanup(&t);
            finish_unstarted(a, name, as.attempt, refuse);
            return;
        }
        if (t.state == CORRAL_STATE_RUNNING) {
            /* Our own START whose outcome was unknown did apply: run it now. */
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s start was applied earlier; running it", name);
            start_supervisor(a, &t);
            corral_task_cleanup(&t);
            return;
        }
        struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms()};
        rc = corral_task_transition(&t, CORRAL_EV_START, &ctx, &err);
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot start: %s", name, err.msg);
            corral_task_cleanup(&t);
            strlist_add(&a->ignored, name);
            return;
        }
        char *json = corral_task_render(&t);
        struct zk_multi *m = zk_multi_new();
        zk_multi_label(m, "worker.start");
        /* Fenced: if the leader took the assignment back meanwhile, we must not start it. */
        zk_multi_fence(m, p_assign, -1);
        zk_multi_set(m, p_task, json, strlen(json), version);
        rc = zk_multi_commit(a->zk, m, NULL, &err);
        zk_multi_free(m);
        free(json);
        if (rc == CORRAL_OK) {
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s state=assigned->running attempt=%u epoch=%" PRIu64,
                       name, t.attempt, t.epoch);
            start_supervisor(a, &t);
            corral_task_cleanup(&t);
            return;
        }
        corral_task_cleanup(&t);
        if (rc == CORRAL_ECONFLICT)
            continue;
        /* EFENCED: taken back. EUNKNOWN/EUNAVAIL: the next reconcile sees assigned (start
         * again) or running (adopt, above). */
        CORRAL_LOG(rc == CORRAL_EFENCED ? CORRAL_LOG_INFO : CORRAL_LOG_WARN,
                   "task=%s not started: %s", name, err.msg);
        return;
    }
}

/* Re-read a running task's assignment (with a new watch): is a cancel requested? */
static void reread_assignment(struct agent *a, struct local *l)
{
    char p[CORRAL_PATH_MAX];
    if (!assign_path(a, l->id, p, sizeof p))
        return;
    char *data = NULL;
    size_t len = 0;
    struct corral_error err = {0};
    int rc = zk_get(a->zk, p, true, &data, &len, NULL, &err);
    if (rc == CORRAL_ENOTFOUND) {
        a->need_reconcile = true;
        return;
    }
    if (rc)
        return;
    struct assignment as;
    bool ok = parse_assignment(data, len, &as);
    free(data);
    if (ok && as.cancel && !l->cancel_requested && !l->run.done) {
        l->cancel_requested = true;
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s cancel requested; stopping it", l->id);
        runner_cancel(&l->run);
    }
}

/* ------------------------------------------------------------------ reconcile */

static void reconcile(struct agent *a, int64_t now)
{
    struct corral_strlist kids = {0};
    struct corral_error err = {0};
    int rc = zk_children(a->zk, a->p_assign_dir, true, &kids, &err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(&err);
        if (zk_ensure_path(a->zk, a->p_assign_dir, &err) == CORRAL_OK)
            rc = zk_children(a->zk, a->p_assign_dir, true, &kids, &err);
    }
    if (rc) {
        CORRAL_LOG(CORRAL_LOG_DEBUG, "reconcile: %s", err.msg);
        return;
    }
    a->need_reconcile = false;

    /* Locals whose assignment is gone. */
    for (size_t i = 0; i < a->n_locals;) {
        struct local *l = a->locals[i];
        if (l->dropped || strlist_has(&kids, l->id)) {
            i++;
            continue;
        }
        if (l->result_ready) {
            /* Our finish write with an unknown outcome did apply, or the leader took the task:
             * nothing more to write either way. */
            CORRAL_LOG(l->unknown_write ? CORRAL_LOG_INFO : CORRAL_LOG_WARN,
                       "task=%s assignment gone before the finish was confirmed; done", l->id);
            remove_local(a, l);
            continue;
        }
        /* The leader gave the task away: this attempt must stop at once. */
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s assignment removed by the leader; killing it", l->id);
        l->dropped = true;
        runner_kill(&l->run);
        i++;
    }

    for (size_t i = 0; i < kids.n; i++) {
        const char *name = kids.items[i];
        struct local *l = find_local(a, name);
        if (l) {
            if (a->need_reread)
                reread_assignment(a, l);
            continue;
        }
        if (strlist_has(&a->ignored, name))
            continue;
        handle_assignment(a, name);
        if (a->stop)
            break;
    }
    a->need_reread = false;
    strlist_intersect(&a->ignored, &kids);
    corral_strlist_cleanup(&kids);
    if (a->draining && a->drain_written && now >= a->drain_written_ms + DRAIN_SETTLE_MS)
        a->drain_reconciled = true;
}

/* ------------------------------------------------------------------ session events */

static void on_expired(struct agent *a, int64_t now, const char *what)
{
    CORRAL_LOG(CORRAL_LOG_WARN, "%s; killing running tasks and registering again", what);
    /* The assignments belong to the dead session: the leader requeues them. Our attempts
     * must end now, and their results must not be written. */
    for (size_t i = 0; i < a->n_locals; i++) {
        struct local *l = a->locals[i];
        if (!l->dropped) {
            l->dropped = true;
            runner_kill(&l->run);
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s attempt=%u killed: session lost", l->id,
                       l->attempt);
        }
    }
    a->connected = false;
    a->registered = false;
    a->exists_since_ms = 0;
    a->drain_written = false;
    new_reg(a);
    if (a->draining) {
        /* Nothing left to return: the dead session's assignments are the leader's now. */
        a->stop = true;
        return;
    }
    struct corral_error err = {0};
    if (zk_reopen(a->zk, &err) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot start a new session: %s", err.msg);
        a->reopen_pending = true;
        a->next_reopen_ms = now + REOPEN_RETRY_MS;
    }
}

static void handle_zk_events(struct agent *a, int64_t now)
{
    struct zk_event ev;
    while (zk_next_event(a->zk, &ev)) {
        if (ev.type == ZK_EV_SESSION) {
            switch (ev.state) {
                case ZK_SESSION_CONNECTED:
                    if (!a->connected) {
                        a->connected = true;
                        int t = zk_session_timeout_ms(a->zk);
                        if (t > 0)
                            a->timeout_ms = t;
                        CORRAL_LOG(CORRAL_LOG_INFO, "connected to ZooKeeper session_timeout_ms=%d",
                                   a->timeout_ms);
                    }
                    a->need_reconcile = true;
                    a->need_reread = true;
                    break;
                case ZK_SESSION_CONNECTING:
                    if (a->connected)
                        CORRAL_LOG(CORRAL_LOG_WARN,
                                   "disconnected from ZooKeeper; tasks keep running for at most "
                                   "%" PRId64 " ms",
                                   lease_ms(a));
                    a->connected = false;
                    break;
                case ZK_SESSION_EXPIRED:
                    on_expired(a, now, "ZooKeeper session expired");
                    break;
                case ZK_SESSION_AUTH_FAILED:
                    CORRAL_LOG(CORRAL_LOG_ERROR, "ZooKeeper authentication failed (--zk-auth)");
                    on_expired(a, now, "ZooKeeper session unusable");
                    break;
            }
        } else {
            /* A change below our assignment dir: a new task, a cancel, a deletion. */
            size_t n = strlen(a->p_assign_dir);
            CORRAL_LOG(CORRAL_LOG_DEBUG, "watch type=%d path=%s", (int)ev.type, ev.path);
            if (ev.type == ZK_EV_CHANGED && strncmp(ev.path, a->p_assign_dir, n) == 0 &&
                ev.path[n] == '/') {
                struct local *l = find_local(a, ev.path + n + 1);
                if (l && a->connected)
                    reread_assignment(a, l);
            } else {
                a->need_reconcile = true;
            }
        }
        zk_event_cleanup(&ev);
    }
}

/* ------------------------------------------------------------------ runs and children */

static void on_run_done(struct agent *a, struct local *l, int64_t now)
{
    if (l->dropped) {
        CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s void attempt=%u ended outcome=%s", l->id, l->attempt,
                   sup_outcome_name(l->run.result.outcome));
        remove_local(a, l);
        return;
    }
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u ended outcome=%s", l->id, l->attempt,
               sup_outcome_name(l->run.result.outcome));
    l->result_ready = true;
    l->next_try_ms = now;
}

static void reap_children(struct agent *a)
{
    for (;;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0 && errno == EINTR)
            continue;
        if (p <= 0)
            return;
        for (size_t i = 0; i < a->n_locals; i++)
            if (runner_reaped(&a->locals[i]->run, p))
                break;
    }
}

static void begin_drain(struct agent *a, int64_t now, int sig)
{
    if (a->draining) {
        CORRAL_LOG(CORRAL_LOG_INFO, "second signal %d: stopping running tasks now", sig);
        a->drain_deadline_ms = now;
        return;
    }
    a->draining = true;
    a->drain_written = false;
    a->drain_reconciled = false;
    a->need_reconcile = true;
    a->drain_deadline_ms = now + (int64_t)a->cfg->drain_timeout_s * 1000;
    int64_t extra = 2 * (int64_t)a->timeout_ms;
    if (extra < DRAIN_EXTRA_MIN_MS)
        extra = DRAIN_EXTRA_MIN_MS;
    a->drain_give_up_ms = a->drain_deadline_ms + SUP_KILL_GRACE_MS + extra;
    CORRAL_LOG(CORRAL_LOG_INFO, "signal %d: draining, running=%zu drain_timeout_s=%u", sig,
               running_count(a), a->cfg->drain_timeout_s);
}

static void handle_signals(struct agent *a, int fd, int64_t now)
{
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIGCHLD)
                reap_children(a);
            else if (buf[i] == SIGTERM || buf[i] == SIGINT)
                begin_drain(a, now, buf[i]);
        }
    }
}

/* ------------------------------------------------------------------ periodic work */

static void tick(struct agent *a, int64_t now)
{
    if (a->reopen_pending && now >= a->next_reopen_ms) {
        struct corral_error err = {0};
        if (zk_reopen(a->zk, &err) == CORRAL_OK) {
            a->reopen_pending = false;
        } else {
            CORRAL_LOG(CORRAL_LOG_WARN, "cannot start a new session: %s", err.msg);
            a->next_reopen_ms = now + REOPEN_RETRY_MS;
        }
    }
    if (a->connected && !a->registered && !a->stop && now >= a->next_register_ms)
        do_register(a, now);

    if (a->connected && a->registered) {
        if (now >= a->next_ping_ms) {
            /* Keeps zk_last_rx_ms() fresh: the lease the supervisors enforce. */
            zk_ping(a->zk, a->p_worker);
            a->next_ping_ms = now + (a->timeout_ms > 0 ? a->timeout_ms / 6 : 1000);
        }
        if (a->draining && !a->drain_written)
            write_draining(a, now);
        if (now >= a->next_reread_ms) {
            a->need_reread = true;
            a->next_reread_ms = now + REREAD_MS;
        }
        if (a->need_reconcile || a->need_reread || now >= a->next_reconcile_ms) {
            reconcile(a, now);
            a->next_reconcile_ms = now + RECONCILE_MS;
            if (a->draining && a->drain_written && !a->drain_reconciled &&
                a->drain_written_ms + DRAIN_SETTLE_MS < a->next_reconcile_ms)
                a->next_reconcile_ms = a->drain_written_ms + DRAIN_SETTLE_MS;
        }
        for (size_t i = 0; i < a->n_locals; i++) {
            struct local *l = a->locals[i];
            if (l->result_ready && !l->dropped && now >= l->next_try_ms) {
                finish_local(a, l, now);
                i = (size_t)-1; /* the list may have changed: start over */
                if (!a->connected)
                    break;
            }
        }
    }

    if (a->draining) {
        if (!a->drain_killed && now >= a->drain_deadline_ms) {
            a->drain_killed = true;
            for (size_t i = 0; i < a->n_locals; i++) {
                struct local *l = a->locals[i];
                if (!l->dropped && !l->run.done) {
                    l->returning = true;
                    CORRAL_LOG(CORRAL_LOG_INFO, "task=%s drain timeout: stopping it", l->id);
                    runner_cancel(&l->run);
                }
            }
        }
        bool returned = a->drain_reconciled || !a->registered;
        if (a->n_locals == 0 && returned) {
            a->stop = true;
        } else if (now >= a->drain_give_up_ms) {
            CORRAL_LOG(CORRAL_LOG_WARN,
                       "drain: %zu tasks not reported in time; the leader will requeue them",
                       a->n_locals);
            a->stop = true;
        }
    }
}

/* ------------------------------------------------------------------ main loop */

static bool build_paths(struct agent *a)
{
    const struct agent_config *c = a->cfg;
    return corral_path_join(a->p_workers, sizeof a->p_workers, c->ns, "workers") == CORRAL_OK &&
           corral_path_worker(a->p_worker, sizeof a->p_worker, c->ns, c->id) == CORRAL_OK &&
           corral_path_join(a->p_assign_root, sizeof a->p_assign_root, c->ns, "assign") ==
               CORRAL_OK &&
           corral_path_assign_dir(a->p_assign_dir, sizeof a->p_assign_dir, c->ns, c->id) ==
               CORRAL_OK &&
           corral_path_join(a->p_queue, sizeof a->p_queue, c->ns, "queue") == CORRAL_OK;
}

int agent_run(const struct agent_config *cfg)
{
    struct agent a = {.cfg = cfg, .timeout_ms = cfg->session_timeout_ms};
    int sigfds[2] = {-1, -1};
    struct corral_error err = {0};
    if (!build_paths(&a)) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "namespace or id too long for znode paths");
        return 1;
    }
    if (setup_signals(sigfds) < 0) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "signal pipe: %s", strerror(errno));
        return 1;
    }
    a.runner = runner_new(cfg->work_dir, cfg->log_level, &err);
    if (!a.runner) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "%s", err.msg);
        return 1;
    }
    new_reg(&a);
    /* An unresolvable ensemble at startup (DNS not ready yet) is a ZooKeeper problem like
     * any other: wait for it rather than exit, until told to stop. */
    for (int tries = 0;
         !(a.zk = zk_open(cfg->zk_hosts, cfg->session_timeout_ms, cfg->zk_auth, &err)); tries++) {
        if (tries % 30 == 0)
            CORRAL_LOG(CORRAL_LOG_WARN, "%s; retrying", err.msg);
        corral_error_clear(&err);
        struct pollfd p = {.fd = sigfds[0], .events = POLLIN};
        unsigned char b = 0;
        if (poll(&p, 1, REOPEN_RETRY_MS) > 0 && read(sigfds[0], &b, 1) == 1 &&
            (b == SIGTERM || b == SIGINT)) {
            runner_free(a.runner);
            close(sigfds[0]);
            close(sigfds[1]);
            return 0;
        }
    }
    CORRAL_LOG(CORRAL_LOG_INFO,
               "starting worker=%s zk=%s namespace=%s slots=%u cpu_milli=%u mem_mb=%" PRIu64
               " work_dir=%s",
               cfg->id, cfg->zk_hosts, cfg->ns, cfg->slots, cfg->cpu_milli, cfg->mem_mb,
               cfg->work_dir);

    struct pollfd *pfds = NULL;
    size_t cap = 0;
    while (!a.stop) {
        /* The lease page first: supervisors kill at last_rx + 0.75 T whatever we do next. */
        runner_set_lease(a.runner, zk_last_rx_ms(a.zk), lease_ms(&a));

        size_t need = 2 + a.n_locals;
        if (need > cap) {
            cap = need * 2;
            pfds = realloc(pfds, cap * sizeof *pfds);
            if (!pfds)
                abort();
        }
        size_t n = 0;
        pfds[n++] = (struct pollfd){.fd = sigfds[0], .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = zk_event_fd(a.zk), .events = POLLIN};
        for (size_t i = 0; i < a.n_locals; i++)
            pfds[n++] = (struct pollfd){.fd = a.locals[i]->run.fd, .events = POLLIN};
        (void)poll(pfds, n, TICK_MS);
        int64_t now = clock_mono_ms();

        handle_signals(&a, sigfds[0], now);
        reap_children(&a); /* also without SIGCHLD: a full self-pipe may have lost it */
        handle_zk_events(&a, now);
        for (size_t i = 0; i < a.n_locals;) {
            struct local *l = a.locals[i];
            if (l->run.fd >= 0 && runner_read(&l->run)) {
                size_t before = a.n_locals;
                on_run_done(&a, l, now);
                if (a.n_locals != before)
                    continue; /* removed: index i now holds another local */
            }
            i++;
        }
        /* A void attempt is forgotten once its supervisor is done (it may have been done
         * already when it was voided, e.g. killed by the lease just before the expiry). */
        for (size_t i = 0; i < a.n_locals;) {
            if (a.locals[i]->dropped && a.locals[i]->run.done)
                remove_local(&a, a.locals[i]);
            else
                i++;
        }
        if (!a.stop)
            tick(&a, now);
    }

    if (a.exit_code == 0)
        CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s stopped", cfg->id);
    /* Supervisors still alive (give-up path) end by PDEATHSIG when we exit. */
    for (size_t i = 0; i < a.n_locals; i++) {
        runner_close(&a.locals[i]->run);
        free(a.locals[i]);
    }
    free(a.locals);
    free(pfds);
    corral_strlist_cleanup(&a.ignored);
    zk_close(a.zk); /* closes the session: our ephemeral vanishes at once */
    runner_free(a.runner);
    close(sigfds[0]);
    close(sigfds[1]);
    return a.exit_code;
}
