/* SPDX-License-Identifier: MIT */
/* Scenario a: the machine's ceilings (ceil.h). */
#define _GNU_SOURCE /* pipe2, environ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/ceil.h"
#include "bench/stats.h"
#include "bench/zkraw.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/proc.h"

#define ZNODE_BYTES     200
#define CREATE_INFLIGHT 500
#define DRAIN_MS        30000 /* longest wait for the requests in flight at the end */

/* ------------------------------------------------------------------ fork/exec */

int ceil_fork(int64_t ms, struct bench_ceilings *out, struct corral_error *err)
{
    const char *prog = access("/bin/true", X_OK) == 0 ? "/bin/true" : "/usr/bin/true";
    char arg0[] = "true";
    char *const argv[] = {arg0, NULL};
    char *const envp[] = {NULL};
    int64_t t0 = clock_mono_ms(), deadline = t0 + ms, now = t0;
    uint64_t n = 0;
    while (n < 100000000u && !bench_stopping()) {
        pid_t pid = fork();
        if (pid == 0) {
            execve(prog, argv, envp);
            _exit(127);
        }
        if (pid < 0)
            return corral_error_set(err, CORRAL_EINTERNAL, NULL, "fork: %s", strerror(errno));
        int st = 0;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return corral_error_set(err, CORRAL_EINTERNAL, NULL, "%s did not exit 0", prog);
        n++;
        now = clock_mono_ms();
        if (now >= deadline)
            break;
    }
    out->fork_n = n;
    out->fork_ms = now - t0;
    out->fork_per_s = bench_rate(n, out->fork_ms);
    return CORRAL_OK;
}

int ceil_fork_loop_main(const char *ms_arg)
{
    char *end = NULL;
    errno = 0;
    long ms = strtol(ms_arg, &end, 10);
    if (errno || end == ms_arg || *end || ms < 1 || ms > 600000) {
        fprintf(stderr,
                "corral-bench: --fork-loop: expected milliseconds from 1 to 600000, got "
                "'%s'\n",
                ms_arg);
        return 2;
    }
    struct bench_ceilings c = {0};
    struct corral_error err = {0};
    if (ceil_fork(ms, &c, &err) != CORRAL_OK) {
        fprintf(stderr, "corral-bench: --fork-loop: %s\n", err.msg);
        return 1;
    }
    printf("%" PRIu64 " %" PRId64 "\n", c.fork_n, c.fork_ms);
    return 0;
}

int ceil_fork_fresh(int64_t ms, double *per_s, struct corral_error *err)
{
    *per_s = -1.0;
    char exe[PATH_MAX];
    if (!proc_self_exe(exe, sizeof exe))
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "cannot find corral-bench itself");
    char a0[] = "corral-bench", a1[] = "--fork-loop", a2[24];
    snprintf(a2, sizeof a2, "%" PRId64, ms);
    char *const argv[] = {a0, a1, a2, NULL};
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "pipe: %s", strerror(errno));
    struct proc_spawn_opts o = {.file = exe,
                                .argv = argv,
                                .envp = environ,
                                .stdin_fd = -1,
                                .stdout_fd = p[1],
                                .stderr_fd = STDERR_FILENO};
    pid_t pid;
    int rc = proc_spawn(&o, &pid, err);
    close(p[1]);
    if (rc) {
        close(p[0]);
        return rc;
    }
    char buf[128];
    size_t got = 0;
    for (int i = 0; i < 64 && got + 1 < sizeof buf; i++) { /* one short line, then EOF */
        ssize_t r = read(p[0], buf + got, sizeof buf - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    uint64_t n = 0;
    int64_t elapsed = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
        sscanf(buf, "%" SCNu64 " %" SCNd64, &n, &elapsed) != 2 || elapsed <= 0)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "corral-bench --fork-loop failed");
    *per_s = bench_rate(n, elapsed);
    return CORRAL_OK;
}

/* ------------------------------------------------------------------ counting completions */

struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t inflight;
    uint64_t ok, fail;
    int64_t last_ms; /* monotonic time of the last completion */
};

static void counter_init(struct counter *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
}

static void counter_destroy(struct counter *c)
{
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
}

