/* SPDX-License-Identifier: MIT */
/* Starting, watching and stopping corral-bench's child processes (cluster.h). */
#define _GNU_SOURCE /* prctl, nftw's FTW_DEPTH|FTW_PHYS */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bench/bench.h"
#include "bench/cluster.h"
#include "bench/http.h"
#include "bench/stats.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/proc.h"

/* ------------------------------------------------------------------ temp dir and ports */

int cluster_init(struct cluster *c, const char *bin_dir, struct corral_error *err)
{
    memset(c, 0, sizeof *c);
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(c->dir, sizeof c->dir, "%s/corral-bench.XXXXXX", tmp);
    if (!mkdtemp(c->dir))
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "mkdtemp %s: %s", c->dir,
                                strerror(errno));
    snprintf(c->bin_dir, sizeof c->bin_dir, "%s", bin_dir);
    snprintf(c->port_dir, sizeof c->port_dir, "%s/corral-it-ports", tmp);
    return CORRAL_OK;
}

static bool pid_exists(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void unreserve(const char *dir, int port)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%d/owner", dir, port);
    unlink(p);
    snprintf(p, sizeof p, "%s/%d", dir, port);
    rmdir(p);
}

static bool port_bindable(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A free loopback port in 20000-31999, reserved like lib.sh free_port does. 0 when none. */
static int reserve_port(struct cluster *c)
{
    if (c->n_ports >= CLUSTER_MAX_PORTS)
        return 0;
    mkdir(c->port_dir, 0777);
    for (int i = 0; i < 300; i++) {
        int port = 20000 + (int)(rand_u32() % 12000u);
        char d[PATH_MAX + 32], f[PATH_MAX + 48];
        snprintf(d, sizeof d, "%s/%d", c->port_dir, port);
        snprintf(f, sizeof f, "%s/owner", d);
        if (mkdir(d, 0700) != 0) {
            /* Reclaim a reservation whose owner is gone. */
            FILE *o = fopen(f, "re");
            long owner = 0;
            if (o) {
                if (fscanf(o, "%ld", &owner) != 1)
                    owner = 0;
                fclose(o);
            }
            if (owner > 0 && !pid_exists((pid_t)owner))
                unreserve(c->port_dir, port);
            continue;
        }
        FILE *o = fopen(f, "we");
        if (!o) {
            rmdir(d);
            continue;
        }
        fprintf(o, "%ld\n", (long)getpid());
        fclose(o);
        if (!port_bindable(port)) {
            unreserve(c->port_dir, port);
            continue;
        }
        c->ports[c->n_ports++] = port;
        return port;
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* ------------------------------------------------------------------ processes */

/* The absolute path of prog found in $PATH, into out. */
static bool find_in_path(const char *prog, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, n, "%.*s/%s", (int)len, path, prog);
        if (len > 0 && access(out, X_OK) == 0)
            return true;
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

#define ARGS_MAX 32

static struct bproc *spawn_argv(struct cluster *c, const char *name, enum bproc_kind kind,
                                const char *file, char *const argv[], struct corral_error *err)
{
    if (c->n >= CLUSTER_MAX_PROCS) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "too many processes");
        return NULL;
    }
    char logp[PATH_MAX + 64];
    snprintf(logp, sizeof logp, "%s/%s.log", c->dir, name);
    int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "open %s: %s", logp, strerror(errno));
        if (logfd >= 0)
            close(logfd);
        if (nullfd >= 0)
            close(nullfd);
        return NULL;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Async-signal-safe calls only: the bench has threads. Own process group (a ^C at the
         * terminal reaches the bench, which stops the children in order), and SIGTERM when the
         * bench dies without cleaning up. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGPIPE, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGTERM, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        proc_cloexec_from(3); /* e.g. the lock of `flock /tmp/corral-test.lock` */
        execv(file, argv);
        static const char msg[] = "corral-bench: exec failed\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    int e = errno;
    close(logfd);
    close(nullfd);
    if (pid < 0) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "fork: %s", strerror(e));
        return NULL;
    }
    struct bproc *p = &c->procs[c->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->kind = kind;
    p->pid = pid;
    p->running = true;
    p->rss_kib = -1;
    p->cpu_ticks = -1;
    return p;
}

static struct bproc *spawn(struct cluster *c, const char *name, enum bproc_kind kind,
                           const char *file, const char *const args[], struct corral_error *err)
{
    /* execv wants char *const[]: copies, made before fork (the child may not allocate). */
    char *argv[ARGS_MAX + 1] = {0};
    for (int i = 0; i < ARGS_MAX && args[i]; i++)
        argv[i] = corral_xstrdup(args[i]);
    struct bproc *p = spawn_argv(c, name, kind, file, argv, err);
    for (int i = 0; i < ARGS_MAX && argv[i]; i++)
        free(argv[i]);
    return p;
}

