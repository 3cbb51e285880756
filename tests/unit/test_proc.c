/* SPDX-License-Identifier: MIT */
/* proc_spawn (io/proc.c): what a spawned program gets. Real processes (/bin/sh), no server. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/proc.h"

/* Run sh -c script with the given setup; its stdout (up to cap - 1 bytes) into out; returns
 * its exit status (or -1 when it did not start: *err tells). */
static int run_sh(const char *script, struct proc_spawn_opts *o, char *out, size_t cap,
                  struct corral_error *err)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char sh[] = "sh", dash_c[] = "-c", e1[] = "CORRAL_T=forty-two", e2[] = "PATH=/usr/bin:/bin";
    char sc[512];
    snprintf(sc, sizeof sc, "%s", script);
    char *argv[] = {sh, dash_c, sc, NULL};
    char *envp[] = {e1, e2, NULL};
    o->argv = argv;
    o->envp = envp;
    o->stdout_fd = p[1];
    pid_t pid = 0;
    int rc = proc_spawn(o, &pid, err);
    close(p[1]);
    size_t got = 0;
    if (rc == 0) {
        for (int i = 0; i < 1000 && got + 1 < cap; i++) {
            ssize_t r = read(p[0], out + got, cap - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    out[got] = '\0';
    close(p[0]);
    if (rc != 0)
        return -1;
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void environment_and_stdout_are_the_given_ones(void **state)
{
    (void)state;
    struct proc_spawn_opts o = {.file = "/bin/sh", .stdin_fd = -1, .stderr_fd = -1};
    struct corral_error err = {0};
    char out[256];
    assert_int_equal(
        run_sh("echo \"$CORRAL_T\"; env | grep -c . ; exit 3", &o, out, sizeof out, &err), 3);
    /* Only the given environment (sh adds PWD, SHLVL and _ at most). */
    int n = 0;
    char word[64] = "";
    assert_int_equal(sscanf(out, "%63s %d", word, &n), 2);
    assert_string_equal(word, "forty-two");
    assert_in_range(n, 2, 5);
}

static void only_stdio_and_kept_fds_are_open(void **state)
{
    (void)state;
    /* A kept fd given at a high number, and a leaked fd without close-on-exec that must not
     * reach the child. */
    int keep = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int high = fcntl(keep, F_DUPFD_CLOEXEC, 40);
    close(keep);
    int leaked = open("/dev/null", O_RDONLY); /* no O_CLOEXEC */
    assert_true(high >= 40 && leaked >= 0);
    struct proc_spawn_opts o = {.file = "/bin/sh", .stdin_fd = -1, .stderr_fd = -1, .n_keep = 1};
    o.keep_fds[0] = high;
    struct corral_error err = {0};
    char out[512];
    assert_int_equal(
        run_sh("cd /proc/self/fd && ls | sort -n | tr '\\n' ' '", &o, out, sizeof out, &err), 0);
    /* 0, 1, 2, the kept fd as 3, and the fd ls itself opens to read the directory. */
    assert_true(strncmp(out, "0 1 2 3 ", 8) == 0);
    int extra = 0;
    for (const char *p = out + 8; *p; p++)
        extra += *p == ' ';
    assert_in_range(extra, 0, 1);
    close(leaked);
    close(high);
}

static void sources_on_the_target_numbers_are_not_clobbered(void **state)
{
    (void)state;
    /* stdout's source sits on fd 3 and the kept fd's source on 1's neighbour: every source must
     * arrive where it was asked to, whatever its number. */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    int w3 = p[1] == 3 ? 3 : fcntl(p[1], F_DUPFD_CLOEXEC, 3);
    char sh[] = "sh", dash_c[] = "-c", sc[] = "echo out; echo kept >&3", e1[] = "PATH=/bin";
    char *argv[] = {sh, dash_c, sc, NULL};
    char *envp[] = {e1, NULL};
    struct proc_spawn_opts o = {.file = "/bin/sh",
                                .argv = argv,
                                .envp = envp,
                                .stdin_fd = -1,
                                .stdout_fd = w3,
                                .stderr_fd = -1,
                                .n_keep = 1};
    o.keep_fds[0] = w3; /* both to the same pipe */
    pid_t pid = 0;
    struct corral_error err = {0};
    assert_int_equal(proc_spawn(&o, &pid, &err), 0);
    if (w3 != p[1])
        close(w3);
    close(p[1]);
    char out[64] = "";
    size_t got = 0;
    for (int i = 0; i < 100 && got + 1 < sizeof out; i++) {
        ssize_t r = read(p[0], out + got, sizeof out - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    out[got] = '\0';
    close(p[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_string_equal(out, "out\nkept\n");
}

static void exec_failure_is_reported(void **state)
{
    (void)state;
    char prog[] = "corral-no-such-program", dir[] = "/tmp";
    char *argv[] = {prog, NULL};
    char *envp[] = {NULL};
    struct proc_spawn_opts o = {.argv = argv,
                                .envp = envp,
                                .search_path = "/nonexistent:/usr/bin",
                                .stdin_fd = -1,
                                .stdout_fd = -1,
                                .stderr_fd = -1};
    pid_t pid = 0;
    struct corral_error err = {0};
    assert_int_equal(proc_spawn(&o, &pid, &err), CORRAL_ENOTFOUND);
    assert_string_equal(err.msg, "exec: No such file or directory");
    /* A directory is not a program: the more telling error wins. */
    char *argv2[] = {dir, NULL};
    o.argv = argv2;
    corral_error_clear(&err);
    assert_int_equal(proc_spawn(&o, &pid, &err), CORRAL_ENOTFOUND);
    assert_string_equal(err.msg, "exec: Permission denied");
    /* The same found by the search: a candidate that exists is still tried (and its error
     * kept) when the ones that do not exist are skipped without a spawn. */
    char tmp[] = "tmp";
    char *argv3[] = {tmp, NULL};
    o.argv = argv3;
    o.search_path = "/nonexistent:/:/usr/bin";
    corral_error_clear(&err);
    assert_int_equal(proc_spawn(&o, &pid, &err), CORRAL_ENOTFOUND);
    assert_string_equal(err.msg, "exec: Permission denied");
    /* Nothing was left to reap. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void path_search_finds_the_program(void **state)
{
    (void)state;
    struct proc_spawn_opts o = {
        .file = "sh", .search_path = "/nonexistent::/bin", .stdin_fd = -1, .stderr_fd = -1};
    struct corral_error err = {0};
    char out[64];
    assert_int_equal(run_sh("echo found", &o, out, sizeof out, &err), 0);
    assert_string_equal(out, "found\n");
}

static void check_signals_and_session(bool forked)
{
    /* The caller ignores SIGTERM and blocks SIGUSR1: the child must not. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGTERM, &ign, &old);
    sigset_t usr1, oldmask;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &oldmask);
    struct proc_spawn_opts o = {
        .file = "/bin/sh", .stdin_fd = -1, .stderr_fd = -1, .new_session = true};
    if (forked)
        o.cwd = "/"; /* takes the fork path */
    struct corral_error err = {0};
    char out[512];
    int rc = run_sh("grep -E '^Sig(Ign|Blk)' /proc/self/status | tr '\\n\\t' '  '; "
                    "echo; cut -d' ' -f1,5,6 /proc/self/stat",
                    &o, out, sizeof out, &err);
    sigaction(SIGTERM, &old, NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "SigBlk: 0000000000000000"));
    /* No signal ignored, SIGTERM included; but for glibc's two internal ones (32 and 33): its
     * posix_spawn leaves them ignored, and every glibc program installs its handlers for them
     * at start. */
    const char *ig = strstr(out, "SigIgn: ");
    assert_non_null(ig);
    unsigned long long mask = strtoull(ig + 8, NULL, 16);
    assert_int_equal(mask & ~((1ULL << 31) | (1ULL << 32)), 0);
    /* pid pgrp session of the cut: the same number three times (its own session). */
    const char *line2 = strchr(out, '\n');
    assert_non_null(line2);
    long a = 0, b = 0, c = 0;
    assert_int_equal(sscanf(line2 + 1, "%ld %ld %ld", &a, &b, &c), 3);
    /* cut is sh's child: its pgrp and session are sh's pid, not ours. */
    assert_int_equal(b, c);
    assert_int_not_equal(b, (long)getpgrp());
    assert_int_not_equal(c, (long)getsid(0));
}

static void signals_are_default_and_unblocked_and_session_new(void **state)
{
    (void)state;
    check_signals_and_session(false);
}

static void forked_child_gets_the_same_signals_and_session(void **state)
{
    (void)state;
    check_signals_and_session(true);
}

/* With changed_signals, exactly those are reset: SIGTERM (listed) is default in the child,
 * SIGHUP (ignored by us but not listed) stays ignored, on both ways to start a child. */
static void check_changed_signals_only(bool forked)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_term, old_hup;
    sigaction(SIGTERM, &ign, &old_term);
    sigaction(SIGHUP, &ign, &old_hup);
    sigset_t changed;
    sigemptyset(&changed);
    sigaddset(&changed, SIGTERM);
    struct proc_spawn_opts o = {
        .file = "/bin/sh", .stdin_fd = -1, .stderr_fd = -1, .changed_signals = &changed};
    if (forked)
        o.cwd = "/";
    struct corral_error err = {0};
    char out[256];
    int rc = run_sh("grep -E '^SigIgn' /proc/self/status", &o, out, sizeof out, &err);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    assert_int_equal(rc, 0);
    const char *ig = strstr(out, "SigIgn:");
    assert_non_null(ig);
    unsigned long long mask = strtoull(ig + 7, NULL, 16);
    assert_int_equal(mask & (1ULL << (SIGTERM - 1)), 0);
    assert_int_not_equal(mask & (1ULL << (SIGHUP - 1)), 0);
}

static void only_the_changed_signals_are_reset(void **state)
{
    (void)state;
    check_changed_signals_only(false);
    check_changed_signals_only(true);
}

static void forked_child_gets_limits_and_cwd(void **state)
{
    (void)state;
    struct proc_spawn_opts o = {.file = "/bin/sh",
                                .stdin_fd = -1,
                                .stderr_fd = -1,
                                .cwd = "/tmp",
                                .limits = {{RLIMIT_FSIZE, 1u << 20}, {RLIMIT_AS, UINT64_MAX}},
                                .n_limits = 2};
    struct corral_error err = {0};
    char out[512];
    assert_int_equal(run_sh("pwd; grep -E '^Max (file size|address space)' /proc/self/limits "
                            "| tr -s ' '",
                            &o, out, sizeof out, &err),
                     0);
    /* Soft and hard both at 1 MiB; the address space untouched (UINT64_MAX). */
    assert_non_null(strstr(out, "/tmp\n"));
    assert_non_null(strstr(out, "Max file size 1048576 1048576 bytes"));
    assert_non_null(strstr(out, "Max address space unlimited unlimited bytes"));
    /* A directory that cannot be entered: the root instead. */
    o.cwd = "/nonexistent-corral-dir";
    o.n_limits = 0;
    assert_int_equal(run_sh("pwd", &o, out, sizeof out, &err), 0);
    assert_string_equal(out, "/\n");
}

/* The child that shares our memory until exec must leave our limits and signal mask as they
 * were (it sets its own limits and empties its own mask). */
static void forked_spawn_leaves_the_caller_as_it_was(void **state)
{
    (void)state;
    struct rlimit before;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &before), 0);
    sigset_t usr1, mask;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(sigprocmask(SIG_BLOCK, &usr1, NULL), 0);
    struct proc_spawn_opts o = {.file = "/bin/sh",
                                .stdin_fd = -1,
                                .stderr_fd = -1,
                                .limits = {{RLIMIT_FSIZE, 1u << 20}},
                                .n_limits = 1};
    struct corral_error err = {0};
    char out[64];
    assert_int_equal(run_sh("echo ok", &o, out, sizeof out, &err), 0);
    assert_string_equal(out, "ok\n");
    struct rlimit after;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &after), 0);
    assert_true(after.rlim_cur == before.rlim_cur && after.rlim_max == before.rlim_max);
    assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &mask), 0);
    assert_int_equal(sigismember(&mask, SIGUSR1), 1);
    assert_int_equal(sigismember(&mask, SIGTERM), 0);
    assert_int_equal(sigprocmask(SIG_UNBLOCK, &usr1, NULL), 0);
    /* A child that fails before exec leaves them alone too. */
    char prog[] = "/nonexistent-corral-program";
    char *argv[] = {prog, NULL}, *envp[] = {NULL};
    o.file = prog;
    o.argv = argv;
    o.envp = envp;
    o.stdout_fd = -1;
    pid_t pid;
    assert_int_equal(proc_spawn(&o, &pid, &err), CORRAL_ENOTFOUND);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &after), 0);
    assert_true(after.rlim_cur == before.rlim_cur && after.rlim_max == before.rlim_max);
}

