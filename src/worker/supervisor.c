/* SPDX-License-Identifier: MIT */
/*
 * `corral-worker --supervise`: runs one task attempt and guarantees it ends. It spawns the task
 * in its own session (process group), then waits for it while watching the timeout, cancel
 * signals from the worker, the worker's death and the ZooKeeper lease the worker publishes in a
 * shared page. Any of those kills the whole tree: SIGTERM to the group, SIGKILL after 2 s, and
 * a sweep of every descendant left (it is a child subreaper, so orphans come back to it).
 * Lease expiry and "kill now" skip the grace: another attempt may start elsewhere soon.
 * The task writes its stdout and stderr into a pipe that the same loop copies into the output
 * file, which it keeps within SUP_OUTPUT_MAX_BYTES (the latest bytes win); a task is never
 * stopped for writing a lot.
 * Single-threaded and a fresh process image, so fork without exec (HTTP tasks) is safe here.
 * Protocol: supervisor.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "corral/limits.h"
#include "corral/privilege.h"
#include "corral/spec.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/proc.h"
#include "worker/sup_config.h"
#include "worker/supervisor.h"

#define CORRAL_LOG_MODULE "supervisor"

#define SWEEP_MAX_MS 2000

/* Output copying: one read takes at most OUTPUT_CHUNK bytes, and one turn of the loop at most
 * OUTPUT_READS_PER_TURN reads, so a task that writes without pause still leaves the loop time
 * for signals, the timeout and the lease. After the task ended, what is left in the pipe is
 * copied for at most DRAIN_MAX_MS (only a survivor of the sweep could keep writing). */
#define OUTPUT_KEEP           (SUP_OUTPUT_MAX_BYTES / 2)
#define OUTPUT_CHUNK          (64u * 1024u)
#define OUTPUT_READS_PER_TURN 16
#define DRAIN_MAX_MS          2000

static_assert(OUTPUT_KEEP >= CORRAL_OUTPUT_TAIL_BYTES, "the file must hold the whole API tail");
static_assert(OUTPUT_CHUNK <= OUTPUT_KEEP, "one read must fit in what a compaction keeps");

/* Exit codes of the HTTP child (the error text travels on a pipe). */

/* The task's output: a pipe from the task, copied into the file on SUP_OUTPUT_FD. */
struct output {
    int fd;        /* the output file; -1 when unusable (output is then read and dropped) */
    int pipe_fd;   /* read end of the task's stdout+stderr, non-blocking; -1 after EOF */
    off_t size;    /* bytes in the file; at most SUP_OUTPUT_MAX_BYTES */
    bool warned;   /* a write error was logged (once per attempt) */
    char *buf;     /* OUTPUT_CHUNK bytes: what was read from the pipe */
    char *scratch; /* OUTPUT_CHUNK bytes: compaction copies */
};

struct sup {
    char task_id[CORRAL_ID_LEN + 1];
    uint32_t attempt;
    uint64_t epoch;
    struct corral_spec spec;
    pid_t parent;

    struct output out;
    const struct sup_lease *lease; /* borrowed mapping; NULL when unavailable */
    pid_t pid;                     /* the task's main process (and its pgid) */
    int http_errfd;                /* HTTP: read end of the child's error pipe, else -1 */

    struct sup_config cfg; /* as read (its spec moved to spec above) */

    enum corral_run_outcome reason; /* why we kill it; CORRAL_RUN_EXITED = we did not */
    bool hard;                      /* SIGKILL sent */
    int64_t escalate_at_ms;         /* monotonic: SIGKILL when still alive */
};

/* ---- config ---- */

static int load_config(struct sup *s, enum corral_log_level *level)
{
    if (sup_config_read(STDIN_FILENO, &s->cfg) != 0)
        return -1;
    snprintf(s->task_id, sizeof s->task_id, "%s", s->cfg.task_id);
    s->attempt = s->cfg.attempt;
    s->epoch = s->cfg.epoch;
    s->parent = s->cfg.parent;
    *level = s->cfg.level;
    s->spec = s->cfg.spec;
    memset(&s->cfg.spec, 0, sizeof s->cfg.spec); /* moved */
    return 0;
}

/* ---- environment ---- */

struct envbuf {
    char **v;
    size_t n, cap;
};

