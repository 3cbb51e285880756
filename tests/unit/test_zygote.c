/* SPDX-License-Identifier: MIT */
/* The supervisors' fork server (src/worker/zygote.h) against its protocol: this test process
 * plays the worker, the zygote is a child of it running zygote_main(), and the supervisors it
 * makes run real tasks (sh) and are, as in the worker, children of this process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/proc.h"
#include "worker/supervisor.h"
#include "worker/zygote.h"

#define DEADLINE_MS 10000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct zyg {
    pid_t pid;
    int ctl;
};

/* A zygote as the worker starts one: fd 3 its socket, fd 4 the lease page (no lease yet). */
static struct zyg zygote_start(void)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    int lease = memfd_create("test-lease", MFD_CLOEXEC);
    assert_true(lease >= 0);
    assert_int_equal(ftruncate(lease, (off_t)sysconf(_SC_PAGESIZE)), 0);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        if (dup2(sv[1], ZYGOTE_CTL_FD) < 0 || dup2(lease, SUP_LEASE_FD) < 0)
            _exit(120);
        _exit(zygote_main(NULL, ""));
    }
    close(sv[1]);
    close(lease);
    return (struct zyg){.pid = p, .ctl = sv[0]};
}

/* Send one request with these fds (and magic); the zygote's reply. */
static struct zygote_reply ask(int ctl, uint32_t magic, const int *fds, size_t n)
{
    assert_int_equal(zygote_send(ctl, magic, fds, n), (ssize_t)sizeof(struct zygote_request));
    struct pollfd p = {.fd = ctl, .events = POLLIN};
    assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
    struct zygote_reply rep;
    assert_int_equal(recv(ctl, &rep, sizeof rep, 0), (ssize_t)sizeof rep);
    return rep;
}

/* What the worker hands one supervisor: config pipe, result pipe, output file. */
struct sup_fds {
    int cfg[2];
    int res[2];
    int out;
    char out_path[64];
};

static void sup_fds_open(struct sup_fds *f)
{
    assert_int_equal(pipe2(f->cfg, O_CLOEXEC), 0);
    assert_int_equal(pipe2(f->res, O_CLOEXEC), 0);
    snprintf(f->out_path, sizeof f->out_path, "/tmp/corral-test-zygote-XXXXXX");
    f->out = mkostemp(f->out_path, O_CLOEXEC);
    assert_true(f->out >= 0);
}

static void sup_fds_close(struct sup_fds *f)
{
    int *all[] = {&f->cfg[0], &f->cfg[1], &f->res[0], &f->res[1], &f->out};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i] >= 0) {
            close(*all[i]);
            *all[i] = -1;
        }
    unlink(f->out_path);
}

/* Ask for a supervisor; on success close what only it must hold. Its pid (0: none). */
static pid_t sup_start(struct zyg *z, struct sup_fds *f)
{
    int fds[3] = {f->cfg[0], f->res[1], f->out};
    struct zygote_reply rep = ask(z->ctl, ZYGOTE_MAGIC, fds, 3);
    if (rep.pid <= 0)
        return 0;
    close(f->cfg[0]);
    close(f->res[1]);
    f->cfg[0] = f->res[1] = -1;
    return (pid_t)rep.pid;
}

