/* SPDX-License-Identifier: MIT */
/*
 * Process helpers (see proc.h): posix_spawn with the child's setup as file actions and
 * attributes (no fork of the caller's page tables), or, for a child that needs another identity,
 * resource limits or a working directory, the same setup by hand in a child that shares our
 * memory until its exec, as posix_spawn's does (callers are single-threaded then); group and
 * tree kills via /proc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/proc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

void proc_cloexec_from(int lowfd)
{
    /* close_range(CLOEXEC) marks instead of closing, so the exec-error pipe survives until
     * exec; it is a plain syscall and therefore async-signal-safe. */
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = lowfd; fd < max; fd++)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Candidate paths for the program (execvp's search, done here with an explicit PATH). */
static char **candidates(const char *prog, const char *search_path)
{
    if (strchr(prog, '/')) {
        char **c = calloc(2, sizeof *c);
        if (!c)
            return NULL;
        c[0] = strdup(prog);
        if (!c[0]) {
            free(c);
            return NULL;
        }
        return c;
    }
    const char *path = search_path ? search_path : DEFAULT_PATH;
    size_t n = 1;
    for (const char *p = path; *p; p++)
        n += *p == ':';
    char **c = calloc(n + 1, sizeof *c);
    if (!c)
        return NULL;
    size_t i = 0;
    const char *p = path;
    for (;;) {
        const char *end = strchrnul(p, ':');
        int dlen = (int)(end - p);
        /* An empty PATH element means the current directory (execvp's rule). */
        if (asprintf(&c[i], "%.*s/%s", dlen, dlen ? p : ".", prog) < 0) {
            c[i] = NULL;
            break;
        }
        i++;
        if (!*end)
            break;
        p = end + 1;
    }
    return c;
}

static void free_candidates(char **c)
{
    if (!c)
        return;
    for (size_t i = 0; c[i]; i++)
        free(c[i]);
    free(c);
}

/*
 * The child's setup as spawn attributes and file actions. posix_spawn (glibc) runs it in a
 * child that shares our memory until exec (clone with CLONE_VM | CLONE_VFORK): no page table is
 * copied, which a fork of the worker (libcurl, GnuTLS, the ZooKeeper client, threads) paid per
 * task, and an exec failure comes back as its return value.
 */
static int spawn_setup(const struct proc_spawn_opts *o, int devnull, posix_spawnattr_t *attr,
                       posix_spawn_file_actions_t *fa)
{
    int e = posix_spawnattr_init(attr);
    if (e)
        return e;
    e = posix_spawn_file_actions_init(fa);
    if (e) {
        posix_spawnattr_destroy(attr);
        return e;
    }
    /* Ignored or handled signals: default in the task; an empty mask. */
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (o->new_session)
        flags |= POSIX_SPAWN_SETSID;
    if (!e)
        e = posix_spawnattr_setflags(attr, flags);
    if (!e)
        e = posix_spawnattr_setsigdefault(attr, o->changed_signals ? o->changed_signals : &all);
    if (!e)
        e = posix_spawnattr_setsigmask(attr, &none);
    /* Move every source fd above the targets first so that no dup2 clobbers a later source,
     * then onto 0, 1, 2, 3...; everything else is closed. */
    int src[3 + PROC_MAX_KEEP_FDS];
    int nsrc = 3 + (int)o->n_keep;
    src[0] = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
    src[1] = o->stdout_fd >= 0 ? o->stdout_fd : devnull;
    src[2] = o->stderr_fd >= 0 ? o->stderr_fd : devnull;
    for (size_t i = 0; i < o->n_keep; i++)
        src[3 + i] = o->keep_fds[i];
    /* Above every source and every target, so that the first pass clobbers nothing. */
    int high = 3 + PROC_MAX_KEEP_FDS;
    for (int i = 0; i < nsrc; i++)
        if (src[i] >= high)
            high = src[i] + 1;
    for (int i = 0; i < nsrc && !e; i++)
        e = posix_spawn_file_actions_adddup2(fa, src[i], high + i);
    for (int i = 0; i < nsrc && !e; i++)
        e = posix_spawn_file_actions_adddup2(fa, high + i, i); /* clears FD_CLOEXEC on i */
    if (!e)
        e = posix_spawn_file_actions_addclosefrom_np(fa, nsrc);
    if (e) {
        posix_spawn_file_actions_destroy(fa);
        posix_spawnattr_destroy(attr);
    }
    return e;
}

/* ---- fork path: identity, limits, working directory ---- */

/* Where the child's setup failed, sent on the error pipe with errno. */
enum child_step {
    STEP_EXEC,
    STEP_FDS,
    STEP_RLIMIT,
    STEP_SETGROUPS,
    STEP_SETGID,
    STEP_SETUID,
    STEP_VERIFY,
    STEP_CHDIR
};

struct child_fail {
    int step;
    int err;
};

static const char *step_name(int step)
{
    switch (step) {
        case STEP_FDS:
            return "fds";
        case STEP_RLIMIT:
            return "setrlimit";
        case STEP_SETGROUPS:
            return "setgroups";
        case STEP_SETGID:
            return "setgid";
        case STEP_SETUID:
            return "setuid";
        case STEP_VERIFY:
            return "run-as check";
        case STEP_CHDIR:
            return "chdir";
        default:
            return "exec";
    }
}

static _Noreturn void child_fail(int fd, int step, int e)
{
    struct child_fail f = {step, e};
    ssize_t w = write(fd, &f, sizeof f);
    (void)w;
    _exit(127);
}

/*
 * Identity changes of the child as plain system calls: glibc's wrappers may try to change every
 * thread of the process, and the child shares its parent's memory (and thread bookkeeping)
 * until exec. Linux keeps credentials per thread, so the syscall changes the child alone.
 */
static long sys_setgroups(size_t n, const gid_t *groups)
{
    return syscall(SYS_setgroups, n, groups);
}

static long sys_setresgid(gid_t r, gid_t e, gid_t s)
{
    return syscall(SYS_setresgid, r, e, s);
}

static long sys_setresuid(uid_t r, uid_t e, uid_t s)
{
    return syscall(SYS_setresuid, r, e, s);
}

/* The child's ids are exactly creds, and root cannot be regained. Async-signal-safe. */
static bool creds_verified(const struct proc_creds *c)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
        return false;
    if (ru != c->uid || eu != c->uid || su != c->uid || rg != c->gid || eg != c->gid ||
        sg != c->gid)
        return false;
    const uid_t keep = (uid_t)-1;
    const gid_t keep_g = (gid_t)-1;
    if (c->uid != 0 && (sys_setresuid(0, 0, 0) == 0 || sys_setresuid(keep, 0, keep) == 0 ||
                        sys_setresgid(0, 0, 0) == 0 || sys_setresgid(keep_g, 0, keep_g) == 0))
        return false;
    return true;
}