bool cluster_alive(struct bproc *p)
{
    if (!p->running)
        return false;
    int st = 0;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->running = false;
        p->exit_status = st;
        return false;
    }
    return true;
}

bool cluster_read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

/* The text of /proc/<pid>/<leaf> of a running p into buf (cap bytes, NUL-terminated). */
static bool read_proc_text(const struct bproc *p, const char *leaf, char *buf, size_t cap)
{
    if (!p->running)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", (long)p->pid, leaf);
    return cluster_read_text(path, buf, cap);
}

int64_t cluster_read_rss(struct bproc *p)
{
    char buf[8192];
    int64_t v = read_proc_text(p, "status", buf, sizeof buf) ? bench_vmhwm_parse(buf) : -1;
    if (v > p->rss_kib)
        p->rss_kib = v;
    return p->rss_kib;
}

int64_t cluster_read_cpu(struct bproc *p)
{
    char buf[1024];
    int64_t v = read_proc_text(p, "stat", buf, sizeof buf)
                    ? bench_proc_ticks_parse(buf, p->kind == BPROC_WORKER)
                    : -1;
    if (v > p->cpu_ticks)
        p->cpu_ticks = v;
    return p->cpu_ticks;
}

/* Wait up to ms for p to exit; true when reaped. */
static bool wait_exit(struct bproc *p, int ms)
{
    int64_t deadline = clock_mono_ms() + ms;
    for (int i = 0; i < ms / 10 + 2; i++) {
        if (!cluster_alive(p))
            return true;
        if (clock_mono_ms() >= deadline)
            break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !cluster_alive(p);
}

void cluster_stop(struct bproc *p, int grace_ms)
{
    if (!cluster_alive(p))
        return;
    cluster_read_rss(p);
    cluster_read_cpu(p);
    kill(p->pid, SIGTERM);
    if (wait_exit(p, grace_ms))
        return;
    fprintf(stderr, "corral-bench: %s (pid %ld) ignored SIGTERM for %d ms: SIGKILL\n", p->name,
            (long)p->pid, grace_ms);
    kill(p->pid, SIGKILL);
    if (!wait_exit(p, 5000))
        fprintf(stderr, "corral-bench: %s (pid %ld) did not exit after SIGKILL\n", p->name,
                (long)p->pid);
}

void cluster_kill9(struct bproc *p)
{
    if (!cluster_alive(p))
        return;
    cluster_read_rss(p);
    cluster_read_cpu(p);
    kill(p->pid, SIGKILL);
    (void)wait_exit(p, 5000);
}

void cluster_stop_kind(struct cluster *c, int kind, int grace_ms)
{
    for (int i = c->n - 1; i >= 0; i--)
        if (kind < 0 || (int)c->procs[i].kind == kind)
            cluster_stop(&c->procs[i], grace_ms);
}

struct bproc *cluster_find(struct cluster *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->procs[i].name, name) == 0)
            return &c->procs[i];
    return NULL;
}

