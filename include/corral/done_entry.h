/* SPDX-License-Identifier: MIT */
/*
 * The done index (docs/znodes.md "The done index"): one empty znode per finished task,
 * done/<hour>/<minute>/<slot>/<name>, created in the multi that makes the task final and deleted
 * with it by retention. The name carries what retention and listing need (finish time, final
 * state, whether an idempotency record exists, the id), so neither reads a task to find it.
 * This file alone knows the encoding; paths.h knows the folder. Pure.
 */
#ifndef CORRAL_DONE_ENTRY_H
#define CORRAL_DONE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/limits.h"
#include "corral/task.h"

/*
 * Time slots. A slot folder holds the tasks that finished within one 100 ms slot: at 100,000
 * finishes/s that is 10,000 names of 42 wire bytes, 420 KB, under ZooKeeper's 1 MiB response.
 * A minute folder holds at most 600 slot folders, an hour folder 60 minute folders, and done/
 * one folder per hour of retention (10 years, the --retention maximum: 87,600 names, ~960 KB).
 */
#define CORRAL_DONE_SLOT_MS          100
#define CORRAL_DONE_MINUTE_MS        60000
#define CORRAL_DONE_HOUR_MS          3600000
#define CORRAL_DONE_SLOTS_PER_MINUTE (CORRAL_DONE_MINUTE_MS / CORRAL_DONE_SLOT_MS)
#define CORRAL_DONE_MINUTES_PER_HOUR (CORRAL_DONE_HOUR_MS / CORRAL_DONE_MINUTE_MS)
/* Finish times are 13 decimal digits of ms (until the year 2286); later ones are clamped. */
#define CORRAL_DONE_MS_MAX INT64_C(9999999999999)
/* "<13-digit ms>-<id>-<state><key>", e.g. "1732438372123-019a1b2c3d4e-9f8e7d6c-sn". */
#define CORRAL_DONE_NAME_LEN (13u + 1u + CORRAL_ID_LEN + 1u + 2u)
/* Folder names: hour 7 digits (ms / 3,600,000), minute 2 digits, slot 3 digits. */
#define CORRAL_DONE_HOUR_NAME_LEN   7u
#define CORRAL_DONE_MINUTE_NAME_LEN 2u
#define CORRAL_DONE_SLOT_NAME_LEN   3u

struct corral_done_entry {
    int64_t finished_ms;     /* 0..CORRAL_DONE_MS_MAX, wall clock */
    enum corral_state state; /* succeeded, failed or cancelled */
    bool has_key;            /* the task holds an idempotency record idem/<bb>/<key> */
    char id[CORRAL_ID_LEN + 1];
};

/* The entry of task t, which must be final with a valid id (CORRAL_EINVAL otherwise). The time
 * is t->finished_at_ms clamped to 0..CORRAL_DONE_MS_MAX. */
CORRAL_NODISCARD int corral_done_entry_of(const struct corral_task *t,
                                          struct corral_done_entry *out);
/* Name of e (a valid entry) into out. */
void corral_done_entry_name(const struct corral_done_entry *e, char out[CORRAL_DONE_NAME_LEN + 1]);
/* Decode a name read from ZooKeeper; false (out untouched) for anything corral did not make. */
bool corral_done_entry_parse(const char *name, struct corral_done_entry *out);
/* <ns>/done/<hour>/<minute>/<slot>/<name> of e. */
CORRAL_NODISCARD int corral_done_entry_path(char *buf, size_t n, const char *ns,
                                            const struct corral_done_entry *e);

/* Slot, minute and hour numbers of a time in ms (>= 0): ms / the unit. */
int64_t corral_done_slot_of(int64_t ms);
int64_t corral_done_minute_of(int64_t ms);
int64_t corral_done_hour_of(int64_t ms);
/* Folder paths of a slot, minute or hour number (as above): <ns>/done/<hour>[/<min>[/<slot>]].
 * CORRAL_EINVAL for a negative number or one past CORRAL_DONE_MS_MAX. */
CORRAL_NODISCARD int corral_done_slot_path(char *buf, size_t n, const char *ns, int64_t slot);
CORRAL_NODISCARD int corral_done_minute_path(char *buf, size_t n, const char *ns, int64_t minute);
CORRAL_NODISCARD int corral_done_hour_path(char *buf, size_t n, const char *ns, int64_t hour);
/* Decode folder names listed from ZooKeeper into absolute numbers: an hour name alone; a minute
 * name inside hour; a slot name inside minute. False for a name corral did not make. */
bool corral_done_hour_parse(const char *name, int64_t *hour);
bool corral_done_minute_parse(const char *name, int64_t hour, int64_t *minute);
bool corral_done_slot_parse(const char *name, int64_t minute, int64_t *slot);

/* The order of the index and of GET /v1/tasks?state=<final>: finish time, then id. Compares e
 * with the position (ms, id); id "" sorts before every id. <0, 0 or >0. */
int corral_done_entry_cmp(const struct corral_done_entry *e, int64_t ms, const char *id);

#endif