/*
 * In the child, between fork and exec: only async-signal-safe calls (the caller is
 * single-threaded, but the rule keeps this safe if that ever changes by mistake). Never returns.
 */
static _Noreturn void child_setup(const struct proc_spawn_opts *o, int devnull, int errfd,
                                  char *const *cand)
{
    if (o->new_session)
        (void)setsid();
    /* Default dispositions, then an empty mask (a handler must not run in the child). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (!o->changed_signals || sigismember(o->changed_signals, sig) == 1)
            (void)sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL, SIGSTOP, reserved ones */
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);

    /* The same two-pass move as spawn_setup, with the error pipe kept above everything. */
    int src[3 + PROC_MAX_KEEP_FDS];
    int nsrc = 3 + (int)o->n_keep;
    src[0] = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
    src[1] = o->stdout_fd >= 0 ? o->stdout_fd : devnull;
    src[2] = o->stderr_fd >= 0 ? o->stderr_fd : devnull;
    for (size_t i = 0; i < o->n_keep; i++)
        src[3 + i] = o->keep_fds[i];
    int high = 3 + PROC_MAX_KEEP_FDS;
    for (int i = 0; i < nsrc; i++)
        if (src[i] >= high)
            high = src[i] + 1;
    if (errfd >= high)
        high = errfd + 1;
    int efd = fcntl(errfd, F_DUPFD_CLOEXEC, high + nsrc);
    if (efd < 0)
        child_fail(errfd, STEP_FDS, errno);
    for (int i = 0; i < nsrc; i++)
        if (dup2(src[i], high + i) < 0)
            child_fail(efd, STEP_FDS, errno);
    for (int i = 0; i < nsrc; i++)
        if (dup2(high + i, i) < 0) /* clears FD_CLOEXEC on i */
            child_fail(efd, STEP_FDS, errno);
    for (int i = 0; i < nsrc; i++)
        (void)close(high + i);
    proc_cloexec_from(nsrc); /* efd is close-on-exec already */

    for (size_t i = 0; i < o->n_limits; i++) {
        if (o->limits[i].value == UINT64_MAX)
            continue;
        struct rlimit rl;
        if (getrlimit(o->limits[i].resource, &rl) != 0)
            child_fail(efd, STEP_RLIMIT, errno);
        rlim_t want = (rlim_t)o->limits[i].value;
        if (rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max)
            rl.rlim_max = want;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(o->limits[i].resource, &rl) != 0)
            child_fail(efd, STEP_RLIMIT, errno);
    }
    if (o->creds) {
        const struct proc_creds *c = o->creds;
        /* As root, setgid/setuid set all three ids: so do these. */
        if (sys_setgroups(c->n_groups, c->n_groups ? c->groups : NULL) != 0)
            child_fail(efd, STEP_SETGROUPS, errno);
        if (sys_setresgid(c->gid, c->gid, c->gid) != 0)
            child_fail(efd, STEP_SETGID, errno);
        if (sys_setresuid(c->uid, c->uid, c->uid) != 0)
            child_fail(efd, STEP_SETUID, errno);
        if (!creds_verified(c))
            child_fail(efd, STEP_VERIFY, EPERM);
    }
    if (o->cwd && chdir(o->cwd) != 0 && chdir("/") != 0)
        child_fail(efd, STEP_CHDIR, errno);

    /* execvp's rule, as in proc_spawn. */
    int saved = ENOENT;
    for (size_t i = 0; cand[i]; i++) {
        execve(cand[i], o->argv, o->envp);
        int e = errno;
        if (e == EAGAIN || e == ENOMEM) {
            saved = e;
            break;
        }
        if (e != ENOENT && e != ENOTDIR)
            saved = e;
    }
    child_fail(efd, STEP_EXEC, saved);
}

