/* SPDX-License-Identifier: MIT */
/*
 * The feed of changes (CONTRACT "GET /v1/events", docs/znodes.md "The events feed"). Every
 * multi that changes the state of a task or a worker also creates one sequential znode
 *
 *     <ns>/events/<gen>/e-<seq>      data: [{"k":"t","id":…,"s":"assigned","a":1,"w":"w1"}, …]
 *
 * holding the changes of that multi, in the multi itself: ZooKeeper numbers the znodes of one
 * generation folder in the order it applies them, with no gap (only sequential creates happen
 * in a folder while it is current), so the feed is exactly the order of the changes, written at
 * no extra round trip. The multi also checks that its generation folder is still at data
 * version 0; the leader seals a full generation (set) and creates the next one in one fenced
 * multi, so nothing lands in a folder after it was sealed, and a reader that has read a sealed
 * folder up to its cversion has read all of it. Whole generations are trimmed once sealed and
 * old (CORRAL_EVENTS_KEEP_*): a cursor in a trimmed generation is answered 410.
 *
 * This file holds the znode data's encoder and decoder, the names of the generation folders,
 * the cursor format and the trim rule. Pure.
 */
#ifndef CORRAL_EVENT_H
#define CORRAL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/limits.h"
#include "corral/txn.h"

/* A generation is sealed once it holds this many event znodes (its listing, never needed,
 * would still be ~160 KB). */
#define CORRAL_EVENTS_GEN_SIZE 10000
/* Sealed generations are kept for at least this long after their seal, and at most
 * CORRAL_EVENTS_KEEP_GENS of them are kept (the current one not counted). */
#define CORRAL_EVENTS_KEEP_MS   (10 * 60 * 1000)
#define CORRAL_EVENTS_KEEP_GENS 32
/* Changes one event znode may hold (a batch submit of 1,000 tasks is one multi). */
#define CORRAL_EVENTS_PER_NODE_MAX 4096u
/* Bytes of one event znode's data the decoder accepts. */
#define CORRAL_EVENTS_NODE_MAX (1024u * 1024u)
/* Largest generation number (names are 16 decimal digits). */
#define CORRAL_EVENTS_GEN_MAX 9999999999999999LL

enum corral_event_kind { CORRAL_EVENT_TASK, CORRAL_EVENT_WORKER };

/* Worker states of the feed besides the fleet states ("active", "cordoned", "draining"):
 * a worker registered ("active"), left or was lost ("gone"). */
#define CORRAL_EVENT_WORKER_GONE "gone"

struct corral_event_rec {
    enum corral_event_kind kind;
    char id[CORRAL_WORKER_ID_MAX + 1];     /* task id or worker id */
    char state[16];                        /* task state name, or worker state */
    uint32_t attempt;                      /* tasks */
    char worker[CORRAL_WORKER_ID_MAX + 1]; /* tasks: the worker of the attempt, "" for none */
    char outcome[16]; /* a task queued again: how its last attempt ended ("failed",
                         "timed_out", "worker_lost", "returned"); "" otherwise */
};

/* Record a change in txn (its event znode is added when it is committed, io/zk_txn.c):
 * state is a corral_state_name for a task, a fleet state or "gone" for a worker. worker may
 * be NULL. */
void corral_event_task(struct corral_txn *txn, const char *ns, const char *id, const char *state,
                       uint32_t attempt, const char *worker);
void corral_event_worker(struct corral_txn *txn, const char *ns, const char *worker,
                         const char *state);
/* A task queued again after an attempt ended with outcome (a corral_outcome_name). */
void corral_event_task_requeued(struct corral_txn *txn, const char *ns, const char *id,
                                uint32_t attempt, const char *outcome);

/* The data of the event znode for the changes recorded in txn ("[...]", malloc'd, *len set);
 * NULL when txn records none. */
char *corral_event_node_data(const struct corral_txn *txn, size_t *len);

/*
 * Decode an event znode's data into *out (malloc'd array, *n entries; free()). Strict: an
 * array of at most CORRAL_EVENTS_PER_NODE_MAX objects with valid ids, known kinds and
 * plausible states; unknown fields are ignored (a newer writer may add one). On failure
 * CORRAL_EINVAL naming what is wrong, *out NULL and *n 0.
 */
CORRAL_NODISCARD int corral_event_decode(const char *buf, size_t len, struct corral_event_rec **out,
                                         size_t *n, struct corral_error *err);

/* Generation folder names: 16 decimal digits, 1..CORRAL_EVENTS_GEN_MAX. */
void corral_event_gen_name(char out[17], int64_t gen);
/* The generation of a folder name; -1 when name is not one. */
int64_t corral_event_gen_parse(const char *name);
/* Sequence number of an event znode's name "e-<10 digits>"; -1 when it is not one. */
int32_t corral_event_seq_parse(const char *name);

/* Data of a sealed generation folder: {"sealed_ms": ms}. */
char *corral_event_seal_encode(int64_t sealed_ms);
/* sealed_ms of a folder's data; -1 when it is not sealed data (an empty current folder). */
int64_t corral_event_seal_decode(const char *buf, size_t len);

/*
 * A cursor: the position of the next event to read, as (gen, seq, idx): the event idx of the
 * znode e-<seq> of generation gen. Rendered "<gen>-<seq>-<idx>" in decimal; opaque to clients.
 */
struct corral_event_cursor {
    int64_t gen;
    int32_t seq;
    uint32_t idx;
};
#define CORRAL_EVENT_CURSOR_MAX 40 /* bytes of a rendered cursor, NUL included */
void corral_event_cursor_format(const struct corral_event_cursor *c,
                                char out[CORRAL_EVENT_CURSOR_MAX]);
/* Strict parse; false when s is not a cursor corral could have made. */
bool corral_event_cursor_parse(const char *s, struct corral_event_cursor *out);

/*
 * Trim rule (leader): given the seal time of each generation that exists, oldest first (-1: not
 * sealed), the number of leading generations to delete now. The newest is never deleted, nor
 * anything after an unsealed one; a sealed generation goes once it was sealed more than
 * CORRAL_EVENTS_KEEP_MS ago, or when more than CORRAL_EVENTS_KEEP_GENS sealed ones would be kept.
 */
size_t corral_event_trim_count(const int64_t *sealed_ms, size_t n, int64_t now_ms);
/* The same rule with other limits (test builds shorten them). */
size_t corral_event_trim_count_with(const int64_t *sealed_ms, size_t n, int64_t now_ms,
                                    int64_t keep_ms, size_t keep_gens);

#endif