static void counter_done(struct counter *c, bool ok)
{
    pthread_mutex_lock(&c->mu);
    c->inflight--;
    if (ok)
        c->ok++;
    else
        c->fail++;
    c->last_ms = clock_mono_ms();
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

/* Wait (mutex held) up to 100 ms for a completion. */
static void counter_wait(struct counter *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->cond, &c->mu, &ts);
}

/* Wait until nothing is in flight or deadline; true when drained. */
static bool counter_drain(struct counter *c, int64_t deadline)
{
    pthread_mutex_lock(&c->mu);
    while (c->inflight > 0 && clock_mono_ms() < deadline)
        counter_wait(c);
    bool ok = c->inflight == 0;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* Reserve a place in flight (at most max); false at the deadline or on a stop. */
static bool counter_reserve(struct counter *c, size_t max, int64_t deadline)
{
    pthread_mutex_lock(&c->mu);
    while (c->inflight >= max && clock_mono_ms() < deadline && !bench_stopping())
        counter_wait(c);
    bool ok = c->inflight < max;
    if (ok)
        c->inflight++;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static void on_create(int rc, const char *value, const void *data)
{
    (void)value;
    counter_done((struct counter *)(uintptr_t)data, rc == ZOK);
}

static void on_void(int rc, const void *data)
{
    counter_done((struct counter *)(uintptr_t)data, rc == ZOK);
}

/* ------------------------------------------------------------------ async creates */

static void create_path(char *buf, size_t n, const char *root, uint64_t i)
{
    snprintf(buf, n, "%s/c%08" PRIu64, root, i);
}

static int run_creates(zhandle_t *zh, const char *root, uint64_t total, int64_t budget_ms,
                       struct bench_ceilings *out, struct corral_error *err)
{
    static char value[ZNODE_BYTES];
    memset(value, 'x', sizeof value);
    struct counter c;
    counter_init(&c);
    char path[CORRAL_PATH_MAX];
    int64_t t0 = clock_mono_ms(), stop_at = t0 + budget_ms;
    uint64_t issued = 0;
    int rc = CORRAL_OK;
    while (issued < total && clock_mono_ms() < stop_at) {
        if (!counter_reserve(&c, CREATE_INFLIGHT, stop_at))
            break;
        create_path(path, sizeof path, root, issued);
        int zrc = zoo_acreate(zh, path, value, ZNODE_BYTES, &ZOO_OPEN_ACL_UNSAFE, 0, on_create, &c);
        if (zrc != ZOK) {
            counter_done(&c, false);
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "zoo_acreate: %s", zerror(zrc));
            break;
        }
        issued++;
    }
    if (!counter_drain(&c, clock_mono_ms() + DRAIN_MS) && rc == CORRAL_OK)
        rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "creates still in flight after %d s",
                              DRAIN_MS / 1000);
    out->creates = c.ok;
    out->create_fail = c.fail;
    out->creates_ms = c.last_ms - t0;
    out->creates_per_s = bench_rate(c.ok, out->creates_ms);
    counter_destroy(&c);
    if (rc != CORRAL_OK)
        return rc;

    /* Their deletes, pipelined the same way (cleanup, and a figure of its own). */
    counter_init(&c);
    t0 = clock_mono_ms();
    for (uint64_t i = 0; i < issued; i++) {
        if (!counter_reserve(&c, CREATE_INFLIGHT, t0 + DRAIN_MS))
            break;
        create_path(path, sizeof path, root, i);
        int zrc = zoo_adelete(zh, path, -1, on_void, &c);
        if (zrc != ZOK) {
            counter_done(&c, false);
            break;
        }
    }
    (void)counter_drain(&c, clock_mono_ms() + DRAIN_MS);
    out->deletes = c.ok;
    out->deletes_ms = c.last_ms - t0;
    out->deletes_per_s = bench_rate(c.ok, out->deletes_ms);
    counter_destroy(&c);
    return CORRAL_OK;
}

/* ------------------------------------------------------------------ batched creates */

#define BATCH_K        100
#define BATCH_INFLIGHT 8

/* One multi of BATCH_K creates or deletes in flight. */
struct bslot {
    bool busy;
    int rc;
    zoo_op_t ops[BATCH_K];
    zoo_op_result_t res[BATCH_K];
    char paths[BATCH_K][64];
    struct counter *c;
};

