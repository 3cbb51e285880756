/* SPDX-License-Identifier: MIT */
/*
 * Worker side of the supervisors: have the zygote fork one (zygote.h), or spawn
 * `corral-supervisor` / `corral-worker --supervise`, with its config, the result pipe, the lease
 * page and the output file (supervisor.h has the protocol); read its result lines.
 * Spawning goes through proc_spawn(), which runs only async-signal-safe code between fork and
 * exec: the worker has ZooKeeper threads, so anything else could deadlock the child.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "corral/text.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/proc.h"
#include "worker/run_as.h"
#include "worker/runner.h"
#include "worker/zygote.h"

#define CORRAL_LOG_MODULE "runner"

/* A stopped supervisor's tree: at most this many kill passes (1 ms apart). */
#define STOPPED_KILL_PASSES 200
/* A zygote that was lost is started again at most this often. */
#define ZYGOTE_RESTART_MS 1000
/* A killed zygote is waited for at most this long (it dies at once unless the kernel holds it). */
#define ZYGOTE_REAP_MS 2000

/* Variables the supervisor (and so the task) may inherit from the worker; nothing else, so
 * secrets in the worker's environment (CORRAL_ZK_AUTH) never reach a task. */
static const char *const passed_env[] = {"PATH", "HOME", "LANG", "USER", "TMPDIR"};
#define N_PASSED (sizeof passed_env / sizeof passed_env[0])

struct runner {
    char *work_dir;
    json_t *run_as; /* the "run_as" object of every supervisor config, or NULL */
    const char *level_name;
    int lease_fd;
    struct sup_lease *lease;
    char *env_store[N_PASSED];
    char *envp[N_PASSED + 1];
    char *worker_exe; /* this program's path (HTTP tasks run as it), NULL if unknown */
    char *sup_exe;    /* corral-supervisor next to it, NULL: re-execute ourselves */
    /* The supervisors' fork server (zygote.h). */
    pid_t zyg_pid;       /* running (or not yet reaped), else 0 */
    int zyg_fd;          /* our end of its socket; -1 while there is none to ask */
    int64_t zyg_next_ms; /* no new zygote before this (monotonic ms) */
    bool zyg_off;        /* this build cannot have one (ENOSYS) */
};

/* Where this program lives, and the supervisor program beside it (if installed). */
static void find_programs(struct runner *r)
{
    char self[4096];
    if (!proc_self_exe(self, sizeof self))
        return;
    r->worker_exe = strdup(self);
    char *slash = strrchr(self, '/');
    if (!slash)
        return;
    char sup[4096 + 32];
    snprintf(sup, sizeof sup, "%.*s/corral-supervisor", (int)(slash - self), self);
    if (access(sup, X_OK) == 0)
        r->sup_exe = strdup(sup);
}

/* What a supervisor needs of --run-as, as numbers (it is static and cannot use NSS). */
static json_t *run_as_json(const struct run_as *ra)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < ra->n_groups; i++)
        json_array_append_new(groups, json_integer((json_int_t)ra->groups[i]));
    return json_pack("{s:b, s:I, s:I, s:o, s:s, s:s}", "switch", ra->do_switch, "uid",
                     (json_int_t)ra->uid, "gid", (json_int_t)ra->gid, "groups", groups, "user",
                     ra->name, "home", ra->home);
}

struct runner *runner_new(const char *work_dir, enum corral_log_level level,
                          const struct run_as *run_as, struct corral_error *err)
{
    struct runner *r = calloc(1, sizeof *r);
    if (!r) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "out of memory");
        return NULL;
    }
    r->lease_fd = -1;
    r->zyg_fd = -1;
    r->level_name = corral_log_level_name(level);
    if (run_as && !(r->run_as = run_as_json(run_as))) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "cannot render --run-as");
        runner_free(r);
        return NULL;
    }
    r->work_dir = strdup(work_dir);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    r->lease_fd = memfd_create("corral-lease", MFD_CLOEXEC);
    if (!r->work_dir || r->lease_fd < 0 || ftruncate(r->lease_fd, (off_t)page) < 0) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "lease page: %s", strerror(errno));
        runner_free(r);
        return NULL;
    }
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, r->lease_fd, 0);
    if (p == MAP_FAILED) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "mmap lease page: %s", strerror(errno));
        runner_free(r);
        return NULL;
    }
    r->lease = p;
    atomic_store(&r->lease->last_rx_ms, 0);
    atomic_store(&r->lease->lease_ms, 0);
    size_t k = 0;
    for (size_t i = 0; i < N_PASSED; i++) {
        const char *v = getenv(passed_env[i]);
        if (v && asprintf(&r->env_store[i], "%s=%s", passed_env[i], v) >= 0)
            r->envp[k++] = r->env_store[i];
        else
            r->env_store[i] = NULL;
    }
    r->envp[k] = NULL;
    find_programs(r);
    CORRAL_LOG(CORRAL_LOG_DEBUG, "supervisor program %s", r->sup_exe ? r->sup_exe : "(self)");
    return r;
}

