/* SPDX-License-Identifier: MIT */
/*
 * Error codes of corral: one X-macro table gives each code its wire name (the "error" field of
 * REST error bodies) and its HTTP status. Append new codes last; never renumber.
 */
#ifndef CORRAL_ERROR_H
#define CORRAL_ERROR_H

#include <stdarg.h>

#if defined(__GNUC__)
#define CORRAL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CORRAL_NODISCARD         __attribute__((warn_unused_result))
#else
#define CORRAL_PRINTF(fmt, args)
#define CORRAL_NODISCARD
#endif

/*      code                 wire name                http */
#define CORRAL_ERRORS(X)                                                                           \
    X(CORRAL_OK, "ok", 200)                                                                        \
    X(CORRAL_EINVAL, "invalid_request", 400)                                                       \
    X(CORRAL_ESPEC, "invalid_spec", 400)                                                           \
    X(CORRAL_ETOOBIG, "too_large", 413)                                                            \
    X(CORRAL_ENOTFOUND, "not_found", 404)                                                          \
    X(CORRAL_ECONFLICT, "conflict", 409)                                                           \
    X(CORRAL_EIDEMPOTENCY, "idempotency_mismatch", 422)                                            \
    X(CORRAL_EFULL, "backlog_full", 429)                                                           \
    X(CORRAL_EUNAVAIL, "zookeeper_unavailable", 503)                                               \
    X(CORRAL_EUNKNOWN, "outcome_unknown", 503)                                                     \
    X(CORRAL_ENOLEADER, "no_leader", 503)                                                          \
    X(CORRAL_EFENCED, "fenced", 503)                                                               \
    X(CORRAL_EEXIST, "exists", 409)                                                                \
    X(CORRAL_EUNAUTH, "unauthorized", 401)                                                         \
    X(CORRAL_EMETHOD, "method_not_allowed", 405)                                                   \
    X(CORRAL_EUSAGE, "usage", 400)                                                                 \
    X(CORRAL_EINTERNAL, "internal", 500)                                                           \
    X(CORRAL_ESTATE, "invalid_transition", 409)                                                    \
    X(CORRAL_EMEDIA, "unsupported_media_type", 415)                                                \
    X(CORRAL_EFORBIDDEN, "forbidden", 403)                                                         \
    X(CORRAL_EBUSY, "too_many_requests", 429)                                                      \
    X(CORRAL_EGONE, "cursor_expired", 410)

enum corral_err {
#define CORRAL_X_ENUM(code, name, http) code,
    CORRAL_ERRORS(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_ERR_COUNT
};

struct corral_error {
    enum corral_err code; /* CORRAL_OK when nothing failed */
    char field[64];       /* JSON path ("tasks[3].priority") or flag name ("--slots"), "" if none */
    char msg[192];        /* one line, no trailing period, no newline */
};

/* Wire name of a code ("invalid_spec"); "internal" for an out-of-range code. */
const char *corral_err_name(int code);
/* HTTP status of a code (400, 404, ...); 500 for an out-of-range code. */
int corral_err_http(int code);

/*
 * Record an error and return its code. Keeps the first error: if err already holds a code other
 * than CORRAL_OK, nothing changes and that earlier code is returned. err may be NULL.
 * field may be NULL (stored as ""). The message is truncated to fit.
 */
int corral_error_set(struct corral_error *err, enum corral_err code, const char *field,
                     const char *fmt, ...) CORRAL_PRINTF(4, 5);
/* Reset err to CORRAL_OK with empty field and message. */
void corral_error_clear(struct corral_error *err);

#endif