void cluster_cleanup(struct cluster *c, bool keep)
{
    cluster_stop_kind(c, BPROC_WORKER, 5000);
    cluster_stop_kind(c, BPROC_CORRALD, 5000);
    cluster_stop_kind(c, BPROC_ZK, 5000);
    for (int i = 0; i < c->n_ports; i++)
        unreserve(c->port_dir, c->ports[i]);
    c->n_ports = 0;
    if (!c->dir[0])
        return;
    if (keep) {
        fprintf(stderr, "corral-bench: logs kept in %s\n", c->dir);
    } else {
        char data[PATH_MAX + 16];
        snprintf(data, sizeof data, "%s", c->dir);
        nftw(data, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    c->dir[0] = '\0';
}

/* ------------------------------------------------------------------ ZooKeeper */

/* "ruok" -> "imok" on 127.0.0.1:port within ~1 s. */
/* Send a four-letter command to the server on port and read its answer (up to cap - 1 bytes,
 * NUL-terminated; 1 s timeouts). False when nothing could be read. */
static bool zk_4lw(int port, const char *cmd, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, cmd, 4) == 4) {
        for (int i = 0; i < 64 && got + 1 < cap; i++) {
            ssize_t r = read(fd, buf + got, cap - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    close(fd);
    buf[got] = '\0';
    return got > 0;
}

/* The role a server reports in srvr ("standalone", "leader", "follower"), or "" when it does
 * not serve yet. */
static void zk_mode(int port, char *mode, size_t cap)
{
    char buf[2048];
    mode[0] = '\0';
    if (!zk_4lw(port, "srvr", buf, sizeof buf))
        return;
    const char *m = strstr(buf, "Mode: ");
    if (!m)
        return;
    m += 6;
    size_t n = strcspn(m, "\r\n");
    snprintf(mode, cap, "%.*s", (int)(n < cap ? n : cap - 1), m);
}

int cluster_start_zk(struct cluster *c, const char *jar, int heap_mb, int n_servers,
                     struct corral_error *err)
{
    if (n_servers < 1 || n_servers > CLUSTER_MAX_ZK)
        return corral_error_set(err, CORRAL_EUSAGE, "--zk-servers", "must be 1 to %d",
                                CLUSTER_MAX_ZK);
    if (access(jar, R_OK) != 0)
        return corral_error_set(err, CORRAL_EUSAGE, "--zk-jar",
                                "%s: %s (install ZooKeeper: scripts/bootstrap)", jar,
                                strerror(errno));
    char java[PATH_MAX];
    if (!find_in_path("java", java, sizeof java))
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "java not found in PATH");
    bool ensemble = n_servers > 1;
    int cport[CLUSTER_MAX_ZK], qport[CLUSTER_MAX_ZK], eport[CLUSTER_MAX_ZK];
    char servers[CLUSTER_MAX_ZK * 64] = "";
    for (int i = 0; i < n_servers; i++) {
        cport[i] = reserve_port(c);
        qport[i] = ensemble ? reserve_port(c) : 1;
        eport[i] = ensemble ? reserve_port(c) : 1;
        if (!cport[i] || !qport[i] || !eport[i])
            return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no free port for ZooKeeper");
        if (ensemble) {
            size_t used = strlen(servers);
            snprintf(servers + used, sizeof servers - used, "server.%d=127.0.0.1:%d:%d\n", i + 1,
                     qport[i], eport[i]);
        }
    }
    char cp[PATH_MAX * 2], xms[32], xmx[32];
    if (access("/usr/share/java/slf4j-simple.jar", R_OK) == 0)
        snprintf(cp, sizeof cp, "%s:/usr/share/java/slf4j-simple.jar", jar);
    else
        snprintf(cp, sizeof cp, "%s", jar);
    snprintf(xms, sizeof xms, "-Xms%dm", heap_mb < 64 ? heap_mb : 64);
    snprintf(xmx, sizeof xmx, "-Xmx%dm", heap_mb);
    struct bproc *procs[CLUSTER_MAX_ZK];
    for (int i = 0; i < n_servers; i++) {
        /* One server: zk/ and zk.log as always; an ensemble: zk1/, zk1.log, ... */
        char name[16], zdir[PATH_MAX + 16], ddir[PATH_MAX + 32], cfg[PATH_MAX + 32];
        if (ensemble)
            snprintf(name, sizeof name, "zk%d", i + 1);
        else
            snprintf(name, sizeof name, "zk");
        snprintf(zdir, sizeof zdir, "%s/%s", c->dir, name);
        snprintf(ddir, sizeof ddir, "%s/data", zdir);
        snprintf(cfg, sizeof cfg, "%s/zoo.cfg", zdir);
        if (mkdir(zdir, 0700) != 0 || mkdir(ddir, 0700) != 0)
            return corral_error_set(err, CORRAL_EINTERNAL, NULL, "mkdir %s: %s", ddir,
                                    strerror(errno));
        if (ensemble) {
            char idp[PATH_MAX + 48];
            snprintf(idp, sizeof idp, "%s/myid", ddir);
            FILE *idf = fopen(idp, "we");
            if (!idf)
                return corral_error_set(err, CORRAL_EINTERNAL, NULL, "%s: %s", idp,
                                        strerror(errno));
            fprintf(idf, "%d\n", i + 1);
            fclose(idf);
        }
        FILE *f = fopen(cfg, "we");
        if (!f)
            return corral_error_set(err, CORRAL_EINTERNAL, NULL, "%s: %s", cfg, strerror(errno));
        /* lib.sh zk_start's configuration: tickTime 200 ms (sessions of 0.4-4 s), no client
         * limit (simulated workers open two sessions each), forceSync left at its default (on),
         * also on every server of an ensemble (the tests' ensemble turns it off; a benchmark
         * measures what a deployment pays). */
        fprintf(f,
                "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\n"
                "clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n"
                "4lw.commands.whitelist=*\n%s%s",
                ddir, cport[i], ensemble ? "standaloneEnabled=false\n" : "", servers);
        fclose(f);
        const char *main_class = ensemble ? "org.apache.zookeeper.server.quorum.QuorumPeerMain"
                                          : "org.apache.zookeeper.server.ZooKeeperServerMain";
        /* The serial collector starts and runs leanest on 2 cores, but a full collection of a
         * heap holding a million-task backlog stops the server for seconds (sessions expire);
         * past 1 GiB of heap, G1 keeps its pauses short. Its log names each pause. */
        char gclog[PATH_MAX + 64];
        snprintf(gclog, sizeof gclog, "-Xlog:gc:file=%s/gc.log:uptime", zdir);
        const char *argv[] = {java,
                              xms,
                              xmx,
                              heap_mb > 1024 ? "-XX:+UseG1GC" : "-XX:+UseSerialGC",
                              gclog,
                              "-Dzookeeper.admin.enableServer=false",
                              "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                              "-cp",
                              cp,
                              main_class,
                              cfg,
                              NULL};
        procs[i] = spawn(c, name, BPROC_ZK, java, argv, err);
        if (!procs[i])
            return err->code;
        procs[i]->port = cport[i];
    }
    /* Ready: every server reports a role, and (an ensemble) exactly one of them leads. */
    int64_t deadline = clock_mono_ms() + 60000;
    for (int round = 0; round < 1000; round++) {
        int serving = 0, leaders = 0;
        for (int i = 0; i < n_servers; i++) {
            if (!cluster_alive(procs[i]))
                return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                        "ZooKeeper exited during startup; see %s/%s.log", c->dir,
                                        procs[i]->name);
            char mode[32];
            zk_mode(cport[i], mode, sizeof mode);
            serving += strcmp(mode, "standalone") == 0 || strcmp(mode, "leader") == 0 ||
                       strcmp(mode, "follower") == 0;
            leaders += strcmp(mode, "leader") == 0;
        }
        if (serving == n_servers && (!ensemble || leaders == 1)) {
            size_t used = 0;
            c->zk_hosts[0] = '\0';
            for (int i = 0; i < n_servers; i++)
                used += (size_t)snprintf(c->zk_hosts + used, sizeof c->zk_hosts - used,
                                         "%s127.0.0.1:%d", i ? "," : "", cport[i]);
            return CORRAL_OK;
        }
        if (clock_mono_ms() >= deadline || !bench_sleep_ms(100))
            break;
    }
    return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                            "ZooKeeper (%d server%s) did not serve within 60 s; see %s", n_servers,
                            ensemble ? "s" : "", c->dir);
}