/* Set name=value, replacing an earlier entry of the same name. */
static void env_set(struct envbuf *e, const char *name, const char *value)
{
    size_t nl = strlen(name), size = nl + strlen(value) + 2;
    char *entry = corral_xmalloc(size);
    snprintf(entry, size, "%s=%s", name, value);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
            free(e->v[i]);
            e->v[i] = entry;
            return;
        }
    }
    if (e->n + 1 >= e->cap) {
        e->cap = e->cap ? e->cap * 2 : 32;
        e->v = corral_xrealloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n++] = entry;
    e->v[e->n] = NULL;
}

static void env_free(struct envbuf *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
}

/* The task's environment, built explicitly: a few variables of the worker's, then the spec's,
 * then corral's own (the spec cannot override them: CORRAL_ names are rejected at submit).
 * Nothing else of the worker's reaches a task (its CORRAL_* settings and secrets included).
 * With --run-as, HOME, USER and LOGNAME are that user's, and the worker's TMPDIR (often a
 * directory of the worker's user) is not passed. */
static void build_env(const struct sup *s, struct envbuf *e)
{
    static const char *const passed[] = {"PATH", "HOME", "LANG", "USER", "TMPDIR"};
    static const char *const passed_run_as[] = {"PATH", "LANG"};
    const struct sup_run_as *ra = &s->cfg.run_as;
    const char *const *names = ra->set ? passed_run_as : passed;
    size_t n =
        ra->set ? sizeof passed_run_as / sizeof passed_run_as[0] : sizeof passed / sizeof passed[0];
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(names[i]);
        if (v)
            env_set(e, names[i], v);
    }
    if (ra->set) {
        env_set(e, "HOME", ra->home);
        env_set(e, "USER", ra->user);
        env_set(e, "LOGNAME", ra->user);
    }
    for (size_t i = 0; i < s->spec.n_env; i++)
        env_set(e, s->spec.env[i].key, s->spec.env[i].value);
    for (size_t i = 0; i < s->spec.n_secret_env; i++)
        env_set(e, s->spec.secret_env[i].key, s->spec.secret_env[i].value);
    char num[32];
    env_set(e, "CORRAL_TASK_ID", s->task_id);
    snprintf(num, sizeof num, "%u", s->attempt);
    env_set(e, "CORRAL_ATTEMPT", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)s->epoch);
    env_set(e, "CORRAL_EPOCH", num);
}

static const char *env_get(const struct envbuf *e, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=')
            return e->v[i] + nl + 1;
    return NULL;
}

/* ---- privileges ---- */

/*
 * What every task process gets besides its command: the --run-as identity (when the uid
 * changes), a working directory (that user's home, "/" when it cannot enter it; without
 * --run-as the supervisor's own) and the resource limits of corral/privilege.h.
 */
static void task_privileges(const struct sup *s, struct proc_creds *creds,
                            struct proc_spawn_opts *o)
{
    const struct sup_run_as *ra = &s->cfg.run_as;
    if (ra->do_switch) {
        *creds = (struct proc_creds){
            .uid = ra->uid, .gid = ra->gid, .groups = ra->groups, .n_groups = ra->n_groups};
        o->creds = creds;
    }
    if (ra->set)
        o->cwd = ra->home;
    struct corral_task_limits l;
    corral_task_limits_compute(s->spec.mem_mb, ra->do_switch, &l);
    o->limits[0] = (struct proc_limit){RLIMIT_AS, l.as_bytes};
    o->limits[1] = (struct proc_limit){RLIMIT_FSIZE, l.fsize_bytes};
    o->limits[2] = (struct proc_limit){RLIMIT_NPROC, l.nproc};
    o->n_limits = 3;
}

/* ---- output ---- */

static bool write_at(int fd, const char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
        at += (off_t)w;
    }
    return true;
}

static bool read_at(int fd, char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* shorter than we wrote it: someone else cut the file */
            return false;
        }
        p += r;
        n -= (size_t)r;
        at += (off_t)r;
    }
    return true;
}

/* Copy the file's last len bytes to its start. The caller guarantees size >= 2 * len: source
 * and destination never overlap, so the order of the pieces does not matter. */
static bool move_tail(struct output *o, size_t len)
{
    off_t from = o->size - (off_t)len;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < OUTPUT_CHUNK ? len - done : OUTPUT_CHUNK;
        if (!read_at(o->fd, o->scratch, n, from + (off_t)done) ||
            !write_at(o->fd, o->scratch, n, (off_t)done))
            return false;
        done += n;
    }
    return true;
}