static void zygote_stop(struct runner *r);

void runner_free(struct runner *r)
{
    if (!r)
        return;
    zygote_stop(r);
    if (r->lease)
        munmap(r->lease, (size_t)sysconf(_SC_PAGESIZE));
    if (r->lease_fd >= 0)
        close(r->lease_fd);
    for (size_t i = 0; i < N_PASSED; i++)
        free(r->env_store[i]);
    json_decref(r->run_as);
    free(r->work_dir);
    free(r->worker_exe);
    free(r->sup_exe);
    free(r);
}

void runner_set_lease(struct runner *r, int64_t last_rx_ms, int64_t lease_ms)
{
    atomic_store(&r->lease->last_rx_ms, last_rx_ms);
    atomic_store(&r->lease->lease_ms, lease_ms);
}

/* The supervisor's config (supervisor.h, fd 0) as compact JSON (malloc'd), or NULL. */
static char *config_text(struct runner *r, const char *task_id, uint32_t attempt, uint64_t epoch,
                         const struct corral_spec *spec, struct corral_error *err)
{
    json_t *cfg = json_pack("{s:s, s:I, s:I, s:o, s:I, s:s}", "task_id", task_id, "attempt",
                            (json_int_t)attempt, "epoch", (json_int_t)epoch, "spec",
                            corral_spec_to_json(spec), "parent", (json_int_t)getpid(), "log_level",
                            r->level_name);
    if (cfg && r->worker_exe)
        json_object_set_new(cfg, "worker_exe", json_string(r->worker_exe));
    if (cfg && log_is_json()) { /* the supervisor logs as its worker does */
        json_object_set_new(cfg, "log_json", json_true());
        json_object_set_new(cfg, "log_worker", json_string(log_context_value()));
    }
    if (cfg && r->run_as)
        json_object_set(cfg, "run_as", r->run_as);
    char *text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
    json_decref(cfg);
    if (!text)
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "cannot render supervisor config");
    return text;
}

/* Write all of text to fd; false on an error (EAGAIN included: fd never blocks here). */
static bool write_all(int fd, const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    return true;
}