static void on_bslot(int rc, const void *data)
{
    struct bslot *b = (struct bslot *)(uintptr_t)data;
    struct counter *c = b->c;
    pthread_mutex_lock(&c->mu);
    b->busy = false;
    c->inflight--;
    if (rc == ZOK)
        c->ok += BATCH_K;
    else
        c->fail += BATCH_K;
    c->last_ms = clock_mono_ms();
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

/* total znodes (a multiple of BATCH_K) created (or deleted) BATCH_K to a multi; *per_s. */
static int run_batched(zhandle_t *zh, const char *root, uint64_t total, bool create,
                       int64_t budget_ms, uint64_t *done, double *per_s, struct corral_error *err)
{
    static const char value[ZNODE_BYTES] = {0};
    struct counter c;
    counter_init(&c);
    struct bslot *slots = corral_xcalloc(BATCH_INFLIGHT, sizeof *slots);
    int64_t t0 = clock_mono_ms(), stop_at = t0 + budget_ms;
    int rc = CORRAL_OK;
    for (uint64_t first = 0; first < total && clock_mono_ms() < stop_at; first += BATCH_K) {
        if (!counter_reserve(&c, BATCH_INFLIGHT, stop_at))
            break;
        /* counter_reserve guarantees a free slot (at most BATCH_INFLIGHT are busy). */
        pthread_mutex_lock(&c.mu);
        struct bslot *b = &slots[0];
        for (int i = 0; i < BATCH_INFLIGHT; i++)
            if (!slots[i].busy) {
                b = &slots[i];
                break;
            }
        b->busy = true;
        pthread_mutex_unlock(&c.mu);
        b->c = &c;
        for (int j = 0; j < BATCH_K; j++) {
            snprintf(b->paths[j], sizeof b->paths[j], "%s/b%08" PRIu64, root, first + (uint64_t)j);
            if (create)
                zoo_create_op_init(&b->ops[j], b->paths[j], value, ZNODE_BYTES,
                                   &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
            else
                zoo_delete_op_init(&b->ops[j], b->paths[j], -1);
        }
        int zrc = zoo_amulti(zh, BATCH_K, b->ops, b->res, on_bslot, b);
        if (zrc != ZOK) {
            pthread_mutex_lock(&c.mu);
            b->busy = false;
            c.inflight--;
            pthread_mutex_unlock(&c.mu);
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "zoo_amulti: %s", zerror(zrc));
            break;
        }
    }
    bool drained = counter_drain(&c, clock_mono_ms() + DRAIN_MS);
    *done = c.ok;
    *per_s = bench_rate(c.ok, c.last_ms - t0);
    if (c.fail && rc == CORRAL_OK)
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "%" PRIu64 " batched %s failed", c.fail,
                              create ? "creates" : "deletes");
    counter_destroy(&c);
    if (!drained) {
        /* Completions may still come: leave the slots allocated (a bounded leak). */
        return rc == CORRAL_OK
                   ? corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                      "multis still in flight after %d s", DRAIN_MS / 1000)
                   : rc;
    }
    free(slots);
    return rc;
}

/* ------------------------------------------------------------------ fenced multis */

#define MULTI_K_MAX 100

/* One task life in flight: k tasks through the three multis (create, set, delete). */
struct chain {
    int id;
    int k;
    int stage; /* 0 create, 1 set, 2 delete */
    uint64_t round;
    int rc; /* of the last multi */
    bool idle;
    char paths[MULTI_K_MAX][64];
    zoo_op_t ops[MULTI_K_MAX + 1];
    zoo_op_result_t res[MULTI_K_MAX + 1];
    struct Stat stats[MULTI_K_MAX + 1];
    struct chain *next_ready;
    struct multi_run *run;
};

struct multi_run {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct chain *ready; /* completed multis, for the main thread to advance */
    int busy;            /* multis in flight */
    int64_t last_ms;
};

