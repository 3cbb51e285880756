/* SPDX-License-Identifier: MIT */
/*
 * Process helpers (see proc.h): fork + exec with only async-signal-safe calls in the child,
 * exec failure through a close-on-exec pipe (libuv process.c), group and tree kills via /proc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Candidate paths for the program, built before fork (the child may not allocate). */
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

/* In the child: async-signal-safe calls only from here to exec. */
static void child(const struct proc_spawn_opts *o, char **cand, int errfd, int devnull)
{
    if (o->new_session)
        (void)setsid();

    /* Ignored signals survive exec; a task must start with default dispositions. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        (void)sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);

    /* Move every source fd above the targets first so that no dup2 clobbers a later source. */
    int src[3 + PROC_MAX_KEEP_FDS];
    int nsrc = 3 + (int)o->n_keep;
    src[0] = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
    src[1] = o->stdout_fd >= 0 ? o->stdout_fd : devnull;
    src[2] = o->stderr_fd >= 0 ? o->stderr_fd : devnull;
    for (size_t i = 0; i < o->n_keep; i++)
        src[3 + i] = o->keep_fds[i];
    for (int i = 0; i < nsrc; i++) {
        src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3 + PROC_MAX_KEEP_FDS + 8);
        if (src[i] < 0)
            goto fail;
    }
    for (int i = 0; i < nsrc; i++) {
        if (dup2(src[i], i) < 0) /* dup2 clears FD_CLOEXEC on the target */
            goto fail;
    }
    proc_cloexec_from(nsrc);

    int saved = ENOENT;
    for (size_t i = 0; cand[i]; i++) {
        execve(cand[i], o->argv, o->envp);
        /* execvp's rule: remember a more telling error than "not in this directory". */
        if (errno != ENOENT && errno != ENOTDIR)
            saved = errno;
    }
    errno = saved;
fail:;
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof e);
    (void)w;
    _exit(127);
}

int proc_spawn(const struct proc_spawn_opts *o, pid_t *pid, struct corral_error *err)
{
    const char *prog = o->file ? o->file : o->argv[0];
    if (!prog || !*prog)
        return corral_error_set(err, CORRAL_ENOTFOUND, NULL, "exec: empty program name");
    if (o->n_keep > PROC_MAX_KEEP_FDS)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "too many fds to keep");

    int rc = 0, pipefd[2] = {-1, -1}, devnull = -1;
    char **cand = candidates(prog, o->search_path);
    if (!cand) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "out of memory");
        goto out;
    }
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "pipe: %s", strerror(errno));
        goto out;
    }
    pid_t p = fork();
    if (p < 0) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "fork: %s", strerror(errno));
        goto out;
    }
    if (p == 0)
        child(o, cand, pipefd[1], devnull);

    close(pipefd[1]);
    pipefd[1] = -1;
    /* EOF means exec succeeded (the pipe was close-on-exec); an int means it failed. */
    int e = 0;
    ssize_t r;
    do {
        r = read(pipefd[0], &e, sizeof e);
    } while (r < 0 && errno == EINTR);
    if (r == (ssize_t)sizeof e) {
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
            ;
        rc = corral_error_set(err, CORRAL_ENOTFOUND, NULL, "exec: %s", strerror(e));
        goto out;
    }
    *pid = p;
out:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
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

/* Parent pid from /proc/<pid>/stat; the comm field may hold ')' so look for the last one. */
static pid_t read_ppid(const char *pid_name)
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
    return (pid_t)ppid;
}

struct pidpair {
    pid_t pid, ppid;
};

size_t proc_kill_descendants(pid_t root, int sig)
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
        pid_t ppid = read_ppid(de->d_name);
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
        all[n++] = (struct pidpair){(pid_t)v, ppid};
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
                    queue[tail++] = all[i].pid;
                    all[i].ppid = -1; /* visit once */
                    if (kill(all[i].pid, sig) == 0)
                        killed++;
                }
            }
        }
        free(queue);
    }
    free(all);
    return killed;
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
