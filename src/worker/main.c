/* SPDX-License-Identifier: MIT */
/*
 * corral-worker: flags (CONTRACT "corral-worker"), validation, then the agent. The hidden first
 * argument --supervise turns the process into a task supervisor (supervisor.h); the worker
 * starts those itself and users never do. Least privilege (docs/security.md): the
 * process is not dumpable, the ZooKeeper secret is wiped from its argv and environment once
 * read, and a worker that would run tasks as root refuses to start unless told so.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corral/access.h"
#include "corral/limits.h"
#include "corral/opts.h"
#include "corral/paths.h"
#include "corral/privilege.h"
#include "corral/xalloc.h"
#include "io/file.h"
#include "io/log.h"
#include "worker/agent.h"
#include "worker/run_as.h"
#include "worker/supervisor.h"
#include "worker/zygote.h"

#define CORRAL_LOG_MODULE "main"

#define LABEL_VALUE_MAX 256u

extern char **environ;

struct worker_opts {
    const char *zk;
    const char *ns;
    int64_t session_timeout_ms;
    const char *zk_auth;
    const char *zk_auth_file;
    bool insecure;
    const char *log_level;
    const char *log_format;
    const char *id;
    int64_t slots;
    uint64_t cpu_milli;
    int64_t mem_mb;
    struct corral_strlist labels;
    int64_t weight;
    const char *work_dir;
    int64_t drain_timeout_s;
    const char *run_as;
    bool allow_root;
};

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

/* Machine-dependent defaults, rendered as text for the table (and so for --help). */
static char def_cpus[24], def_mem[24];

#define OPT(n, e, k, mv, d, h, f, lo, hi, ch)                                                      \
    {                                                                                              \
        .name = n, .env = e, .kind = k, .metavar = mv, .def = d, .help = h,                        \
        .offset = offsetof(struct worker_opts, f), .min = lo, .max = hi, .choices = ch             \
    }

static const struct corral_opt opts_table[] = {
    OPT("zk", "CORRAL_ZK", CORRAL_OPT_STRING, "HOSTS", "127.0.0.1:2181",
        "ZooKeeper connection string host:port[,host:port...]", zk, 0, 0, NULL),
    OPT("namespace", "CORRAL_NAMESPACE", CORRAL_OPT_STRING, "PATH", "/corral",
        "root znode of this cluster", ns, 0, 0, NULL),
    OPT("session-timeout", "CORRAL_SESSION_TIMEOUT", CORRAL_OPT_INT, "MS", "6000",
        "ZooKeeper session timeout requested", session_timeout_ms, 1000, 600000, NULL),
    OPT("zk-auth", "CORRAL_ZK_AUTH", CORRAL_OPT_STRING, "USER:PASS", NULL,
        "ZooKeeper digest auth (visible to local users: prefer --zk-auth-file)", zk_auth, 0, 0,
        NULL),
    OPT("zk-auth-file", "CORRAL_ZK_AUTH_FILE", CORRAL_OPT_STRING, "FILE", NULL,
        "ZooKeeper digest auth user:pass read from FILE (mode 0600 or stricter)", zk_auth_file, 0,
        0, NULL),
    OPT("insecure", "CORRAL_INSECURE", CORRAL_OPT_BOOL, NULL, NULL,
        "allow a non-loopback ZooKeeper without ZooKeeper auth", insecure, 0, 0, NULL),
    OPT("log-level", "CORRAL_LOG_LEVEL", CORRAL_OPT_CHOICE, "L", "info", "minimum log level",
        log_level, 0, 0, log_levels),
    OPT("log-format", "CORRAL_LOG_FORMAT", CORRAL_OPT_CHOICE, "F", "text",
        "log lines as text or json (one JSON object per line)", log_format, 0, 0, log_formats),
    OPT("id", "CORRAL_WORKER_ID", CORRAL_OPT_STRING, "NAME", NULL,
        "worker name, unique in the cluster; default hostname-pid", id, 0, 0, NULL),
    OPT("slots", "CORRAL_SLOTS", CORRAL_OPT_INT, "N", def_cpus, "tasks it runs at once", slots, 1,
        1024, NULL),
    OPT("cpu", "CORRAL_CPU", CORRAL_OPT_MILLI, "N", def_cpus, "CPU capacity (may be fractional)",
        cpu_milli, 0, CORRAL_CPU_MAX_MILLI, NULL),
    OPT("mem-mb", "CORRAL_MEM_MB", CORRAL_OPT_INT, "N", def_mem, "memory capacity in MiB", mem_mb,
        0, CORRAL_MEM_MAX_MB, NULL),
    OPT("label", "CORRAL_LABELS", CORRAL_OPT_LIST, "K=V", NULL,
        "worker label that tasks can require", labels, 0, 0, NULL),
    OPT("weight", "CORRAL_WEIGHT", CORRAL_OPT_INT, "W", "1",
        "relative weight for the weighted placement", weight, 1, 1000000, NULL),
    OPT("work-dir", "CORRAL_WORK_DIR", CORRAL_OPT_STRING, "DIR", NULL,
        "where task output files are kept; default a new temp dir", work_dir, 0, 0, NULL),
    OPT("drain-timeout", "CORRAL_DRAIN_TIMEOUT", CORRAL_OPT_INT, "S", "30",
        "on SIGTERM, how long running tasks may finish before they are returned", drain_timeout_s,
        0, 86400, NULL),
    OPT("run-as", "CORRAL_RUN_AS", CORRAL_OPT_STRING, "USER", NULL,
        "run tasks as this user (name or uid); needs root", run_as, 0, 0, NULL),
    OPT("allow-root", "CORRAL_ALLOW_ROOT", CORRAL_OPT_BOOL, NULL, NULL,
        "let tasks run as root (a root worker without --run-as refuses otherwise)", allow_root, 0,
        0, NULL),
};
#define N_OPTS (sizeof opts_table / sizeof opts_table[0])

