/* SPDX-License-Identifier: MIT */
/* The supervisors' fork server (zygote.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/log.h"
#include "io/proc.h"
#include "worker/supervisor.h"
#include "worker/zygote.h"

#define CORRAL_LOG_MODULE "zygote"

/* Above every fd a supervisor is given, so that moving them into place overwrites none. */
#define ZYGOTE_HIGH_FD 16

/* In the new supervisor: its fds where an exec'd one finds them, its command line as ps shows
 * an exec'd one's, then supervisor_main(). */
static _Noreturn void become_supervisor(const int fds[ZYGOTE_FDS], char *mode_arg,
                                        const char *child_mode)
{
    if (mode_arg) { /* the argument's bytes are where /proc/<pid>/cmdline reads them */
        size_t room = strlen(mode_arg), n = strlen(child_mode);
        memset(mode_arg, 0, room);
        memcpy(mode_arg, child_mode, n < room ? n : room);
    }
    static const int target[ZYGOTE_FDS] = {STDIN_FILENO, SUP_RESULT_FD, SUP_OUTPUT_FD};
    int high[ZYGOTE_FDS];
    (void)close(ZYGOTE_CTL_FD);
    for (int i = 0; i < ZYGOTE_FDS; i++) {
        high[i] = fcntl(fds[i], F_DUPFD, ZYGOTE_HIGH_FD);
        if (high[i] < 0)
            _exit(127); /* the worker sees the result pipe close: the attempt is lost */
        (void)close(fds[i]);
    }
    for (int i = 0; i < ZYGOTE_FDS; i++) {
        if (dup2(high[i], target[i]) < 0) /* dup2 leaves the copy without close-on-exec */
            _exit(127);
        (void)close(high[i]);
    }
    /* Its own session and process group, as the exec'd supervisor gets from proc_spawn. */
    (void)setsid();
    exit(supervisor_main());
}

/* The fds of a request into fds (at most max, the rest closed); their count. *over is set
 * when there were more or the kernel had to cut them. */
static int take_fds(struct msghdr *m, int *fds, int max, bool *over)
{
    int n = 0;
    *over = (m->msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (n < max)
                fds[n++] = fd;
            else {
                (void)close(fd);
                *over = true;
            }
        }
    }
    return n;
}

ssize_t zygote_send(int sock, uint32_t magic, const int *fds, size_t n)
{
    struct zygote_request req = {.magic = magic};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (ZYGOTE_FDS + 1))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {.iov_base = &req, .iov_len = sizeof req};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > ZYGOTE_FDS + 1) {
        errno = EINVAL;
        return -1;
    }
    if (n > 0) {
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    ssize_t w;
    do
        w = sendmsg(sock, &m, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w;
}

int zygote_main(char *mode_arg, const char *child_mode)
{
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* With the worker gone nobody may ask for supervisors; EOF on the socket says so too. */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    log_init("corral-worker", CORRAL_LOG_INFO);
    for (;;) {
        struct zygote_request req;
        union {
            char buf[CMSG_SPACE(sizeof(int) * (ZYGOTE_FDS + 1))];
            struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof u);
        struct iovec iov = {.iov_base = &req, .iov_len = sizeof req};
        struct msghdr m = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
        ssize_t n = recvmsg(ZYGOTE_CTL_FD, &m, MSG_CMSG_CLOEXEC);
        if (n == 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            CORRAL_LOG(CORRAL_LOG_ERROR, "supervisor zygote: recvmsg: %s", strerror(errno));
            return 1;
        }
        int fds[ZYGOTE_FDS + 1];
        bool over;
        int nfd = take_fds(&m, fds, ZYGOTE_FDS + 1, &over);
        struct zygote_reply rep = {0, 0};
        if (n != (ssize_t)sizeof req || (m.msg_flags & MSG_TRUNC) || over ||
            req.magic != ZYGOTE_MAGIC || nfd != ZYGOTE_FDS) {
            rep.err = EINVAL;
        } else {
            pid_t p = proc_fork_sibling();
            if (p == 0)
                become_supervisor(fds, mode_arg, child_mode);
            if (p < 0)
                rep.err = errno;
            else
                rep.pid = p;
        }
        for (int i = 0; i < nfd; i++)
            (void)close(fds[i]);
        ssize_t w;
        do
            w = send(ZYGOTE_CTL_FD, &rep, sizeof rep, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0)
            return 0; /* the worker is gone */
    }
}