/* Everything the supervisor writes on its result pipe until EOF (bounded in time). */
static void read_result(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    int64_t until = now_ms() + DEADLINE_MS;
    while (got + 1 < cap && now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
}

/* The worker's side after the zygote's answer: the config of a task running command_json
 * (NULL: none, as for an answer the worker never got), then EOF. */
static void send_config(struct sup_fds *f, const char *command_json)
{
    if (!command_json) {
        close(f->cfg[1]);
        f->cfg[1] = -1;
        return;
    }
    char cfg[1024];
    int n = snprintf(cfg, sizeof cfg,
                     "{\"task_id\":\"019a1b2c3d4e-9f8e7d6c\",\"attempt\":1,\"epoch\":1,"
                     "\"spec\":{\"command\":%s},\"parent\":%ld,\"log_level\":\"error\"}",
                     command_json, (long)getpid());
    assert_true(n > 0 && (size_t)n < sizeof cfg);
    assert_int_equal(write(f->cfg[1], cfg, (size_t)n), n);
    close(f->cfg[1]);
    f->cfg[1] = -1;
}

static int reap(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void zygote_end(struct zyg *z)
{
    close(z->ctl); /* EOF: the zygote exits 0 */
    int st = reap(z->pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void a_supervisor_runs_the_task_as_our_child(void **state)
{
    (void)state;
    struct zyg z = zygote_start();
    for (int round = 0; round < 3; round++) { /* one zygote, many supervisors */
        struct sup_fds f;
        sup_fds_open(&f);
        pid_t sup = sup_start(&z, &f);
        assert_true(sup > 0);
        send_config(&f, "[\"sh\",\"-c\",\"echo from-the-task; exit 3\"]");
        char res[2048];
        read_result(f.res[0], res, sizeof res);
        assert_non_null(strstr(res, "{\"pgid\":"));
        assert_non_null(strstr(res, "\"outcome\":\"exited\""));
        assert_non_null(strstr(res, "\"exit_code\":3"));
        /* CLONE_PARENT: the supervisor is ours to reap, not the zygote's. */
        int st = reap(sup);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        char out[256] = "";
        assert_true(pread(f.out, out, sizeof out - 1, 0) > 0);
        assert_string_equal(out, "from-the-task\n");
        sup_fds_close(&f);
    }
    zygote_end(&z);
}

static void a_supervisor_without_its_config_runs_nothing(void **state)
{
    (void)state;
    struct zyg z = zygote_start();
    struct sup_fds f;
    sup_fds_open(&f);
    pid_t sup = sup_start(&z, &f);
    assert_true(sup > 0);
    /* The worker lost the answer: it closes the config pipe unwritten. */
    send_config(&f, NULL);
    char res[2048];
    read_result(f.res[0], res, sizeof res);
    assert_non_null(strstr(res, "\"outcome\":\"spawn_failed\""));
    assert_null(strstr(res, "pgid")); /* sent once a task runs */
    reap(sup);
    sup_fds_close(&f);
    zygote_end(&z);
}

static void bad_requests_are_refused_and_the_zygote_goes_on(void **state)
{
    (void)state;
    struct zyg z = zygote_start();
    struct sup_fds f;
    sup_fds_open(&f);
    int fds[4] = {f.cfg[0], f.res[1], f.out, f.out};
    struct zygote_reply rep = ask(z.ctl, ZYGOTE_MAGIC, fds, 2); /* too few */
    assert_int_equal(rep.pid, 0);
    assert_int_equal(rep.err, EINVAL);
    rep = ask(z.ctl, ZYGOTE_MAGIC, fds, 4); /* too many */
    assert_int_equal(rep.pid, 0);
    assert_int_equal(rep.err, EINVAL);
    rep = ask(z.ctl, ZYGOTE_MAGIC, NULL, 0); /* none */
    assert_int_equal(rep.err, EINVAL);
    rep = ask(z.ctl, 0xdeadbeefu, fds, 3); /* not the protocol's */
    assert_int_equal(rep.pid, 0);
    assert_int_equal(rep.err, EINVAL);
    /* The refused requests' fds were closed by the zygote: our result pipe has no other writer
     * once we close ours, which the good request below relies on. */
    pid_t sup = sup_start(&z, &f);
    assert_true(sup > 0);
    send_config(&f, "[\"true\"]");
    char res[2048];
    read_result(f.res[0], res, sizeof res);
    assert_non_null(strstr(res, "\"exit_code\":0"));
    reap(sup);
    sup_fds_close(&f);
    zygote_end(&z);
}

static void a_sibling_is_our_parents_child(void **state)
{
    (void)state;
    int p[2], q[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(pipe2(q, O_CLOEXEC), 0);
    pid_t mid = fork();
    assert_true(mid >= 0);
    if (mid == 0) {
        pid_t s = proc_fork_sibling();
        if (s == 0) {
            long pp = (long)getppid();
            (void)!write(q[1], &pp, sizeof pp);
            _exit(7);
        }
        long info[2] = {(long)s, (long)(s > 0 && waitpid(s, NULL, WNOHANG) < 0 && errno == ECHILD)};
        (void)!write(p[1], info, sizeof info);
        _exit(0);
    }
    close(p[1]);
    close(q[1]);
    long info[2] = {0, 0}, pp = 0;
    assert_int_equal(read(p[0], info, sizeof info), (ssize_t)sizeof info);
    assert_true(info[0] > 0);
    assert_int_equal(info[1], 1); /* not the middle process's child */
    assert_int_equal(read(q[0], &pp, sizeof pp), (ssize_t)sizeof pp);
    assert_int_equal(pp, (long)getpid());
    int st = reap((pid_t)info[0]); /* but ours */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 7);
    reap(mid);
    close(p[0]);
    close(q[0]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_sibling_is_our_parents_child),
        cmocka_unit_test(a_supervisor_runs_the_task_as_our_child),
        cmocka_unit_test(a_supervisor_without_its_config_runs_nothing),
        cmocka_unit_test(bad_requests_are_refused_and_the_zygote_goes_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