/* Append n <= OUTPUT_CHUNK bytes to the output file without letting it pass
 * SUP_OUTPUT_MAX_BYTES. On a write error (disk full) the file restarts empty: a short tail of
 * the latest output is better than a garbled one, and later writes may find room again. */
static void output_append(struct sup *s, const char *p, size_t n)
{
    struct output *o = &s->out;
    if (o->fd < 0)
        return;
    bool ok;
    if ((size_t)o->size + n <= SUP_OUTPUT_MAX_BYTES) {
        ok = write_at(o->fd, p, n, o->size);
        if (ok)
            o->size += (off_t)n;
    } else {
        /* Keep the latest OUTPUT_KEEP bytes: the file's last `old`, then these n. The file
         * holds more than SUP_OUTPUT_MAX_BYTES - n >= 2 * old bytes, as move_tail needs. The
         * file is out of order only until the ftruncate, and nobody reads it meanwhile: the
         * worker reads it after our outcome line. */
        size_t old = OUTPUT_KEEP - n;
        ok = move_tail(o, old) && write_at(o->fd, p, n, (off_t)old) &&
             ftruncate(o->fd, (off_t)OUTPUT_KEEP) == 0;
        if (ok)
            o->size = (off_t)OUTPUT_KEEP;
    }
    if (ok)
        return;
    int e = errno;
    if (!o->warned)
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s attempt=%u output file: %s; earlier output dropped",
                   s->task_id, s->attempt, strerror(e));
    o->warned = true;
    if (ftruncate(o->fd, 0) == 0)
        o->size = 0;
    else
        o->fd = -1; /* size unknown: stop writing (the file stays within the cap) */
}

/* Copy what the task wrote, at most max_reads reads; closes the pipe at EOF. The task is never
 * left blocked on a full pipe for long: every turn of the loop reads. */
static void output_pump(struct sup *s, int max_reads)
{
    struct output *o = &s->out;
    for (int i = 0; i < max_reads && o->pipe_fd >= 0; i++) {
        ssize_t n = read(o->pipe_fd, o->buf, OUTPUT_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            close(o->pipe_fd);
            o->pipe_fd = -1;
            return;
        }
        output_append(s, o->buf, (size_t)n);
    }
}

/* After the task ended and the sweep: copy what is still in the pipe, up to EOF (every writer
 * is dead by now) or DRAIN_MAX_MS (a survivor of the sweep that keeps writing). */
static void output_drain(struct sup *s)
{
    int64_t until = clock_mono_ms() + DRAIN_MAX_MS;
    for (;;) {
        output_pump(s, OUTPUT_READS_PER_TURN);
        if (s->out.pipe_fd < 0)
            return;
        int64_t left = until - clock_mono_ms();
        if (left <= 0) {
            CORRAL_LOG(CORRAL_LOG_WARN,
                       "task=%s output still written after the sweep; rest dropped", s->task_id);
            return;
        }
        struct pollfd pfd = {.fd = s->out.pipe_fd, .events = POLLIN};
        (void)poll(&pfd, 1, (int)(left < SUP_TICK_MS ? left : SUP_TICK_MS));
    }
}

/*
 * Take over the output file the worker passed on SUP_OUTPUT_FD and make the pipe the task will
 * write to. Returns the pipe's write end (for the task's stdout and stderr; the caller closes
 * it once the task has it), or -1 with err set.
 */
static int output_open(struct sup *s, char *err, size_t errn)
{
    struct output *o = &s->out;
    int fl = fcntl(SUP_OUTPUT_FD, F_GETFL);
    struct stat st;
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) {
        snprintf(err, errn, "output file: not passed by the worker");
        return -1;
    }
    if (fstat(SUP_OUTPUT_FD, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errn, "output file: not a regular file");
        return -1;
    }
    /* Only we write it: no task inherits it (the HTTP child, a fork without exec, closes it). */
    (void)fcntl(SUP_OUTPUT_FD, F_SETFD, FD_CLOEXEC);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errn, "output pipe: %s", strerror(errno));
        return -1;
    }
    /* Non-blocking on our end only: the task's writes block as they would on any pipe. */
    (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
    o->fd = SUP_OUTPUT_FD;
    o->pipe_fd = p[0];
    o->size = 0;
    if (ftruncate(o->fd, 0) < 0) {
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s attempt=%u output file: %s; output dropped",
                   s->task_id, s->attempt, strerror(errno));
        o->fd = -1;
    }
    /* One task per process: static buffers, whose pages are touched (and so made) only when the
     * task writes something. Per task, that saves the 128 KiB a task without output never used:
     * page faults and zeroing that cost as much here as the rest of a supervisor's setup. */
    static char buf[OUTPUT_CHUNK], scratch[OUTPUT_CHUNK];
    o->buf = buf;
    o->scratch = scratch;
    return p[1];
}

