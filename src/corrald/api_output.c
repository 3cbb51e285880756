/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/tasks/{id}/output?attempt=A&offset=N&wait=S: a task's output from byte N of attempt A
 * (corrald/output.h, docs/api.md "Live output"). Asking keeps the task's worker publishing its
 * output while it runs; with wait and nothing new, the request is held by the long-poll waiter
 * until bytes come, the task ends or S seconds pass.
 */
#include <stdio.h>
#include <string.h>

#include "corral/limits.h"
#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "corrald/output.h"
#include "io/clock.h"

struct output_call {
    struct api_call base;
    struct output_pos pos;
    int64_t deadline_ms; /* monotonic end of ?wait=; 0 to answer at once */
};

static void output_exec(struct api_call *c, struct api_reply *out)
{
    struct output_call *o = (struct output_call *)c;
    struct api *a = c->req->a;
    json_t *answer = NULL;
    bool empty = false;
    struct corral_error err = {0};
    if (output_read(a->r, &o->pos, &answer, &empty, &err) != CORRAL_OK) {
        api_reply_error(out, &err);
        return;
    }
    if (empty && o->deadline_ms > 0 && clock_mono_ms() < o->deadline_ms &&
        api_wait_add_output(a->wait, c->req, &o->pos, o->deadline_ms)) {
        json_decref(answer); /* the waiter answers */
        return;
    }
    api_reply_json(out, MHD_HTTP_OK, answer);
}

void api_task_output(struct api *a, struct api_request *req, const char *id, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    int64_t wait_s = 0, attempt = 0, offset = 0;
    if (!api_query_int(req->conn, "wait", 0, CORRAL_WAIT_MAX_S, 0, &wait_s, rp) ||
        !api_query_int(req->conn, "attempt", 0, UINT32_MAX, 0, &attempt, rp) ||
        !api_query_int(req->conn, "offset", 0, INT64_MAX, 0, &offset, rp))
        return;
    if (!api_long_poll_admit(a, req, wait_s, rp))
        return;
    struct output_call *o = api_call_new(sizeof *o, output_exec, NULL, false);
    snprintf(o->pos.id, sizeof o->pos.id, "%s", id);
    o->pos.attempt = (uint32_t)attempt;
    o->pos.offset = (uint64_t)offset;
    o->deadline_ms = wait_s > 0 ? clock_mono_ms() + wait_s * 1000 : 0;
    api_call_start(a, req, &o->base, rp);
}