static void forked_child_never_raises_a_limit(void **state)
{
    (void)state;
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit low = {1u << 20, 1u << 20};
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < low.rlim_max)
        low = old;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
    struct proc_spawn_opts o = {.file = "/bin/sh",
                                .stdin_fd = -1,
                                .stderr_fd = -1,
                                .limits = {{RLIMIT_FSIZE, 1u << 30}},
                                .n_limits = 1};
    struct corral_error err = {0};
    char out[256], want[64];
    int rc =
        run_sh("grep -E '^Max file size' /proc/self/limits | tr -s ' '", &o, out, sizeof out, &err);
    /* Only the soft limit can be put back; the hard one stays lowered for this process. */
    struct rlimit back = {low.rlim_max, low.rlim_max};
    (void)setrlimit(RLIMIT_FSIZE, &back);
    assert_int_equal(rc, 0);
    snprintf(want, sizeof want, "Max file size %llu %llu bytes", (unsigned long long)low.rlim_max,
             (unsigned long long)low.rlim_max);
    assert_non_null(strstr(out, want));
}

static void forked_exec_failure_is_reported_and_reaped(void **state)
{
    (void)state;
    char prog[] = "corral-no-such-program";
    char *argv[] = {prog, NULL};
    char *envp[] = {NULL};
    struct proc_spawn_opts o = {.argv = argv,
                                .envp = envp,
                                .search_path = "/nonexistent:/usr/bin",
                                .stdin_fd = -1,
                                .stdout_fd = -1,
                                .stderr_fd = -1,
                                .cwd = "/"};
    pid_t pid = 0;
    struct corral_error err = {0};
    assert_int_equal(proc_spawn(&o, &pid, &err), CORRAL_ENOTFOUND);
    assert_string_equal(err.msg, "exec: No such file or directory");
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* As root: the child runs as nobody (65534) with no supplementary group. As anyone else: the
 * switch fails at its first step and says so. */
static void creds_switch_the_identity_or_fail_loudly(void **state)
{
    (void)state;
    gid_t none[1] = {0};
    struct proc_creds c = {.uid = 65534, .gid = 65534, .groups = none, .n_groups = 0};
    struct proc_spawn_opts o = {
        .file = "/bin/sh", .stdin_fd = -1, .stderr_fd = -1, .creds = &c, .cwd = "/"};
    struct corral_error err = {0};
    char out[256];
    int rc = run_sh("echo $(id -u) $(id -g) $(id -G); grep -E '^(Uid|Gid)' /proc/self/status "
                    "| tr -s '\t\n' '  '",
                    &o, out, sizeof out, &err);
    if (geteuid() != 0) {
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, CORRAL_EINTERNAL);
        assert_non_null(strstr(err.msg, "setgroups: "));
        return;
    }
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "65534 65534 65534\n"));
    assert_non_null(strstr(out, "Uid: 65534 65534 65534 65534 Gid: 65534 65534 65534 65534"));
}

