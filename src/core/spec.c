/* SPDX-License-Identifier: MIT */
/*
 * Task spec (CONTRACT "Task spec"): strict validation of a submitted spec, with one error naming
 * the offending field by its JSON path, and rendering back to JSON with every default filled.
 * Validation order is top to bottom in contract order, so the reported field is deterministic.
 * Pure: no IO, no clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corral/id.h"
#include "corral/jsonx.h"
#include "corral/xalloc.h"
#include "corral/limits.h"
#include "corral/spec.h"
#include "corral/text.h"

#define DEFAULT_TIMEOUT_S       3600u
#define DEFAULT_MAX_ATTEMPTS    3u
#define DEFAULT_RETRY_BACKOFF_S 1u
#define DEFAULT_CPU_MILLI       1000u
#define EXPECT_STATUS_MAX       500u /* there are only 500 status codes */
#define HEADER_VALUE_MAX        8192u
#define ENV_PREFIX_RESERVED     "CORRAL_"
/* Filling in the defaults makes a spec's JSON longer by at most this much: every optional field
 * absent (~200 bytes with "http"'s method, headers, body and expect_status), or null and
 * replaced by a value of a few digits; cpu renders in at most as many digits as it may be given
 * (3 decimals) plus one. Specs this close to the cap get their stored size measured exactly. */
#define DEFAULTS_GROWTH_MAX 1024u
/* run_at: from the epoch to the last instant corral_time_format can print. */
#define CORRAL_RUN_AT_MIN_MS INT64_C(0)
#define CORRAL_RUN_AT_MAX_MS INT64_C(253402300799999)

/* ---- error reporting ---- */

struct ctx {
    const char *prefix; /* "tasks[3]." or "" */
    const char *key;    /* a map key or unknown field under the reported field; NULL when none */
    struct corral_error *err;
};

static int bad(const struct ctx *c, const char *field, const char *fmt, ...) CORRAL_PRINTF(3, 4);

/* Bytes of s to show when quoting at most max of them: never splits a UTF-8 sequence. */
static int quote_len(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0u) == 0x80u)
            n--;
    }
    return (int)n;
}

/* Report CORRAL_ESPEC at prefix+field, or prefix+field+"."+c->key when c->key is set; an empty
 * field names the whole spec (prefix without its trailing dot), or the top-level key. A key is
 * user input of any length (an unknown field) or up to CORRAL_KEY_MAX bytes (a map key): when
 * the full path does not fit err->field, the field names the enclosing object and the message
 * says which key, so a field is never cut silently. */
static int bad(const struct ctx *c, const char *field, const char *fmt, ...)
{
    char msg[sizeof(c->err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    /* The enclosing path: prefix + field, without a dangling dot. Fixed names and the prefix
     * ("tasks[999]." at most) always fit. */
    char path[sizeof(c->err->field)];
    int n = snprintf(path, sizeof(path), "%s%s", c->prefix, field);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        n = 0; /* cannot happen with the names used here: report the spec as a whole */
        path[0] = '\0';
    }
    if (field[0] == '\0' && n > 0 && path[n - 1] == '.')
        path[--n] = '\0';

    if (c->key) {
        const char *dot = path[0] ? "." : "";
        size_t klen = strlen(c->key);
        size_t at = (size_t)n + strlen(dot);
        if (at + klen < sizeof(path)) {
            memcpy(path + n, dot, strlen(dot));
            memcpy(path + at, c->key, klen + 1); /* fits: checked above, NUL included */
        } else {
            corral_error_set(c->err, CORRAL_ESPEC, path,
                             "%s: key \"%.*s...\" (%zu bytes, too long to name in full): %s",
                             path[0] ? path : "spec", quote_len(c->key, 32), c->key, klen, msg);
            return CORRAL_ESPEC;
        }
    }
    corral_error_set(c->err, CORRAL_ESPEC, path, "%s: %s", path[0] ? path : "spec", msg);
    return CORRAL_ESPEC; /* even when err already held an earlier error */
}

/* The same context, reporting under key (see bad()). */
static struct ctx with_key(const struct ctx *c, const char *key)
{
    struct ctx k = *c;
    k.key = key;
    return k;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            return "an object";
        case JSON_ARRAY:
            return "an array";
        case JSON_STRING:
            return "a string";
        case JSON_INTEGER:
            return "an integer";
        case JSON_REAL:
            return "a real number";
        case JSON_TRUE:
        case JSON_FALSE:
            return "a boolean";
        case JSON_NULL:
            break;
    }
    return "null";
}

/* ---- typed getters: absent and null both mean "use the default" ---- */

static bool absent(const json_t *v)
{
    return !v || json_is_null(v);
}

