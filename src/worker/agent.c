/* SPDX-License-Identifier: MIT */
/*
 * The worker agent (agent.h). One thread owns all state: a poll() loop over the ZooKeeper event
 * fd, the supervisors' result pipes and a signal self-pipe, with a short timeout for periodic
 * work. Watches are hints only: after every event and every reconnect it re-reads and
 * reconciles, and it reconciles every 2 s anyway. This file is the loop, the signals, the
 * session's events and the periodic tick; the other concerns have their rooms
 * (agent_internal.h). It never exits on a ZooKeeper problem (only on SIGTERM/SIGINT, or when
 * its id stays taken).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corral/paths.h"
#include "corral/strlist.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/proc.h"
#include "worker/agent_internal.h"
#include "worker/run_as.h"

#define CORRAL_LOG_MODULE "worker"

/* ------------------------------------------------------------------ signals */

static int sig_wfd = -1;

static void on_signal(int sig)
{
    /* Only a write: the loop does the work (STYLE §6). */
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_wfd, &b, 1);
    (void)w;
    errno = saved;
}

static int setup_signals(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        (void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    sig_wfd = fds[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ------------------------------------------------------------------ locals */

int64_t agent_lease_ms(const struct agent *a)
{
    return (int64_t)a->timeout_ms * 3 / 4;
}

struct local *agent_find_local(struct agent *a, const char *id)
{
    for (size_t i = 0; i < a->n_locals; i++)
        if (!a->locals[i]->dropped && strcmp(a->locals[i]->id, id) == 0)
            return a->locals[i];
    return NULL;
}

size_t agent_running_count(const struct agent *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_locals; i++)
        n += !a->locals[i]->dropped;
    return n;
}

struct local *agent_add_local(struct agent *a)
{
    if (a->n_locals == a->cap_locals) {
        a->cap_locals = a->cap_locals ? a->cap_locals * 2 : 8;
        a->locals = corral_xrealloc(a->locals, a->cap_locals * sizeof *a->locals);
    }
    struct local *l = corral_xcalloc(1, sizeof *l);
    l->run.fd = -1;
    a->locals[a->n_locals++] = l;
    return l;
}

void agent_remove_local(struct agent *a, struct local *l)
{
    for (size_t i = 0; i < a->n_locals; i++) {
        if (a->locals[i] == l) {
            a->locals[i] = a->locals[--a->n_locals];
            break;
        }
    }
    runner_close(&l->run);
    free(l->task_json);
    free(l);
}

bool agent_assign_path(const struct agent *a, const char *id, char *buf, size_t n)
{
    return corral_path_assign(buf, n, a->cfg->ns, a->cfg->id, id) == CORRAL_OK;
}

/* ------------------------------------------------------------------ session events */

static void on_expired(struct agent *a, int64_t now, const char *what)
{
    CORRAL_LOG(CORRAL_LOG_WARN, "%s; killing running tasks and registering again", what);
    /* The assignments belong to the dead session: the leader requeues them. Our attempts
     * must end now, and their results must not be written. */
    for (size_t i = 0; i < a->n_locals; i++) {
        struct local *l = a->locals[i];
        if (!l->dropped) {
            l->dropped = true;
            runner_kill(&l->run);
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s attempt=%u killed: session lost", l->id,
                       l->attempt);
        }
    }
    a->connected = false;
    a->registered = false;
    a->exists_since_ms = 0;
    a->drain_written = false;
    agent_new_reg(a);
    if (a->draining) {
        /* Nothing left to return: the dead session's assignments are the leader's now. */
        a->stop = true;
        return;
    }
    struct corral_error err = {0};
    if (zk_reopen(a->zk, &err) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot start a new session: %s", err.msg);
        a->reopen_pending = true;
        a->next_reopen_ms = now + REOPEN_RETRY_MS;
    }
}

static void handle_zk_events(struct agent *a, int64_t now)
{
    struct zk_event ev;
    while (zk_next_event(a->zk, &ev)) {
        if (ev.type == ZK_EV_SESSION) {
            switch (ev.state) {
                case ZK_SESSION_CONNECTED:
                    if (!a->connected) {
                        a->connected = true;
                        int t = zk_session_timeout_ms(a->zk);
                        if (t > 0)
                            a->timeout_ms = t;
                        CORRAL_LOG(CORRAL_LOG_INFO, "connected to ZooKeeper session_timeout_ms=%d",
                                   a->timeout_ms);
                    }
                    a->need_reconcile = true;
                    a->need_reread = true;
                    a->need_fleet_read = true; /* the watch may be gone with the connection */
                    break;
                case ZK_SESSION_CONNECTING:
                    if (a->connected)
                        CORRAL_LOG(CORRAL_LOG_WARN,
                                   "disconnected from ZooKeeper; tasks keep running for at most "
                                   "%" PRId64 " ms",
                                   agent_lease_ms(a));
                    a->connected = false;
                    break;
                case ZK_SESSION_EXPIRED:
                    on_expired(a, now, "ZooKeeper session expired");
                    break;
                case ZK_SESSION_AUTH_FAILED:
                    CORRAL_LOG(CORRAL_LOG_ERROR, "ZooKeeper authentication failed (--zk-auth)");
                    on_expired(a, now, "ZooKeeper session unusable");
                    break;
            }
        } else {
            if (strcmp(ev.path, a->p_fleet) == 0) {
                a->need_fleet_read = true; /* cordoned, drained or uncordoned */
                zk_event_cleanup(&ev);
                continue;
            }
            /* A change below our assignment dir: a new task, a cancel, a deletion. */
            size_t n = strlen(a->p_assign_dir);
            CORRAL_LOG(CORRAL_LOG_DEBUG, "watch type=%d path=%s", (int)ev.type, ev.path);
            bool below = strncmp(ev.path, a->p_assign_dir, n) == 0 && ev.path[n] == '/';
            struct local *l = below ? agent_find_local(a, ev.path + n + 1) : NULL;
            if (ev.type == ZK_EV_CHANGED && l) {
                if (a->connected)
                    agent_reread_assignment(a, l);
            } else {
                /* An ignored assignment (another registration's, say) that was deleted or
                 * rewritten is judged again: the leader may have put a new one of ours under
                 * the same name before our next listing, which then shows no change. */
                if (below && !l)
                    corral_strlist_remove(&a->ignored, ev.path + n + 1);
                a->need_reconcile = true;
            }
        }
        zk_event_cleanup(&ev);
    }
}

/* ------------------------------------------------------------------ runs and children */

static void on_run_done(struct agent *a, struct local *l, int64_t now)
{
    if (l->dropped) {
        CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s void attempt=%u ended outcome=%s", l->id, l->attempt,
                   corral_run_outcome_name(l->run.result.outcome));
        agent_remove_local(a, l);
        return;
    }
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u ended outcome=%s", l->id, l->attempt,
               corral_run_outcome_name(l->run.result.outcome));
    l->result_ready = true;
    l->next_try_ms = now;
}

