/* SPDX-License-Identifier: MIT */
/*
 * Long polls (GET /v1/tasks/{id}?wait=S, GET /v1/events?wait=S): a parked request waits here
 * until its task is final (or the feed has an event after its cursor) or its deadline passes. One
 * waiter thread re-checks a poll when a ZooKeeper callback watch on its task fires, at its
 * deadline, and every 2 s (watches are hints), and answers it. At most one callback watch is armed
 * per task path: it is re-armed only after it fired (or after the session changed), so polling a
 * task that never changes adds no watches.
 */
#ifndef CORRALD_API_WAIT_H
#define CORRALD_API_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/event.h"
#include "corrald/replica.h"

struct api_wait;
struct api_request;

/* Start the waiter thread. Never NULL. */
struct api_wait *api_wait_new(struct replica *r);
/* Hold req (parked and running; a reference is taken) until task id is final or deadline_ms
 * (monotonic) passes, then answer it. False when stopping or req is no longer running: then
 * the caller answers. */
bool api_wait_add(struct api_wait *w, struct api_request *req, const char *id, int64_t deadline_ms);
/* Hold req (as api_wait_add) until the events feed has an event after cur or deadline_ms
 * passes; then answer it with at most limit events (an empty list at the deadline). */
bool api_wait_add_events(struct api_wait *w, struct api_request *req,
                         const struct corral_event_cursor *cur, size_t limit, int64_t deadline_ms);
/* Hold req until the output of task pos->id has bytes after pos, or the task ended, or
 * deadline_ms passes (corrald/output.h). */
struct output_pos;
bool api_wait_add_output(struct api_wait *w, struct api_request *req, const struct output_pos *pos,
                         int64_t deadline_ms);
/* Long polls held now. */
size_t api_wait_count(struct api_wait *w);
/* Refuse new polls and let the thread leave; it answers nothing more that it did not start
 * (the caller answers every parked request). Does not wait. */
void api_wait_stop(struct api_wait *w);
/* Join the thread (after api_wait_stop) and drop the references it held. */
void api_wait_join(struct api_wait *w);
/* Free; only after zk_close(), since armed watches point at it. NULL is fine. */
void api_wait_free(struct api_wait *w);

#endif