/* The config as a memfd positioned at 0, or -1. */
static int config_memfd(const char *text, struct corral_error *err)
{
    int fd = memfd_create("corral-task", MFD_CLOEXEC);
    if (fd >= 0 && !write_all(fd, text, strlen(text))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "supervisor config: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* ---- the zygote (zygote.h) ---- */

/* The zygote is gone (reaped): none until ZYGOTE_RESTART_MS from now. */
static void zygote_forget(struct runner *r)
{
    if (r->zyg_fd >= 0)
        close(r->zyg_fd);
    r->zyg_fd = -1;
    r->zyg_pid = 0;
    r->zyg_next_ms = clock_mono_ms() + ZYGOTE_RESTART_MS;
}

/* Kill the zygote and wait for it: once this returns it can make no supervisor any more. */
static void zygote_stop(struct runner *r)
{
    if (r->zyg_pid > 0) {
        (void)kill(r->zyg_pid, SIGKILL);
        int64_t until = clock_mono_ms() + ZYGOTE_REAP_MS;
        for (;;) {
            pid_t p = waitpid(r->zyg_pid, NULL, WNOHANG);
            if (p == r->zyg_pid || (p < 0 && errno == ECHILD))
                break;
            if (clock_mono_ms() >= until) {
                CORRAL_LOG(CORRAL_LOG_WARN, "supervisor zygote pid=%ld does not die",
                           (long)r->zyg_pid);
                break;
            }
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    zygote_forget(r);
}

static bool zygote_ready(struct runner *r)
{
    if (r->zyg_fd >= 0)
        return true;
    if (r->zyg_off || r->zyg_pid > 0 || clock_mono_ms() < r->zyg_next_ms)
        return false;
    r->zyg_next_ms = clock_mono_ms() + ZYGOTE_RESTART_MS;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        CORRAL_LOG(CORRAL_LOG_WARN, "supervisor zygote: socketpair: %s", strerror(errno));
        return false;
    }
    char name[] = "corral-worker", mode[] = "--supervise-zygote";
    char sname[] = "corral-supervisor", smode[] = "--zygote";
    char *const argv[] = {name, mode, NULL};
    char *const sargv[] = {sname, smode, NULL};
    struct proc_spawn_opts o = {
        .file = r->sup_exe ? r->sup_exe : "/proc/self/exe",
        .argv = r->sup_exe ? sargv : argv,
        .envp = r->envp,
        .stdin_fd = -1,
        .stdout_fd = -1,
        .stderr_fd = STDERR_FILENO,
        .keep_fds = {sv[1], r->lease_fd}, /* ZYGOTE_CTL_FD, SUP_LEASE_FD */
        .n_keep = 2,
        .new_session = true,
    };
    struct corral_error err = {0};
    pid_t pid;
    int rc = proc_spawn(&o, &pid, &err);
    close(sv[1]);
    if (rc) {
        CORRAL_LOG(CORRAL_LOG_WARN, "supervisor zygote: %s; supervisors start by exec", err.msg);
        close(sv[0]);
        return false;
    }
    r->zyg_pid = pid;
    r->zyg_fd = sv[0];
    CORRAL_LOG(CORRAL_LOG_DEBUG, "supervisor zygote pid=%ld", (long)pid);
    return true;
}

/*
 * Ask the zygote for a supervisor with these fds (supervisor.h's 0, 3 and 5). Its pid, or 0
 * when the zygote made none; a zygote that failed to answer is killed first, so that no
 * supervisor can appear later from this request.
 */
static pid_t zygote_spawn(struct runner *r, int cfg_fd, int result_fd, int out_fd)
{
    int fds[ZYGOTE_FDS] = {cfg_fd, result_fd, out_fd};
    ssize_t n = zygote_send(r->zyg_fd, ZYGOTE_MAGIC, fds, ZYGOTE_FDS);
    const char *why = NULL;
    struct zygote_reply rep = {0, 0};
    if (n != (ssize_t)sizeof(struct zygote_request)) {
        why = n < 0 ? strerror(errno) : "short send";
    } else {
        int64_t until = clock_mono_ms() + ZYGOTE_REPLY_MS;
        struct pollfd p = {.fd = r->zyg_fd, .events = POLLIN};
        int pr;
        for (;;) {
            int64_t left = until - clock_mono_ms();
            pr = poll(&p, 1, left > 0 ? (int)left : 0);
            if (pr >= 0 || errno != EINTR || left <= 0)
                break;
        }
        if (pr <= 0)
            why = pr == 0 ? "no answer" : strerror(errno);
        else if ((n = recv(r->zyg_fd, &rep, sizeof rep, 0)) != (ssize_t)sizeof rep)
            why = n == 0 ? "it exited" : "bad answer";
    }
    if (why) {
        CORRAL_LOG(CORRAL_LOG_WARN,
                   "supervisor zygote pid=%ld: %s; killed, this supervisor "
                   "starts by exec",
                   (long)r->zyg_pid, why);
        zygote_stop(r);
        return 0;
    }
    if (rep.pid > 0)
        return (pid_t)rep.pid;
    if (rep.err == ENOSYS) {
        r->zyg_off = true; /* this build cannot (ThreadSanitizer) */
        zygote_stop(r);
    } else {
        CORRAL_LOG(CORRAL_LOG_WARN, "supervisor zygote: fork: %s; this supervisor starts by exec",
                   strerror(rep.err));
    }
    return 0;
}

/*
 * A supervisor from the zygote. Its config goes through a pipe written only after the zygote
 * named the supervisor: one made for a request whose answer was lost reads an empty config and
 * exits without running anything (supervisor_main reports a bad configuration to a pipe nobody
 * reads). Returns the pid and sets *result_rd, or 0 (nothing is left running).
 */
static pid_t start_by_zygote(struct runner *r, const char *text, int out_fd, int *result_rd)
{
    size_t len = strlen(text);
    int cp[2] = {-1, -1}, rp[2] = {-1, -1};
    pid_t pid = 0;
    if (pipe2(cp, O_CLOEXEC) < 0 || pipe2(rp, O_CLOEXEC) < 0)
        goto out;
    /* The whole config must fit in the pipe: it is written without waiting for the reader. */
    if (len >= 65536 && fcntl(cp[1], F_SETPIPE_SZ, (int)len + 1) < (int)len + 1)
        goto out;
    (void)fcntl(cp[1], F_SETFL, O_NONBLOCK);
    pid = zygote_spawn(r, cp[0], rp[1], out_fd);
    if (pid <= 0)
        goto out;
    if (!write_all(cp[1], text, len))
        CORRAL_LOG(CORRAL_LOG_WARN, "config of supervisor pid=%ld: %s", (long)pid,
                   strerror(errno)); /* it reports the bad config; the attempt fails */
    *result_rd = rp[0];
    rp[0] = -1;
out:
    for (int i = 0; i < 2; i++) {
        if (cp[i] >= 0)
            close(cp[i]);
        if (rp[i] >= 0)
            close(rp[i]);
    }
    return pid;
}

/* A supervisor by exec of corral-supervisor (or of ourselves): the way without a zygote. */
static int start_by_exec(struct runner *r, const char *text, int out_fd, pid_t *pid, int *result_rd,
                         struct corral_error *err)
{
    int rc, cfd = config_memfd(text, err), pipefd[2] = {-1, -1};
    if (cfd < 0)
        return CORRAL_EINTERNAL;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "pipe: %s", strerror(errno));
        close(cfd);
        return rc;
    }
    char name[] = "corral-worker", mode[] = "--supervise", sname[] = "corral-supervisor";
    char *const argv[] = {name, mode, NULL};
    char *const sargv[] = {sname, NULL};
    struct proc_spawn_opts o = {
        /* corral-supervisor when installed beside us; else the running binary (even if it
         * was replaced on disk since the worker started). */
        .file = r->sup_exe ? r->sup_exe : "/proc/self/exe",
        .argv = r->sup_exe ? sargv : argv,
        .envp = r->envp,
        .stdin_fd = cfd,
        .stdout_fd = -1,
        .stderr_fd = STDERR_FILENO,
        .keep_fds = {pipefd[1], r->lease_fd,
                     out_fd}, /* SUP_RESULT_FD, SUP_LEASE_FD, SUP_OUTPUT_FD */
        .n_keep = 3,
        /* Own session: a terminal's Ctrl-C to the worker's group must not reach supervisors
         * (the worker drains on SIGINT; its tasks keep running meanwhile). */
        .new_session = true,
    };
    rc = proc_spawn(&o, pid, err);
    close(cfd);
    close(pipefd[1]);
    if (rc) {
        close(pipefd[0]);
        return rc;
    }
    *result_rd = pipefd[0];
    return CORRAL_OK;
}

int runner_start(struct runner *r, struct run *run, const char *task_id, uint32_t attempt,
                 uint64_t epoch, const struct corral_spec *spec, struct corral_error *err)
{
    memset(run, 0, sizeof *run);
    run->fd = -1;
    int n = snprintf(run->output_path, sizeof run->output_path, "%s/%s.%u.out", r->work_dir,
                     task_id, attempt);
    if (n < 0 || (size_t)n >= sizeof run->output_path)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "output path too long");

    int rc = 0, ofd = -1;
    char *text = config_text(r, task_id, attempt, epoch, spec, err);
    if (!text) {
        rc = CORRAL_EINTERNAL;
        goto out;
    }
    /* Created here, not by the supervisor: the supervisor never opens it by name, so once
     * runner_close() unlinked it nothing can create it again. Always a new regular file: a
     * task running as our uid may have put a link or a FIFO at this name beforehand (O_EXCL
     * with O_NOFOLLOW follows nothing, O_NONBLOCK never waits on a FIFO's other end). */
    if (unlink(run->output_path) < 0 && errno != ENOENT)
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot remove stale %s: %s", run->output_path,
                   strerror(errno));
    ofd = open(run->output_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
               0600);
    struct stat st;
    if (ofd < 0 || fstat(ofd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "open %s: %s", run->output_path,
                              ofd < 0 ? strerror(errno) : "not a regular file");
        if (ofd >= 0)
            close(ofd);
        ofd = -1; /* not ours to unlink */
        goto out;
    }
    pid_t pid = 0;
    int result_rd = -1;
    if (zygote_ready(r))
        pid = start_by_zygote(r, text, ofd, &result_rd);
    if (pid <= 0 && (rc = start_by_exec(r, text, ofd, &pid, &result_rd, err)))
        goto out;
    run->pid = pid;
    run->fd = result_rd;
    (void)fcntl(run->fd, F_SETFL, O_NONBLOCK);