static void output_cleanup(struct output *o)
{
    if (o->pipe_fd >= 0)
        close(o->pipe_fd);
    o->pipe_fd = -1;
    o->buf = o->scratch = NULL;
}

/* The signals supervisor_main sets to other than SIG_DFL (it installs no handler: signalfd):
 * the task's process resets these alone (proc_spawn_opts.changed_signals). */
static const sigset_t *changed_signals(void)
{
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGTTIN);
    sigaddset(&set, SIGTTOU);
    return &set;
}

/* An HTTP task runs as `corral-worker --http-task` (http_task.c): libcurl is loaded only for
 * HTTP tasks, never by the supervisor of a command. It gets the same configuration on stdin,
 * the output as stdout and reports "<status> <error>" on fd 3. */
static int start_http(struct sup *s, int outfd, char *err, size_t errn)
{
    if (!s->cfg.worker_exe) {
        snprintf(err, errn, "no worker program for an HTTP task");
        return -1;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        snprintf(err, errn, "pipe: %s", strerror(errno));
        return -1;
    }
    int cfd = memfd_create("corral-http", MFD_CLOEXEC);
    if (cfd < 0 || !write_at(cfd, s->cfg.text, s->cfg.len, 0) || lseek(cfd, 0, SEEK_SET) < 0) {
        snprintf(err, errn, "config for the HTTP task: %s", strerror(errno));
        if (cfd >= 0)
            close(cfd);
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    char name[] = "corral-worker", mode[] = "--http-task";
    char *const argv[] = {name, mode, NULL};
    struct proc_spawn_opts o = {
        .file = s->cfg.worker_exe,
        .argv = argv,
        .envp = environ,
        .stdin_fd = cfd,
        .stdout_fd = outfd,
        .stderr_fd = STDERR_FILENO,
        .keep_fds = {pfd[1]}, /* fd 3 */
        .n_keep = 1,
        .new_session = true,
        .changed_signals = changed_signals(),
    };
    struct proc_creds creds;
    task_privileges(s, &creds, &o);
    struct corral_error perr = {0};
    pid_t pid;
    int rc = proc_spawn(&o, &pid, &perr);
    close(cfd);
    close(pfd[1]);
    if (rc) {
        close(pfd[0]);
        snprintf(err, errn, "%s", perr.msg);
        return -1;
    }
    s->pid = pid;
    s->http_errfd = pfd[0];
    return 0;
}

static int start_command(struct sup *s, int outfd, char *err, size_t errn)
{
    struct envbuf env = {0};
    build_env(s, &env);
    /* A shell task is one line for /bin/sh -c; otherwise argv as given, without a shell. */
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *shell_argv[4] = {sh, dash_c, NULL, NULL};
    char **own = NULL, **argv = shell_argv;
    if (s->spec.shell) {
        shell_argv[2] = s->spec.argv[0];
    } else {
        own = corral_xcalloc(s->spec.argc + 1, sizeof *own);
        for (size_t i = 0; i < s->spec.argc; i++)
            own[i] = s->spec.argv[i];
        argv = own;
    }
    struct proc_spawn_opts o = {
        .argv = argv,
        .envp = env.v,
        .search_path = env_get(&env, "PATH"),
        .stdin_fd = -1,
        .stdout_fd = outfd,
        .stderr_fd = outfd,
        .new_session = true,
        .changed_signals = changed_signals(),
    };
    struct proc_creds creds;
    task_privileges(s, &creds, &o);
    struct corral_error perr = {0};
    pid_t pid;
    int rc = proc_spawn(&o, &pid, &perr);
    free(own);
    env_free(&env);
    if (rc) {
        snprintf(err, errn, "%s", perr.msg);
        return -1;
    }
    s->pid = pid;
    return 0;
}

/* ---- killing ---- */

static void begin_kill(struct sup *s, enum corral_run_outcome reason, bool hard, int64_t now)
{
    if (s->reason == CORRAL_RUN_EXITED) {
        s->reason = reason;
        CORRAL_LOG(CORRAL_LOG_INFO, "killing task=%s attempt=%u reason=%s", s->task_id, s->attempt,
                   corral_run_outcome_name(reason));
    }
    if (hard) {
        if (!s->hard) {
            s->hard = true;
            proc_kill_group(s->pid, SIGKILL);
            proc_kill_descendants(getpid(), SIGKILL);
        }
        return;
    }
    if (s->escalate_at_ms == 0) {
        s->escalate_at_ms = now + SUP_KILL_GRACE_MS;
        proc_kill_group(s->pid, SIGTERM);
        proc_kill_descendants(getpid(), SIGTERM);
    }
}

static bool lease_expired(const struct sup *s, int64_t now)
{
    if (!s->lease)
        return false;
    int64_t lease_ms = atomic_load(&s->lease->lease_ms);
    int64_t last_rx = atomic_load(&s->lease->last_rx_ms);
    return lease_ms > 0 && now > last_rx + lease_ms;
}

/* After the main process ended: nothing of the task may outlive the attempt. */
static void sweep(const struct sup *s)
{
    proc_kill_group(s->pid, SIGKILL);
    int64_t until = clock_mono_ms() + SWEEP_MAX_MS;
    for (;;) {
        /* No child, no descendant: we are a subreaper, so every process the task left behind
         * has a chain of parents ending at us. The usual case (the task left nothing) costs
         * no look at /proc, whose scan reads the stat of every process of the machine. */
        proc_reap_all();
        errno = 0;
        if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
            return;
        (void)proc_kill_descendants(getpid(), SIGKILL); /* reaped on the next pass */
        if (clock_mono_ms() > until) {
            CORRAL_LOG(CORRAL_LOG_WARN, "descendants of task=%s survive the sweep", s->task_id);
            return;
        }
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static void report(enum corral_run_outcome outcome, const int *exit_code, int sig, int http_status,
                   const char *error)
{
    json_t *o = json_object();
    json_object_set_new(o, "outcome", json_string(corral_run_outcome_name(outcome)));
    if (exit_code)
        json_object_set_new(o, "exit_code", json_integer(*exit_code));
    if (sig)
        json_object_set_new(o, "signal", json_integer(sig));
    if (http_status)
        json_object_set_new(o, "http_status", json_integer(http_status));
    if (error && *error)
        json_object_set_new(o, "error", json_string(error));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text) {
        dprintf(SUP_RESULT_FD, "%s\n", text);
        free(text);
    }
}

/* ---- main ---- */

int supervisor_main(void)
{
    struct sup s = {
        .http_errfd = -1, .reason = CORRAL_RUN_EXITED, .out = {.fd = -1, .pipe_fd = -1}};
    enum corral_log_level level = CORRAL_LOG_INFO;

    /* Signals arrive through a signalfd so that the loop below sees them in order. */
    sigset_t mask;
    sigemptyset(&mask);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&mask, sigs[i]);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN); /* each signal set here is in changed_signals() */
    /* Harder to stop or inspect: the stop signals that can be ignored are, and a process of
     * our uid (the task, without --run-as) cannot ptrace us or read our memory and environ.
     * SIGSTOP cannot be ignored: the worker kills the attempt when it sees us stopped. */
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

    log_init("corral-worker", CORRAL_LOG_INFO);
    if (sfd < 0 || load_config(&s, &level) < 0) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "supervisor: bad configuration on stdin");
        report(CORRAL_RUN_SPAWN_FAILED, NULL, 0, 0, "supervisor: bad configuration");
        return 1;
    }
    log_init("corral-worker", level);
    log_set_format(s.cfg.log_json, "worker", s.cfg.log_worker[0] ? s.cfg.log_worker : NULL);

    /* The worker's death must end the task: PDEATHSIG covers the future, getppid() the past
     * (the worker may have died before this prctl). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != s.parent) {
        CORRAL_LOG(CORRAL_LOG_WARN, "worker gone before task=%s started", s.task_id);
        report(CORRAL_RUN_CANCELLED, NULL, 0, 0, "worker gone");
        return 1;
    }
    /* Orphaned descendants of the task are reparented to us, so the sweep can find them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    void *page = mmap(NULL, sizeof(struct sup_lease), PROT_READ, MAP_SHARED, SUP_LEASE_FD, 0);
    if (page == MAP_FAILED)
        CORRAL_LOG(CORRAL_LOG_WARN, "no lease page for task=%s: %s", s.task_id, strerror(errno));
    else
        s.lease = page;

    char err[256] = "";
    int started = -1;
    int outfd = output_open(&s, err, sizeof err);
    if (outfd >= 0) {
        if (lease_expired(&s, clock_mono_ms()))
            snprintf(err, sizeof err, "lease expired before start");
        else if (s.spec.has_http)
            started = start_http(&s, outfd, err, sizeof err);
        else
            started = start_command(&s, outfd, err, sizeof err);
        /* Our copy of the write end must go: EOF on the pipe means every writer is gone. */
        close(outfd);
    }
    if (started < 0) {
        CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s spawn failed: %s", s.task_id, err);
        report(CORRAL_RUN_SPAWN_FAILED, NULL, 0, 0, err);
        output_cleanup(&s.out);
        corral_spec_cleanup(&s.spec);
        return 0;
    }
    dprintf(SUP_RESULT_FD, "{\"pgid\":%ld}\n", (long)s.pid);
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u started pid=%ld", s.task_id, s.attempt,
               (long)s.pid);

    int64_t deadline = clock_mono_ms() + (int64_t)s.spec.timeout_s * 1000;
    int status = 0;
    bool main_done = false;
    while (!main_done) {
        /* The output pipe wakes us as often as the task writes; every turn still does all the
         * checks below, and a turn copies at most OUTPUT_READS_PER_TURN chunks. */
        struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
                                {.fd = s.out.pipe_fd, .events = POLLIN}};
        (void)poll(pfd, 2, SUP_TICK_MS);
        output_pump(&s, OUTPUT_READS_PER_TURN);
        int64_t now = clock_mono_ms();
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGUSR2)
                begin_kill(&s, CORRAL_RUN_CANCELLED, true, now);
            else if (si.ssi_signo != SIGCHLD)
                begin_kill(&s, CORRAL_RUN_CANCELLED, false, now);
        }
        for (;;) {
            int st;
            pid_t p = waitpid(-1, &st, WNOHANG);
            if (p <= 0)
                break;
            if (p == s.pid) {
                status = st;
                main_done = true;
            }
        }
        if (main_done)
            break;
        if (now >= deadline)
            begin_kill(&s, CORRAL_RUN_TIMED_OUT, false, now);
        /* No grace on lease expiry: the session may expire at 1.0 x T and the leader will
         * then start another attempt; this one must be dead before that. */
        if (lease_expired(&s, now))
            begin_kill(&s, CORRAL_RUN_LEASE_EXPIRED, true, now);
        if (getppid() != s.parent)
            begin_kill(&s, CORRAL_RUN_CANCELLED, false, now);
        if (s.escalate_at_ms && now >= s.escalate_at_ms)
            begin_kill(&s, s.reason, true, now);
    }
    sweep(&s);
    /* The outcome line tells the worker the output file is complete: copy the rest first. */
    output_drain(&s);

    int exit_code = 0, sig = 0, http_status = 0;
    const int *ecp = NULL;
    enum corral_run_outcome outcome;
    if (WIFEXITED(status)) {
        exit_code = WEXITSTATUS(status);
        ecp = &exit_code;
        outcome = CORRAL_RUN_EXITED;
    } else {
        sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        outcome = CORRAL_RUN_SIGNALED;
    }
    if (s.http_errfd >= 0) {
        char buf[HTTP_ERROR_MAX + 64] = "";
        ssize_t n = read(s.http_errfd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(s.http_errfd);
        char *rest = NULL;
        http_status = (int)strtol(buf, &rest, 10);
        if (rest && *rest == ' ')
            rest++;
        snprintf(err, sizeof err, "%s", rest ? rest : "");
        if (outcome == CORRAL_RUN_EXITED && exit_code == HTTP_EXIT_TIMEDOUT)
            outcome = CORRAL_RUN_TIMED_OUT;
    }
    if (s.reason != CORRAL_RUN_EXITED)
        outcome = s.reason;
    report(outcome, ecp, sig, http_status, err);
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u outcome=%s", s.task_id, s.attempt,
               corral_run_outcome_name(outcome));
    output_cleanup(&s.out);
    corral_spec_cleanup(&s.spec);
    sup_config_cleanup(&s.cfg);
    return 0;
}
