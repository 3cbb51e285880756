/* SPDX-License-Identifier: MIT */
/*
 * Who may do what on each znode of a namespace (docs/security.md "ZooKeeper ACLs"). Three kinds
 * of ZooKeeper digest identities:
 *
 *   replicas  every corrald (--zk-auth-file): every right on every znode corral makes;
 *   workers   the identity all workers share (corrald --zk-worker-auth-file, the workers'
 *             --zk-auth-file): only what enrolling and reporting need, and no listing of tasks;
 *   worker    one per worker process, user "w.<worker id>" with a random password the worker
 *             makes at start: its own registration, assignments and live output.
 *
 * The rule of a path is a pure function of the path; io/zk_acl.c turns it into the ACL of the
 * node it creates (the replicas' ids, plus the workers' id, plus the named worker's id when
 * known, plus the creating worker's own id); a task's node is opened to the worker it is
 * assigned to when the leader assigns it (and to that one only). Also the ZooKeeper digest of a
 * "user:pass".
 */
#ifndef CORRAL_ACL_H
#define CORRAL_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/limits.h"

/* ZooKeeper's permission bits. */
#define CORRAL_PERM_READ   1
#define CORRAL_PERM_WRITE  2
#define CORRAL_PERM_CREATE 4
#define CORRAL_PERM_DELETE 8
#define CORRAL_PERM_ADMIN  16
#define CORRAL_PERM_ALL    31

/* A digest id "user:<28 base64 chars>"; users are at most this long. */
#define CORRAL_DIGEST_USER_MAX (CORRAL_WORKER_ID_MAX + 2)
#define CORRAL_DIGEST_ID_MAX   (CORRAL_DIGEST_USER_MAX + 1 + 28)

struct corral_acl_rule {
    int workers;                             /* rights of the workers' shared identity */
    int owner;                               /* rights of the worker the path names (owner_id) */
    char owner_id[CORRAL_WORKER_ID_MAX + 1]; /* "" when the path names no worker */
    int creator;                             /* rights of the worker that creates the node */
    int assignee; /* rights the leader grants the worker it assigns the node's task to */
};

/* The rule of path in namespace ns; a path outside ns (or ns itself) gets no rights beyond the
 * replicas'. */
void corral_acl_rule_of(const char *ns, const char *path, struct corral_acl_rule *out);

/* SHA-1 of len bytes (FIPS 180-4); out gets 20 bytes. */
void corral_sha1(const void *data, size_t len, uint8_t out[20]);
/* The ZooKeeper digest id of "user:pass": "user:" + base64(sha1("user:pass")). false (out "")
 * when there is no ':' , the user is empty or longer than CORRAL_DIGEST_USER_MAX, or n is too
 * small. */
bool corral_digest_id(const char *user_pass, char *out, size_t n);
/* The digest user of worker's own identity, "w.<worker>"; false when worker is not a valid
 * worker id or n too small. */
bool corral_worker_identity_user(const char *worker, char *out, size_t n);
/* Is digest_id ("user:hash") the own identity of worker (user "w.<worker>", a 28-character
 * hash)? */
bool corral_digest_id_is_worker(const char *digest_id, const char *worker);

/*
 * The data of workers/ with separate identities: the replicas' digest ids, which a worker names
 * in the ACLs of what it creates (ZooKeeper shows a digest's hash only to who may administer a
 * node, so the workers cannot read them from an ACL): {"replicas":["user:hash",...]}, 1 to
 * CORRAL_ACL_REPLICAS_MAX ids.
 */
#define CORRAL_ACL_REPLICAS_MAX 4
char *corral_acl_replicas_encode(const char *const *ids, size_t n); /* malloc'd JSON */
/* Decode into ids (n_max entries of CORRAL_DIGEST_ID_MAX + 1 bytes); the count in *n.
 * CORRAL_EINVAL with err on anything else (an id must be "user:<28 base64 chars>"). */
int corral_acl_replicas_decode(const char *data, size_t len, char ids[][CORRAL_DIGEST_ID_MAX + 1],
                               size_t n_max, size_t *n, struct corral_error *err);

#endif