static int get_int(const struct ctx *c, const json_t *v, const char *field, json_int_t min,
                   json_int_t max, json_int_t *out)
{
    if (!json_is_integer(v))
        return bad(c, field, "must be an integer, got %s", type_name(v));
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return bad(c, field,
                   "must be %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT
                   ", got %" JSON_INTEGER_FORMAT,
                   min, max, x);
    *out = x;
    return CORRAL_OK;
}

/* A string of min..max bytes; embedded NUL bytes (possible in a json_t built in memory) are
 * refused because every consumer treats strings as C strings. */
static int get_str(const struct ctx *c, const json_t *v, const char *field, size_t min, size_t max,
                   const char **out)
{
    if (!json_is_string(v))
        return bad(c, field, "must be a string, got %s", type_name(v));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n)
        return bad(c, field, "must not contain NUL characters");
    if (n < min)
        return bad(c, field, min == 1 ? "must not be empty" : "must be at least %zu bytes", min);
    if (n > max)
        return bad(c, field, "must be at most %zu bytes, got %zu", max, n);
    *out = s;
    return CORRAL_OK;
}

/* Copy an optional string (absent/null -> NULL). */
static int opt_str(const struct ctx *c, const json_t *v, const char *field, size_t min, size_t max,
                   char **out)
{
    if (absent(v))
        return CORRAL_OK;
    const char *s = NULL; /* set by get_str on success only */
    int rc = get_str(c, v, field, min, max, &s);
    if (rc)
        return rc;
    *out = corral_xstrdup(s);
    return CORRAL_OK;
}

/* Reject any key of obj not in the NULL-terminated list allowed; where is the object's field
 * ("http", "resources", "" for the spec itself). */
static int only_keys(const struct ctx *c, const json_t *obj, const char *const *allowed,
                     const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            struct ctx kc = with_key(c, key);
            return bad(&kc, where, "unknown field");
        }
    }
    return CORRAL_OK;
}

/* ---- string maps (env, constraints, headers) ---- */

/* Returns NULL when key is acceptable, else why not. */
typedef const char *key_check_fn(const char *key, size_t len);

static const char *check_label_key(const char *key, size_t len)
{
    if (len < 1 || len > CORRAL_KEY_MAX)
        return "keys must be 1..128 bytes";
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '/' || ch == '-';
        if (!ok)
            return "keys may contain only A-Z a-z 0-9 . _ / -";
    }
    return NULL;
}

static const char *check_env_key(const char *key, size_t len)
{
    if (len < 1 || len > CORRAL_KEY_MAX)
        return "names must be 1..128 bytes";
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                  (i > 0 && ch >= '0' && ch <= '9');
        if (!ok)
            return "names must match [A-Za-z_][A-Za-z0-9_]*";
    }
    /* The worker sets CORRAL_TASK_ID & co.; a task must not be able to fake them. */
    if (strncmp(key, ENV_PREFIX_RESERVED, strlen(ENV_PREFIX_RESERVED)) == 0)
        return "names starting with CORRAL_ are reserved for the worker";
    return NULL;
}

/* HTTP header field names are RFC 9110 tokens. */
static const char *check_header_key(const char *key, size_t len)
{
    if (len < 1 || len > CORRAL_KEY_MAX)
        return "names must be 1..128 bytes";
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
        if (!ok)
            return "names must be HTTP tokens";
    }
    return NULL;
}

