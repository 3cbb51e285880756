/* SPDX-License-Identifier: MIT */
/*
 * Thin adapter over the ZooKeeper C client (zookeeper_mt, sync API). It translates ZK error
 * codes into corral codes once, here, so nothing above io/ sees a Z* code:
 *   ZCONNECTIONLOSS, ZOPERATIONTIMEOUT      -> CORRAL_EUNKNOWN (outcome unknown for writes)
 *   ZCLOSING, ZSESSIONEXPIRED, not connected -> CORRAL_EUNAVAIL (nothing was done)
 *   ZNONODE -> CORRAL_ENOTFOUND, ZNODEEXISTS -> CORRAL_EEXIST, ZBADVERSION -> CORRAL_ECONFLICT,
 *   ZNOTEMPTY -> CORRAL_ECONFLICT; a failed fence check in a multi -> CORRAL_EFENCED.
 * For reads, CORRAL_EUNKNOWN is reported as CORRAL_EUNAVAIL (a read has no outcome to lose).
 *
 * Threads: every function may be called from any thread (the mt client is thread-safe).
 * Watch events are copied into a queue on the client's completion thread and signalled on an
 * eventfd; the owner's main loop drains them with zk_next_event(). Never block in a watcher.
 *
 * Implementation (library corral_zk), one room per concern: zk_session.c (handle, session,
 * watcher, last_rx), zk_events.c (event queue, callback watches), zk_ops.c (single operations,
 * error translation), zk_multi.c (multis), zk_failpoint.c (test builds only); zk_internal.h.
 */
#ifndef CORRAL_IO_ZK_H
#define CORRAL_IO_ZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/acl.h"
#include "corral/error.h"
#include "corral/metrics.h"
#include "corral/strlist.h"

struct zk;

enum zk_session_state {
    ZK_SESSION_CONNECTING, /* not (yet or any more) connected; the session may still live */
    ZK_SESSION_CONNECTED,
    ZK_SESSION_EXPIRED, /* the session is gone: call zk_reopen() */
    ZK_SESSION_AUTH_FAILED,
};

enum zk_event_type {
    ZK_EV_SESSION, /* session state changed; see state */
    ZK_EV_CREATED,
    ZK_EV_DELETED,
    ZK_EV_CHANGED, /* data changed */
    ZK_EV_CHILD,   /* children changed */
};

struct zk_event {
    enum zk_event_type type;
    enum zk_session_state state; /* state at the time of the event */
    char *path;                  /* owned; "" for session events */
};

enum zk_create_flags {
    ZK_PERSISTENT = 0,
    ZK_EPHEMERAL = 1,
    ZK_SEQUENCE = 2,
};

/* How often the client library may re-resolve the host list while connected (ms); a
 * reconnect always resolves afresh. Shared with corral-bench's own raw client. */
#define ZK_RESOLVE_DELAY_MS 10000

/*
 * Start a session (asynchronously connecting). auth is "user:pass" for digest auth or NULL;
 * with auth, nodes are created with the creator-only ACL. Returns NULL with err on bad
 * arguments or when the client cannot be initialised.
 */
struct zk *zk_open(const char *hosts, int session_timeout_ms, const char *auth,
                   struct corral_error *err);
/* Close the session (ephemerals vanish at once) and free everything. NULL is fine. */
void zk_close(struct zk *zk);
/* After ZK_SESSION_EXPIRED: close the old handle and start a new session. */
CORRAL_NODISCARD int zk_reopen(struct zk *zk, struct corral_error *err);

/* Wait up to timeout_ms for the session to be connected; 0 or CORRAL_EUNAVAIL. */
CORRAL_NODISCARD int zk_wait_connected(struct zk *zk, int timeout_ms, struct corral_error *err);
enum zk_session_state zk_state(struct zk *zk);
bool zk_is_connected(struct zk *zk);
int64_t zk_session_id(struct zk *zk);
/* Session password bytes (for test hooks that expire a session); returns its length. */
int zk_session_passwd(struct zk *zk, char *buf, int n);
/* Negotiated session timeout in ms (0 before the first connection). */
int zk_session_timeout_ms(struct zk *zk);
/* Test builds only: when CORRAL_TEST_SESSION_FILE is set, every new session writes
 * "<session id hex> <password hex>\n" there (for tests that expire it from outside). */

/* The events feed's current generation as this process last saw it (0: unknown); io/zk_txn.c
 * keeps it (corral/event.h). */