/* Reap supervisors, and catch one that was stopped: a task running as our uid can SIGSTOP its
 * supervisor (its parent) to escape its timeout, cancel and lease. */
static void watch_strays(struct agent *a, int64_t now)
{
    a->strays_until_ms = now + STRAYS_WATCH_MS;
    a->next_strays_ms = now;
}

static void reap_children(struct agent *a)
{
    for (;;) {
        int st = 0;
        pid_t p = waitpid(-1, &st, WNOHANG | WUNTRACED);
        if (p < 0 && errno == EINTR)
            continue;
        if (p <= 0)
            return;
        bool stopped = WIFSTOPPED(st), claimed = false;
        for (size_t i = 0; i < a->n_locals && !claimed; i++) {
            struct run *run = &a->locals[i]->run;
            claimed = stopped ? runner_stopped(run, p) : runner_reaped(run, p);
        }
        if (!claimed && runner_own_child(a->runner, p, stopped))
            continue;
        if (stopped)
            watch_strays(a, clock_mono_ms());
    }
}

/*
 * A supervisor that dies without its sweep (SIGKILL by a task of our uid, the OOM killer, or us
 * after a stop) leaves the task's processes that escaped its process group (setsid, double
 * fork) without anyone to end them. We are their subreaper, so they come to us: every child of
 * ours that is neither a supervisor nor their zygote is such an orphan, and is killed with
 * everything below it.
 */
static void kill_strays(struct agent *a, int64_t now)
{
    if (now >= a->strays_until_ms || now < a->next_strays_ms)
        return;
    a->next_strays_ms = now + STRAYS_EVERY_MS;
    pid_t *keep = corral_xcalloc(a->n_locals + 2, sizeof *keep);
    size_t n = 0;
    if (runner_zygote_pid(a->runner) > 0)
        keep[n++] = runner_zygote_pid(a->runner);
    for (size_t i = 0; i < a->n_locals; i++)
        if (a->locals[i]->run.pid > 0)
            keep[n++] = a->locals[i]->run.pid;
    size_t killed = proc_kill_strays(getpid(), keep, n, SIGKILL);
    free(keep);
    if (killed > 0)
        CORRAL_LOG(CORRAL_LOG_WARN, "killed %zu process(es) left behind by a dead supervisor",
                   killed);
}