static void on_multi(int rc, const void *data)
{
    struct chain *ch = (struct chain *)(uintptr_t)data;
    struct multi_run *r = ch->run;
    pthread_mutex_lock(&r->mu);
    ch->rc = rc;
    ch->next_ready = r->ready;
    r->ready = ch;
    r->busy--;
    r->last_ms = clock_mono_ms();
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

static const char value_200[ZNODE_BYTES] = {0};

/* Send the chain's current stage. */
static int send_stage(zhandle_t *zh, const char *fence, struct chain *ch)
{
    int n = 0;
    zoo_check_op_init(&ch->ops[n++], fence, -1);
    for (int j = 0; j < ch->k; j++) {
        if (ch->stage == 0)
            zoo_create_op_init(&ch->ops[n++], ch->paths[j], value_200, ZNODE_BYTES,
                               &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        else if (ch->stage == 1)
            zoo_set_op_init(&ch->ops[n++], ch->paths[j], value_200, ZNODE_BYTES, -1, &ch->stats[j]);
        else
            zoo_delete_op_init(&ch->ops[n++], ch->paths[j], -1);
    }
    pthread_mutex_lock(&ch->run->mu);
    ch->run->busy++;
    pthread_mutex_unlock(&ch->run->mu);
    int rc = zoo_amulti(zh, n, ch->ops, ch->res, on_multi, ch);
    if (rc != ZOK) {
        pthread_mutex_lock(&ch->run->mu);
        ch->run->busy--;
        pthread_mutex_unlock(&ch->run->mu);
    }
    return rc;
}

static void new_round(struct chain *ch, const char *root)
{
    ch->stage = 0;
    ch->round++;
    for (int j = 0; j < ch->k; j++)
        snprintf(ch->paths[j], sizeof ch->paths[j], "%s/m%d-%d-%" PRIu64 "-%d", root, ch->k, ch->id,
                 ch->round, j);
}

static int run_multi(zhandle_t *zh, const char *root, const char *fence, int k, int inflight,
                     int64_t ms, struct ceil_multi *out, struct corral_error *err)
{
    struct multi_run run = {0};
    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cond, NULL);
    struct chain *chains = corral_xcalloc((size_t)inflight, sizeof *chains);
    *out = (struct ceil_multi){.k = k, .inflight = inflight};
    int64_t t0 = clock_mono_ms(), stop_at = t0 + ms, give_up = stop_at + DRAIN_MS;
    int rc = CORRAL_OK;
    for (int i = 0; i < inflight; i++) {
        chains[i] = (struct chain){.id = i, .k = k, .run = &run};
        new_round(&chains[i], root);
        int zrc = send_stage(zh, fence, &chains[i]);
        if (zrc != ZOK) {
            chains[i].idle = true;
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "zoo_amulti: %s", zerror(zrc));
        }
    }
    pthread_mutex_lock(&run.mu);
    for (;;) {
        while (!run.ready && run.busy > 0 && clock_mono_ms() < give_up) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&run.cond, &run.mu, &ts);
        }
        struct chain *ready = run.ready;
        run.ready = NULL;
        if (!ready && (run.busy == 0 || clock_mono_ms() >= give_up))
            break;
        pthread_mutex_unlock(&run.mu);
        bool stopping = clock_mono_ms() >= stop_at || bench_stopping();
        for (struct chain *ch = ready, *next; ch; ch = next) {
            next = ch->next_ready;
            out->multis++;
            if (ch->rc != ZOK) {
                /* Should not happen; the nodes of this chain may be left (the root's delete
                 * below then fails and says so). */
                out->failed++;
                ch->idle = true;
                continue;
            }
            if (ch->stage == 2) {
                out->lives += (uint64_t)ch->k;
                if (stopping) {
                    ch->idle = true;
                    continue;
                }
                new_round(ch, root);
            } else {
                ch->stage++; /* a started life is finished even after the stop: no leftovers */
            }
            if (send_stage(zh, fence, ch) != ZOK)
                ch->idle = true;
        }
        pthread_mutex_lock(&run.mu);
    }
    int busy = run.busy;
    pthread_mutex_unlock(&run.mu);
    out->ms = run.last_ms - t0;
    out->lives_per_s = bench_rate(out->lives, out->ms);
    out->multis_per_s = bench_rate(out->multis, out->ms);
    if (busy > 0) {
        /* Completions may still come: leave the chains allocated (a bounded leak). */
        if (rc == CORRAL_OK)
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "multis still in flight after %d s",
                                  DRAIN_MS / 1000);
        return rc;
    }
    free(chains);
    pthread_cond_destroy(&run.cond);
    pthread_mutex_destroy(&run.mu);
    if (rc == CORRAL_OK && out->failed > 0)
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "%" PRIu64 " multis failed (k=%d)",
                              out->failed, k);
    return rc;
}