static void machine_defaults(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    if (cpus > 1024)
        cpus = 1024;
    snprintf(def_cpus, sizeof def_cpus, "%ld", cpus);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    unsigned long long mb =
        pages > 0 && page > 0 ? (unsigned long long)pages * (unsigned long long)page >> 20 : 0;
    snprintf(def_mem, sizeof def_mem, "%llu", mb);
}

static int usage_error(const char *field, const char *msg)
{
    fprintf(stderr, "corral-worker: %s%s%s\n", field, *field ? ": " : "", msg);
    return 2;
}

static bool label_key_ok(const char *k, size_t len)
{
    if (len < 1 || len > CORRAL_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = k[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '/' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool label_value_ok(const char *v)
{
    if (strlen(v) > LABEL_VALUE_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Split and check K=V labels into kv (caller frees keys/values with free_labels). */
static int parse_labels(const struct corral_strlist *l, struct corral_kv **out, size_t *n_out)
{
    if (l->n > CORRAL_MAP_MAX_ENTRIES)
        return usage_error("--label", "at most 256 labels");
    struct corral_kv *kv = corral_xcalloc(l->n, sizeof *kv);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *item = l->items[i];
        const char *eq = strchr(item, '=');
        char msg[CORRAL_KEY_MAX + 96];
        if (!eq || !label_key_ok(item, (size_t)(eq - item)) || !label_value_ok(eq + 1)) {
            snprintf(msg, sizeof msg,
                     "must be K=V with K of 1..128 [A-Za-z0-9._/-] and a printable V, got '%.80s'",
                     item);
            goto bad;
        }
        size_t klen = (size_t)(eq - item);
        for (size_t j = 0; j < n; j++) {
            if (strlen(kv[j].key) == klen && strncmp(kv[j].key, item, klen) == 0) {
                snprintf(msg, sizeof msg, "label '%.*s' given twice", (int)klen, item);
                goto bad;
            }
        }
        kv[n].key = corral_xstrndup(item, klen);
        kv[n].value = corral_xstrdup(eq + 1);
        n++;
        continue;
    bad:
        for (size_t j = 0; j < n; j++) {
            free(kv[j].key);
            free(kv[j].value);
        }
        free(kv);
        return usage_error("--label", msg);
    }
    *out = kv;
    *n_out = n;
    return 0;
}

/* The default work dir: a fresh private directory under $TMPDIR or /tmp. */
static int prepare_work_dir(const char *given, char *out, size_t n)
{
    if (!given) {
        const char *tmp = getenv("TMPDIR");
        snprintf(out, n, "%s/corral-worker-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(out)) {
            fprintf(stderr, "corral-worker: cannot create a work dir in %s: %s\n",
                    tmp && *tmp ? tmp : "/tmp", strerror(errno));
            return 1;
        }
        return 0;
    }
    if (strlen(given) + 64 >= n)
        return usage_error("--work-dir", "path too long");
    snprintf(out, n, "%s", given);
    if (mkdir(out, 0750) < 0 && errno != EEXIST) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot create %.150s: %s", given, strerror(errno));
        return usage_error("--work-dir", msg);
    }
    struct stat st;
    if (stat(out, &st) < 0 || !S_ISDIR(st.st_mode) || access(out, W_OK | X_OK) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "%.150s is not a writable directory", given);
        return usage_error("--work-dir", msg);
    }
    return 0;
}

/* Overwrite a secret in place: /proc/<pid>/cmdline and /proc/<pid>/environ show the memory the
 * kernel set up at exec, whatever we do to argv[] or environ afterwards. */
static void wipe(char *p)
{
    for (; *p; p++)
        *p = '*';
}

/*
 * Copy the ZooKeeper secret out of argv and the environment, then wipe both: no other process
 * of our uid, no child, no ps listing and no core dump of ours shows it. Returns the copy
 * (owned) or NULL.
 */
static char *take_zk_auth(const char *value, int argc, char **argv)
{
    char *copy = value ? corral_xstrdup(value) : NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--zk-auth") == 0 && i + 1 < argc)
            wipe(argv[++i]);
        else if (strncmp(argv[i], "--zk-auth=", 10) == 0)
            wipe(argv[i] + 10);
    }
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "CORRAL_ZK_AUTH=", 15) == 0)
            wipe(*e + 15);
    (void)unsetenv("CORRAL_ZK_AUTH");
    return copy;
}