/* Two children: the one in keep survives (with its own child), the other dies with its child. */
static void kill_strays_spares_the_kept_children_and_their_trees(void **state)
{
    (void)state;
    char sh[] = "/bin/sh", dash_c[] = "-c", script[] = "sleep 30 & wait";
    char *argv[] = {sh, dash_c, script, NULL};
    char *envp[] = {NULL};
    struct proc_spawn_opts o = {
        .argv = argv, .envp = envp, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    pid_t kept = 0, stray = 0;
    struct corral_error err = {0};
    assert_int_equal(proc_spawn(&o, &kept, &err), 0);
    assert_int_equal(proc_spawn(&o, &stray, &err), 0);
    /* Let both shells start their sleep. */
    for (int i = 0; i < 100 && proc_kill_descendants(stray, 0) + proc_kill_descendants(kept, 0) < 2;
         i++)
        usleep(10000);
    assert_int_equal(proc_kill_strays(getpid(), &kept, 1, SIGKILL), 2); /* stray and its sleep */
    int st = 0;
    assert_int_equal(waitpid(stray, &st, 0), stray);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(waitpid(kept, &st, WNOHANG), 0);    /* still running */
    assert_int_equal(proc_kill_descendants(kept, 0), 1); /* and its sleep too */
    proc_kill_descendants(kept, SIGKILL);
    kill(kept, SIGKILL);
    assert_int_equal(waitpid(kept, &st, 0), kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(environment_and_stdout_are_the_given_ones),
        cmocka_unit_test(only_stdio_and_kept_fds_are_open),
        cmocka_unit_test(sources_on_the_target_numbers_are_not_clobbered),
        cmocka_unit_test(exec_failure_is_reported),
        cmocka_unit_test(path_search_finds_the_program),
        cmocka_unit_test(signals_are_default_and_unblocked_and_session_new),
        cmocka_unit_test(forked_child_gets_the_same_signals_and_session),
        cmocka_unit_test(only_the_changed_signals_are_reset),
        cmocka_unit_test(forked_child_gets_limits_and_cwd),
        cmocka_unit_test(forked_spawn_leaves_the_caller_as_it_was),
        cmocka_unit_test(forked_child_never_raises_a_limit),
        cmocka_unit_test(forked_exec_failure_is_reported_and_reaped),
        cmocka_unit_test(creds_switch_the_identity_or_fail_loudly),
        cmocka_unit_test(kill_strays_spares_the_kept_children_and_their_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
