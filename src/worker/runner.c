/* SPDX-License-Identifier: MIT */
/*
 * Worker side of the supervisors: spawn `corral-worker --supervise` with its config in a memfd,
 * the result pipe and the lease page (supervisor.h has the protocol), read its result lines.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "corral/text.h"
#include "io/log.h"
#include "io/proc.h"
#include "worker/run_as.h"
#include "worker/runner.h"

#define CORRAL_LOG_MODULE "runner"

/* A stopped supervisor's tree: at most this many kill passes (1 ms apart). */
#define STOPPED_KILL_PASSES 200

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

void runner_free(struct runner *r)
{
    if (!r)
        return;
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

/* The supervisor's config as a memfd positioned at 0, or -1. */
static int config_fd(struct runner *r, const char *task_id, uint32_t attempt, uint64_t epoch,
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
    if (!text) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "cannot render supervisor config");
        return -1;
    }
    int fd = memfd_create("corral-task", MFD_CLOEXEC);
    size_t len = strlen(text), off = 0;
    while (fd >= 0 && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            fd = -1;
            break;
        }
        off += (size_t)w;
    }
    free(text);
    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "supervisor config: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
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

    int rc = 0, cfd = -1, ofd = -1, pipefd[2] = {-1, -1};
    cfd = config_fd(r, task_id, attempt, epoch, spec, err);
    if (cfd < 0) {
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
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "pipe: %s", strerror(errno));
        goto out;
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
        .keep_fds = {pipefd[1], r->lease_fd, ofd}, /* SUP_RESULT_FD, SUP_LEASE_FD, SUP_OUTPUT_FD */
        .n_keep = 3,
        /* Own session: a terminal's Ctrl-C to the worker's group must not reach supervisors
         * (the worker drains on SIGINT; its tasks keep running meanwhile). */
        .new_session = true,
    };
    pid_t pid;
    if ((rc = proc_spawn(&o, &pid, err)))
        goto out;
    run->pid = pid;
    run->fd = pipefd[0];
    pipefd[0] = -1;
    (void)fcntl(run->fd, F_SETFL, O_NONBLOCK);
out:
    if (rc && ofd >= 0)
        (void)unlink(run->output_path);
    if (ofd >= 0)
        close(ofd);
    if (cfd >= 0)
        close(cfd);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    return rc;
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