/*
 * The child shares our memory and we are suspended until it execs or exits (CLONE_VM |
 * CLONE_VFORK, what posix_spawn does): no copy of our page tables, no copy-on-write faults
 * afterwards. It runs child_setup on a stack of its own. Under AddressSanitizer the child would
 * leave its stack's shadow poisoned in our memory, and ThreadSanitizer would see one thread's
 * state changed by another process: those builds fork instead.
 */
#if defined(__SANITIZE_THREAD__)
#define PROC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PROC_TSAN 1
#endif
#endif
#ifndef PROC_TSAN
#define PROC_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PROC_SHARED_CHILD 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PROC_SHARED_CHILD 0
#endif
#endif
#ifndef PROC_SHARED_CHILD
#define PROC_SHARED_CHILD 1
#endif

#define CHILD_STACK_BYTES (64 * 1024)

struct child_args {
    const struct proc_spawn_opts *o;
    int devnull;
    int errfd;
    char *const *cand;
};

static int child_main(void *arg)
{
    const struct child_args *a = arg;
    child_setup(a->o, a->devnull, a->errfd, a->cand);
}

static pid_t start_child(struct child_args *a)
{
    if (!PROC_SHARED_CHILD) {
        pid_t p = fork();
        if (p == 0)
            child_main(a);
        return p;
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t guard = page > 0 ? (size_t)page : 4096;
    char *stack = mmap(NULL, guard + CHILD_STACK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    (void)mprotect(stack, guard, PROT_NONE); /* an overflow faults instead of writing below */
    /* No signal may run a handler of ours on the child's stack before it resets them. */
    sigset_t all, old;
    sigfillset(&all);
    (void)sigprocmask(SIG_SETMASK, &all, &old);
    int saved_errno = errno;
    pid_t p =
        clone(child_main, stack + guard + CHILD_STACK_BYTES, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
    int e = p < 0 ? errno : 0;
    errno = saved_errno; /* the child's calls wrote our errno (one thread-local area) */
    (void)sigprocmask(SIG_SETMASK, &old, NULL);
    (void)munmap(stack, guard + CHILD_STACK_BYTES);
    if (p < 0)
        errno = e;
    return p;
}

static int spawn_forked(const struct proc_spawn_opts *o, char *const *cand, int devnull, pid_t *pid,
                        struct corral_error *err)
{
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) < 0)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "spawn: pipe: %s", strerror(errno));
    struct child_args a = {.o = o, .devnull = devnull, .errfd = ep[1], .cand = cand};
    pid_t p = start_child(&a);
    if (p < 0) {
        int e = errno;
        close(ep[0]);
        close(ep[1]);
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "spawn: fork: %s", strerror(e));
    }
    close(ep[1]);
    /* EOF at exec (the pipe is close-on-exec), or the failed step and its errno. */
    struct child_fail f;
    ssize_t n;
    do
        n = read(ep[0], &f, sizeof f);
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n != (ssize_t)sizeof f) {
        *pid = p;
        return CORRAL_OK;
    }
    while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
        ;
    if (f.step == STEP_EXEC && f.err != EAGAIN && f.err != ENOMEM)
        return corral_error_set(err, CORRAL_ENOTFOUND, NULL, "exec: %s", strerror(f.err));
    return corral_error_set(err, CORRAL_EINTERNAL, NULL, "%s: %s", step_name(f.step),
                            strerror(f.err));
}

