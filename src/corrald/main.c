/* SPDX-License-Identifier: MIT */
/*
 * corrald: one scheduler replica. Parses flags, wires ZooKeeper, the REST API, the election
 * and the leader loop together, and runs the main loop, which owns all replica state:
 * ZooKeeper watch events arrive on an eventfd, signals on a self-pipe.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "corral/access.h"
#include "corral/fleet.h"
#include "corral/opts.h"
#include "corral/xalloc.h"
#include "corral/paths.h"
#include "corrald/api.h"
#include "corrald/backlog.h"
#include "corrald/beat.h"
#include "corrald/feedstat.h"
#include "corrald/election.h"
#include "corrald/leader.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/file.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "main"

extern char **environ;

static const char *const placements[] = {"least-loaded", "round-robin", "random",
                                         "weighted",     "bin-pack",    NULL};
static const char *const orders[] = {"priority", "fifo", "sjf", NULL};
static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

#define OPT(field) offsetof(struct replica_opts, field)
static const struct corral_opt opt_table[] = {
    {"zk", "CORRAL_ZK", CORRAL_OPT_STRING, "HOSTS", "127.0.0.1:2181",
     "ZooKeeper connection string host:port[,host:port...]", OPT(zk), 0, 0, NULL},
    {"namespace", "CORRAL_NAMESPACE", CORRAL_OPT_STRING, "PATH", "/corral",
     "root znode of this cluster", OPT(ns), 0, 0, NULL},
    {"listen", "CORRAL_LISTEN", CORRAL_OPT_STRING, "ADDR:PORT", "127.0.0.1:7070",
     "REST listen address (port 0 picks a free one)", OPT(listen), 0, 0, NULL},
    {"advertise", "CORRAL_ADVERTISE", CORRAL_OPT_STRING, "URL", NULL,
     "URL told to clients for this replica (default http://<listen>)", OPT(advertise), 0, 0, NULL},
    {"id", "CORRAL_ID", CORRAL_OPT_STRING, "NAME", NULL,
     "replica name shown in /v1/leader (default hostname-pid)", OPT(id), 0, 0, NULL},
    {"session-timeout", "CORRAL_SESSION_TIMEOUT", CORRAL_OPT_INT, "MS", "6000",
     "ZooKeeper session timeout requested", OPT(session_timeout_ms), 100, 3600000, NULL},
    {"placement", "CORRAL_PLACEMENT", CORRAL_OPT_CHOICE, "P", "least-loaded", "placement policy",
     OPT(placement), 0, 0, placements},
    {"order", "CORRAL_ORDER", CORRAL_OPT_CHOICE, "O", "priority", "ordering policy", OPT(order), 0,
     0, orders},
    {"token-file", "CORRAL_TOKEN_FILE", CORRAL_OPT_STRING, "FILE", NULL,
     "lines ROLE TOKEN (read|submit|admin) or TOKEN (admin); every request but /healthz, "
     "/readyz needs Authorization: Bearer <token>",
     OPT(token_file), 0, 0, NULL},
    {"zk-auth", "CORRAL_ZK_AUTH", CORRAL_OPT_STRING, "USER:PASS", NULL,
     "ZooKeeper digest auth (visible to local users: prefer --zk-auth-file)", OPT(zk_auth), 0, 0,
     NULL},
    {"zk-auth-file", "CORRAL_ZK_AUTH_FILE", CORRAL_OPT_STRING, "FILE", NULL,
     "ZooKeeper digest auth user:pass read from FILE (mode 0600 or stricter)", OPT(zk_auth_file), 0,
     0, NULL},
    {"zk-worker-auth-file", "CORRAL_ZK_WORKER_AUTH_FILE", CORRAL_OPT_STRING, "FILE", NULL,
     "the workers' ZooKeeper identity user:pass (their --zk-auth-file): workers then get only "
     "their own znodes' rights (docs/security.md)",
     OPT(zk_worker_auth_file), 0, 0, NULL},
    {"tls-cert", "CORRAL_TLS_CERT", CORRAL_OPT_STRING, "FILE", NULL,
     "serve HTTPS with this PEM certificate (chain)", OPT(tls_cert), 0, 0, NULL},
    {"tls-key", "CORRAL_TLS_KEY", CORRAL_OPT_STRING, "FILE", NULL,
     "the PEM private key of --tls-cert (mode 0600 or stricter)", OPT(tls_key), 0, 0, NULL},
    {"retention", "CORRAL_RETENTION", CORRAL_OPT_INT, "S", "86400",
     "delete finished tasks this many seconds after they finish", OPT(retention_s), 0,
     INT64_C(315360000), NULL},
    {"log-level", "CORRAL_LOG_LEVEL", CORRAL_OPT_CHOICE, "L", "info", "log level", OPT(log_level),
     0, 0, levels},
    {"log-format", "CORRAL_LOG_FORMAT", CORRAL_OPT_CHOICE, "F", "text",
     "log lines as text or json (one JSON object per line)", OPT(log_format), 0, 0, log_formats},
    {"insecure", "CORRAL_INSECURE", CORRAL_OPT_BOOL, NULL, NULL,
     "allow a non-loopback --listen without --token-file, and a non-loopback ZooKeeper "
     "without ZooKeeper auth",
     OPT(insecure), 0, 0, NULL},
    {"max-queued", "CORRAL_MAX_QUEUED", CORRAL_OPT_INT, "N", "1000000",
     "past N unfinished tasks, submissions get 429 backlog_full", OPT(max_queued), 1,
     INT64_C(1000000000), NULL},
    {"cordon-after-failures", "CORRAL_CORDON_AFTER_FAILURES", CORRAL_OPT_INT, "N", "0",
     "cordon a worker after N failed attempts in a row on it (0: never)",
     OPT(cordon_after_failures), 0, CORRAL_FLEET_FAILURES_MAX, NULL},
};
#define N_OPTS (sizeof opt_table / sizeof opt_table[0])

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    int saved = errno;
    stop_requested = 1;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

static void usage(void)
{
    char *help = corral_opts_help(opt_table, N_OPTS);
    printf("Usage: corrald [FLAGS]\n\nA corral scheduler replica: REST API, leader election "
           "and (while leader) the\nscheduling loop.\n\nFlags:\n%s",
           help);
    free(help);
}

static int usage_error(const struct corral_error *err)
{
    if (err->field[0])
        fprintf(stderr, "corrald: %s: %s\n", err->field, err->msg);
    else
        fprintf(stderr, "corrald: %s\n", err->msg);
    return 2;
}

/* --token-file: a secret file of `ROLE TOKEN` lines (core/access.c parses them). */
static int load_tokens(const char *file, struct corral_tokens *out, struct corral_error *err)
{
    char *text;
    size_t len;
    int rc = corral_config_file_read(file, "--token-file", true, &text, &len, err);
    if (rc != CORRAL_OK)
        return rc;
    rc = corral_tokens_parse(text, len, out, err);
    corral_config_file_free(text, len);
    return rc;
}

