/* SPDX-License-Identifier: MIT */
/*
 * Znode paths (CONTRACT "ZooKeeper layout", docs/znodes.md). Every function writes a
 * NUL-terminated path into buf (capacity n) and returns 0, or CORRAL_ETOOBIG when it would not
 * fit (buf then holds ""). ns is the namespace, e.g. "/corral" (no trailing slash).
 * An empty id/worker/key, a key over CORRAL_IDEM_KEY_MAX bytes or a bucket >= CORRAL_BUCKETS is
 * CORRAL_EINVAL (buf then holds "" too).
 *
 *   <ns>/election/n_<uuid>-<seq>   ephemeral-sequential, one per replica (core/election.c)
 *   <ns>/leader                    persistent; the leader's record and heartbeat (core/election.c)
 *   <ns>/workers/<worker>          ephemeral, worker registration JSON (core/worker_reg.c)
 *   <ns>/tasks/<bb>/<id>           persistent task JSON; bb = 2 hex digits, corral_path_bucket(id)
 *   <ns>/queue                     persistent; its data is bumped to signal the leader
 *   <ns>/queue/<bb>/<name>         persistent queue entry (core/queue_entry.c)
 *   <ns>/assign/<worker>/<id>      persistent assignment JSON (core/assignment.c)
 *   <ns>/idem/<bb>/<hexkey>        persistent idempotency record: data = task id
 *   <ns>/done/<h>/<m>/<s>/<name>   persistent, empty: the done index (core/done_entry.c)
 *   <ns>/events/<gen>/e-<seq>      persistent-sequential: the events feed (core/event.c)
 *   <ns>/output/<id>               persistent: a followed task's newest output (core/output.c)
 *
 * This header is the only home of the layout: no other file spells a folder name (scripts/lint
 * fails on a namespace path literal outside src/core/paths.c).
 */
#ifndef CORRAL_PATHS_H
#define CORRAL_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

/* The folders directly under the namespace: enumerator, name, bucketed (CORRAL_BUCKETS
 * children named by corral_path_bucket: "00".."ff"). */
#define CORRAL_DIRS(X)                                                                             \
    X(CORRAL_DIR_ELECTION, "election", false)                                                      \
    X(CORRAL_DIR_WORKERS, "workers", false)                                                        \
    X(CORRAL_DIR_TASKS, "tasks", true)                                                             \
    X(CORRAL_DIR_QUEUE, "queue", true)                                                             \
    X(CORRAL_DIR_ASSIGN, "assign", false)                                                          \
    X(CORRAL_DIR_IDEM, "idem", true)                                                               \
    X(CORRAL_DIR_DONE, "done", false)                                                              \
    X(CORRAL_DIR_SCHEDULES, "schedules", false)                                                    \
    X(CORRAL_DIR_DEPS, "deps", true)                                                               \
    X(CORRAL_DIR_FLEET, "fleet", false)                                                            \
    X(CORRAL_DIR_EVENTS, "events", false)                                                          \
    X(CORRAL_DIR_OUTPUT, "output", false)

