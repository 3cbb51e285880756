/* SPDX-License-Identifier: MIT */
/*
 * HTTP requests of the `corral` client (libcurl easy interface) with failover across the
 * replicas given by --server (CONTRACT "corral (client)": try the next replica when one is
 * unreachable or answers 503). This is the only file of the client that includes curl.h.
 */
#ifndef CORRAL_CLI_HTTP_H
#define CORRAL_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/error.h"

/* Largest response body the client accepts (a full page of 1000 tasks fits easily). */
#define CLI_RESPONSE_MAX (64u * 1024u * 1024u)

struct cli_http {
    char **urls; /* base URLs without trailing '/', n_urls >= 1 after http_init */
    size_t n_urls;
    size_t current;     /* index of the replica that answered last; tried first */
    char *auth_header;  /* "Authorization: Bearer <token>", or NULL */
    void *curl;         /* CURL *, reused so connections are kept alive */
    const char *cacert; /* borrowed: CA bundle (PEM) for https replicas; NULL: the system's */
};

struct cli_response {
    long status;     /* HTTP status, 0 when no answer */
    char *body;      /* NUL-terminated, owned; "" when empty */
    size_t len;      /* bytes in body */
    const char *url; /* borrowed from the cli_http: the replica that answered */
};

/*
 * servers: comma-separated base URLs ("http://a:7070,http://b:7070"); one without a scheme gets
 * "http://". token may be NULL or "". Returns 0, or CORRAL_EUSAGE (field "--server"/"--token")
 * for an empty list or a token with a line break, CORRAL_EINTERNAL when libcurl fails to start.
 */
CORRAL_NODISCARD int http_init(struct cli_http *h, const char *servers, const char *token,
                               struct corral_error *err);
/* Free everything; idempotent; works on a zeroed struct. */
void http_cleanup(struct cli_http *h);

/*
 * Send method ("GET", "POST", "DELETE"; another name is sent like POST) path (path starts with
 * '/', query included) with an optional JSON body (GET sends none; DELETE sends one only when
 * given), starting at the replica that answered last and moving to the next one on a connection
 * failure or a 503. A request that is not idempotent (a submit without idempotency key, a cancel)
 * moves on only when nothing can have been stored: the connection failed before the request was
 * sent, or the 503 says "zookeeper_unavailable"/"no_leader"; otherwise its error is reported.
 * timeout_s bounds each attempt (connect timeout is 2 s). Returns 0 with resp filled (any HTTP
 * status, including 503 when every replica said so), or CORRAL_EUNAVAIL with err naming the last
 * replica and libcurl's reason when none answered, CORRAL_ETOOBIG for a response over
 * CLI_RESPONSE_MAX. resp is zeroed first; clean it with http_response_cleanup() in every case.
 */
CORRAL_NODISCARD int http_request(struct cli_http *h, const char *method, const char *path,
                                  const char *body, bool idempotent, long timeout_s,
                                  struct cli_response *resp, struct corral_error *err);
void http_response_cleanup(struct cli_response *resp);

/* URL-escape one path segment or query value; malloc'd, caller frees. */
char *http_escape(const char *s);

#endif
