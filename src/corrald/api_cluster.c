/* SPDX-License-Identifier: MIT */
/*
 * Cluster endpoints: GET /v1/workers and GET /v1/leader. Both read ZooKeeper, so both run on a
 * job thread like the task endpoints.
 */
#include <jansson.h>

#include "corrald/api_internal.h"
#include "corrald/store.h"

static void workers_exec(struct api_call *c, struct api_reply *out)
{
    struct corral_error err = {0};
    json_t *body = store_workers(c->req->a->r, &err);
    if (body)
        api_reply_json(out, MHD_HTTP_OK, body);
    else
        api_reply_error(out, &err);
}

void api_workers(struct api *a, struct api_request *req, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    api_call_start(a, req, api_call_new(sizeof(struct api_call), workers_exec, NULL, false), rp);
}

static void leader_exec(struct api_call *c, struct api_reply *out)
{
    struct corral_error err = {0};
    json_t *body = NULL;
    if (store_leader(c->req->a->r, &body, &err) == CORRAL_OK)
        api_reply_json(out, MHD_HTTP_OK, body);
    else
        api_reply_error(out, &err);
}

void api_leader(struct api *a, struct api_request *req, struct api_reply *rp)
{
    if (!api_ready(a, rp))
        return;
    api_call_start(a, req, api_call_new(sizeof(struct api_call), leader_exec, NULL, false), rp);
}