/* Handle one ZooKeeper event in the main loop. */
static void on_zk_event(struct replica *r, const struct zk_event *ev, bool *need_election,
                        bool *need_layout)
{
    if (ev->type == ZK_EV_SESSION) {
        if (ev->state == ZK_SESSION_CONNECTED) {
            CORRAL_LOG(CORRAL_LOG_INFO, "connected to ZooKeeper session=0x%" PRIx64,
                       (uint64_t)zk_session_id(r->zk));
            *need_election = true; /* re-check after a sync before leading again */
        } else if (ev->state == ZK_SESSION_CONNECTING) {
            CORRAL_LOG(CORRAL_LOG_WARN, "disconnected from ZooKeeper; %s",
                       r->el.is_leader ? "scheduling stops until reconnected" : "waiting");
            /* A leader cut off may already have been replaced: stop at once. */
            election_set_leading(r, false, 0, "disconnected from ZooKeeper");
        } else if (ev->state == ZK_SESSION_EXPIRED) {
            CORRAL_LOG(CORRAL_LOG_WARN, "ZooKeeper session expired; starting a new one");
            election_reset(r);
            *need_election = true;
            *need_layout = true;
        }
        leader_on_event(r->leader, ev);
        return;
    }
    if (election_owns_path(r, ev->path))
        *need_election = true;
    else
        leader_on_event(r->leader, ev);
}

