/* SPDX-License-Identifier: MIT */
/*
 * /v1/schedules (CONTRACT, docs/api.md): thin handlers over corrald/schedules.c, each run on a
 * job thread like every other ZooKeeper call of the API.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/schedule.h"
#include "corrald/api_internal.h"
#include "corrald/api_reply.h"
#include "corrald/schedules.h"

enum sched_op {
    SCHED_LIST,
    SCHED_GET,
    SCHED_DELETE,
    SCHED_PAUSE,
    SCHED_RESUME,
    SCHED_TRIGGER,
    SCHED_FIRES,
    SCHED_CREATE
};

struct sched_call {
    struct api_call base;
    enum sched_op op;
    char name[CORRAL_SCHEDULE_NAME_MAX + 1];
    size_t limit;
    json_t *body; /* SCHED_CREATE */
};

static void sched_exec(struct api_call *c, struct api_reply *out)
{
    struct sched_call *k = (struct sched_call *)c;
    struct replica *r = c->req->a->r;
    struct corral_error err = {0};
    json_t *obj = NULL;
    struct corral_task t = {0};
    int rc;
    unsigned ok = MHD_HTTP_OK;
    switch (k->op) {
        case SCHED_CREATE:
            rc = sched_create(r, k->body, &obj, &err);
            ok = MHD_HTTP_CREATED;
            break;
        case SCHED_LIST:
            rc = sched_list(r, &obj, &err);
            break;
        case SCHED_GET:
            rc = sched_get(r, k->name, &obj, &err);
            break;
        case SCHED_DELETE:
            rc = sched_delete(r, k->name, &obj, &err);
            break;
        case SCHED_PAUSE:
        case SCHED_RESUME:
            rc = sched_set_paused(r, k->name, k->op == SCHED_PAUSE, &obj, &err);
            break;
        case SCHED_FIRES:
            rc = sched_fires(r, k->name, k->limit, &obj, &err);
            break;
        case SCHED_TRIGGER:
            rc = sched_trigger(r, k->name, &t, &err);
            if (rc == CORRAL_OK)
                api_reply_task(out, MHD_HTTP_CREATED, &t);
            else
                api_reply_error(out, &err);
            corral_task_cleanup(&t);
            return;
        default:
            rc = corral_error_set(&err, CORRAL_EINTERNAL, NULL, "no such schedule call");
            break;
    }
    if (rc == CORRAL_OK)
        api_reply_json(out, ok, obj);
    else
        api_reply_error(out, &err);
}

static void sched_destroy(struct api_call *c)
{
    json_decref(((struct sched_call *)c)->body);
}

void api_schedules(struct api *a, struct api_request *req, const struct corral_route *rt,
                   struct api_reply *rp)
{
    enum sched_op op;
    switch (rt->ep) {
        case CORRAL_EP_SCHEDULES:
            op = rt->post ? SCHED_CREATE : SCHED_LIST;
            break;
        case CORRAL_EP_SCHEDULE:
            op = rt->del ? SCHED_DELETE : SCHED_GET;
            break;
        case CORRAL_EP_SCHEDULE_PAUSE:
            op = SCHED_PAUSE;
            break;
        case CORRAL_EP_SCHEDULE_RESUME:
            op = SCHED_RESUME;
            break;
        case CORRAL_EP_SCHEDULE_TRIGGER:
            op = SCHED_TRIGGER;
            break;
        case CORRAL_EP_SCHEDULE_FIRES:
            op = SCHED_FIRES;
            break;
        default:
            api_reply_fail(rp, CORRAL_EINTERNAL, NULL, "not a schedule endpoint");
            return;
    }
    if (op != SCHED_CREATE && op != SCHED_LIST && !rt->name_valid) {
        api_reply_fail(rp, CORRAL_ENOTFOUND, "name", "no schedule with that name");
        return;
    }
    json_t *body = NULL;
    int64_t limit = CORRAL_SCHEDULE_FIRES_DEFAULT;
    if (op == SCHED_CREATE) {
        json_error_t jerr;
        body = json_loadb(req->body ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
        if (!body) {
            struct corral_error err = {0};
            corral_error_set(&err, CORRAL_ESPEC, "", "invalid JSON at line %d column %d: %s",
                             jerr.line, jerr.column, jerr.text);
            api_reply_error(rp, &err);
            return;
        }
    } else if (op == SCHED_FIRES &&
               !api_query_int(req->conn, "limit", 1, CORRAL_SCHEDULE_FIRES_KEPT,
                              CORRAL_SCHEDULE_FIRES_DEFAULT, &limit, rp)) {
        return;
    }
    if (!api_ready(a, rp)) {
        json_decref(body);
        return;
    }
    bool write = op == SCHED_CREATE || op == SCHED_DELETE || op == SCHED_PAUSE ||
                 op == SCHED_RESUME || op == SCHED_TRIGGER;
    struct sched_call *k = api_call_new(sizeof *k, sched_exec, sched_destroy, write);
    k->op = op;
    k->body = body;
    k->limit = (size_t)limit;
    memcpy(k->name, rt->name, sizeof k->name);
    api_call_start(a, req, &k->base, rp);
}