out:
    if (rc && ofd >= 0)
        (void)unlink(run->output_path);
    if (ofd >= 0)
        close(ofd);
    free(text);
    return rc;
}

bool runner_own_child(struct runner *r, pid_t pid, bool stopped)
{
    if (r->zyg_pid <= 0 || pid != r->zyg_pid)
        return false;
    if (stopped) {
        /* A stopped zygote answers nobody: kill it (and wait for it) now. */
        CORRAL_LOG(CORRAL_LOG_WARN, "supervisor zygote pid=%ld was stopped by a signal; killed",
                   (long)pid);
        zygote_stop(r);
        return true;
    }
    CORRAL_LOG(CORRAL_LOG_WARN, "supervisor zygote pid=%ld exited; a new one is started later",
               (long)pid);
    zygote_forget(r);
    return true;
}

pid_t runner_zygote_pid(const struct runner *r)
{
    return r->zyg_pid;
}

void runner_cancel(struct run *run)
{
    if (run->pid > 0)
        (void)kill(run->pid, SIGUSR1);
}

void runner_kill(struct run *run)
{
    if (run->pid > 0)
        (void)kill(run->pid, SIGUSR2);
    /* Do not wait for the supervisor to relay it: the task's attempt is void already. */
    if (run->task_pgid > 0 && !run->done)
        proc_kill_group(run->task_pgid, SIGKILL);
}