/* A header value with CR or LF would let a spec inject headers or a second request. */
static bool has_ctl_line_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static void kv_free(struct corral_kv *kv, size_t n)
{
    for (size_t i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static int get_map(const struct ctx *c, const json_t *v, const char *field, key_check_fn *check,
                   size_t max_value, bool no_line_breaks, struct corral_kv **out, size_t *n_out)
{
    if (absent(v))
        return CORRAL_OK;
    if (!json_is_object(v))
        return bad(c, field, "must be an object of strings, got %s", type_name(v));
    size_t n = json_object_size(v);
    if (n > CORRAL_MAP_MAX_ENTRIES)
        return bad(c, field, "must have at most %u entries, got %zu", CORRAL_MAP_MAX_ENTRIES, n);
    struct corral_kv *kv = corral_xcalloc(n, sizeof(*kv));
    size_t i = 0;
    const char *key;
    json_t *val;
    int rc = CORRAL_OK;
    json_object_foreach((json_t *)(uintptr_t)v, key, val)
    {
        const char *why = check(key, strlen(key));
        if (why) {
            rc = bad(c, field, "%s (\"%.*s\")", why, quote_len(key, 40), key);
            break;
        }
        /* Errors about the value name field.key (or say the key is too long to name). */
        struct ctx kc = with_key(c, key);
        const char *s = NULL; /* set by get_str on success only */
        if ((rc = get_str(&kc, val, field, 0, max_value, &s)))
            break;
        if (no_line_breaks && has_ctl_line_break(s)) {
            rc = bad(&kc, field, "must not contain CR or LF");
            break;
        }
        kv[i].key = corral_xstrdup(key);
        kv[i].value = corral_xstrdup(s);
        i++;
    }
    if (rc) {
        kv_free(kv, i);
        return rc;
    }
    *out = kv;
    *n_out = n;
    return CORRAL_OK;
}

/* ---- command ---- */

static int parse_command(const struct ctx *c, const json_t *cmd, bool shell, struct corral_spec *s)
{
    if (shell) {
        if (json_is_array(cmd))
            return bad(c, "command", "must be a single string when shell is true, got an array");
        const char *line = NULL;
        int rc = get_str(c, cmd, "command", 1, CORRAL_SPEC_MAX_BYTES, &line);
        if (rc)
            return rc;
        s->argv = corral_xcalloc(1, sizeof(char *));
        s->argv[0] = corral_xstrdup(line);
        s->argc = 1;
        return CORRAL_OK;
    }
    if (json_is_string(cmd))
        return bad(c, "command", "must be an array of strings (a single string needs shell: true)");
    if (!json_is_array(cmd))
        return bad(c, "command", "must be a non-empty array of strings, got %s", type_name(cmd));
    size_t n = json_array_size(cmd);
    if (n == 0)
        return bad(c, "command", "must not be empty");
    if (n > CORRAL_SPEC_MAX_ARGS)
        return bad(c, "command", "must have at most %u arguments, got %zu", CORRAL_SPEC_MAX_ARGS,
                   n);
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof(field), "command[%zu]", i);
        const char *arg = NULL;
        /* The program name must not be empty: execvp("") is always ENOENT. */
        int rc =
            get_str(c, json_array_get(cmd, i), field, i == 0 ? 1 : 0, CORRAL_SPEC_MAX_BYTES, &arg);
        if (rc)
            return rc;
    }
    s->argv = corral_xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        s->argv[i] = corral_xstrdup(json_string_value(json_array_get(cmd, i)));
    s->argc = n;
    return CORRAL_OK;
}

/* ---- http ---- */

static const char *const http_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};

static int parse_url(const struct ctx *c, const json_t *v, struct corral_http_spec *h)
{
    if (absent(v))
        return bad(c, "http.url", "is required");
    const char *url = NULL;
    int rc = get_str(c, v, "http.url", 1, CORRAL_URL_MAX, &url);
    if (rc)
        return rc;
    size_t scheme = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!scheme)
        return bad(c, "http.url", "must start with http:// or https://");
    if (url[scheme] == '\0')
        return bad(c, "http.url", "has no host");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p == 0x7F)
            return bad(c, "http.url", "must not contain spaces or control characters");
    }
    h->url = corral_xstrdup(url);
    return CORRAL_OK;
}

static int parse_method(const struct ctx *c, const json_t *v, struct corral_http_spec *h)
{
    if (absent(v)) {
        h->method = corral_xstrdup("GET");
        return CORRAL_OK;
    }
    const char *m = NULL;
    int rc = get_str(c, v, "http.method", 1, 16, &m);
    if (rc)
        return rc;
    for (size_t i = 0; http_methods[i]; i++) {
        if (strcmp(m, http_methods[i]) == 0) {
            h->method = corral_xstrdup(m);
            return CORRAL_OK;
        }
    }
    return bad(c, "http.method", "must be one of GET POST PUT PATCH DELETE HEAD, got \"%.16s\"", m);
}

static int parse_expect(const struct ctx *c, const json_t *v, struct corral_http_spec *h)
{
    if (absent(v)) {
        h->expect_status = corral_xcalloc(1, sizeof(int));
        h->expect_status[0] = 200;
        h->n_expect = 1;
        return CORRAL_OK;
    }
    if (!json_is_array(v))
        return bad(c, "http.expect_status", "must be an array of integers, got %s", type_name(v));
    size_t n = json_array_size(v);
    if (n == 0 || n > EXPECT_STATUS_MAX)
        return bad(c, "http.expect_status", "must have 1..%u entries, got %zu", EXPECT_STATUS_MAX,
                   n);
    int *codes = corral_xcalloc(n, sizeof(int));
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof(field), "http.expect_status[%zu]", i);
        json_int_t code;
        int rc = get_int(c, json_array_get(v, i), field, 100, 599, &code);
        if (rc) {
            free(codes);
            return rc;
        }
        codes[i] = (int)code;
    }
    h->expect_status = codes;
    h->n_expect = n;
    return CORRAL_OK;
}

static void http_cleanup(struct corral_http_spec *h)
{
    free(h->method);
    free(h->url);
    kv_free(h->headers, h->n_headers);
    kv_free(h->secret_headers, h->n_secret_headers);
    free(h->body);
    free(h->expect_status);
    memset(h, 0, sizeof(*h));
}