enum corral_dir {
#define CORRAL_X_ENUM(e, name, bucketed) e,
    CORRAL_DIRS(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_DIR_COUNT
};

/* Bucket 0..CORRAL_BUCKETS-1 of a task id or idempotency key (FNV-1a of the string). */
unsigned corral_path_bucket(const char *s);
/* True for the folders whose children are the CORRAL_BUCKETS bucket folders. */
bool corral_dir_is_bucketed(enum corral_dir d);
/* <ns>/<folder>. */
CORRAL_NODISCARD int corral_path_dir(char *buf, size_t n, const char *ns, enum corral_dir d);
/* <ns>/<folder>/<bb> of a bucketed folder (CORRAL_EINVAL for another folder). */
CORRAL_NODISCARD int corral_path_bucket_dir(char *buf, size_t n, const char *ns, enum corral_dir d,
                                            unsigned b);
/* Name "00".."ff" of bucket b into out (3 bytes). */
void corral_path_bucket_name(char out[3], unsigned b);
/* True when name is a bucket folder's name ("00".."ff", lowercase). */
bool corral_path_is_bucket_name(const char *name);
/* dir + "/" + name, for a child name read from ZooKeeper (non-empty, no '/'). */
CORRAL_NODISCARD int corral_path_child(char *buf, size_t n, const char *dir, const char *name);
/* <ns>/queue: the leader watches its data; every change that makes work bumps it. */
CORRAL_NODISCARD int corral_path_queue_signal(char *buf, size_t n, const char *ns);
/* <ns>/leader: the record of the replica that holds the epoch (corral/election.h). */
CORRAL_NODISCARD int corral_path_leader(char *buf, size_t n, const char *ns);
/* <ns>/election/n_<uuid>-: the prefix an ephemeral-sequential create completes. */
CORRAL_NODISCARD int corral_path_election_prefix(char *buf, size_t n, const char *ns,
                                                 const char *uuid);
CORRAL_NODISCARD int corral_path_task(char *buf, size_t n, const char *ns, const char *id);
CORRAL_NODISCARD int corral_path_task_bucket(char *buf, size_t n, const char *ns, unsigned b);
CORRAL_NODISCARD int corral_path_queue_entry(char *buf, size_t n, const char *ns, const char *id);
CORRAL_NODISCARD int corral_path_queue_bucket(char *buf, size_t n, const char *ns, unsigned b);
CORRAL_NODISCARD int corral_path_worker(char *buf, size_t n, const char *ns, const char *worker);
/* <ns>/fleet/<worker>: the persistent fleet-control record of a worker (corral/fleet.h). */
CORRAL_NODISCARD int corral_path_fleet(char *buf, size_t n, const char *ns, const char *worker);
/* The events feed (corral/event.h): <ns>/events/<gen> (a generation folder, gen >= 1),
 * <ns>/events/<gen>/e-<seq> (an event znode) and <ns>/events/<gen>/e- (the prefix a
 * sequential create completes). */
CORRAL_NODISCARD int corral_path_events_gen(char *buf, size_t n, const char *ns, int64_t gen);
CORRAL_NODISCARD int corral_path_event(char *buf, size_t n, const char *ns, int64_t gen,
                                       int32_t seq);
CORRAL_NODISCARD int corral_path_event_prefix(char *buf, size_t n, const char *ns, int64_t gen);
/* <ns>/output/<id>: the live output of a followed task (corral/output.h). */
CORRAL_NODISCARD int corral_path_output(char *buf, size_t n, const char *ns, const char *id);
CORRAL_NODISCARD int corral_path_assign_dir(char *buf, size_t n, const char *ns,
                                            const char *worker);
CORRAL_NODISCARD int corral_path_assign(char *buf, size_t n, const char *ns, const char *worker,
                                        const char *id);
/* The done index: <ns>/done/<hour>[/<minute>[/<slot>[/<entry>]]] from the names that
 * corral/done_entry.h makes. A NULL level ends the path, and every level after it must be NULL;
 * a level that is empty or holds '/' is CORRAL_EINVAL. */
CORRAL_NODISCARD int corral_path_done(char *buf, size_t n, const char *ns, const char *hour,
                                      const char *minute, const char *slot, const char *entry);
/* A cron schedule: <ns>/schedules/<name> (name: corral_schedule_name_is_valid). */
CORRAL_NODISCARD int corral_path_schedule(char *buf, size_t n, const char *ns, const char *name);
/* A dependency edge: <ns>/deps/<bb of dep>/<dep>.<dependent> (both task ids): dependent waits
 * for dep. */
CORRAL_NODISCARD int corral_path_dep_edge(char *buf, size_t n, const char *ns, const char *dep,
                                          const char *dependent);
/* Split an edge's name "<dep>.<dependent>" into its two task ids; false when it is not one. */
bool corral_dep_edge_parse(const char *name, char dep[22], char dependent[22]);
/* Idempotency record of key (any bytes, 1..128): <ns>/idem/<bb>/<lowercase hex of key>. */
CORRAL_NODISCARD int corral_path_idem(char *buf, size_t n, const char *ns, const char *key);

/* True when s is a valid namespace: starts with '/', no trailing '/', no empty, "." or ".."
 * component, only [A-Za-z0-9._-/], at most 200 bytes, not "/" and not under "/zookeeper". */
bool corral_path_valid_namespace(const char *s);
/* True when s is a valid worker/replica id: 1..128 bytes of [A-Za-z0-9._-], not "." or "..". */
bool corral_path_valid_name(const char *s);

#endif