static int run(struct replica *r)
{
    bool need_election = true, need_layout = true;
    int64_t last_election = 0, last_reopen = 0;
    struct corral_error err = {0};
    for (;;) {
        int64_t now = clock_mono_ms();
        int timeout = 200;
        if (r->el.is_leader) {
            int lt = leader_next_timeout_ms(r->leader, now);
            timeout = lt < timeout ? lt : timeout;
        }
        struct pollfd fds[2] = {{.fd = sig_pipe[0], .events = POLLIN},
                                {.fd = zk_event_fd(r->zk), .events = POLLIN}};
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) {
            CORRAL_LOG(CORRAL_LOG_ERROR, "poll: %s", strerror(errno));
            return 1;
        }
        if (n > 0 && (fds[0].revents & POLLIN)) {
            unsigned char b = 0;
            ssize_t rd = read(sig_pipe[0], &b, 1);
            (void)rd;
            CORRAL_LOG(CORRAL_LOG_INFO, "signal %d: shutting down", (int)b);
            return 0;
        }
        struct zk_event ev;
        while (zk_next_event(r->zk, &ev)) {
            on_zk_event(r, &ev, &need_election, &need_layout);
            zk_event_cleanup(&ev);
        }
        /* The time after the wait: a round due by now must not wait for another pass. */
        now = clock_mono_ms();
        enum zk_session_state st = zk_state(r->zk);
        bool auth_failed = st == ZK_SESSION_AUTH_FAILED;
        /* A rejected --zk-auth needs an operator, but the replica keeps trying (every 5 s)
         * rather than exit: the credentials may be added to the ensemble meanwhile. */
        if (st == ZK_SESSION_EXPIRED || (auth_failed && now - last_reopen >= 5000)) {
            if (auth_failed)
                CORRAL_LOG(CORRAL_LOG_ERROR, "ZooKeeper rejected --zk-auth; retrying in 5 s");
            election_reset(r);
            last_reopen = now;
            corral_error_clear(&err);
            if (zk_reopen(r->zk, &err) != CORRAL_OK)
                CORRAL_LOG(CORRAL_LOG_ERROR, "new ZooKeeper session: %s", err.msg);
            continue;
        }
        if (!zk_is_connected(r->zk))
            continue;
        now = clock_mono_ms();
        corral_error_clear(&err);
        if (need_layout) {
            if (store_init_layout(r, &err) != CORRAL_OK) {
                if (err.code == CORRAL_EFORBIDDEN) {
                    CORRAL_LOG(CORRAL_LOG_ERROR, "refusing to run: %s", err.msg);
                    return 2;
                }
                CORRAL_LOG(CORRAL_LOG_WARN, "creating namespace %s: %s", r->opts.ns, err.msg);
                continue;
            }
            need_layout = false;
            atomic_store(&r->layout_ready, true);
        }
        /* Re-check now and then too: watches are hints, not guarantees. */
        if (need_election || now - last_election >= 5000) {
            bool was = r->el.is_leader;
            if (election_check(r, &err) != CORRAL_OK) {
                CORRAL_LOG(CORRAL_LOG_WARN, "election: %s", err.msg);
                continue;
            }
            need_election = false;
            last_election = now;
            if (r->el.is_leader != was)
                leader_reset(r->leader);
        }
        if (r->el.is_leader) {
            int rc = leader_tick(r, now, &err);
            if (rc == CORRAL_EFENCED) {
                election_set_leading(r, false, 0, "a write was fenced off; re-checking");
                need_election = true;
            } else if (rc != CORRAL_OK) {
                CORRAL_LOG(CORRAL_LOG_WARN, "scheduling round failed: %s", err.msg);
            }
        }
    }
}