/* A name given both in a map and in its secret twin is refused: which value wins would be a
 * guess (header names compare without case). */
static int no_overlap(const struct ctx *c, const struct corral_kv *a, size_t na,
                      const struct corral_kv *b, size_t nb, const char *field, bool nocase)
{
    for (size_t i = 0; i < nb; i++)
        for (size_t k = 0; k < na; k++)
            if ((nocase ? strcasecmp(a[k].key, b[i].key) : strcmp(a[k].key, b[i].key)) == 0)
                return bad(c, field, "names %.64s, which is also given in the plain map", b[i].key);
    return CORRAL_OK;
}

static int parse_http(const struct ctx *c, const json_t *v, struct corral_spec *s)
{
    static const char *const keys[] = {"method", "url",           "headers", "secret_headers",
                                       "body",   "expect_status", NULL};
    if (!json_is_object(v))
        return bad(c, "http", "must be an object, got %s", type_name(v));
    struct corral_http_spec *h = &s->http;
    int rc;
    s->has_http = true;
    if ((rc = only_keys(c, v, keys, "http")) ||
        (rc = parse_method(c, json_object_get(v, "method"), h)) ||
        (rc = parse_url(c, json_object_get(v, "url"), h)) ||
        (rc = get_map(c, json_object_get(v, "headers"), "http.headers", check_header_key,
                      HEADER_VALUE_MAX, true, &h->headers, &h->n_headers)) ||
        (rc = get_map(c, json_object_get(v, "secret_headers"), "http.secret_headers",
                      check_header_key, HEADER_VALUE_MAX, true, &h->secret_headers,
                      &h->n_secret_headers)) ||
        (rc = no_overlap(c, h->headers, h->n_headers, h->secret_headers, h->n_secret_headers,
                         "http.secret_headers", true)) ||
        (rc = opt_str(c, json_object_get(v, "body"), "http.body", 0, CORRAL_SPEC_MAX_BYTES,
                      &h->body)) ||
        (rc = parse_expect(c, json_object_get(v, "expect_status"), h)))
        return rc;
    return CORRAL_OK;
}

/* ---- resources ---- */

/* cpu is a number of cores with at most 3 decimals; kept as thousandths so resource arithmetic
 * in the scheduler is exact. */
static int parse_cpu(const struct ctx *c, const json_t *v, uint32_t *cpu_milli)
{
    if (absent(v))
        return CORRAL_OK;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0 || x > (json_int_t)(CORRAL_CPU_MAX_MILLI / 1000))
            return bad(c, "resources.cpu", "must be 0..%u, got %" JSON_INTEGER_FORMAT,
                       CORRAL_CPU_MAX_MILLI / 1000, x);
        *cpu_milli = (uint32_t)x * 1000u;
        return CORRAL_OK;
    }
    if (!json_is_real(v))
        return bad(c, "resources.cpu", "must be a number, got %s", type_name(v));
    double x = json_real_value(v);
    if (!(x >= 0.0 && x <= (double)(CORRAL_CPU_MAX_MILLI / 1000)))
        return bad(c, "resources.cpu", "must be 0..%u, got %.10g", CORRAL_CPU_MAX_MILLI / 1000, x);
    double milli = x * 1000.0;
    uint32_t rounded = (uint32_t)(milli + 0.5);
    /* 0.1 * 1000 is 100.00000000000001: allow binary rounding noise, not a 4th decimal. */
    double diff = milli - (double)rounded;
    if (diff > 1e-6 || diff < -1e-6)
        return bad(c, "resources.cpu", "must have at most 3 decimals, got %.10g", x);
    *cpu_milli = rounded;
    return CORRAL_OK;
}

static int parse_resources(const struct ctx *c, const json_t *v, struct corral_spec *s)
{
    static const char *const keys[] = {"cpu", "mem_mb", NULL};
    if (absent(v))
        return CORRAL_OK;
    if (!json_is_object(v))
        return bad(c, "resources", "must be an object, got %s", type_name(v));
    int rc = only_keys(c, v, keys, "resources");
    if (rc || (rc = parse_cpu(c, json_object_get(v, "cpu"), &s->cpu_milli)))
        return rc;
    const json_t *mem = json_object_get(v, "mem_mb");
    if (!absent(mem)) {
        json_int_t x;
        if ((rc = get_int(c, mem, "resources.mem_mb", 0, CORRAL_MEM_MAX_MB, &x)))
            return rc;
        s->mem_mb = (uint64_t)x;
    }
    return CORRAL_OK;
}

/* ---- the spec ---- */

