/* SPDX-License-Identifier: MIT */
/*
 * Shared state of the leader's rooms: leader.c (the round: load, plan, assign), leader_repair.c
 * (assignments of lost workers, orphan queue entries), leader_queue.c (the cache of queued
 * tasks) and leader_retention.c (deleting finished tasks). Main thread only.
 */
#ifndef CORRALD_LEADER_INTERNAL_H
#define CORRALD_LEADER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/paths.h"
#include "corral/schedule.h"
#include "corral/queue_entry.h"
#include "corral/sched.h"
#include "corral/strlist.h"
#include "corral/task.h"
#include "corral/txn.h"
#include "corrald/leader.h"
#include "corrald/workers.h"
#include "io/zk.h"

/* The keys of one bucket's queue entries, as listed (sorted by name, so by id) minus the
 * entries this leader removed since (gone[i]: assigned by us). cversion is what the bucket's
 * cversion must be if nobody else changed it since: the listing's plus one per entry we
 * removed. watched: the listing's child watch has not fired yet. */
struct corral_queue_keys {
    struct corral_queue_key *k;
    bool *gone;
    size_t n, n_gone;
    int32_t cversion;
    bool watched;
};

/* A queued task as last read. */
struct qtask {
    struct corral_task task;
    int32_t version;
    bool gone; /* assigned or changed this round: drop from the cache */
    bool head; /* in this round's head */
};

/* What one live assignment costs its worker. */
struct acost {
    char path[CORRAL_PATH_MAX];
    char reg[CORRAL_REG_MAX + 1];
    uint32_t cpu_milli;
    uint64_t mem_mb;
    bool seen; /* listed in this round */
};

/* One cron schedule as the leader last read it (leader_schedules.c). */
struct cron_entry {
    struct corral_schedule s;
    int32_t version;
    int64_t due_wall; /* when to decide again (wall ms); INT64_MAX: nothing to do */
};

