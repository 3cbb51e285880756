/* SPDX-License-Identifier: MIT */
/*
 * REST API of a replica (CONTRACT "REST API") on libmicrohttpd: a small pool of polling
 * threads with epoll, connection limits and timeouts, and suspend/resume for long polls
 * (GET /v1/tasks/{id}?wait=S), which a waiter thread resumes on a ZooKeeper watch or deadline.
 */
#ifndef CORRALD_API_H
#define CORRALD_API_H

#include <stdint.h>

#include "corrald/replica.h"

struct api;

/* Listen on r->opts.listen and serve. NULL with err when the address is bad or taken. */
struct api *api_start(struct replica *r, struct corral_error *err);
/* The bound port (useful with port 0). */
uint16_t api_port(const struct api *a);
/* Stop serving: answer every suspended long poll, stop the threads. */
void api_stop(struct api *a);
/* Free it; only after zk_close(), since pending watches point at it. */
void api_free(struct api *a);

#endif
