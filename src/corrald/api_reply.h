/* SPDX-License-Identifier: MIT */
/*
 * Prepared HTTP answers of the REST server: a handler or a job thread decides status, body and
 * headers into a struct api_reply (no libmicrohttpd call), and a polling thread sends it later
 * with api_reply_send. Errors are rendered from the error table (CONTRACT "REST API"):
 * {"error": wire name, "message": sentence, "field": path}, with WWW-Authenticate on 401 and
 * Retry-After on 429 and 503.
 */
#ifndef CORRALD_API_REPLY_H
#define CORRALD_API_REPLY_H

#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "corral/error.h"
#include "corral/event.h"
#include "corral/task.h"

struct api_reply {
    unsigned status;       /* HTTP status; 0 while nothing is prepared */
    const char *ctype;     /* Content-Type; a static string */
    char *body;            /* owned, NUL-terminated; NULL for an empty body */
    size_t len;            /* of body, without the NUL */
    const char *hdr, *val; /* one extra header (static strings); hdr NULL when none */
    /* More headers: "name", "value", ..., NULL (a static list); NULL when none. */
    const char *const *headers;
    const char *etag; /* an ETag header's value (static, quoted); NULL when none */
};

/* Each setter replaces what rp held before. */
/* text (len bytes) is copied. */
void api_reply_text(struct api_reply *rp, unsigned status, const char *ctype, const char *text,
                    size_t len);
/* body is stolen (decref'd on every path); the text gets a trailing newline. */
void api_reply_json(struct api_reply *rp, unsigned status, json_t *body);
void api_reply_task(struct api_reply *rp, unsigned status, const struct corral_task *t);
/* 200 {"events": events (taken), "next": the cursor next}. */
void api_reply_events(struct api_reply *rp, json_t *events, const struct corral_event_cursor *next);
/* err->code CORRAL_OK is rendered as an internal error. */
void api_reply_error(struct api_reply *rp, const struct corral_error *err);
void api_reply_fail(struct api_reply *rp, enum corral_err code, const char *field, const char *msg);
/* Free the body and zero rp; idempotent. */
void api_reply_cleanup(struct api_reply *rp);

/* Queue rp as conn's response (from MHD's access handler) and clean rp up. */
enum MHD_Result api_reply_send(struct MHD_Connection *conn, struct api_reply *rp);

#endif