int proc_spawn(const struct proc_spawn_opts *o, pid_t *pid, struct corral_error *err)
{
    const char *prog = o->file ? o->file : o->argv[0];
    if (!prog || !*prog)
        return corral_error_set(err, CORRAL_ENOTFOUND, NULL, "exec: empty program name");
    if (o->n_keep > PROC_MAX_KEEP_FDS)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "too many fds to keep");

    int rc = 0;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    char **cand = candidates(prog, o->search_path);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (!cand || devnull < 0) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "spawn: %s",
                              cand ? strerror(errno) : "out of memory");
        goto out;
    }
    if (o->creds || o->n_limits > 0 || o->cwd) {
        if (o->n_limits > PROC_MAX_LIMITS)
            rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "too many limits");
        else
            rc = spawn_forked(o, cand, devnull, pid, err);
        goto out;
    }
    int e = spawn_setup(o, devnull, &attr, &fa);
    if (e) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "spawn: %s", strerror(e));
        goto out;
    }
    /* execvp's rule: the next directory on ENOENT or ENOTDIR; a more telling error than "not
     * in this directory" is remembered. */
    int saved = ENOENT;
    bool started = false;
    for (size_t i = 0; cand[i] && !started; i++) {
        /* A candidate that is not there is skipped with one system call: a failed posix_spawn
         * costs a whole clone and exec (the child shares our cwd, so the answer is the same). */
        if (cand[i + 1] && access(cand[i], F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR))
            continue;
        e = posix_spawn(pid, cand[i], &fa, &attr, o->argv, o->envp);
        if (e == 0)
            started = true;
        else if (e == EAGAIN || e == ENOMEM) {
            saved = e;
            break;
        } else if (e != ENOENT && e != ENOTDIR)
            saved = e;
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (!started) {
        if (saved == EAGAIN || saved == ENOMEM)
            rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "spawn: %s", strerror(saved));
        else
            rc = corral_error_set(err, CORRAL_ENOTFOUND, NULL, "exec: %s", strerror(saved));
    }
