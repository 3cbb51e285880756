/* SPDX-License-Identifier: MIT */
/*
 * Prepared HTTP answers: rendering (JSON, errors from the error table) and sending.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/spec.h"
#include "corral/text.h"
#include "corral/xalloc.h"
#include "corrald/api_reply.h"

void api_reply_cleanup(struct api_reply *rp)
{
    free(rp->body);
    memset(rp, 0, sizeof *rp);
}

void api_reply_text(struct api_reply *rp, unsigned status, const char *ctype, const char *text,
                    size_t len)
{
    api_reply_cleanup(rp);
    rp->status = status;
    rp->ctype = ctype;
    rp->body = corral_xmalloc(len + 1);
    memcpy(rp->body, text, len);
    rp->body[len] = '\0';
    rp->len = len;
}

/* Take text (from json_dumps) as the body, with a newline appended. */
static void take_json_text(struct api_reply *rp, unsigned status, char *text)
{
    api_reply_cleanup(rp);
    size_t len = strlen(text);
    rp->body = corral_xrealloc(text, len + 2);
    rp->body[len] = '\n';
    rp->body[len + 1] = '\0';
    rp->len = len + 1;
    rp->status = status;
    rp->ctype = "application/json";
}

static const char internal_body[] =
    "{\"error\":\"internal\",\"message\":\"cannot render the answer\"}\n";

void api_reply_json(struct api_reply *rp, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, CORRAL_JSON_DUMP_FLAGS) : NULL;
    json_decref(body);
    if (!text) {
        api_reply_text(rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", internal_body,
                       sizeof internal_body - 1);
        return;
    }
    take_json_text(rp, status, text);
}

void api_reply_task(struct api_reply *rp, unsigned status, const struct corral_task *t)
{
    api_reply_json(rp, status, corral_task_to_public_json(t));
}

void api_reply_events(struct api_reply *rp, json_t *events, const struct corral_event_cursor *next)
{
    char cur[CORRAL_EVENT_CURSOR_MAX];
    corral_event_cursor_format(next, cur);
    json_t *body = json_object();
    json_object_set_new(body, "events", events);
    json_object_set_new(body, "next", json_string(cur));
    api_reply_json(rp, MHD_HTTP_OK, body);
}

void api_reply_error(struct api_reply *rp, const struct corral_error *err)
{
    int code = err->code == CORRAL_OK ? CORRAL_EINTERNAL : (int)err->code;
    json_t *body = json_object();
    json_object_set_new(body, "error", json_string(corral_err_name(code)));
    char msg[sizeof err->field + sizeof err->msg + 4];
    if (err->field[0] && !strstr(err->msg, err->field))
        snprintf(msg, sizeof msg, "%s: %s", err->field, err->msg);
    else
        snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : corral_err_name(code));
    /* Messages may quote user input: make sure it is valid UTF-8 for JSON. */
    char *safe = corral_utf8_repair(msg, strlen(msg));
    json_object_set_new(body, "message", json_string(safe));
    free(safe);
    if (err->field[0]) {
        char *f = corral_utf8_repair(err->field, strlen(err->field));
        json_object_set_new(body, "field", json_string(f));
        free(f);
    }
    char *text = json_dumps(body, CORRAL_JSON_DUMP_FLAGS);
    json_decref(body);
    if (!text) {
        api_reply_text(rp, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", internal_body,
                       sizeof internal_body - 1);
        return;
    }
    api_reply_cleanup(rp);
    rp->status = (unsigned)corral_err_http(code);
    rp->ctype = "application/json";
    rp->body = text;
    rp->len = strlen(text);
    if (code == CORRAL_EUNAUTH) {
        rp->hdr = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
        rp->val = "Bearer";
    } else if (code == CORRAL_EFULL || code == CORRAL_EBUSY || code == CORRAL_EUNAVAIL ||
               code == CORRAL_ENOLEADER || code == CORRAL_EUNKNOWN) {
        rp->hdr = MHD_HTTP_HEADER_RETRY_AFTER;
        rp->val = "1";
    }
}

void api_reply_fail(struct api_reply *rp, enum corral_err code, const char *field, const char *msg)
{
    struct corral_error err = {0};
    corral_error_set(&err, code, field, "%s", msg);
    api_reply_error(rp, &err);
}

enum MHD_Result api_reply_send(struct MHD_Connection *conn, struct api_reply *rp)
{
    if (rp->status == 0)
        api_reply_fail(rp, CORRAL_EINTERNAL, NULL, "no answer was prepared");
    /* MHD frees the body with free() once sent. */
    char *body = rp->body ? rp->body : corral_xstrdup("");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rp->len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        rp->body = NULL;
        api_reply_cleanup(rp);
        return MHD_NO;
    }
    rp->body = NULL; /* now the response's */
    if (rp->ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rp->ctype);
    if (rp->hdr)
        MHD_add_response_header(resp, rp->hdr, rp->val);
    for (const char *const *h = rp->headers; h && h[0] && h[1]; h += 2)
        MHD_add_response_header(resp, h[0], h[1]);
    if (rp->etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rp->etag);
    enum MHD_Result ret = MHD_queue_response(conn, rp->status, resp);
    MHD_destroy_response(resp);
    api_reply_cleanup(rp);
    return ret;
}