bool runner_stopped(struct run *run, pid_t pid)
{
    if (run->pid <= 0 || run->pid != pid)
        return false;
    if (run->stopped)
        return true;
    run->stopped = true;
    CORRAL_LOG(CORRAL_LOG_WARN,
               "supervisor pid=%ld was stopped by a signal: killing its task's processes and it",
               (long)pid);
    /* Stopped, it cannot reap: as a subreaper it keeps every process of the task below it
     * (setsid and double forks included), dead ones as zombies. Kill until a pass finds no
     * live one: a process killed cannot fork any more, so only those forked during a pass
     * remain for the next. Bounded, in case of a fork race we cannot win. */
    if (run->task_pgid > 0)
        proc_kill_group(run->task_pgid, SIGKILL);
    for (int pass = 0; pass < STOPPED_KILL_PASSES; pass++) {
        if (proc_kill_descendants(pid, SIGKILL) == 0)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    /* SIGKILL ends a stopped process too; its result pipe then closes (runner_read). */
    (void)kill(pid, SIGKILL);
    return true;
}

bool runner_reaped(struct run *run, pid_t pid)
{
    if (run->pid <= 0 || run->pid != pid)
        return false;
    run->pid = 0;
    return true;
}

static void close_pipe(struct run *run)
{
    if (run->fd >= 0)
        close(run->fd);
    run->fd = -1;
}

void runner_close(struct run *run)
{
    close_pipe(run);
    if (run->output_path[0] && unlink(run->output_path) < 0 && errno != ENOENT)
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot remove output file %s: %s", run->output_path,
                   strerror(errno));
    run->output_path[0] = '\0';
}