int main(int argc, char **argv)
{
    /* No core dump and no ptrace by other processes of our uid: we hold the token file's
     * tokens and the ZooKeeper secret (docs/security.md). */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct replica r = {0};
    struct corral_error err = {0};
    struct corral_opts_result res = {0};
    if (corral_opts_parse(opt_table, N_OPTS, argc, argv, 1, environ, &r.opts, &res, &err) !=
        CORRAL_OK)
        return usage_error(&err);
    if (res.help) {
        usage();
        return 0;
    }
    if (res.version) {
        printf("corral %s\n", CORRAL_VERSION);
        return 0;
    }
    if (res.next < argc) {
        fprintf(stderr, "corrald: unexpected argument '%s'\n", argv[res.next]);
        return 2;
    }
    if (!corral_path_valid_namespace(r.opts.ns)) {
        corral_error_set(&err, CORRAL_EUSAGE, "--namespace",
                         "must be an absolute znode path like /corral, got '%s'", r.opts.ns);
        return usage_error(&err);
    }
    char default_id[128];
    if (!r.opts.id) {
        char host[64] = "corrald";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(default_id, sizeof default_id, "%s-%ld", host, (long)getpid());
        r.opts.id = default_id;
    }
    if (!corral_path_valid_name(r.opts.id)) {
        corral_error_set(&err, CORRAL_EUSAGE, "--id", "must be 1..128 of [A-Za-z0-9._-]");
        return usage_error(&err);
    }
    if (r.opts.token_file && load_tokens(r.opts.token_file, &r.tokens, &err))
        return usage_error(&err);
    char *zk_auth = NULL; /* from --zk-auth-file; wiped at exit */
    if (r.opts.zk_auth_file) {
        if (r.opts.zk_auth) {
            corral_error_set(&err, CORRAL_EUSAGE, "--zk-auth-file",
                             "give --zk-auth-file or --zk-auth, not both");
            return usage_error(&err);
        }
        if (corral_zk_auth_file_read(r.opts.zk_auth_file, "--zk-auth-file", &zk_auth, &err))
            return usage_error(&err);
    } else if (r.opts.zk_auth) {
        zk_auth = corral_xstrdup(r.opts.zk_auth);
        fprintf(stderr, "corrald: warning: --zk-auth / CORRAL_ZK_AUTH puts the password where "
                        "other local users can read it (ps, /proc); use --zk-auth-file\n");
    }
    (void)unsetenv("CORRAL_ZK_AUTH"); /* not inherited by anything this process starts */
    /* Separate identities: the digest ids the ACLs name (no password is kept). */
    char replica_id[CORRAL_DIGEST_ID_MAX + 1] = "", workers_id[CORRAL_DIGEST_ID_MAX + 1] = "";
    if (r.opts.zk_worker_auth_file) {
        char *wauth = NULL;
        if (!zk_auth)
            corral_error_set(&err, CORRAL_EUSAGE, "--zk-worker-auth-file",
                             "needs the replicas' own identity (--zk-auth-file)");
        else if (corral_zk_auth_file_read(r.opts.zk_worker_auth_file, "--zk-worker-auth-file",
                                          &wauth, &err) == CORRAL_OK &&
                 (!corral_digest_id(zk_auth, replica_id, sizeof replica_id) ||
                  !corral_digest_id(wauth, workers_id, sizeof workers_id)))
            corral_error_set(&err, CORRAL_EUSAGE, "--zk-worker-auth-file",
                             "a user of at most %u characters is needed",
                             (unsigned)CORRAL_DIGEST_USER_MAX);
        else if (wauth && strcspn(replica_id, ":") == strcspn(workers_id, ":") &&
                 strncmp(replica_id, workers_id, strcspn(replica_id, ":")) == 0)
            corral_error_set(&err, CORRAL_EUSAGE, "--zk-worker-auth-file",
                             "the workers' identity must differ from the replicas' own (another "
                             "user, not only another password)");
        if (wauth)
            corral_config_file_free(wauth, strlen(wauth));
        if (err.code) {
            corral_config_file_free(zk_auth, zk_auth ? strlen(zk_auth) : 0);
            return usage_error(&err);
        }
    }
    if (!zk_auth && !r.opts.insecure && !corral_zk_hosts_loopback(r.opts.zk)) {
        corral_error_set(&err, CORRAL_EUSAGE, "--zk",
                         "refusing ZooKeeper at %s without ZooKeeper auth: anyone on the "
                         "network could run commands on the workers (give --zk-auth-file, "
                         "or --insecure)",
                         r.opts.zk);
        return usage_error(&err);
    }
    if ((r.opts.tls_cert != NULL) != (r.opts.tls_key != NULL)) {
        corral_error_set(&err, CORRAL_EUSAGE, r.opts.tls_cert ? "--tls-key" : "--tls-cert",
                         "--tls-cert and --tls-key go together");
        return usage_error(&err);
    }
    r.policy.placement = corral_placement_find(r.opts.placement);
    r.policy.order = corral_order_find(r.opts.order);
    if (!r.policy.placement || !r.policy.order) {
        corral_error_set(&err, CORRAL_EUSAGE, "--placement", "unknown policy");
        return usage_error(&err);
    }
    log_init("corrald", (enum corral_log_level)corral_log_level_parse(r.opts.log_level));
    log_set_format(r.opts.log_format && strcmp(r.opts.log_format, "json") == 0, "replica",
                   r.opts.id);

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return 1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* A ZooKeeper that does not accept connections yet (err without a field) is waited for,
     * as one that goes away later is; a bad flag is not. */
    for (int tries = 0; !(r.zk = zk_open(r.opts.zk, (int)r.opts.session_timeout_ms, zk_auth, &err));
         tries++) {
        if (err.code != CORRAL_EUNAVAIL || err.field[0] || stop_requested)
            break;
        if (tries % 10 == 0)
            CORRAL_LOG(CORRAL_LOG_WARN, "%s; retrying", err.msg);
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        memset(&err, 0, sizeof err);
    }
    corral_config_file_free(zk_auth, zk_auth ? strlen(zk_auth) : 0);
    zk_auth = NULL;
    if (!r.zk && stop_requested)
        return 0;
    if (!r.zk)
        return usage_error(&err);
    zk_events_allow_seal(r.zk);
    if (workers_id[0]) {
        const char *ids[] = {replica_id};
        zk_acl_setup(r.zk, r.opts.ns, ids, 1, workers_id, NULL);
        snprintf(r.acl_replica_id, sizeof r.acl_replica_id, "%s", replica_id);
    }
    r.leader = leader_new();
    r.backlog = backlog_new(r.opts.max_queued);
    r.submits = zk_group_new(r.zk, "corrald.submit");
    r.stop = &stop_requested;
    /* The API starts before ZooKeeper answers: meanwhile it says 503, and /healthz works. */
    struct api *api = api_start(&r, &err);
    if (!api) {
        zk_group_free(r.submits);
        zk_close(r.zk);
        leader_free(r.leader);
        backlog_free(r.backlog);
        return usage_error(&err);
    }
    if (r.opts.advertise)
        snprintf(r.advertise, sizeof r.advertise, "%s", r.opts.advertise);
    else {
        char host[64];
        const char *colon = strrchr(r.opts.listen, ':');
        snprintf(host, sizeof host, "%.*s", (int)(colon - r.opts.listen), r.opts.listen);
        snprintf(r.advertise, sizeof r.advertise, "%s://%s:%u", r.opts.tls_cert ? "https" : "http",
                 host, api_port(api));
    }
    r.beat = beat_start(&r);
    r.feedstat = feedstat_start(&r);
    CORRAL_LOG(CORRAL_LOG_INFO,
               "corrald %s id=%s listening url=%s zk=%s namespace=%s placement=%s order=%s "
               "max_queued=%lld",
               CORRAL_VERSION, r.opts.id, r.advertise, r.opts.zk, r.opts.ns, r.opts.placement,
               r.opts.order, (long long)r.opts.max_queued);
    int rc = run(&r);
    /* Stop serving first (answers pending long polls while ZooKeeper is still open), then
     * close the session, which deletes our election node at once: the next replica takes
     * over without waiting for a session timeout. */
    api_stop(api);
    bool was_leader = r.el.is_leader;
    beat_stop(r.beat);
    r.beat = NULL;
    feedstat_stop(r.feedstat);
    r.feedstat = NULL;
    zk_group_free(r.submits); /* no request is left: the API stopped */
    zk_close(r.zk);
    api_free(api);
    leader_free(r.leader);
    backlog_free(r.backlog);
    CORRAL_LOG(CORRAL_LOG_INFO, "stopped%s", was_leader ? " (leadership released)" : "");
    return rc;
}
