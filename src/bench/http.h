/* SPDX-License-Identifier: MIT */
/*
 * corral-bench's HTTP client: one keep-alive libcurl handle per client (a thread owns it), JSON
 * bodies, loopback only. A request in flight ends early when a stop is requested (bench.h).
 */
#ifndef CORRAL_BENCH_HTTP_H
#define CORRAL_BENCH_HTTP_H

#include <stddef.h>

#include "corral/error.h"

struct http_client;

/* A client of base_url ("http://127.0.0.1:7070"; copied). Never NULL. */
struct http_client *http_client_new(const char *base_url);
void http_client_free(struct http_client *c);

/*
 * method path with body (len bytes, NULL for none; sent as application/json). 0 with *status
 * (any HTTP status) and the response in http_body(); CORRAL_EUNAVAIL when no answer came (refused,
 * timed out after timeout_ms, stopped) with the reason in err.
 */
CORRAL_NODISCARD int http_do(struct http_client *c, const char *method, const char *path,
                             const char *body, size_t len, long timeout_ms, long *status,
                             struct corral_error *err);
/* The last response's body (NUL-terminated; valid until the next request) and its length. */
const char *http_body(const struct http_client *c, size_t *len);
/* The last response's Retry-After in seconds, 0 when none. */
long http_retry_after_s(const struct http_client *c);

/* One GET of url+path with a fresh handle: the status, or 0 when unreachable. */
long http_get_status(const char *base_url, const char *path, long timeout_ms);

#endif
