/* SPDX-License-Identifier: MIT */
/*
 * Private to the ZooKeeper adapter (src/io/zk_*.c): the handle, the helpers its files share
 * and the test-only failpoint hooks. Nothing outside src/io/zk_*.c includes this; the public
 * API is zk.h. Rooms: zk_session.c (handle, session, watcher, last_rx), zk_events.c (event
 * queue, callback watches), zk_ops.c (single operations), zk_multi.c, zk_failpoint.c.
 */
#ifndef CORRAL_IO_ZK_INTERNAL_H
#define CORRAL_IO_ZK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <zookeeper/zookeeper.h>

#include "corral/acl.h"
#include "corral/metrics.h"
#include "io/zk.h"

struct zk_event_node {
    struct zk_event ev;
    struct zk_event_node *next;
};

struct watch_box;
struct zk_acl_ids;

struct zk {
    pthread_mutex_t mu;     /* guards zh swaps, state, the event queue, boxes */
    pthread_cond_t cond;    /* signalled on every session state change */
    pthread_rwlock_t hlock; /* read-held by every operation, write-held to replace zh */
    zhandle_t *zh;
    char *hosts;
    char *auth;                 /* "user:pass" or NULL */
    char *auth2;                /* a second identity (zk_add_identity), or NULL */
    struct zk_acl_ids *acl_ids; /* zk_acl.c: the identities ACLs name; NULL until set up */
    int timeout_ms;             /* requested */
    int efd;                    /* eventfd: readable while events are queued */
    enum zk_session_state state;
    atomic_int_fast64_t last_rx_ms;
    struct zk_event_node *head, *tail;
    struct watch_box *boxes; /* one-shot callback watches not yet fired (guarded by mu) */
    /* Round trips of multi requests (zk_multi_commit_many), a histogram for /metrics. */
    atomic_uint_fast64_t multi_lat[CORRAL_LATENCY_BUCKETS + 1];
    atomic_uint_fast64_t multi_lat_sum_us;
    /* The current generation of the events feed as this process last saw it (0: not looked
     * up yet); zk_txn.c looks it up and moves it on when a commit finds it sealed. */
    atomic_int_fast64_t events_gen;
    atomic_bool events_may_seal; /* zk_events_allow_seal */
};

/* ---- zk_session.c */

/* Take the handle for one operation; zk_release() must follow, also when NULL is returned.
 * While held, the handle is not replaced or closed. */
zhandle_t *zk_acquire(struct zk *zk);
void zk_release(struct zk *zk);
/* The watcher of every watch that feeds the event queue (ctx = the struct zk). Runs on the
 * client's completion thread. */
void zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx);
/* Record contact with the server when rc is a server's answer (see zk_last_rx_ms()). */
void zk_touch_rx(struct zk *zk, int rc);

/*
 * Register a digest credential ("user:pass") on a handle, before its session can be used. The
 * client refuses (ZINVALIDSTATE) while it is between two connection attempts (a refused
 * connect leaves the handle in state 0 until the next one), which a server that is starting,
 * or a process started before its server, meets at once: this waits for the next attempt, at
 * most 2 s. Returns zoo_add_auth's code (ZINVALIDSTATE still refused: try a new handle later).
 */
int zk_add_auth_now(zhandle_t *zh, const char *auth);
/* The ACL for nodes this handle creates: creator-only with auth, open otherwise. */
const struct ACL_vector *zk_acl(const struct zk *zk);

/* ---- zk_acl.c */

#define ZK_ACL_REPLICAS_MAX CORRAL_ACL_REPLICAS_MAX
#define ZK_ACL_ENTRIES_MAX  (ZK_ACL_REPLICAS_MAX + 3)
/* Room for the ACL of one create: its entries and copies of their ids. */
struct zk_acl_buf {
    struct ACL e[ZK_ACL_ENTRIES_MAX];
    struct ACL_vector v;
    char ids[ZK_ACL_ENTRIES_MAX][CORRAL_DIGEST_ID_MAX + 1];
    size_t n_ids;
};
/* The ACL a node created at path gets (b holds it; valid while b is). */
const struct ACL_vector *zk_acl_for(struct zk *zk, const char *path, struct zk_acl_buf *b);
void zk_acl_free(struct zk *zk);

