/* SPDX-License-Identifier: MIT */
/*
 * Error codes: wire names and HTTP statuses from the X-macro table in corral/error.h, and the
 * "first error wins" recorder every validator reports through. Pure; keeps no state.
 */
#include <stdio.h>
#include <string.h>

#include "corral/error.h"

static const char *const err_names[] = {
#define CORRAL_X_NAME(code, name, http) name,
    CORRAL_ERRORS(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};

static const int err_https[] = {
#define CORRAL_X_HTTP(code, name, http) http,
    CORRAL_ERRORS(CORRAL_X_HTTP)
#undef CORRAL_X_HTTP
};

_Static_assert(sizeof(err_names) / sizeof(err_names[0]) == CORRAL_ERR_COUNT, "error table size");

const char *corral_err_name(int code)
{
    if (code < 0 || code >= CORRAL_ERR_COUNT)
        return "internal";
    return err_names[code];
}

int corral_err_http(int code)
{
    if (code < 0 || code >= CORRAL_ERR_COUNT)
        return 500;
    return err_https[code];
}

/* Newlines would break the one-line log and error-body format: flatten them. */
static void one_line(char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    }
}

int corral_error_set(struct corral_error *err, enum corral_err code, const char *field,
                     const char *fmt, ...)
{
    if (!err)
        return (int)code;
    /* The first error is the cause; later ones are usually consequences of it. */
    if (err->code != CORRAL_OK)
        return (int)err->code;
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    err->msg[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    one_line(err->msg);
    return (int)code;
}

void corral_error_clear(struct corral_error *err)
{
    if (!err)
        return;
    err->code = CORRAL_OK;
    err->field[0] = '\0';
    err->msg[0] = '\0';
}
