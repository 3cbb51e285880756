/* SPDX-License-Identifier: MIT */
/*
 * The processes corral-bench starts (ZooKeeper as lib.sh zk_start does, corrald, corral-worker)
 * on loopback ports reserved as lib.sh free_port does; each logs to <temp dir>/<name>.log and is
 * stopped by PID, never by name. Start them from the main thread: they get SIGTERM when it dies
 * (PR_SET_PDEATHSIG). Peak RSS is /proc/<pid>/status VmHWM.
 */
#ifndef CORRAL_BENCH_CLUSTER_H
#define CORRAL_BENCH_CLUSTER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "corral/error.h"

#define CLUSTER_MAX_PROCS 64
#define CLUSTER_MAX_PORTS 64
#define CLUSTER_MAX_ZK    5 /* servers of an ensemble it starts */

enum bproc_kind { BPROC_ZK, BPROC_CORRALD, BPROC_WORKER };

struct bproc {
    char name[48];
    enum bproc_kind kind;
    pid_t pid;
    bool running;    /* started and not yet reaped */
    int port;        /* corrald, zk: its port */
    char url[64];    /* corrald: http://127.0.0.1:<port> */
    int64_t rss_kib; /* VmHWM read last (cluster_read_rss, and just before a stop) */
    /* CPU ticks read last (cluster_read_cpu, and just before a stop or kill): its own, and a
     * worker's reaped children's (supervisors and tasks); -1 unknown */
    int64_t cpu_ticks;
    int exit_status; /* waitpid status once reaped */
};

struct cluster {
    char dir[PATH_MAX];     /* temp dir: zoo.cfg, data, logs, work dirs */
    char bin_dir[PATH_MAX]; /* corrald, corral-worker */
    char port_dir[PATH_MAX];
    struct bproc procs[CLUSTER_MAX_PROCS];
    int n;
    int ports[CLUSTER_MAX_PORTS];
    int n_ports;
    char zk_hosts[256];
};

/* Make the temp dir. bin_dir is copied. */
CORRAL_NODISCARD int cluster_init(struct cluster *c, const char *bin_dir, struct corral_error *err);
/* Stop everything (workers, then replicas, ZooKeeper last), release the ports, and remove the
 * temp dir unless keep (its path is printed then). */
void cluster_cleanup(struct cluster *c, bool keep);

/* n_servers ZooKeeper servers on free loopback ports (java -cp <jar>[:slf4j-simple]
 * ZooKeeperServerMain for one, QuorumPeerMain for an ensemble); waits up to 60 s until every
 * server serves (and one of an ensemble leads). Sets c->zk_hosts. */
CORRAL_NODISCARD int cluster_start_zk(struct cluster *c, const char *jar, int heap_mb,
                                      int n_servers, struct corral_error *err);
/* corrald --id name --namespace ns on a free port; waits up to 30 s for /readyz 200. */
struct bproc *cluster_start_corrald(struct cluster *c, const char *name, const char *zk,
                                    const char *ns, int session_ms, struct corral_error *err);
/* corral-worker --id name --slots slots --cpu slots; does not wait (see cluster_wait_listed). */
struct bproc *cluster_start_worker(struct cluster *c, const char *name, const char *zk,
                                   const char *ns, int slots, int session_ms,
                                   struct corral_error *err);
/* Wait until GET url/v1/workers lists every id of ids (n) or deadline (monotonic ms). procs
 * (n entries, or NULL) are the workers' processes: one that exits ends the wait at once. */
CORRAL_NODISCARD int cluster_wait_listed(const char *url, const char *const *ids, int n,
                                         struct bproc *const *procs, int64_t deadline_ms,
                                         struct corral_error *err);
/* Wait until url's GET /v1/leader answers 200; its id and epoch. */
CORRAL_NODISCARD int cluster_wait_leader(const char *url, int64_t deadline_ms, char *id,
                                         size_t id_n, uint64_t *epoch, struct corral_error *err);

/* Update p->rss_kib from VmHWM (kept when the process is gone). Returns it (-1: unknown). */
int64_t cluster_read_rss(struct bproc *p);
/* A small text file (a /proc file) into buf (cap bytes, NUL-terminated); false when it cannot
 * be read or is empty. */
bool cluster_read_text(const char *path, char *buf, size_t cap);
/* Update p->cpu_ticks from /proc/<pid>/stat (kept when the process is gone). Returns it. */
int64_t cluster_read_cpu(struct bproc *p);
/* SIGTERM, wait up to grace_ms, then SIGKILL; reaped. */
void cluster_stop(struct bproc *p, int grace_ms);
/* SIGKILL at once; reaped. */
void cluster_kill9(struct bproc *p);
/* Stop every process of kind (all kinds: -1) in reverse start order. */
void cluster_stop_kind(struct cluster *c, int kind, int grace_ms);
/* The process named name, or NULL. */
struct bproc *cluster_find(struct cluster *c, const char *name);
/* True while p runs (reaps it when it has exited). */
bool cluster_alive(struct bproc *p);

#endif