static const char *const spec_keys[] = {"command",
                                        "shell",
                                        "http",
                                        "name",
                                        "priority",
                                        "timeout_s",
                                        "max_attempts",
                                        "retry_backoff_s",
                                        "resources",
                                        "constraints",
                                        "estimated_ms",
                                        "env",
                                        "secret_env",
                                        "idempotency_key",
                                        "run_at",
                                        "delay_s",
                                        "depends_on",
                                        "on_dependency_failure",
                                        NULL};

/* Integer field with a default when absent or null. */
static int opt_int(const struct ctx *c, const json_t *obj, const char *key, json_int_t min,
                   json_int_t max, json_int_t def, json_int_t *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = def;
    return absent(v) ? CORRAL_OK : get_int(c, v, key, min, max, out);
}

/* "run_at" (RFC 3339 with an offset) or "delay_s" (seconds, fractions to the millisecond), not
 * both. A run_at in the past is accepted: the task is queued at once. */
static int parse_start(const struct ctx *c, const json_t *obj, struct corral_spec *s)
{
    const json_t *at = json_object_get(obj, "run_at"), *delay = json_object_get(obj, "delay_s");
    if (!absent(at) && !absent(delay))
        return bad(c, "delay_s", "run_at and delay_s are mutually exclusive");
    if (!absent(at)) {
        if (!json_is_string(at))
            return bad(c, "run_at", "must be an RFC 3339 time string, got %s", type_name(at));
        int64_t ms;
        if (corral_time_parse_rfc3339(json_string_value(at), &ms) != CORRAL_OK ||
            ms < CORRAL_RUN_AT_MIN_MS || ms > CORRAL_RUN_AT_MAX_MS)
            return bad(c, "run_at",
                       "must be an RFC 3339 time with an offset between 1970 and 9999, like "
                       "2026-12-06T21:30:00+01:00 or 2026-12-06T20:30:00Z, got \"%.40s\"",
                       json_string_value(at));
        s->has_run_at = true;
        s->run_at_ms = ms;
    }
    if (!absent(delay)) {
        if (!json_is_number(delay))
            return bad(c, "delay_s", "must be a number of seconds, got %s", type_name(delay));
        double x = json_number_value(delay);
        if (!(x >= 0.0 && x <= (double)CORRAL_DELAY_MAX_S))
            return bad(c, "delay_s", "must be 0..%u seconds, got %.10g", CORRAL_DELAY_MAX_S, x);
        s->has_delay = true;
        s->delay_ms = (uint64_t)(x * 1000.0 + 0.5);
    }
    return CORRAL_OK;
}

bool corral_spec_batch_ref(const char *s, size_t *index)
{
    if (!s || s[0] != '#' || s[1] < '0' || s[1] > '9' || (s[1] == '0' && s[2] != '\0'))
        return false;
    size_t v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (*p < '0' || *p > '9' || p - s > 4)
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v >= CORRAL_BATCH_MAX)
        return false;
    if (index)
        *index = v;
    return true;
}

/* "depends_on" (task ids or "#N") and "on_dependency_failure" ("cancel" | "run"). */
static int parse_depends(const struct ctx *c, const json_t *obj, struct corral_spec *s)
{
    const json_t *f = json_object_get(obj, "on_dependency_failure");
    if (!absent(f)) {
        if (!json_is_string(f) || (strcmp(json_string_value(f), "cancel") != 0 &&
                                   strcmp(json_string_value(f), "run") != 0))
            return bad(c, "on_dependency_failure", "must be \"cancel\" or \"run\"");
        s->dependency_failure_run = strcmp(json_string_value(f), "run") == 0;
    }
    const json_t *v = json_object_get(obj, "depends_on");
    if (absent(v))
        return CORRAL_OK;
    if (!json_is_array(v))
        return bad(c, "depends_on", "must be an array of task ids, got %s", type_name(v));
    size_t n = json_array_size(v);
    if (n > CORRAL_DEPENDS_MAX)
        return bad(c, "depends_on", "must have at most %u entries, got %zu", CORRAL_DEPENDS_MAX, n);
    if (n > 0 && (s->has_run_at || s->has_delay))
        return bad(c, "depends_on", "cannot be combined with run_at or delay_s");
    s->depends_on = corral_xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "depends_on[%zu]", i);
        const json_t *e = json_array_get(v, i);
        if (!e)
            return bad(c, field, "is missing");
        if (!json_is_string(e))
            return bad(c, field, "must be a task id string, got %s", type_name(e));
        const char *id = json_string_value(e);
        if (!corral_id_is_valid(id) && !corral_spec_batch_ref(id, NULL))
            return bad(c, field, "must be a task id or \"#N\" (an earlier entry of the batch)");
        for (size_t j = 0; j < s->n_depends_on; j++)
            if (strcmp(s->depends_on[j], id) == 0)
                return bad(c, field, "repeats depends_on[%zu]", j);
        s->depends_on[s->n_depends_on++] = corral_xstrdup(id);
    }
    return CORRAL_OK;
}