/* With --run-as, the task user must not be able to write where the output files are: it could
 * replace a file it is not meant to control. */
static int check_work_dir_owner(const char *dir, const struct run_as *ra)
{
    struct stat st;
    if (!ra->do_switch || stat(dir, &st) < 0)
        return 0;
    if (run_as_may_write(ra, st.st_uid, st.st_gid, st.st_mode)) {
        char msg[320];
        snprintf(msg, sizeof msg,
                 "%.150s is writable by the --run-as user %.40s; make it owned by the worker's "
                 "user and not writable by group or others (e.g. chmod 0750)",
                 dir, ra->name);
        return usage_error("--work-dir", msg);
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* First thing: no core dump, no ptrace by processes of our uid (tasks, when they share
     * it), and /proc/<pid>/{environ,mem,fd} owned by root. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Hidden mode, only ever started by the worker itself (runner.c). */
    if (argc == 2 && strcmp(argv[1], "--supervise") == 0)
        return supervisor_main();
    /* Hidden mode: the supervisors' fork server, when corral-supervisor is missing (zygote.h). */
    if (argc == 2 && strcmp(argv[1], "--supervise-zygote") == 0)
        return zygote_main(argv[1], "--supervise");
    /* Hidden mode: an HTTP task, started by its supervisor (http_task.c). */
    if (argc == 2 && strcmp(argv[1], "--http-task") == 0)
        return http_task_main();

    machine_defaults();
    struct worker_opts o = {0};
    struct corral_opts_result res;
    struct corral_error err = {0};
    if (corral_opts_parse(opts_table, N_OPTS, argc, argv, 1, environ, &o, &res, &err) != CORRAL_OK)
        return usage_error(err.field, err.msg);
    if (res.help) {
        char *help = corral_opts_help(opts_table, N_OPTS);
        printf("usage: corral-worker [FLAGS]\n\nRuns tasks that the corral leader assigns to "
               "it.\n\n%s",
               help ? help : "");
        free(help);
        return 0;
    }
    if (res.version) {
        puts("corral " CORRAL_VERSION);
        return 0;
    }
    int rc = 0;
    char *zk_auth = NULL;
    struct run_as run_as = {0};
    struct corral_kv *labels = NULL;
    size_t n_labels = 0;
    char default_id[CORRAL_WORKER_ID_MAX + 1];
    char work_dir[4096];
    if (res.next < argc) {
        rc = usage_error(argv[res.next], "unexpected argument");
        goto out;
    }
    if (!o.zk || !*o.zk) {
        rc = usage_error("--zk", "must not be empty");
        goto out;
    }
    if (!corral_path_valid_namespace(o.ns)) {
        rc = usage_error("--namespace", "must be an absolute znode path like /corral "
                                        "([A-Za-z0-9._-] components, not under /zookeeper)");
        goto out;
    }
    zk_auth = take_zk_auth(o.zk_auth, argc, argv);
    if (zk_auth && (!strchr(zk_auth, ':') || zk_auth[0] == ':')) {
        rc = usage_error("--zk-auth", "must be USER:PASS");
        goto out;
    }
    if (o.zk_auth_file) {
        if (zk_auth) {
            rc = usage_error("--zk-auth-file", "give --zk-auth-file or --zk-auth, not both");
            goto out;
        }
        if (corral_zk_auth_file_read(o.zk_auth_file, "--zk-auth-file", &zk_auth, &err) !=
            CORRAL_OK) {
            rc = usage_error(err.field, err.msg);
            goto out;
        }
    } else if (zk_auth) {
        fprintf(stderr, "corral-worker: warning: --zk-auth / CORRAL_ZK_AUTH puts the password "
                        "where other local users can read it (ps, /proc); use --zk-auth-file\n");
    }
    if (!zk_auth && !o.insecure && !corral_zk_hosts_loopback(o.zk)) {
        rc = usage_error("--zk", "refusing a non-loopback ZooKeeper without ZooKeeper auth: "
                                 "anyone on the network could assign this worker commands "
                                 "(give --zk-auth-file, or --insecure)");
        goto out;
    }
    if (!o.id) {
        char host[256] = "worker";
        if (gethostname(host, sizeof host) < 0)
            snprintf(host, sizeof host, "worker");
        host[sizeof host - 1] = '\0';
        /* Keep only name characters: a hostname may hold others in odd setups. */
        for (char *p = host; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
                *p = '-';
        snprintf(default_id, sizeof default_id, "%.100s-%ld", host, (long)getpid());
        o.id = default_id;
    }
    if (!corral_path_valid_name(o.id)) {
        rc = usage_error("--id", "must be 1..128 characters of [A-Za-z0-9._-], not . or ..");
        goto out;
    }
    if ((rc = parse_labels(&o.labels, &labels, &n_labels)))
        goto out;
    if (o.run_as) {
        char msg[256];
        if (run_as_resolve(o.run_as, &run_as, msg, sizeof msg) < 0) {
            rc = usage_error("--run-as", msg);
            goto out;
        }
    }
    if (corral_worker_identity_check((uint32_t)geteuid(), run_as.set, (uint32_t)run_as.uid,
                                     o.allow_root, &err) != CORRAL_OK) {
        rc = usage_error(err.field, err.msg);
        goto out;
    }
    int level = corral_log_level_parse(o.log_level);
    log_init("corral-worker", level < 0 ? CORRAL_LOG_INFO : (enum corral_log_level)level);
    log_set_format(o.log_format && strcmp(o.log_format, "json") == 0, "worker", o.id);
    if ((rc = prepare_work_dir(o.work_dir, work_dir, sizeof work_dir)))
        goto out;
    if ((rc = check_work_dir_owner(work_dir, &run_as)))
        goto out;

    struct agent_config cfg = {
        .zk_hosts = o.zk,
        .ns = o.ns,
        .session_timeout_ms = (int)o.session_timeout_ms,
        .zk_auth = zk_auth,
        .id = o.id,
        .slots = (uint32_t)o.slots,
        .cpu_milli = (uint32_t)o.cpu_milli,
        .mem_mb = (uint64_t)o.mem_mb,
        .labels = labels,
        .n_labels = n_labels,
        .weight = (uint32_t)o.weight,
        .work_dir = work_dir,
        .drain_timeout_s = (uint32_t)o.drain_timeout_s,
        .log_level = level < 0 ? CORRAL_LOG_INFO : (enum corral_log_level)level,
        .run_as = run_as.set ? &run_as : NULL,
    };
    rc = agent_run(&cfg);
out:
    for (size_t i = 0; i < n_labels; i++) {
        free(labels[i].key);
        free(labels[i].value);
    }
    free(labels);
    if (zk_auth) {
        wipe(zk_auth);
        free(zk_auth);
    }
    run_as_cleanup(&run_as);
    corral_opts_cleanup(opts_table, N_OPTS, &o);
    return rc;
}