/* ------------------------------------------------------------------ corrald and workers */

struct bproc *cluster_start_corrald(struct cluster *c, const char *name, const char *zk,
                                    const char *ns, int session_ms, struct corral_error *err)
{
    char bin[PATH_MAX + 16];
    snprintf(bin, sizeof bin, "%s/corrald", c->bin_dir);
    if (access(bin, X_OK) != 0) {
        corral_error_set(err, CORRAL_EUSAGE, "--build-dir", "%s: %s", bin, strerror(errno));
        return NULL;
    }
    int port = reserve_port(c);
    if (!port) {
        corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no free port for corrald");
        return NULL;
    }
    char listen[32], sess[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(sess, sizeof sess, "%d", session_ms);
    const char *argv[] = {bin,    "--zk", zk,   "--namespace",       ns,   "--listen",
                          listen, "--id", name, "--session-timeout", sess, NULL};
    struct bproc *p = spawn(c, name, BPROC_CORRALD, bin, argv, err);
    if (!p)
        return NULL;
    p->port = port;
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", port);
    int64_t deadline = clock_mono_ms() + 30000;
    for (int i = 0; i < 1000; i++) {
        if (!cluster_alive(p)) {
            corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                             "corrald %s exited during startup; see %s/%s.log", name, c->dir, name);
            return NULL;
        }
        if (http_get_status(p->url, "/readyz", 1000) == 200)
            return p;
        if (clock_mono_ms() >= deadline || !bench_sleep_ms(50))
            break;
    }
    corral_error_set(err, CORRAL_EUNAVAIL, NULL, "corrald %s not ready within 30 s; see %s/%s.log",
                     name, c->dir, name);
    return NULL;
}