static void handle_signals(struct agent *a, int fd, int64_t now)
{
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIGCHLD)
                reap_children(a);
            else if (buf[i] == SIGTERM || buf[i] == SIGINT)
                agent_begin_drain(a, now, buf[i]);
        }
    }
}

/* ------------------------------------------------------------------ periodic work */

static void tick(struct agent *a, int64_t now)
{
    if (a->reopen_pending && now >= a->next_reopen_ms) {
        struct corral_error err = {0};
        if (zk_reopen(a->zk, &err) == CORRAL_OK) {
            a->reopen_pending = false;
        } else {
            CORRAL_LOG(CORRAL_LOG_WARN, "cannot start a new session: %s", err.msg);
            a->next_reopen_ms = now + REOPEN_RETRY_MS;
        }
    }
    if (a->connected && !a->registered && !a->stop && now >= a->next_register_ms)
        agent_register(a, now);

    if (a->connected && a->registered) {
        if (now >= a->next_ping_ms) {
            /* Keeps zk_last_rx_ms() fresh: the lease the supervisors enforce. */
            zk_ping(a->zk, a->p_worker);
            a->next_ping_ms = now + (a->timeout_ms > 0 ? a->timeout_ms / 6 : 1000);
        }
        if (a->draining && !a->drain_written)
            agent_write_draining(a, now);
        else if (a->reg_dirty)
            agent_write_reg(a);
        if (a->need_fleet_read)
            agent_fleet_read(a, now);
        agent_fleet_tick(a, now);
        if (now >= a->next_reread_ms) {
            a->need_reread = true;
            a->next_reread_ms = now + REREAD_MS;
        }
        if (a->need_reconcile || a->need_reread || now >= a->next_reconcile_ms) {
            agent_reconcile(a, now);
            a->next_reconcile_ms = now + RECONCILE_MS;
            if (a->draining && a->drain_written && !a->drain_reconciled &&
                a->drain_written_ms + DRAIN_SETTLE_MS < a->next_reconcile_ms)
                a->next_reconcile_ms = a->drain_written_ms + DRAIN_SETTLE_MS;
        }
        agent_publish_outputs(a, now);
        agent_finish_ready(a, now);
        for (size_t i = 0; i < a->n_locals; i++) {
            struct local *l = a->locals[i];
            if (l->result_ready && !l->dropped && now >= l->next_try_ms &&
                agent_output_settled(l)) {
                agent_finish_local(a, l, now);
                i = (size_t)-1; /* the list may have changed: start over */
                if (!a->connected)
                    break;
            }
        }
    }

    if (a->draining)
        agent_drain_tick(a, now);
}

/* ------------------------------------------------------------------ main loop */

static bool build_paths(struct agent *a)
{
    const struct agent_config *c = a->cfg;
    return corral_path_dir(a->p_workers, sizeof a->p_workers, c->ns, CORRAL_DIR_WORKERS) ==
               CORRAL_OK &&
           corral_path_worker(a->p_worker, sizeof a->p_worker, c->ns, c->id) == CORRAL_OK &&
           corral_path_dir(a->p_assign_root, sizeof a->p_assign_root, c->ns, CORRAL_DIR_ASSIGN) ==
               CORRAL_OK &&
           corral_path_assign_dir(a->p_assign_dir, sizeof a->p_assign_dir, c->ns, c->id) ==
               CORRAL_OK &&
           corral_path_queue_signal(a->p_queue, sizeof a->p_queue, c->ns) == CORRAL_OK &&
           corral_path_fleet(a->p_fleet, sizeof a->p_fleet, c->ns, c->id) == CORRAL_OK;
}