int64_t zk_events_gen(struct zk *zk);
void zk_events_gen_set(struct zk *zk, int64_t gen);
/* A replica's handle may seal a generation whose next event name is taken (io/zk_txn.c); a
 * worker's waits for a replica to do it. */
void zk_events_allow_seal(struct zk *zk);
bool zk_events_may_seal(struct zk *zk);

/* Monotonic ms of the last reply received from the server (updated by every sync call and by
 * zk_ping()); 0 when none yet. */
int64_t zk_last_rx_ms(struct zk *zk);
/* Send an asynchronous exists() on path whose reply updates zk_last_rx_ms(). Never blocks. */
void zk_ping(struct zk *zk, const char *path);
/* Leave an exists watch on path without waiting for the answer: a session's requests are
 * served in order, so whatever is read after this call is read after the watch is armed.
 * False when there is no connected session to send it on (nothing was sent). */
bool zk_watch_exists_async(struct zk *zk, const char *path);

/* The eventfd that becomes readable when events are queued. */
int zk_event_fd(struct zk *zk);
/* Pop the next event into ev (ev->path owned by the caller: zk_event_cleanup()). False if none.
 * Also clears the eventfd when the queue becomes empty. */
bool zk_next_event(struct zk *zk, struct zk_event *ev);
void zk_event_cleanup(struct zk_event *ev);

/*
 * One-shot watch on path's existence/data delivered to fn(ctx, path) on the client's
 * completion thread (never block there) instead of the event queue. fn is also called on
 * session events (path ""), so that waiters re-check. ctx must outlive the zk handle.
 * Returns 0 when the node exists, CORRAL_ENOTFOUND when not (the watch is set either way).
 */
typedef void (*zk_watch_fn)(void *ctx, const char *path);
CORRAL_NODISCARD int zk_watch_exists(struct zk *zk, const char *path, zk_watch_fn fn, void *ctx,
                                     struct corral_error *err);
/* The number of zk_watch_exists() watches registered and not yet fired or freed (a reopen or
 * close frees those of the old handle). For tests and gauges: it must not grow without bound. */
size_t zk_watch_boxes(struct zk *zk);

/* ---- single operations (synchronous; err may be NULL) ---- */

/* Create path with data (len bytes, data may be NULL). flags: enum zk_create_flags. The path
 * actually created (with the sequence suffix) goes to out (capacity out_n) when out != NULL. */
CORRAL_NODISCARD int zk_create(struct zk *zk, const char *path, const void *data, size_t len,
                               int flags, char *out, size_t out_n, struct corral_error *err);
/* Create path and its missing parents as persistent empty nodes; existing is fine. */
/* ZooKeeper's permission bits (the values of ZOO_PERM_*). */
enum {
    ZK_PERM_READ = 1,
    ZK_PERM_WRITE = 2,
    ZK_PERM_CREATE = 4,
    ZK_PERM_DELETE = 8,
    ZK_PERM_ADMIN = 16
};
/* The permissions (ZK_PERM_* bits) the ACL of path grants to everyone (world:anyone), in
 * *perms; 0 when none. */
CORRAL_NODISCARD int zk_world_perms(struct zk *zk, const char *path, int *perms,
                                    struct corral_error *err);
/* True when this handle authenticates (--zk-auth): the znodes it creates carry ACLs. */
bool zk_has_auth(const struct zk *zk);

/*
 * Per-path ACLs (corral/acl.h, docs/security.md "ZooKeeper ACLs"). Once set up, every node this
 * handle creates carries the rule of its path: the replicas' digest ids (n of them, at most 4)
 * with every right, the workers' shared id (NULL: none) and the path's worker (as bound) with
 * the rights the rule gives them, and self (this worker's own id; NULL for a replica) with the
 * creator's rights. Without setup: creator-only with auth, open without.
 */
void zk_acl_setup(struct zk *zk, const char *ns, const char *const *replicas, size_t n,
                  const char *workers, const char *self);
bool zk_acl_has_setup(struct zk *zk);
/* The leader's table: worker's own identity is digest_id (NULL: forget it). */
void zk_acl_bind_worker(struct zk *zk, const char *worker, const char *digest_id);
/* Is worker bound? Its digest id into out (capacity n) when out is not NULL. */
bool zk_acl_bound(struct zk *zk, const char *worker, char *out, size_t n);
/* Open the task node at path to worker (as bound; the rights of its rule's assignee), and to
 * no other worker, without waiting: sent before the assignment that this handle sends next.
 * worker NULL: close it to every worker (its rule without an assignee). */