struct bproc *cluster_start_worker(struct cluster *c, const char *name, const char *zk,
                                   const char *ns, int slots, int session_ms,
                                   struct corral_error *err)
{
    char bin[PATH_MAX + 16];
    snprintf(bin, sizeof bin, "%s/corral-worker", c->bin_dir);
    if (access(bin, X_OK) != 0) {
        corral_error_set(err, CORRAL_EUSAGE, "--build-dir", "%s: %s", bin, strerror(errno));
        return NULL;
    }
    char work[PATH_MAX + 64], sl[16], sess[16];
    snprintf(work, sizeof work, "%s/work-%s", c->dir, name);
    mkdir(work, 0700);
    snprintf(sl, sizeof sl, "%d", slots);
    snprintf(sess, sizeof sess, "%d", session_ms);
    /* --cpu = --slots: a `true` task asks for 1 cpu, and the default (the machine's 2 CPUs)
     * would let a worker run only 2 at once. */
    /* As root, the worker refuses to run tasks as root unless told (the tasks are `true`). */
    const char *argv[] = {bin,  "--zk",       zk,   "--namespace",     ns,  "--id",
                          name, "--slots",    sl,   "--cpu",           sl,  "--session-timeout",
                          sess, "--work-dir", work, "--drain-timeout", "2", NULL,
                          NULL};
    if (geteuid() == 0)
        argv[sizeof argv / sizeof argv[0] - 2] = "--allow-root";
    return spawn(c, name, BPROC_WORKER, bin, argv, err);
}

/* True when the JSON text lists every id of ids under "workers". */
static bool listed(const char *body, const char *const *ids, int n)
{
    json_t *root = json_loads(body, 0, NULL);
    json_t *arr = root ? json_object_get(root, "workers") : NULL;
    int found = 0;
    for (int i = 0; i < n && json_is_array(arr); i++) {
        size_t j;
        json_t *w;
        json_array_foreach(arr, j, w)
        {
            const char *id = json_string_value(json_object_get(w, "id"));
            if (id && strcmp(id, ids[i]) == 0) {
                found++;
                break;
            }
        }
    }
    json_decref(root);
    return found == n;
}

int cluster_wait_listed(const char *url, const char *const *ids, int n, struct bproc *const *procs,
                        int64_t deadline_ms, struct corral_error *err)
{
    struct http_client *h = http_client_new(url);
    int rc = CORRAL_EUNAVAIL;
    for (int i = 0; i < 100000; i++) {
        for (int j = 0; procs && j < n; j++)
            if (!cluster_alive(procs[j])) {
                http_client_free(h);
                int st = procs[j]->exit_status;
                return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                        "%s exited during startup (%s %d); see its log",
                                        procs[j]->name, WIFSIGNALED(st) ? "signal" : "status",
                                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            }
        long status = 0;
        struct corral_error e = {0};
        if (http_do(h, "GET", "/v1/workers", NULL, 0, 5000, &status, &e) == CORRAL_OK &&
            status == 200 && listed(http_body(h, NULL), ids, n)) {
            rc = CORRAL_OK;
            break;
        }
        if (clock_mono_ms() >= deadline_ms || !bench_sleep_ms(50))
            break;
    }
    http_client_free(h);
    if (rc != CORRAL_OK)
        corral_error_set(err, rc, NULL, "%d worker(s) not listed by %s/v1/workers in time", n, url);
    return rc;
}

int cluster_wait_leader(const char *url, int64_t deadline_ms, char *id, size_t id_n,
                        uint64_t *epoch, struct corral_error *err)
{
    struct http_client *h = http_client_new(url);
    int rc = CORRAL_ENOLEADER;
    for (int i = 0; i < 100000; i++) {
        long status = 0;
        struct corral_error e = {0};
        if (http_do(h, "GET", "/v1/leader", NULL, 0, 5000, &status, &e) == CORRAL_OK &&
            status == 200) {
            json_t *root = json_loads(http_body(h, NULL), 0, NULL);
            const char *s = json_string_value(json_object_get(root, "id"));
            json_t *ep = json_object_get(root, "epoch");
            if (s && json_is_integer(ep)) {
                snprintf(id, id_n, "%s", s);
                *epoch = (uint64_t)json_integer_value(ep);
                rc = CORRAL_OK;
            }
            json_decref(root);
            if (rc == CORRAL_OK)
                break;
        }
        if (clock_mono_ms() >= deadline_ms || !bench_sleep_ms(50))
            break;
    }
    http_client_free(h);
    if (rc != CORRAL_OK)
        corral_error_set(err, rc, NULL, "no leader at %s/v1/leader in time", url);
    return rc;
}