static int parse_body(const struct ctx *c, const json_t *obj, struct corral_spec *s)
{
    int rc = only_keys(c, obj, spec_keys, "");
    if (rc)
        return rc;
    const json_t *shell = json_object_get(obj, "shell");
    if (!absent(shell) && !json_is_boolean(shell))
        return bad(c, "shell", "must be a boolean, got %s", type_name(shell));
    s->shell = json_is_true(shell);

    const json_t *cmd = json_object_get(obj, "command"), *http = json_object_get(obj, "http");
    if (absent(cmd) == absent(http))
        return bad(c, "command",
                   absent(cmd) ? "one of command and http is required"
                               : "command and http are mutually exclusive");
    if (!absent(http) && s->shell)
        return bad(c, "shell", "must be false for an http task");
    if ((rc = absent(cmd) ? parse_http(c, http, s) : parse_command(c, cmd, s->shell, s)))
        return rc;

    if ((rc = opt_str(c, json_object_get(obj, "name"), "name", 0, CORRAL_NAME_MAX, &s->name)))
        return rc;
    json_int_t x;
    if ((rc = opt_int(c, obj, "priority", CORRAL_PRIORITY_MIN, CORRAL_PRIORITY_MAX, 0, &x)))
        return rc;
    s->priority = (int)x;
    if ((rc = opt_int(c, obj, "timeout_s", 1, CORRAL_TIMEOUT_MAX_S, DEFAULT_TIMEOUT_S, &x)))
        return rc;
    s->timeout_s = (uint32_t)x;
    if ((rc =
             opt_int(c, obj, "max_attempts", 1, CORRAL_MAX_ATTEMPTS_MAX, DEFAULT_MAX_ATTEMPTS, &x)))
        return rc;
    s->max_attempts = (uint32_t)x;
    if ((rc = opt_int(c, obj, "retry_backoff_s", 0, CORRAL_RETRY_BACKOFF_MAX_S,
                      DEFAULT_RETRY_BACKOFF_S, &x)))
        return rc;
    s->retry_backoff_s = (uint32_t)x;
    if ((rc = parse_resources(c, json_object_get(obj, "resources"), s)))
        return rc;
    if ((rc = get_map(c, json_object_get(obj, "constraints"), "constraints", check_label_key,
                      CORRAL_NAME_MAX, false, &s->constraints, &s->n_constraints)))
        return rc;
    const json_t *est = json_object_get(obj, "estimated_ms");
    if (!absent(est)) {
        if (json_is_integer(est) && json_integer_value(est) < 0)
            return bad(c, "estimated_ms",
                       "must be a non-negative integer, got %" JSON_INTEGER_FORMAT,
                       json_integer_value(est));
        if ((rc = get_int(c, est, "estimated_ms", 0, INT64_MAX, &x)))
            return rc;
        s->has_estimated = true;
        s->estimated_ms = (uint64_t)x;
    }
    if ((rc = get_map(c, json_object_get(obj, "env"), "env", check_env_key, CORRAL_SPEC_MAX_BYTES,
                      false, &s->env, &s->n_env)))
        return rc;
    if ((rc = get_map(c, json_object_get(obj, "secret_env"), "secret_env", check_env_key,
                      CORRAL_SPEC_MAX_BYTES, false, &s->secret_env, &s->n_secret_env)) ||
        (rc = no_overlap(c, s->env, s->n_env, s->secret_env, s->n_secret_env, "secret_env", false)))
        return rc;
    if ((rc = opt_str(c, json_object_get(obj, "idempotency_key"), "idempotency_key", 1,
                      CORRAL_IDEM_KEY_MAX, &s->idempotency_key)))
        return rc;
    if ((rc = parse_start(c, obj, s)))
        return rc;
    return parse_depends(c, obj, s);
}

