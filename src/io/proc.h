/* SPDX-License-Identifier: MIT */
/*
 * Process helpers for the worker and its supervisors: spawn a program with an explicit
 * environment, chosen stdio and inherited fds (every other fd is closed at exec), optionally in
 * a new session (its own process group); report exec failure; kill a process group or a whole
 * tree of descendants. Linux only (/proc, close_range), glibc >= 2.34 (posix_spawn's
 * addclosefrom_np).
 *
 * Thread safety: proc_spawn() may be called from a multi-threaded process: it is posix_spawn,
 * whose child runs only the setup it was given until exec.
 */
#ifndef CORRAL_IO_PROC_H
#define CORRAL_IO_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "corral/error.h"

#define PROC_MAX_KEEP_FDS 4
#define PROC_MAX_LIMITS   4

/* An identity for the child: supplementary groups, then gid, then uid (needs root). */
struct proc_creds {
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* borrowed; n_groups entries (0: no supplementary group) */
    size_t n_groups;
};

/* A resource limit for the child: soft and hard become min(current hard, value). */
struct proc_limit {
    int resource;   /* RLIMIT_* */
    uint64_t value; /* bytes or count; UINT64_MAX: leave as is */
};

struct proc_spawn_opts {
    const char *file;        /* program to exec; NULL = argv[0] */
    char *const *argv;       /* NULL-terminated; borrowed */
    char *const *envp;       /* complete environment of the child, NULL-terminated; borrowed */
    const char *search_path; /* PATH used when the program has no '/'; NULL = a default */
    int stdin_fd;            /* fd to become 0, or -1 for /dev/null */
    int stdout_fd;           /* fd to become 1, or -1 for /dev/null */
    int stderr_fd;           /* fd to become 2, or -1 for /dev/null */
    int keep_fds[PROC_MAX_KEEP_FDS]; /* become fds 3, 4, ... in the child */
    size_t n_keep;
    bool new_session; /* setsid(): own session and process group (pgid == pid) */
    /* The signals whose disposition in the caller is not SIG_DFL (ignored or handled): the
     * child sets these back to SIG_DFL, one system call each. NULL: every signal is reset (64
     * calls), for a caller that cannot know. A wrong set lets a signal that arrives between the
     * child's mask reset and its exec run one of our handlers in the child. */
    const sigset_t *changed_signals;
    /* Only from a single-threaded process (the supervisor): when any of the three is set, the
     * child is set up by hand, since posix_spawn can do none of them; it shares our memory until
     * its exec (clone with CLONE_VM | CLONE_VFORK), or is a fork() in sanitizer builds. */
    const struct proc_creds *creds; /* NULL: keep ours; else switch (and verify) before exec */
    struct proc_limit limits[PROC_MAX_LIMITS];
    size_t n_limits;
    const char *cwd; /* chdir after the switch; "/" when it cannot be entered; NULL: ours */
};

/*
 * Start a child. On success *pid is the child's pid and the program is executing. Errors:
 * CORRAL_EINTERNAL when the process cannot be made (no memory, process limit) or its setup
 * failed (err->msg names the step: "setgroups: ...", "setgid: ...", "setuid: ...",
 * "run-as check: ...", "setrlimit: ..."; the child is reaped), CORRAL_ENOTFOUND when exec failed
 * (err->msg is "exec: <strerror>", e.g. "exec: No such file or directory").
 * Signal dispositions are reset to default and the signal mask emptied in the child.
 * With creds, the child calls setgroups, setgid and setuid in that order, checks each, then
 * checks that its real, effective and saved ids are the new ones and that setuid(0) fails.
 */
CORRAL_NODISCARD int proc_spawn(const struct proc_spawn_opts *o, pid_t *pid,
                                struct corral_error *err);

/* Send sig to process group pgid (ESRCH ignored). */
void proc_kill_group(pid_t pgid, int sig);

/*
 * Send sig to every live descendant of root (found through /proc; zombies are walked through
 * but not signalled), children first found are signalled before their own children are looked
 * up. Returns how many were signalled.
 */
size_t proc_kill_descendants(pid_t root, int sig);

/* The same, but the children of root listed in keep (n_keep pids) and their descendants are
 * spared: a subreaper's processes that are not its own (orphans given to it). */
size_t proc_kill_strays(pid_t root, const pid_t *keep, size_t n_keep, int sig);

/* Reap every exited child without blocking; returns how many were reaped. */
size_t proc_reap_all(void);

/*
 * fork(), but the child is our parent's child, not ours (clone with CLONE_PARENT): its exit,
 * stop and death signal concern our parent, which reaps it. For a fork server (the worker's
 * supervisor zygote, zygote.h): only from a single-threaded process, and the child must not
 * rely on pthread state (it is a raw system call, glibc's fork handlers do not run). Returns as
 * fork() does; -1 with ENOSYS in ThreadSanitizer builds, whose runtime must see every fork.
 */
pid_t proc_fork_sibling(void);

/* Mark every fd >= lowfd close-on-exec. Async-signal-safe. */
void proc_cloexec_from(int lowfd);
/* The path of the running program into buf; false when it cannot be read or does not fit. */
bool proc_self_exe(char *buf, size_t n);

#endif