struct leader {
    struct corral_sched_state sched;
    /* Cron schedules (leader_schedules.c): read again when a watch under schedules/ fired, on
     * a new term, and every LEADER_CRON_REREAD_MS (watches are hints). */
    struct cron_entry *crons;
    size_t n_crons;
    bool crons_dirty;
    int64_t crons_read_ms; /* monotonic */
    char crons_dir[CORRAL_PATH_MAX];
    int64_t crons_wake_wall; /* the earliest due_wall; 0 = none */
    /* Dependency edges (leader_deps.c): looked at again when a watch under deps/ or on a
     * dependency fired, on a new term, and every LEADER_DEPS_REREAD_MS. */
    bool deps_dirty;
    int64_t deps_read_ms;                    /* monotonic */
    char deps_prefix[CORRAL_PATH_MAX];       /* the deps folder and a slash */
    char deps_tasks_prefix[CORRAL_PATH_MAX]; /* the tasks folder and '/': dependencies' watches */
    bool dirty;
    int64_t last_round_ms;
    int64_t last_retention_ms;   /* -1: not leading yet */
    int64_t retention_period_ms; /* LEADER_RETENTION_PERIOD_MS (tests may shorten it) */
    unsigned retention_cursor;   /* next task bucket to sweep */
    int64_t wake_at_ms;          /* monotonic: a retry backoff ends then; 0 = none */
    uint64_t rounds;
    /* Queued tasks as last read, sorted by id: this round's head and, up to LEADER_CACHE_MAX,
     * tasks of earlier heads still queued (a head that shrinks and grows again reads nothing
     * twice). Safe to keep between rounds: a queued task changes together with its queue entry
     * (cancel, assign) or gains a dependent (a version change: the assign fails and the task is
     * read again); every write we base on it checks the version we read. */
    struct qtask *cache;
    size_t n_cache;
    /* What each live assignment costs its worker, by assignment path. An assignment znode's
     * reg and its task's resources never change while it exists, so one read per assignment
     * is enough; entries whose znode is no longer listed are dropped every round. */
    struct acost *costs;
    size_t n_costs, cap_costs;
    /* Open-addressing index of costs by path: slot holds position + 1, 0 is empty; its size
     * is a power of two and at least twice n_costs (leader_repair.c). */
    size_t *cost_slots;
    size_t n_cost_slots;
    /* Keys of the queue entries as last listed, per bucket; a bucket is listed again (with a
     * new child watch) only when its cversion shows a change that is not ours
     * (leader_queue.c). */
    struct corral_queue_keys queue_keys[CORRAL_BUCKETS];
    bool queue_dirty[CORRAL_BUCKETS];   /* its watch fired or we touched it: check its stat */
    bool queue_all_dirty;               /* list every bucket (a new term, a session event) */
    int64_t queue_check_ms;             /* monotonic: last stat of every bucket */
    char queue_prefix[CORRAL_PATH_MAX]; /* the queue folder and a slash, once known */
    size_t queued;                      /* entries in the last round */
    int64_t next_eligible_ms;           /* wall: earliest retry backoff end or due time, 0 = none */
    /* The release pass (leader_queue.c) has looked at every entry due up to this (not_before,
     * id), in that order; reset with the term. */
    int64_t release_mark_ms;
    char release_mark_id[CORRAL_ID_LEN + 1];
    /* Tasks that fit no worker of the current set (sorted ids): left out of the head until the
     * set of workers changes. */
    char (*unsched)[CORRAL_ID_LEN + 1];
    size_t n_unsched, cap_unsched;
    /* Workers seen in the last round ("id reg"), to log joins and leaves. */
    struct corral_strlist known_workers;
    /* The live registrations as last read, kept while the watches that would report a change
     * (workers/ children, each registration's data) have not fired; each round resets their
     * usage counters. The queue signal's watch, likewise, is armed again only once it fired. */
    struct worker_set workers;
    bool workers_valid;
    /* assign/ and the folders in it as last listed, each listing with a child watch
     * (leader_repair.c). A listing is read again only once its watch fired, the connection
     * changed, or (a folder) this leader assigned to its worker: a round lists what changed,
     * not every worker's folder. */
    char assign_dir[CORRAL_PATH_MAX];    /* the assign folder, once known */
    bool assign_dirs_valid;              /* assign_dirs is current */
    struct corral_strlist assign_dirs;   /* the folders (sorted) */
    struct corral_strlist *assign_lists; /* [i]: the assignments in assign_dirs.items[i] */
    bool *assign_valid;                  /* [i]: assign_lists[i] is current */
    int64_t assign_all_ms;               /* when everything was last listed (monotonic) */
    /* Registrations whose own identity is bound, "<id>/<reg>", sorted (leader_identities.c). */
    struct corral_strlist id_bound;
    bool signal_armed;
    char workers_dir[CORRAL_PATH_MAX]; /* the workers folder, once known */
    char fleet_dir[CORRAL_PATH_MAX];   /* the fleet folder, once known */
    char signal_path[CORRAL_PATH_MAX]; /* the queue signal node, once known */
    /* Finishes counted from the done index (leader_finishes.c): per slot of the window, its
     * number, its cversion when listed and the names seen in it (sorted). */
#define LEADER_FIN_WINDOW_SLOTS 50 /* 5 s of 100 ms slots */
#define LEADER_FIN_PERIOD_MS    1000
    int64_t fin_slot[LEADER_FIN_WINDOW_SLOTS];
    int32_t fin_cversion[LEADER_FIN_WINDOW_SLOTS];
    struct corral_strlist fin_seen[LEADER_FIN_WINDOW_SLOTS];
    int64_t fin_start_slot; /* the first slot of this term; -1 before the first tick */
    int64_t fin_last_ms;    /* monotonic */
    /* The events feed (leader_events.c): last tick (monotonic, -1: none this term), the
     * generation size that seals and how long sealed ones are kept (test builds shorten). */
    int64_t events_last_ms;
    int32_t events_gen_size;
    int64_t events_keep_ms;
    int64_t outputs_last_ms; /* leader_outputs.c: last tick (monotonic), -1: none this term */
    /* The generation being trimmed (0: none), its children as listed, how many are gone. */
    int64_t events_cur_gen; /* the current generation as last seen (0: look at all again) */
    int64_t events_full_ms; /* monotonic: the last look at every generation */
    int64_t trim_gen;
    struct corral_strlist trim_names;
    size_t trim_done;
};

/* One round's view of the cluster. */
struct round {
    struct worker_set ws; /* borrowed from the leader (struct leader workers) */
    bool *has_dir;        /* per worker: assign/<id> exists */
    struct qtask **q;     /* the head: borrowed from the leader's cache of queued tasks */
    size_t n_q;
};

/* Every leader write passes r->el.node as the fence of its corral_ops builder: a replica that
 * lost leadership during this round (session expired, a newer leader took over) must change
 * nothing. */
bool leader_stopping(const struct replica *r);

/* leader_identities.c: with separate worker identities (corrald --zk-worker-auth-file), keep
 * only the workers whose registration names their own identity (user "w.<id>"), bind it for the
 * ACLs of their assignments, and give an existing assign/<id> the new incarnation's identity.
 * Without them: nothing. */
CORRAL_NODISCARD int leader_bind_workers(struct replica *r, struct worker_set *ws,
                                         struct corral_error *err);

/* The listings of assign/ (leader_repair.c): forget them all; note a watch's event (any event:
 * those below assign/ and the session's concern them); note that we assign to a worker. */
void leader_assign_reset(struct leader *l);
void leader_assign_on_event(struct leader *l, const struct zk_event *ev);
void leader_assign_touched(struct leader *l, const char *worker);
/* leader_repair.c: walk assign/<worker>/<task>, count the usage of live incarnations into
 * rd->ws, requeue what belongs to no live incarnation, tidy empty folders of gone workers. */
