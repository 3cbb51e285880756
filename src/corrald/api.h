/* SPDX-License-Identifier: MIT */
/*
 * REST API of a replica (CONTRACT "REST API") on libmicrohttpd: a few polling threads with
 * epoll that never wait on ZooKeeper, a pool of job threads that make the ZooKeeper calls of
 * requests (their connections suspended meanwhile), and a waiter thread for long polls
 * (GET /v1/tasks/{id}?wait=S). docs/architecture.md "Threads and ownership" has the details.
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
/* Stop serving: answer every parked request (503 when its work did not finish within a
 * grace period), stop libmicrohttpd and join our threads. After it, nothing of the API uses
 * ZooKeeper; it may take until a store call in progress returns. */
void api_stop(struct api *a);
/* Free it; only after zk_close(), since pending watches point at it. */
void api_free(struct api *a);

#endif