int corral_spec_from_json(const json_t *obj, const char *prefix, struct corral_spec *out,
                          struct corral_error *err)
{
    struct ctx c = {.prefix = prefix ? prefix : "", .err = err};
    struct corral_spec s = {.timeout_s = DEFAULT_TIMEOUT_S,
                            .max_attempts = DEFAULT_MAX_ATTEMPTS,
                            .retry_backoff_s = DEFAULT_RETRY_BACKOFF_S,
                            .cpu_milli = DEFAULT_CPU_MILLI};
    if (!obj || !json_is_object(obj))
        return bad(&c, "", "must be a JSON object, got %s", obj ? type_name(obj) : "nothing");
    /* The cap is on the compact form so that whitespace neither helps nor hurts. */
    size_t size = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (size > CORRAL_SPEC_MAX_BYTES)
        return bad(&c, "", "is %zu bytes, at most %u are allowed", size, CORRAL_SPEC_MAX_BYTES);
    int rc = parse_body(&c, obj, &s);
    if (rc == CORRAL_OK && size > CORRAL_SPEC_MAX_BYTES - DEFAULTS_GROWTH_MAX) {
        /* The task stores the spec with its defaults: that must pass this cap too, or the task
         * could not be read back. Only specs near the cap can grow past it. */
        json_t *stored = corral_spec_to_json(&s);
        size_t stored_size = json_dumpb(stored, NULL, 0, CORRAL_JSON_DUMP_FLAGS);
        json_decref(stored);
        if (stored_size > CORRAL_SPEC_MAX_BYTES)
            rc = bad(&c, "", "is %zu bytes with its defaults filled in, at most %u are allowed",
                     stored_size, CORRAL_SPEC_MAX_BYTES);
    }
    if (rc) {
        corral_spec_cleanup(&s);
        return rc;
    }
    *out = s;
    return CORRAL_OK;
}

int corral_spec_parse(const char *buf, size_t len, struct corral_spec *out,
                      struct corral_error *err)
{
    struct ctx c = {.prefix = "", .err = err};
    /* Refuse to even parse text no spec could fit in after compaction; the precise 64 KiB
     * check is done on the compact form by corral_spec_from_json. */
    if (len > CORRAL_BODY_MAX_BYTES)
        return bad(&c, "", "is %zu bytes, at most %u are allowed", len, CORRAL_SPEC_MAX_BYTES);
    json_error_t jerr;
    json_t *obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return bad(&c, "", "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                   jerr.text);
    int rc = corral_spec_from_json(obj, NULL, out, err);
    json_decref(obj);
    return rc;
}

/* ---- rendering ---- */

static json_t *map_to_json(const struct corral_kv *kv, size_t n)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(obj, kv[i].key, corral_json_str(kv[i].value));
    return obj;
}

static json_t *http_to_json(const struct corral_http_spec *h)
{
    json_t *codes = json_array();
    for (size_t i = 0; i < h->n_expect; i++)
        json_array_append_new(codes, json_integer(h->expect_status[i]));
    json_t *obj = json_object();
    json_object_set_new(obj, "method", corral_json_str(h->method ? h->method : "GET"));
    json_object_set_new(obj, "url", corral_json_str(h->url));
    json_object_set_new(obj, "headers", map_to_json(h->headers, h->n_headers));
    if (h->n_secret_headers > 0) /* only when given: plain specs stay as they were */
        json_object_set_new(obj, "secret_headers",
                            map_to_json(h->secret_headers, h->n_secret_headers));
    json_object_set_new(obj, "body", corral_json_str(h->body));
    json_object_set_new(obj, "expect_status", codes);
    return obj;
}

static json_t *command_to_json(const struct corral_spec *s)
{
    if (s->argc == 0)
        return json_null();
    if (s->shell)
        return corral_json_str(s->argv[0]);
    json_t *arr = json_array();
    for (size_t i = 0; i < s->argc; i++)
        json_array_append_new(arr, corral_json_str(s->argv[i]));
    return arr;
}

/* Whole cores render as integers (1), fractions as reals (0.5). */
json_t *corral_cpu_to_json(uint32_t cpu_milli)
{
    if (cpu_milli % 1000 == 0)
        return json_integer(cpu_milli / 1000);
    return json_real((double)cpu_milli / 1000.0);
}

json_t *corral_spec_to_json(const struct corral_spec *s)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "command", command_to_json(s));
    json_object_set_new(obj, "shell", json_boolean(s->shell));
    json_object_set_new(obj, "http", s->has_http ? http_to_json(&s->http) : json_null());
    json_object_set_new(obj, "name", corral_json_str(s->name));
    json_object_set_new(obj, "priority", json_integer(s->priority));
    json_object_set_new(obj, "timeout_s", json_integer(s->timeout_s));
    json_object_set_new(obj, "max_attempts", json_integer(s->max_attempts));
    json_object_set_new(obj, "retry_backoff_s", json_integer(s->retry_backoff_s));
    json_t *res = json_object();
    json_object_set_new(res, "cpu", corral_cpu_to_json(s->cpu_milli));
    json_object_set_new(res, "mem_mb", json_integer((json_int_t)s->mem_mb));
    json_object_set_new(obj, "resources", res);
    json_object_set_new(obj, "constraints", map_to_json(s->constraints, s->n_constraints));
    json_object_set_new(obj, "estimated_ms",
                        s->has_estimated ? json_integer((json_int_t)s->estimated_ms) : json_null());
    json_object_set_new(obj, "env", map_to_json(s->env, s->n_env));
    if (s->n_secret_env > 0) /* only when given: plain specs stay as they were */
        json_object_set_new(obj, "secret_env", map_to_json(s->secret_env, s->n_secret_env));
    json_object_set_new(obj, "idempotency_key", corral_json_str(s->idempotency_key));
    /* Only when given: plain specs stay as they were. */
    if (s->has_run_at) {
        char at[25];
        corral_time_format(s->run_at_ms, at);
        json_object_set_new(obj, "run_at", json_string(at));
    }
    if (s->n_depends_on > 0) {
        json_t *deps = json_array();
        for (size_t i = 0; i < s->n_depends_on; i++)
            json_array_append_new(deps, json_string(s->depends_on[i]));
        json_object_set_new(obj, "depends_on", deps);
        json_object_set_new(obj, "on_dependency_failure",
                            json_string(s->dependency_failure_run ? "run" : "cancel"));
    }
    if (s->has_delay)
        json_object_set_new(obj, "delay_s",
                            s->delay_ms % 1000 == 0 ? json_integer((json_int_t)(s->delay_ms / 1000))
                                                    : json_real((double)s->delay_ms / 1000.0));
    return obj;
}