void zk_acl_grant(struct zk *zk, const char *path, const char *worker);
/* One entry of a node's ACL. */
struct zk_acl_entry {
    char scheme[16];
    char id[CORRAL_DIGEST_ID_MAX + 1];
    int perms; /* ZK_PERM_* */
};
/* The ACL of path: up to cap entries into out, their number in *n. */
CORRAL_NODISCARD int zk_get_acl(struct zk *zk, const char *path, struct zk_acl_entry *out,
                                size_t cap, size_t *n, struct corral_error *err);
/* Give path the ACL its rule says (a setACL only when it differs; *changed tells). */
CORRAL_NODISCARD int zk_acl_fix(struct zk *zk, const char *path, bool *changed,
                                struct corral_error *err);
/* Is path's ACL already the one its rule says? */
CORRAL_NODISCARD int zk_acl_matches(struct zk *zk, const char *path, bool *same,
                                    struct corral_error *err);
/* Authenticate the session also as user_pass (digest), now and after every reopen. */
CORRAL_NODISCARD int zk_add_identity(struct zk *zk, const char *user_pass,
                                     struct corral_error *err);
CORRAL_NODISCARD int zk_ensure_path(struct zk *zk, const char *path, struct corral_error *err);
/* Read data: *data malloc'd and NUL-terminated (caller frees), *len without the NUL.
 * version and czxid/ephemeral_owner may be NULL. With watch, a data watch is left. */
CORRAL_NODISCARD int zk_get(struct zk *zk, const char *path, bool watch, char **data, size_t *len,
                            int32_t *version, struct corral_error *err);
/* Like zk_get but also returns the creation zxid and the ephemeral owner (0 if persistent). */
CORRAL_NODISCARD int zk_get_meta(struct zk *zk, const char *path, char **data, size_t *len,
                                 int32_t *version, int64_t *czxid, int64_t *ephemeral_owner,
                                 struct corral_error *err);
/* 0 if it exists, CORRAL_ENOTFOUND if not (with watch, a watch is left either way). */
CORRAL_NODISCARD int zk_exists(struct zk *zk, const char *path, bool watch, int32_t *version,
                               struct corral_error *err);
/* Child names (not paths), sorted ascending; free with corral_strlist_cleanup(). */
CORRAL_NODISCARD int zk_children(struct zk *zk, const char *path, bool watch,
                                 struct corral_strlist *out, struct corral_error *err);
/*
 * Children of n paths at once: the requests are pipelined (sent back to back, answered in one
 * round trip's time) instead of n sequential round trips. outs[i] (zeroed by the caller) gets
 * the sorted names of paths[i]; a path that does not exist gives an empty list. Returns 0, or
 * the first other failure (then every outs[i] is empty).
 */
CORRAL_NODISCARD int zk_children_many(struct zk *zk, const char *const *paths, size_t n,
                                      struct corral_strlist *outs, struct corral_error *err);
/* zk_children_many, leaving a child watch on every path (events carry the path). cversions,
 * when not NULL, gets each parent's cversion as of its listing (-1 for a missing path): the
 * count of child creates and deletes so far, so that a later stat tells whether anything
 * changed since (zk_stat_many). */
CORRAL_NODISCARD int zk_children_watch_many(struct zk *zk, const char *const *paths, size_t n,
                                            struct corral_strlist *outs, int32_t *cversions,
                                            struct corral_error *err);

/* One answer of zk_get_many: rc 0 with data (NUL-terminated, owned), len, version and the
 * ephemeral owner (a session id; 0 for a persistent node), or the failure (CORRAL_ENOTFOUND,
 * CORRAL_EUNAVAIL, ...) in rc and err; CORRAL_EFORBIDDEN for a node whose ACL shuts this
 * identity out (made so by whoever created it: callers skip it). */
struct zk_got {
    int rc;
    char *data;
    size_t len;
    int32_t version;
    int64_t ephemeral_owner;
    int64_t ctime_ms; /* when the node was created (the server's clock) */
    int64_t mtime_ms; /* when its data was last set (the server's clock) */
    struct corral_error err;
};
/* Get n nodes pipelined (with a data watch on each when watch): outs[i] answers paths[i]. */
void zk_get_many(struct zk *zk, const char *const *paths, size_t n, bool watch,
                 struct zk_got *outs);
/* zk_get_many with a data watch on the first n_watch paths only. */
void zk_get_many_watch_first(struct zk *zk, const char *const *paths, size_t n, size_t n_watch,
                             struct zk_got *outs);
