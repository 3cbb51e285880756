/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/events?after=CURSOR&wait=S&limit=N: the feed of task and worker state changes
 * (corrald/events.h). Without after, the feed starts at its head: the answer holds no event,
 * only the cursor to follow from (or, with wait, the first events after it). With wait and
 * nothing new, the request is held by the long-poll waiter (api_wait.h) until an event comes.
 */
#include <stdio.h>
#include <string.h>

#include "corral/event.h"
#include "corral/limits.h"
#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "corrald/events.h"
#include "io/clock.h"

struct events_call {
    struct api_call base;
    bool has_after;
    struct corral_event_cursor after;
    size_t limit;
    int64_t deadline_ms; /* monotonic end of ?wait=; 0 to answer at once */
};

static void events_exec(struct api_call *c, struct api_reply *out)
{
    struct events_call *e = (struct events_call *)c;
    struct api *a = c->req->a;
    struct corral_error err = {0};
    struct corral_event_cursor from = e->after, next;
    if (!e->has_after && events_head(a->r, &from, &err) != CORRAL_OK) {
        api_reply_error(out, &err);
        return;
    }
    json_t *evs = json_array();
    if (events_read(a->r, &from, e->limit, evs, &next, &err) != CORRAL_OK) {
        json_decref(evs);
        api_reply_error(out, &err);
        return;
    }
    if (json_array_size(evs) == 0 && e->deadline_ms > 0 && clock_mono_ms() < e->deadline_ms &&
        api_wait_add_events(a->wait, c->req, &next, e->limit, e->deadline_ms)) {
        json_decref(evs); /* the waiter answers */
        return;
    }
    api_reply_events(out, evs, &next);
}

void api_events(struct api *a, struct api_request *req, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    int64_t wait_s = 0, limit = EVENTS_LIMIT_DEFAULT;
    if (!api_query_int(req->conn, "wait", 0, CORRAL_WAIT_MAX_S, 0, &wait_s, rp) ||
        !api_query_int(req->conn, "limit", 1, EVENTS_LIMIT_MAX, EVENTS_LIMIT_DEFAULT, &limit, rp))
        return;
    const char *after = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "after");
    struct corral_event_cursor cur = {0};
    if (after && !corral_event_cursor_parse(after, &cur)) {
        api_reply_fail(rp, CORRAL_EINVAL, "after",
                       "not a cursor: pass the \"next\" or an event's \"cursor\" of an earlier "
                       "answer as it was");
        return;
    }
    if (!api_long_poll_admit(a, req, wait_s, rp))
        return;
    struct events_call *e = api_call_new(sizeof *e, events_exec, NULL, false);
    e->has_after = after != NULL;
    e->after = cur;
    e->limit = (size_t)limit;
    e->deadline_ms = wait_s > 0 ? clock_mono_ms() + wait_s * 1000 : 0;
    api_call_start(a, req, &e->base, rp);
}