static void null_values(json_t *map)
{
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v)
    {
        (void)v;
        json_object_set_new(map, key, json_null());
    }
}

void corral_spec_redact_json(json_t *spec_obj)
{
    json_t *m = json_object_get(spec_obj, "secret_env");
    if (json_is_object(m))
        null_values(m);
    json_t *http = json_object_get(spec_obj, "http");
    m = json_is_object(http) ? json_object_get(http, "secret_headers") : NULL;
    if (json_is_object(m))
        null_values(m);
}

bool corral_spec_equal(const struct corral_spec *a, const struct corral_spec *b)
{
    json_t *ja = corral_spec_to_json(a), *jb = corral_spec_to_json(b);
    bool eq = json_equal(ja, jb) != 0;
    json_decref(ja);
    json_decref(jb);
    return eq;
}

/* ---- copy / cleanup ---- */

static struct corral_kv *kv_copy(const struct corral_kv *kv, size_t n)
{
    if (!kv)
        return NULL;
    struct corral_kv *out = corral_xcalloc(n, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        out[i].key = corral_xstrdup(kv[i].key);
        out[i].value = corral_xstrdup(kv[i].value);
    }
    return out;
}

void corral_spec_copy(struct corral_spec *dst, const struct corral_spec *src)
{
    *dst = *src;
    if (src->argv) {
        dst->argv = corral_xcalloc(src->argc, sizeof(char *));
        for (size_t i = 0; i < src->argc; i++)
            dst->argv[i] = corral_xstrdup(src->argv[i]);
    }
    dst->http.method = corral_xstrdup(src->http.method);
    dst->http.url = corral_xstrdup(src->http.url);
    dst->http.headers = kv_copy(src->http.headers, src->http.n_headers);
    dst->http.secret_headers = kv_copy(src->http.secret_headers, src->http.n_secret_headers);
    dst->http.body = corral_xstrdup(src->http.body);
    if (src->http.expect_status) {
        dst->http.expect_status = corral_xcalloc(src->http.n_expect, sizeof(int));
        memcpy(dst->http.expect_status, src->http.expect_status, src->http.n_expect * sizeof(int));
    }
    dst->name = corral_xstrdup(src->name);
    dst->constraints = kv_copy(src->constraints, src->n_constraints);
    dst->env = kv_copy(src->env, src->n_env);
    dst->secret_env = kv_copy(src->secret_env, src->n_secret_env);
    dst->idempotency_key = corral_xstrdup(src->idempotency_key);
    if (src->depends_on) {
        dst->depends_on = corral_xcalloc(src->n_depends_on ? src->n_depends_on : 1, sizeof(char *));
        for (size_t i = 0; i < src->n_depends_on; i++)
            dst->depends_on[i] = corral_xstrdup(src->depends_on[i]);
    }
}

void corral_spec_cleanup(struct corral_spec *spec)
{
    if (!spec)
        return;
    for (size_t i = 0; spec->argv && i < spec->argc; i++)
        free(spec->argv[i]);
    free(spec->argv);
    http_cleanup(&spec->http);
    free(spec->name);
    kv_free(spec->constraints, spec->n_constraints);
    kv_free(spec->env, spec->n_env);
    kv_free(spec->secret_env, spec->n_secret_env);
    free(spec->idempotency_key);
    for (size_t i = 0; spec->depends_on && i < spec->n_depends_on; i++)
        free(spec->depends_on[i]);
    free(spec->depends_on);
    memset(spec, 0, sizeof(*spec));
}

const char *corral_kv_get(const struct corral_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; kv && i < n; i++) {
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    }
    return NULL;
}