static void parse_line(struct run *run, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        CORRAL_LOG(CORRAL_LOG_WARN, "bad line from supervisor pid=%ld", (long)run->pid);
        json_decref(o);
        return;
    }
    json_t *pg = json_object_get(o, "pgid");
    if (json_is_integer(pg))
        run->task_pgid = (pid_t)json_integer_value(pg);
    json_t *oc = json_object_get(o, "outcome");
    if (json_is_string(oc)) {
        int v = corral_run_outcome_parse(json_string_value(oc));
        struct corral_run_result *res = &run->result;
        memset(res, 0, sizeof *res);
        res->outcome = v < 0 ? CORRAL_RUN_LOST : (enum corral_run_outcome)v;
        json_t *ec = json_object_get(o, "exit_code");
        if (json_is_integer(ec)) {
            res->has_exit_code = true;
            res->exit_code = (int)json_integer_value(ec);
        }
        res->signal = (int)json_integer_value(json_object_get(o, "signal"));
        res->http_status = (int)json_integer_value(json_object_get(o, "http_status"));
        const char *e = json_string_value(json_object_get(o, "error"));
        snprintf(res->error, sizeof res->error, "%s", e ? e : "");
        run->has_result = true;
    }
    json_decref(o);
}

bool runner_read(struct run *run)
{
    while (run->fd >= 0) {
        if (run->len == sizeof run->buf)
            run->len = 0; /* an over-long line is garbage: drop it */
        ssize_t n = read(run->fd, run->buf + run->len, sizeof run->buf - run->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (n <= 0) {
            close_pipe(run); /* the output file stays: the result is not stored yet */
            break;
        }
        run->len += (size_t)n;
        char *nl;
        while ((nl = memchr(run->buf, '\n', run->len))) {
            size_t l = (size_t)(nl - run->buf);
            parse_line(run, run->buf, l);
            memmove(run->buf, nl + 1, run->len - l - 1);
            run->len -= l + 1;
        }
    }
    if (!run->done) {
        run->done = true;
        if (!run->has_result) {
            /* The supervisor died (OOM killer, kill -9): make sure its task dies too, since
             * nobody else would enforce timeout, cancel or lease for it any more. */
            if (run->task_pgid > 0)
                proc_kill_group(run->task_pgid, SIGKILL);
            memset(&run->result, 0, sizeof run->result);
            run->result.outcome = CORRAL_RUN_LOST;
            snprintf(run->result.error, sizeof run->result.error, "%s",
                     run->stopped ? "the task's supervisor was stopped by a signal; attempt "
                                    "killed"
                                  : "supervisor exited without a result");
        }
    }
    return true;
}

bool runner_output_window(const char *path, size_t max_bytes, char **data, size_t *len,
                          uint64_t *size)
{
    *data = NULL;
    *len = 0;
    *size = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    size_t total = (size_t)st.st_size;
    size_t want = total < max_bytes ? total : max_bytes;
    char *buf = malloc(want + 1);
    if (!buf) {
        close(fd);
        return false;
    }
    ssize_t n = pread(fd, buf, want, (off_t)(total - want));
    close(fd);
    if (n < 0) {
        free(buf);
        return false;
    }
    /* The file may have grown since the stat: what we read ends at total - want + n. */
    *data = buf;
    *len = (size_t)n;
    *size = (uint64_t)(total - want) + (uint64_t)n;
    return true;
}

char *runner_output_tail(const char *path, size_t max_bytes)
{
    /* The task may have replaced its file (same uid, no --run-as): never follow a link, never
     * wait for a FIFO's writer, read nothing but a regular file. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            CORRAL_LOG(CORRAL_LOG_WARN, "output file %s: %s; no output kept", path,
                       strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        CORRAL_LOG(CORRAL_LOG_WARN, "output file %s is not a regular file; no output kept", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    size_t want = size < max_bytes ? size : max_bytes;
    off_t from = (off_t)(size - want);
    char *buf = malloc(want + 1);
    if (!buf) {
        close(fd);
        return NULL;
    }
    ssize_t n = pread(fd, buf, want, from);
    close(fd);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    /* Cutting at a byte offset can split a UTF-8 sequence: skip its orphaned continuation
     * bytes instead of turning them into U+FFFD. */
    size_t skip = 0;
    if (from > 0)
        while (skip < 3 && skip < (size_t)n && ((unsigned char)buf[skip] & 0xC0) == 0x80)
            skip++;
    char *s = corral_utf8_repair(buf + skip, (size_t)n - skip);
    free(buf);
    return s;
}
