/* SPDX-License-Identifier: MIT */
/*
 * Znode paths (CONTRACT "ZooKeeper layout", docs/znodes.md). Every function writes a
 * NUL-terminated path into buf (capacity n) and returns 0, or CORRAL_ETOOBIG when it would not
 * fit (buf then holds ""). ns is the namespace, e.g. "/corral" (no trailing slash).
 * An empty id/worker/key, a key over CORRAL_IDEM_KEY_MAX bytes or a bucket >= CORRAL_BUCKETS is
 * CORRAL_EINVAL (buf then holds "" too).
 *
 *   <ns>/election/n_<uuid>-<seq>   ephemeral-sequential, one per replica
 *   <ns>/workers/<worker>          ephemeral, worker registration JSON
 *   <ns>/tasks/<bb>/<id>           persistent task JSON; bb = 2 hex digits, corral_path_bucket(id)
 *   <ns>/queue                     persistent; its data is bumped to signal the leader
 *   <ns>/queue/<bb>/<id>           persistent queue entry (empty)
 *   <ns>/assign/<worker>/<id>      persistent assignment JSON
 *   <ns>/idem/<bb>/<hexkey>        persistent idempotency record: data = task id
 */
#ifndef CORRAL_PATHS_H
#define CORRAL_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/error.h"

/* Bucket 0..CORRAL_BUCKETS-1 of a task id or idempotency key (FNV-1a of the string). */
unsigned corral_path_bucket(const char *s);

CORRAL_NODISCARD int corral_path_join(char *buf, size_t n, const char *ns, const char *rel);
CORRAL_NODISCARD int corral_path_task(char *buf, size_t n, const char *ns, const char *id);
CORRAL_NODISCARD int corral_path_task_bucket(char *buf, size_t n, const char *ns, unsigned b);
CORRAL_NODISCARD int corral_path_queue_entry(char *buf, size_t n, const char *ns, const char *id);
CORRAL_NODISCARD int corral_path_queue_bucket(char *buf, size_t n, const char *ns, unsigned b);
CORRAL_NODISCARD int corral_path_worker(char *buf, size_t n, const char *ns, const char *worker);
CORRAL_NODISCARD int corral_path_assign_dir(char *buf, size_t n, const char *ns,
                                            const char *worker);
CORRAL_NODISCARD int corral_path_assign(char *buf, size_t n, const char *ns, const char *worker,
                                        const char *id);
/* Idempotency record of key (any bytes, 1..128): <ns>/idem/<bb>/<lowercase hex of key>. */
CORRAL_NODISCARD int corral_path_idem(char *buf, size_t n, const char *ns, const char *key);

/* True when s is a valid namespace: starts with '/', no trailing '/', no empty, "." or ".."
 * component, only [A-Za-z0-9._-/], at most 200 bytes, not "/" and not under "/zookeeper". */
bool corral_path_valid_namespace(const char *s);
/* True when s is a valid worker/replica id: 1..128 bytes of [A-Za-z0-9._-], not "." or "..". */
bool corral_path_valid_name(const char *s);

#endif
