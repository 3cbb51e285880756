/* SPDX-License-Identifier: MIT */
/*
 * Reading the events feed (corral/event.h) for GET /v1/events: from a cursor, the changes
 * recorded since, in the order ZooKeeper applied them. Any replica serves any cursor: one that
 * this replica's server has not caught up with yet is synced before it is judged.
 */
#ifndef CORRALD_EVENTS_H
#define CORRALD_EVENTS_H

#include <stddef.h>

#include <jansson.h>

#include "corral/event.h"
#include "corrald/replica.h"

/* Events one answer holds at most (?limit=), and its default. */
#define EVENTS_LIMIT_MAX     1000
#define EVENTS_LIMIT_DEFAULT 1000

/* The position after the newest event (where a reader without a cursor starts). */
CORRAL_NODISCARD int events_head(struct replica *r, struct corral_event_cursor *head,
                                 struct corral_error *err);

/*
 * Up to max events after from, appended to the JSON array events (API objects: cursor, at,
 * kind, id, state, and attempt and worker for tasks), and the cursor to read on from in *next
 * (from itself when there is nothing new). CORRAL_EGONE when from is in a trimmed generation
 * (or was never made), CORRAL_EUNAVAIL without ZooKeeper.
 */
CORRAL_NODISCARD int events_read(struct replica *r, const struct corral_event_cursor *from,
                                 size_t max, json_t *events, struct corral_event_cursor *next,
                                 struct corral_error *err);

/* events_read with a callback per event instead of JSON: fn(ctx, event, the cursor after it,
 * when ZooKeeper applied it). */
typedef void (*events_fn)(void *ctx, const struct corral_event_rec *e,
                          const struct corral_event_cursor *after, int64_t at_ms);
CORRAL_NODISCARD int events_scan(struct replica *r, const struct corral_event_cursor *from,
                                 size_t max, events_fn fn, void *ctx,
                                 struct corral_event_cursor *next, struct corral_error *err);

/* The znodes whose change a reader at c waits for: the next event znode and its generation
 * folder (sealed). */
void events_wait_paths(const struct replica *r, const struct corral_event_cursor *c,
                       char next_node[CORRAL_PATH_MAX], char gen_dir[CORRAL_PATH_MAX]);

#endif