void zk_got_cleanup(struct zk_got *g);
CORRAL_NODISCARD int zk_set(struct zk *zk, const char *path, const void *data, size_t len,
                            int32_t version, struct corral_error *err);
CORRAL_NODISCARD int zk_delete(struct zk *zk, const char *path, int32_t version,
                               struct corral_error *err);
/* Flush the channel between this client and the leader of the ensemble for path, so that the
 * next read sees every write acknowledged before the sync (blocks until done). */
CORRAL_NODISCARD int zk_sync(struct zk *zk, const char *path, struct corral_error *err);

/* ---- counts (zk_stat.c) ---- */

/*
 * The number of children of n paths from their stat, pipelined (all requests in flight, then
 * one wait): counts[i] for paths[i], 0 for a path that does not exist. Reads no child and
 * leaves no watch. Returns 0, or the first other failure (CORRAL_EUNAVAIL; every counts[i] is
 * then 0).
 */
CORRAL_NODISCARD int zk_num_children_many(struct zk *zk, const char *const *paths, size_t n,
                                          int64_t *counts, struct corral_error *err);
/* The data version and the cversion of one node (either pointer may be NULL); no watch. */
CORRAL_NODISCARD int zk_stat_node(struct zk *zk, const char *path, int32_t *version,
                                  int32_t *cversion, struct corral_error *err);
/* The cversion (child creates + deletes so far) of n paths from their stat, pipelined and
 * without a watch: cversions[i] for paths[i], -1 for a path that does not exist. */
CORRAL_NODISCARD int zk_cversion_many(struct zk *zk, const char *const *paths, size_t n,
                                      int32_t *cversions, struct corral_error *err);

/* ---- multi (all or nothing) ---- */

#define ZK_MULTI_MAX_OPS 4096

struct zk_multi;
/* New empty multi; never NULL. Each op copies its path and data. */
struct zk_multi *zk_multi_new(void);
void zk_multi_free(struct zk_multi *m);
/* The round trips of multi requests so far: counts per bucket of corral_latency_le_s (the last
 * is +Inf) and their sum in seconds (for /metrics). */
void zk_multi_latency(struct zk *zk, uint64_t counts[CORRAL_LATENCY_BUCKETS + 1], double *sum_s);
void zk_multi_create(struct zk_multi *m, const char *path, const void *data, size_t len, int flags);
void zk_multi_delete(struct zk_multi *m, const char *path, int32_t version);
void zk_multi_set(struct zk_multi *m, const char *path, const void *data, size_t len,
                  int32_t version);
void zk_multi_check(struct zk_multi *m, const char *path, int32_t version);
/* A check whose failure means "this writer lost its right to write" (the leader's election
 * znode, a worker's assignment znode): if it fails, commit returns CORRAL_EFENCED. */
void zk_multi_fence(struct zk_multi *m, const char *path, int32_t version);
size_t zk_multi_count(const struct zk_multi *m);
/* Name this multi ("leader.assign", "worker.finish") for logs and, in test builds
 * (CORRAL_TEST_HOOKS), for failpoints: CORRAL_FAILPOINTS="label:action[:N],..." with action
 * crash-before | crash-after (SIGKILL ourselves around the commit) | lose-reply (the commit
 * happens, the caller is told CORRAL_EUNKNOWN), on the Nth commit of that label (default 1).
 * label is copied. */
void zk_multi_label(struct zk_multi *m, const char *label);
/*
 * Commit all ops as one zoo_multi. Returns 0, CORRAL_EFENCED (a fence op failed),
 * CORRAL_EEXIST / CORRAL_ENOTFOUND / CORRAL_ECONFLICT (a plain op failed; *failed_op, if not
 * NULL, gets its index), CORRAL_EUNKNOWN (reply lost: the multi may or may not have been
 * applied) or CORRAL_EUNAVAIL (not sent). More than ZK_MULTI_MAX_OPS ops is CORRAL_ETOOBIG.
 */
CORRAL_NODISCARD int zk_multi_commit(struct zk *zk, struct zk_multi *m, int *failed_op,
                                     struct corral_error *err);
/* Commit n multis pipelined: all are sent, then all answers awaited. Each gets its own result
 * in rcs[i] (as zk_multi_commit), failed_ops[i] and errs[i]; ZooKeeper applies them in order,
 * each all or nothing. */
void zk_multi_commit_many(struct zk *zk, struct zk_multi *const *ms, size_t n, int *rcs,
                          int *failed_ops, struct corral_error *errs);

#endif