CORRAL_NODISCARD int leader_load_assignments(struct replica *r, struct round *rd,
                                             struct corral_error *err);
/* Forget every assignment's cost (a new term reads them again). */
void leader_costs_reset(struct leader *l);
/* Remember what the assignment at path costs (after we created it). */
void leader_cost_put(struct leader *l, const char *path, const char *reg, uint32_t cpu_milli,
                     uint64_t mem_mb);
/* Remove a queue entry with no queued task behind it. */
CORRAL_NODISCARD int leader_drop_entry(struct replica *r, const char *name,
                                       struct corral_error *err);

/* leader_repair.c: assign/ and all its folders listed at least this often (watches are hints). */
#define LEADER_ASSIGN_ALL_MS 10000
/* leader_queue.c: the stat of every bucket at least this often (watches are hints). */
#define LEADER_QUEUE_CHECK_MS 10000
/* leader_queue.c: a bucket with at most this many queued keys is listed rather than stat'ed. */
#define LEADER_RELIST_SMALL 32
/* Task bodies kept between rounds (the head's and earlier heads'). */
#define LEADER_CACHE_MAX 16384
/* New queued tasks are read this many at a time, pipelined. */
#define LEADER_READ_BATCH 512
/* Note which queue bucket changed (a child event) or that all may have (session event). */
void leader_queue_on_event(struct leader *l, const struct zk_event *ev);
/* Forget the listing and the cache (a new term). */
/* leader_deps.c: task dependencies. */
void leader_deps_reset(struct leader *l);
void leader_deps_on_event(struct leader *l, const struct zk_event *ev);
CORRAL_NODISCARD int leader_deps_tick(struct replica *r, struct corral_error *err);
#define LEADER_DEPS_REREAD_MS 5000
#define LEADER_DEPS_PER_TICK  512u

/* leader_schedules.c: cron schedules. */
void leader_crons_reset(struct leader *l);
void leader_crons_on_event(struct leader *l, const struct zk_event *ev);
/* Fire what is due at now_wall; sets crons_wake_wall. */
CORRAL_NODISCARD int leader_crons_tick(struct replica *r, int64_t now_wall,
                                       struct corral_error *err);
#define LEADER_CRON_REREAD_MS 5000
/* A held fire (overlap queue) looks at the task ahead of it this often. */
#define LEADER_CRON_POLL_MS 500
/* Fires (tasks) created by one multi at most; the rest follow in the next round. */
#define LEADER_CRON_FIRES_PER_MULTI 64u
#define LEADER_CRON_MULTI_BYTES     (512u * 1024u)

void leader_queue_reset(struct leader *l);
/* The entry of task id may have changed (a write of ours failed or replaced it): check its
 * bucket next round. */
void leader_queue_touched(struct leader *l, const char *id);
/* We deleted the entry listed as name (an assignment committed): forget its key without
 * listing its bucket again. */
void leader_queue_removed(struct leader *l, const char *name);
/* The set of tasks that fit no current worker. */
void leader_unsched_add(struct leader *l, const char *id);
void leader_unsched_clear(struct leader *l);
/* leader_queue.c: the head of the queue (at most head_max tasks, read) in rd->q. */
CORRAL_NODISCARD int leader_load_queue(struct replica *r, struct round *rd, size_t head_max,
                                       int64_t now_wall, struct corral_error *err);
void leader_cache_clear(struct leader *l);

/* leader_finishes.c: count finished tasks for /metrics from the done index. */
void leader_finishes_reset(struct leader *l);
CORRAL_NODISCARD int leader_finishes_tick(struct replica *r, int64_t now_mono, int64_t now_wall,
                                          struct corral_error *err);

/* leader_events.c: seal full generations of the events feed, trim old ones, announce workers
 * that left. */
#define LEADER_EVENTS_PERIOD_MS 1000
#define LEADER_EVENTS_FULL_MS   10000
void leader_events_init(struct leader *l);
void leader_events_reset(struct leader *l);
CORRAL_NODISCARD int leader_events_tick(struct replica *r, int64_t now_mono, int64_t now_wall,
                                        struct corral_error *err);
CORRAL_NODISCARD int leader_events_workers_gone(struct replica *r, const struct corral_strlist *ids,
                                                struct corral_error *err);

/* leader_outputs.c: remove live-output records nobody needs any more. */
#define LEADER_OUTPUTS_PERIOD_MS 10000
CORRAL_NODISCARD int leader_outputs_tick(struct replica *r, int64_t now_mono, int64_t now_wall,
                                         struct corral_error *err);

/* leader_retention.c: delete one slice of finished tasks past --retention. */
CORRAL_NODISCARD int leader_sweep_retention(struct replica *r, int64_t now_wall,
                                            struct corral_error *err);

#endif
