/* SPDX-License-Identifier: MIT */
/*
 * The supervisors' fork server. Starting a supervisor by exec costs a program's start per task
 * (mapping it, its page faults, its libc's setup): about as much as the task itself when the
 * task is `true`. So the worker starts the supervisor program once more, as a zygote, and asks
 * it for each supervisor: the zygote forks itself, and the copy runs supervisor_main() as an
 * exec'd supervisor would, with the same fds.
 *
 * The copy is made with clone(CLONE_PARENT) (proc_fork_sibling): it is the worker's child, not
 * the zygote's. So nothing changes for the worker: it reaps its supervisors, sees them stopped
 * (waitpid WUNTRACED), and they get PR_SET_PDEATHSIG when it dies and check getppid() against
 * it, as before. The zygote has no children of its own and holds nothing of any task.
 *
 * Protocol (runner.c is the other side):
 *   the zygote is `corral-supervisor --zygote` (or `corral-worker --supervise-zygote` when that
 *   program is not installed), started in its own session with
 *     fd 3  its end of a SOCK_SEQPACKET socketpair (the worker keeps the other)
 *     fd 4  the lease page (supervisor.h, SUP_LEASE_FD), handed on to every supervisor
 *   request: one message of struct zygote_request with exactly ZYGOTE_FDS fds (SCM_RIGHTS):
 *     the config memfd, the result pipe's write end and the output file (supervisor.h's fds
 *     0, 3 and 5); anything else is refused with EINVAL and its fds closed
 *   reply: one struct zygote_reply: the new supervisor's pid, or 0 and an errno
 *   EOF on fd 3 (the worker closed it or died; PR_SET_PDEATHSIG SIGKILL as well): exit 0.
 * A zygote that is gone, stopped or slow to answer (ZYGOTE_REPLY_MS) is killed; the worker
 * starts that supervisor by exec and a new zygote later.
 */
#ifndef CORRAL_WORKER_ZYGOTE_H
#define CORRAL_WORKER_ZYGOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ZYGOTE_CTL_FD   3
#define ZYGOTE_FDS      3
#define ZYGOTE_MAGIC    0x7a79676fu /* "zygo" */
#define ZYGOTE_REPLY_MS 1000

struct zygote_request {
    uint32_t magic;
};

struct zygote_reply {
    int32_t pid; /* > 0: the supervisor; 0: none was made */
    int32_t err; /* errno when pid is 0 */
};

/* Send one request (magic and n fds, n <= ZYGOTE_FDS + 1) on sock, as the worker does (the
 * other values are for tests of refusals). Returns what sendmsg returned (EINTR retried). */
ssize_t zygote_send(int sock, uint32_t magic, const int *fds, size_t n);

/*
 * Entry point of `corral-supervisor --zygote` and `corral-worker --supervise-zygote`; returns
 * the exit status (0 at EOF). A supervisor made by it never returns here: it exits. mode_arg
 * is the mode's argv string (or NULL): a supervisor overwrites it with child_mode (no longer
 * than it), so that ps shows it as it would show an exec'd one ("corral-supervisor",
 * "corral-worker --supervise") and never as a zygote.
 */
int zygote_main(char *mode_arg, const char *child_mode);

#endif