/* ------------------------------------------------------------------ all of it */

int ceil_zk(const char *hosts, const char *root, const struct bench_opts *o,
            struct bench_ceilings *out, struct corral_error *err)
{
    struct zkraw *z = zkraw_open(hosts, 4000, err);
    if (!z)
        return err->code;
    zhandle_t *zh = zkraw_handle(z);
    char fence[CORRAL_PATH_MAX];
    snprintf(fence, sizeof fence, "%s/fence", root);
    int zrc = zoo_create(zh, root, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (zrc == ZOK || zrc == ZNODEEXISTS)
        zrc = zoo_create(zh, fence, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (zrc != ZOK && zrc != ZNODEEXISTS) {
        zkraw_close(z);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "create %s: %s", root, zerror(zrc));
    }
    /* Warm-up, not reported: the JVM compiles ZooKeeper's request path during the first
     * thousands of requests, and a cold server would understate every ceiling. */
    struct bench_ceilings scratch = {0};
    struct ceil_multi scratch_multi;
    uint64_t warm = (uint64_t)o->ceil_creates / 4 < 1000 ? 1000 : (uint64_t)o->ceil_creates / 4;
    int rc = run_creates(zh, root, warm, o->budget_s * 1000, &scratch, err);
    if (rc == CORRAL_OK)
        rc = run_multi(zh, root, fence, 10, 16, o->ceil_ms / 2, &scratch_multi, err);
    if (rc == CORRAL_OK)
        rc = run_creates(zh, root, (uint64_t)o->ceil_creates, o->budget_s * 1000, out, err);
    if (rc == CORRAL_OK)
        bench_progress("a: %" PRIu64 " async creates in %" PRId64 " ms: %.0f/s; deletes %.0f/s",
                       out->creates, out->creates_ms, out->creates_per_s, out->deletes_per_s);
    if (rc == CORRAL_OK) {
        uint64_t n = ((uint64_t)o->ceil_creates * 5 + BATCH_K - 1) / BATCH_K * BATCH_K;
        double del_per_s = 0;
        uint64_t deleted = 0;
        rc = run_batched(zh, root, n, true, o->budget_s * 1000, &out->batched_creates,
                         &out->batched_creates_per_s, err);
        int rc2 = run_batched(zh, root, n, false, o->budget_s * 1000, &deleted, &del_per_s, err);
        if (rc == CORRAL_OK)
            rc = rc2;
        if (rc == CORRAL_OK)
            bench_progress("a: %" PRIu64 " creates in multis of %d: %.0f/s", out->batched_creates,
                           BATCH_K, out->batched_creates_per_s);
    }
    static const int ks[CEIL_MULTI_KS] = {1, 10, 100};
    static const int inflight[CEIL_MULTI_KS] = {64, 16, 4};
    for (int i = 0; i < CEIL_MULTI_KS && rc == CORRAL_OK && !bench_stopping(); i++) {
        rc = run_multi(zh, root, fence, ks[i], inflight[i], o->ceil_ms, &out->multi[i], err);
        const struct ceil_multi *m = &out->multi[i];
        if (rc == CORRAL_OK)
            bench_progress("a: fenced multis k=%d (%d in flight): %.0f task lives/s, %.0f "
                           "multis/s",
                           m->k, m->inflight, m->lives_per_s, m->multis_per_s);
        if (m->lives_per_s > out->multi_best)
            out->multi_best = m->lives_per_s;
    }
    if (rc == CORRAL_OK) {
        (void)zoo_delete(zh, fence, -1);
        zrc = zoo_delete(zh, root, -1);
        if (zrc != ZOK)
            bench_progress("a: note: %s not deleted: %s", root, zerror(zrc));
    }
    zkraw_close(z);
    if (rc == CORRAL_OK && bench_stopping())
        rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "stopped");
    return rc;
}
