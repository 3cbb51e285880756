/* SPDX-License-Identifier: MIT */
/*
 * POST /v1/workers/{id}/cordon, /uncordon, /drain (CONTRACT "Fleet control", docs/api.md): the
 * body is checked here (core: corral_fleet_request_parse), the write runs on a job thread
 * (corrald/fleet_ctl.c) like every ZooKeeper call of the API.
 */
#include <string.h>

#include "corral/fleet.h"
#include "corrald/api_internal.h"
#include "corrald/api_reply.h"
#include "corrald/fleet_ctl.h"
#include "io/clock.h"

struct fleet_call {
    struct api_call base;
    enum corral_endpoint op;
    char worker[CORRAL_WORKER_ID_MAX + 1];
    struct corral_fleet_rec want;
};

static void fleet_exec(struct api_call *c, struct api_reply *out)
{
    struct fleet_call *k = (struct fleet_call *)c;
    struct corral_error err = {0};
    json_t *obj = NULL;
    if (fleet_ctl(c->req->a->r, k->worker, k->op, &k->want, &obj, &err) == CORRAL_OK)
        api_reply_json(out, MHD_HTTP_OK, obj);
    else
        api_reply_error(out, &err);
}

void api_fleet(struct api *a, struct api_request *req, const struct corral_route *rt,
               struct api_reply *rp)
{
    if (!rt->worker_valid) {
        api_reply_fail(rp, CORRAL_ENOTFOUND, "id", "no worker with that id");
        return;
    }
    struct corral_fleet_rec want = {0};
    if (rt->ep != CORRAL_EP_WORKER_UNCORDON) {
        enum corral_fleet_state s =
            rt->ep == CORRAL_EP_WORKER_DRAIN ? CORRAL_FLEET_DRAINING : CORRAL_FLEET_CORDONED;
        struct corral_error err = {0};
        if (corral_fleet_request_parse(req->body ? req->body : "", req->len, s, clock_wall_ms(),
                                       &want, &err) != CORRAL_OK) {
            api_reply_error(rp, &err);
            return;
        }
    }
    if (!api_ready(a, rp))
        return;
    struct fleet_call *k = api_call_new(sizeof *k, fleet_exec, NULL, true);
    k->op = rt->ep;
    memcpy(k->worker, rt->worker, sizeof k->worker);
    k->want = want;
    api_call_start(a, req, &k->base, rp);
}