int agent_run(const struct agent_config *cfg)
{
    struct agent a = {.cfg = cfg, .timeout_ms = cfg->session_timeout_ms};
    int sigfds[2] = {-1, -1};
    struct corral_error err = {0};
    if (!build_paths(&a)) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "namespace or id too long for znode paths");
        return 1;
    }
    if (setup_signals(sigfds) < 0) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "signal pipe: %s", strerror(errno));
        return 1;
    }
    /* Orphans of a supervisor that died come to us, not to init (kill_strays). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot become a child subreaper: %s", strerror(errno));
    a.runner = runner_new(cfg->work_dir, cfg->log_level, cfg->run_as, &err);
    if (!a.runner) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "%s", err.msg);
        return 1;
    }
    agent_new_reg(&a);
    /* An unresolvable ensemble at startup (DNS not ready yet) is a ZooKeeper problem like
     * any other: wait for it rather than exit, until told to stop. */
    for (int tries = 0;
         !(a.zk = zk_open(cfg->zk_hosts, cfg->session_timeout_ms, cfg->zk_auth, &err)); tries++) {
        if (tries % 30 == 0)
            CORRAL_LOG(CORRAL_LOG_WARN, "%s; retrying", err.msg);
        corral_error_clear(&err);
        struct pollfd p = {.fd = sigfds[0], .events = POLLIN};
        unsigned char b = 0;
        if (poll(&p, 1, REOPEN_RETRY_MS) > 0 && read(sigfds[0], &b, 1) == 1 &&
            (b == SIGTERM || b == SIGINT)) {
            runner_free(a.runner);
            close(sigfds[0]);
            close(sigfds[1]);
            return 0;
        }
    }
    agent_own_identity(&a);
    CORRAL_LOG(
        CORRAL_LOG_INFO,
        "starting worker=%s version=%s zk=%s namespace=%s slots=%u cpu_milli=%u mem_mb=%" PRIu64
        " work_dir=%s run_as=\"%s\"",
        cfg->id, CORRAL_VERSION, cfg->zk_hosts, cfg->ns, cfg->slots, cfg->cpu_milli, cfg->mem_mb,
        cfg->work_dir, cfg->run_as ? cfg->run_as->name : "(worker's user)");

    struct pollfd *pfds = NULL;
    size_t cap = 0;
    while (!a.stop) {
        /* The lease page first: supervisors kill at last_rx + 0.75 T whatever we do next. */
        runner_set_lease(a.runner, zk_last_rx_ms(a.zk), agent_lease_ms(&a));

        size_t need = 2 + a.n_locals;
        if (need > cap) {
            cap = need * 2;
            pfds = corral_xrealloc(pfds, cap * sizeof *pfds);
        }
        size_t n = 0;
        pfds[n++] = (struct pollfd){.fd = sigfds[0], .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = zk_event_fd(a.zk), .events = POLLIN};
        for (size_t i = 0; i < a.n_locals; i++)
            pfds[n++] = (struct pollfd){.fd = a.locals[i]->run.fd, .events = POLLIN};
        (void)poll(pfds, n, TICK_MS);
        int64_t now = clock_mono_ms();

        handle_signals(&a, sigfds[0], now);
        reap_children(&a); /* also without SIGCHLD: a full self-pipe may have lost it */
        handle_zk_events(&a, now);
        for (size_t i = 0; i < a.n_locals;) {
            struct local *l = a.locals[i];
            if (l->run.fd >= 0 && runner_read(&l->run)) {
                if (l->run.result.outcome == CORRAL_RUN_LOST)
                    watch_strays(&a, now);
                size_t before = a.n_locals;
                on_run_done(&a, l, now);
                if (a.n_locals != before)
                    continue; /* removed: index i now holds another local */
            }
            i++;
        }
        /* A void attempt is forgotten once its supervisor is done (it may have been done
         * already when it was voided, e.g. killed by the lease just before the expiry). */
        for (size_t i = 0; i < a.n_locals;) {
            if (a.locals[i]->dropped && a.locals[i]->run.done)
                agent_remove_local(&a, a.locals[i]);
            else
                i++;
        }
        kill_strays(&a, now);
        if (!a.stop)
            tick(&a, now);
    }

    if (a.exit_code == 0)
        CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s stopped", cfg->id);
    /* Supervisors still alive (give-up path) end by PDEATHSIG when we exit. */
    for (size_t i = 0; i < a.n_locals; i++) {
        runner_close(&a.locals[i]->run);
        free(a.locals[i]->task_json);
        free(a.locals[i]);
    }
    free(a.locals);
    free(pfds);
    corral_strlist_cleanup(&a.ignored);
    zk_close(a.zk); /* closes the session: our ephemeral vanishes at once */
    runner_free(a.runner);
    close(sigfds[0]);
    close(sigfds[1]);
    return a.exit_code;
}