/* ---- zk_pipe.c: many asynchronous requests sent back to back, answered on the client's
 * completion thread, awaited together (one round trip's time for all of them). */

struct zk_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t pending; /* sent and not yet answered */
    int *rcs;       /* n: each request's ZooKeeper code */
};

/* The completion data of request i (zoo_a* "data" argument). */
struct zk_pipe_req {
    struct zk_pipe *pipe;
    size_t i;
    void *out;  /* where the caller's completion copies the answer */
    void *out2; /* a second answer (a stat field), NULL when not wanted */
};

void zk_pipe_init(struct zk_pipe *p, size_t n);
/* After sending request i: rc of the zoo_a* call (ZOK: an answer will come). */
void zk_pipe_sent(struct zk_pipe *p, size_t i, int rc);
/* In a completion: record request i's code and count down. */
void zk_pipe_answered(struct zk_pipe *p, size_t i, int rc);
/* Wait for every answer (each accepted request completes, at the latest with ZCLOSING or
 * ZCONNECTIONLOSS), then note each answer's contact (zk_touch_rx). */
void zk_pipe_wait(struct zk *zk, struct zk_pipe *p, size_t n);
void zk_pipe_cleanup(struct zk_pipe *p);

/* ---- zk_ops.c */

/* Translate a ZooKeeper code into a corral code with err set ("<what> <path>: ..."); is_read
 * turns an unknown outcome into CORRAL_EUNAVAIL. The one place Z* codes are mapped (zk.h). */
int zk_translate(int rc, bool is_read, const char *what, const char *path,
                 struct corral_error *err);
/* ZooKeeper create mode for enum zk_create_flags. */
int zk_create_mode(int flags);

/* ---- zk_events.c */

/* Queue an event (path copied; NULL = "") and signal the eventfd. Caller holds zk->mu. */
void zk_push_event(struct zk *zk, enum zk_event_type type, const char *path);
/* Free every callback watch box; only after the handle that held them is closed. */
void zk_boxes_free_all(struct zk *zk);

/* ---- zk_failpoint.c: test builds only; release builds get the empty stubs below */

enum zk_fp_action { ZK_FP_NONE, ZK_FP_CRASH_BEFORE, ZK_FP_CRASH_AFTER, ZK_FP_LOSE_REPLY };

#ifdef CORRAL_TEST_HOOKS
/* Before a multi labelled label ("" = none) is committed: counts the commit, kills the process
 * on crash-before, and returns the action due for this commit. */
enum zk_fp_action zk_fp_before(const char *label);
/* After the commit returned rc: kills the process on crash-after; on lose-reply turns ZOK into
 * ZCONNECTIONLOSS. Returns the rc to report. */
int zk_fp_after(const char *label, enum zk_fp_action fp, int rc);
/* On every new session: write its id and password to $CORRAL_TEST_SESSION_FILE, if set. */
void zk_fp_dump_session(zhandle_t *zh);
/* How long a group committer waits before it takes the queue ($CORRAL_TEST_GROUP_HOLD_MS, 0
 * when unset): lets a test gather concurrent submits into one group deterministically. */
int zk_fp_group_hold_ms(void);
#else
static inline enum zk_fp_action zk_fp_before(const char *label)
{
    (void)label;
    return ZK_FP_NONE;
}

static inline int zk_fp_after(const char *label, enum zk_fp_action fp, int rc)
{
    (void)label;
    (void)fp;
    return rc;
}

static inline int zk_fp_group_hold_ms(void)
{
    return 0;
}

static inline void zk_fp_dump_session(zhandle_t *zh)
{
    (void)zh;
}
#endif

#endif