out:
    if (devnull >= 0)
        close(devnull);
    free_candidates(cand);
    return rc;
}

void proc_kill_group(pid_t pgid, int sig)
{
    if (pgid > 1)
        (void)kill(-pgid, sig);
}

/* Parent pid (and state letter) from /proc/<pid>/stat; the comm field may hold ')' so look for
 * the last one. */
static pid_t read_ppid(const char *pid_name, char *state_out)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (!rp)
        return -1;
    char state;
    int ppid;
    if (sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    *state_out = state;
    return (pid_t)ppid;
}

struct pidpair {
    pid_t pid, ppid;
    bool zombie;
};

/* Kill every live descendant of root, except the children of root listed in keep and
 * everything below them. */
static size_t kill_tree(pid_t root, const pid_t *keep, size_t n_keep, int sig)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct pidpair *all = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end || v <= 0)
            continue;
        char state = '?';
        pid_t ppid = read_ppid(de->d_name, &state);
        if (ppid < 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            struct pidpair *na = realloc(all, ncap * sizeof *na);
            if (!na)
                break;
            all = na;
            cap = ncap;
        }
        all[n++] = (struct pidpair){(pid_t)v, ppid, state == 'Z'};
    }
    closedir(d);

    /* Breadth-first over the snapshot: a process is a descendant when its parent is. */
    pid_t *queue = malloc((n + 1) * sizeof *queue);
    size_t killed = 0;
    if (queue) {
        size_t head = 0, tail = 0;
        queue[tail++] = root;
        while (head < tail) {
            pid_t parent = queue[head++];
            for (size_t i = 0; i < n; i++) {
                if (all[i].ppid == parent && all[i].pid != root && tail <= n) {
                    bool kept = false;
                    for (size_t k = 0; parent == root && k < n_keep && !kept; k++)
                        kept = all[i].pid == keep[k];
                    if (kept) {
                        all[i].ppid = -1;
                        continue;
                    }
                    queue[tail++] = all[i].pid;
                    all[i].ppid = -1; /* visit once */
                    if (!all[i].zombie && kill(all[i].pid, sig) == 0)
                        killed++;
                }
            }
        }
        free(queue);
    }
    free(all);
    return killed;
}

size_t proc_kill_descendants(pid_t root, int sig)
{
    return kill_tree(root, NULL, 0, sig);
}

size_t proc_kill_strays(pid_t root, const pid_t *keep, size_t n_keep, int sig)
{
    return kill_tree(root, keep, n_keep, sig);
}

size_t proc_reap_all(void)
{
    size_t n = 0;
    for (;;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p > 0) {
            n++;
            continue;
        }
        if (p < 0 && errno == EINTR)
            continue;
        return n;
    }
}

pid_t proc_fork_sibling(void)
{
#if PROC_TSAN
    errno = ENOSYS;
    return -1;
#else
    /* No new stack: the child goes on with a copy of ours, as after fork(). glibc >= 2.25 keeps
     * no pid cache, so getpid() in the child is right; raise() asks the kernel for the tid. */
    long r = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL, 0L);
    return (pid_t)r;
#endif
}

bool proc_self_exe(char *buf, size_t n)
{
    if (n < 2)
        return false;
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0 || (size_t)len >= n - 1)
        return false;
    buf[len] = '\0';
    return true;
}
