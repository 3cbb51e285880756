/* SPDX-License-Identifier: MIT */
/*
 * REST access decisions: token file roles, the endpoint table, cross-site checks (access.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "corral/access.h"
#include "corral/id.h"
#include "corral/paths.h"

const char *corral_role_name(enum corral_role role)
{
    switch (role) {
        case CORRAL_ROLE_READ:
            return "read";
        case CORRAL_ROLE_SUBMIT:
            return "submit";
        case CORRAL_ROLE_ADMIN:
            return "admin";
        case CORRAL_ROLE_NONE:
            break;
    }
    return "none";
}

/* ------------------------------------------------------------------ token file */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A token byte: printable ASCII, no space. */
static bool is_token_byte(char c)
{
    return c > ' ' && c < 0x7f;
}

static bool role_parse(const char *s, size_t n, enum corral_role *out)
{
    static const struct {
        const char *name;
        enum corral_role role;
    } roles[] = {
        {"read", CORRAL_ROLE_READ},
        {"submit", CORRAL_ROLE_SUBMIT},
        {"admin", CORRAL_ROLE_ADMIN},
    };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strlen(roles[i].name) == n && memcmp(roles[i].name, s, n) == 0) {
            *out = roles[i].role;
            return true;
        }
    return false;
}

/* One line (without its newline): add its token to out, or set err. */
static int token_line(const char *s, size_t n, unsigned lineno, struct corral_tokens *out,
                      struct corral_error *err)
{
    if (n && s[n - 1] == '\r')
        n--;
    size_t i = 0;
    while (i < n && is_blank(s[i]))
        i++;
    if (i == n || s[i] == '#')
        return CORRAL_OK;
    /* Up to two fields. */
    const char *f[3] = {NULL, NULL, NULL};
    size_t fl[3] = {0, 0, 0}, nf = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && !is_blank(s[i]))
            i++;
        if (nf < 3) {
            f[nf] = s + start;
            fl[nf] = i - start;
        }
        nf++;
        while (i < n && is_blank(s[i]))
            i++;
    }
    if (nf > 2)
        return corral_error_set(err, CORRAL_EUSAGE, "--token-file",
                                "line %u: expected ROLE TOKEN or TOKEN", lineno);
    enum corral_role role = CORRAL_ROLE_ADMIN;
    const char *tok = f[0];
    size_t tl = fl[0];
    if (nf == 2) {
        if (!role_parse(f[0], fl[0], &role))
            return corral_error_set(err, CORRAL_EUSAGE, "--token-file",
                                    "line %u: unknown role (read, submit or admin)", lineno);
        tok = f[1];
        tl = fl[1];
    }
    if (tl < CORRAL_TOKEN_MIN_LEN || tl > CORRAL_TOKEN_MAX)
        return corral_error_set(err, CORRAL_EUSAGE, "--token-file",
                                "line %u: a token has %u to %u characters", lineno,
                                (unsigned)CORRAL_TOKEN_MIN_LEN, (unsigned)CORRAL_TOKEN_MAX);
    for (size_t k = 0; k < tl; k++)
        if (!is_token_byte(tok[k]))
            return corral_error_set(err, CORRAL_EUSAGE, "--token-file",
                                    "line %u: a token is printable ASCII without spaces", lineno);
    for (size_t k = 0; k < out->n; k++)
        if (out->v[k].len == tl && memcmp(out->v[k].token, tok, tl) == 0)
            return corral_error_set(err, CORRAL_EUSAGE, "--token-file",
                                    "line %u: the same token is given twice", lineno);
    if (out->n == CORRAL_TOKENS_MAX)
        return corral_error_set(err, CORRAL_EUSAGE, "--token-file", "more than %u tokens",
                                (unsigned)CORRAL_TOKENS_MAX);
    struct corral_token *t = &out->v[out->n++];
    t->role = role;
    t->len = tl;
    memcpy(t->token, tok, tl);
    t->token[tl] = '\0';
    return CORRAL_OK;
}

int corral_tokens_parse(const char *text, size_t len, struct corral_tokens *out,
                        struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    if (memchr(text, '\0', len))
        return corral_error_set(err, CORRAL_EUSAGE, "--token-file", "the file holds a NUL byte");
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        int rc = token_line(text + pos, end - pos, lineno, out, err);
        if (rc != CORRAL_OK) {
            memset(out, 0, sizeof *out);
            return rc;
        }
        pos = end + 1;
    }
    if (out->n == 0)
        return corral_error_set(err, CORRAL_EUSAGE, "--token-file", "the file holds no token");
    return CORRAL_OK;
}

enum corral_role corral_tokens_role(const struct corral_tokens *t, const char *authorization)
{
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
        return CORRAL_ROLE_NONE;
    const char *given = authorization + 7;
    size_t lg = strnlen(given, CORRAL_TOKEN_MAX + 1);
    enum corral_role found = CORRAL_ROLE_NONE;
    /* Every token is compared over its whole length, whatever matched before. */
    for (size_t k = 0; k < t->n; k++) {
        const struct corral_token *tok = &t->v[k];
        unsigned diff = (unsigned)(lg != tok->len);
        for (size_t i = 0; i < tok->len; i++)
            diff |= (unsigned)(tok->token[i] ^ (i < lg ? given[i] : 0));
        /* Branch-free select: mask is all ones when diff == 0. */
        unsigned mask = (unsigned)0 - (unsigned)(diff == 0);
        found = (enum corral_role)(((unsigned)found & ~mask) | ((unsigned)tok->role & mask));
    }
    return found;
}

/* ------------------------------------------------------------------ endpoints */

/* One endpoint and method. A path segment "{id}" takes one task id, "{name}" one schedule
 * name. */
struct route_row {
    const char *method; /* "GET" (also HEAD), "POST" or "DELETE" */
    const char *path;
    enum corral_endpoint ep;
    bool open;
    enum corral_role need;
};

static const struct route_row ROUTES[] = {
    {"GET", "/healthz", CORRAL_EP_HEALTHZ, true, CORRAL_ROLE_NONE},
    {"GET", "/readyz", CORRAL_EP_READYZ, true, CORRAL_ROLE_NONE},
    /* The dashboard: static files, no data (CONTRACT: they need no token; the API calls the
     * page makes do). */
    {"GET", "/", CORRAL_EP_UI, true, CORRAL_ROLE_NONE},
    {"GET", "/ui/app.js", CORRAL_EP_UI, true, CORRAL_ROLE_NONE},
    {"GET", "/ui/app.css", CORRAL_EP_UI, true, CORRAL_ROLE_NONE},
    {"GET", "/ui/icon.svg", CORRAL_EP_UI, true, CORRAL_ROLE_NONE},
    {"GET", "/metrics", CORRAL_EP_METRICS, false, CORRAL_ROLE_READ},
    {"GET", "/v1/tasks", CORRAL_EP_TASKS, false, CORRAL_ROLE_READ},
    {"POST", "/v1/tasks", CORRAL_EP_TASKS, false, CORRAL_ROLE_SUBMIT},
    {"POST", "/v1/tasks/batch", CORRAL_EP_TASKS_BATCH, false, CORRAL_ROLE_SUBMIT},
    {"GET", "/v1/tasks/{id}", CORRAL_EP_TASK, false, CORRAL_ROLE_READ},
    {"POST", "/v1/tasks/{id}/cancel", CORRAL_EP_TASK_CANCEL, false, CORRAL_ROLE_SUBMIT},
    {"GET", "/v1/tasks/{id}/output", CORRAL_EP_TASK_OUTPUT, false, CORRAL_ROLE_READ},
    {"GET", "/v1/workers", CORRAL_EP_WORKERS, false, CORRAL_ROLE_READ},
    {"POST", "/v1/workers/{worker}/cordon", CORRAL_EP_WORKER_CORDON, false, CORRAL_ROLE_ADMIN},
    {"POST", "/v1/workers/{worker}/uncordon", CORRAL_EP_WORKER_UNCORDON, false, CORRAL_ROLE_ADMIN},
    {"POST", "/v1/workers/{worker}/drain", CORRAL_EP_WORKER_DRAIN, false, CORRAL_ROLE_ADMIN},
    {"GET", "/v1/leader", CORRAL_EP_LEADER, false, CORRAL_ROLE_READ},
    {"GET", "/v1/events", CORRAL_EP_EVENTS, false, CORRAL_ROLE_READ},
    {"GET", "/v1/schedules", CORRAL_EP_SCHEDULES, false, CORRAL_ROLE_READ},
    {"POST", "/v1/schedules", CORRAL_EP_SCHEDULES, false, CORRAL_ROLE_ADMIN},
    {"GET", "/v1/schedules/{name}", CORRAL_EP_SCHEDULE, false, CORRAL_ROLE_READ},
    {"DELETE", "/v1/schedules/{name}", CORRAL_EP_SCHEDULE, false, CORRAL_ROLE_ADMIN},
    {"POST", "/v1/schedules/{name}/pause", CORRAL_EP_SCHEDULE_PAUSE, false, CORRAL_ROLE_ADMIN},
    {"POST", "/v1/schedules/{name}/resume", CORRAL_EP_SCHEDULE_RESUME, false, CORRAL_ROLE_ADMIN},
    {"POST", "/v1/schedules/{name}/trigger", CORRAL_EP_SCHEDULE_TRIGGER, false, CORRAL_ROLE_SUBMIT},
    {"GET", "/v1/schedules/{name}/fires", CORRAL_EP_SCHEDULE_FIRES, false, CORRAL_ROLE_READ},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

bool corral_schedule_name_is_valid(const char *s)
{
    if (!s || s[0] == '\0' || s[0] == '.')
        return false;
    size_t n = strlen(s);
    if (n > CORRAL_SCHEDULE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Does path match pattern? A "{id}" segment takes any one non-empty segment up to
 * CORRAL_ID_LEN + 8 bytes into cap->id (so that a long one is still "no task", not "no
 * endpoint"); "{name}" likewise a schedule name up to CORRAL_SCHEDULE_NAME_MAX + 8 bytes, and
 * "{worker}" a worker id up to CORRAL_WORKER_ID_MAX + 8 bytes. Each sets its *_valid. */
static bool capture(const char **s, size_t max, size_t slack, char *buf, bool *valid,
                    bool (*is_valid)(const char *))
{
    size_t n = strcspn(*s, "/");
    if (n == 0 || n > max + slack)
        return false;
    *valid = false;
    if (n <= max) {
        memcpy(buf, *s, n);
        buf[n] = '\0';
        *valid = is_valid(buf);
    }
    if (!*valid)
        buf[0] = '\0';
    *s += n;
    return true;
}

static bool id_ok(const char *s)
{
    return strlen(s) == CORRAL_ID_LEN && corral_id_is_valid(s);
}

static bool path_match(const char *pattern, const char *path, struct corral_route *cap)
{
    const char *p = pattern, *s = path;
    while (*p) {
        if (strncmp(p, "{name}", 6) == 0) {
            if (!capture(&s, CORRAL_SCHEDULE_NAME_MAX, 8, cap->name, &cap->name_valid,
                         corral_schedule_name_is_valid))
                return false;
            p += 6;
            continue;
        }
        if (strncmp(p, "{worker}", 8) == 0) {
            if (!capture(&s, CORRAL_WORKER_ID_MAX, 8, cap->worker, &cap->worker_valid,
                         corral_path_valid_name))
                return false;
            p += 8;
            continue;
        }
        if (strncmp(p, "{id}", 4) == 0) {
            if (!capture(&s, CORRAL_ID_LEN, 8, cap->id, &cap->id_valid, id_ok))
                return false;
            p += 4;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *s == '\0';
}

int corral_route_find(const char *method, const char *path, struct corral_route *out)
{
    memset(out, 0, sizeof *out);
    bool post = strcmp(method, "POST") == 0;
    bool del = strcmp(method, "DELETE") == 0;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool path_known = false;
    bool allow_get = false, allow_post = false, allow_del = false;
    /* A literal path wins over a pattern: "/v1/tasks/batch" is never a task id. */
    bool literal = false;
    for (size_t i = 0; i < N_ROUTES && !literal; i++)
        literal = !strchr(ROUTES[i].path, '{') && strcmp(ROUTES[i].path, path) == 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route_row *r = &ROUTES[i];
        struct corral_route cap = {0};
        if ((literal && strchr(r->path, '{')) || !path_match(r->path, path, &cap))
            continue;
        path_known = true;
        bool is_post_row = strcmp(r->method, "POST") == 0;
        bool is_del_row = strcmp(r->method, "DELETE") == 0;
        if (is_post_row)
            allow_post = true;
        else if (is_del_row)
            allow_del = true;
        else
            allow_get = true;
        if (out->ep == CORRAL_EP_NONE)
            out->ep = r->ep;
        if ((is_post_row && post) || (is_del_row && del) || (!is_post_row && !is_del_row && get)) {
            out->ep = r->ep;
            out->post = post;
            out->del = del;
            out->open = r->open;
            out->need = r->need;
            out->id_valid = cap.id_valid;
            memcpy(out->id, cap.id, sizeof out->id);
            out->name_valid = cap.name_valid;
            memcpy(out->name, cap.name, sizeof out->name);
            out->worker_valid = cap.worker_valid;
            memcpy(out->worker, cap.worker, sizeof out->worker);
            out->allow = NULL;
            return CORRAL_OK;
        }
    }
    if (!path_known)
        return CORRAL_ENOTFOUND;
    static const char *const allows[8] = {
        "GET",    "GET",         "POST",         "GET, POST",
        "DELETE", "GET, DELETE", "POST, DELETE", "GET, POST, DELETE"};
    out->allow = allows[(allow_get ? 1 : 0) | (allow_post ? 2 : 0) | (allow_del ? 4 : 0)];
    return CORRAL_EMETHOD;
}

size_t corral_route_count(void)
{
    return N_ROUTES;
}

bool corral_route_at(size_t i, struct corral_route_def *out)
{
    if (i >= N_ROUTES)
        return false;
    out->method = ROUTES[i].method;
    out->path = ROUTES[i].path;
    out->open = ROUTES[i].open;
    out->need = ROUTES[i].need;
    return true;
}

/* ------------------------------------------------------------------ cross-site requests */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* "application/json", optionally with parameters, in any case. */
static bool is_json_type(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (!ieq(ct, n, "application/json", 16))
        return false;
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* Split "host[:port]" or "[v6][:port]" into the host (brackets removed) and the port ("" when
 * none). False when malformed. */
static bool split_authority(const char *a, size_t n, const char **host, size_t *hn,
                            const char **port, size_t *pn)
{
    if (n == 0)
        return false;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return false;
        *host = a + 1;
        *hn = (size_t)(close - a - 1);
        size_t used = (size_t)(close - a) + 1;
        if (used == n) {
            *port = a + n;
            *pn = 0;
            return *hn > 0;
        }
        if (a[used] != ':')
            return false;
        *port = a + used + 1;
        *pn = n - used - 1;
    } else {
        const char *colon = memchr(a, ':', n);
        *host = a;
        *hn = colon ? (size_t)(colon - a) : n;
        *port = colon ? colon + 1 : a + n;
        *pn = colon ? n - *hn - 1 : 0;
        if (colon && memchr(colon + 1, ':', n - *hn - 1))
            return false; /* an unbracketed IPv6 address is not a Host */
    }
    for (size_t i = 0; i < *pn; i++)
        if ((*port)[i] < '0' || (*port)[i] > '9')
            return false;
    return *hn > 0 && *pn <= 5;
}

static bool host_loopback(const char *h, size_t n)
{
    static const char suffix[] = ".localhost";
    size_t sl = sizeof suffix - 1;
    if (n && h[n - 1] == '.')
        n--; /* "localhost." is the same name */
    if (ieq(h, n, "localhost", 9) || (n > sl && ieq(h + n - sl, sl, suffix, sl)))
        return true;
    if (ieq(h, n, "::1", 3) || ieq(h, n, "0:0:0:0:0:0:0:1", 15))
        return true;
    /* 127.a.b.c, each part a decimal 0..255 */
    unsigned parts = 0, val = 0, digits = 0;
    bool first127 = false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (digits == 0 || val > 255)
                return false;
            if (parts == 0)
                first127 = val == 127;
            parts++;
            val = digits = 0;
        } else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
            val = val * 10 + (unsigned)(h[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    return parts == 4 && first127;
}

bool corral_host_is_loopback(const char *host)
{
    const char *h, *p;
    size_t hn, pn;
    if (!host || !split_authority(host, strlen(host), &h, &hn, &p, &pn))
        return false;
    return host_loopback(h, hn);
}

bool corral_zk_hosts_loopback(const char *hosts)
{
    if (!hosts)
        return false;
    size_t end = strcspn(hosts, "/"); /* a chroot suffix is not a host */
    if (end == 0 || hosts[end - 1] == ',')
        return false;
    size_t pos = 0;
    while (pos < end) {
        size_t n = strcspn(hosts + pos, ",/");
        const char *h, *p;
        size_t hn, pn;
        if (n == 0 || !split_authority(hosts + pos, n, &h, &hn, &p, &pn) || !host_loopback(h, hn))
            return false;
        pos += n + 1;
    }
    return true;
}

/* An origin "scheme://authority" compared with (scheme, authority), ports normalised: the
 * scheme's default port may be given or left out on either side. */
static bool same_origin(const char *origin, bool https, const char *auth, size_t an)
{
    const char *scheme = https ? "https://" : "http://";
    const char *dflt = https ? "443" : "80";
    size_t sl = strlen(scheme);
    size_t on = strlen(origin);
    if (on < sl || !ieq(origin, sl, scheme, sl))
        return false;
    const char *oa = origin + sl;
    size_t oan = on - sl;
    const char *h1, *p1, *h2, *p2;
    size_t h1n, p1n, h2n, p2n;
    if (!split_authority(oa, oan, &h1, &h1n, &p1, &p1n) ||
        !split_authority(auth, an, &h2, &h2n, &p2, &p2n))
        return false;
    if (!ieq(h1, h1n, h2, h2n))
        return false;
    if (p1n == 0) {
        p1 = dflt;
        p1n = strlen(dflt);
    }
    if (p2n == 0) {
        p2 = dflt;
        p2n = strlen(dflt);
    }
    return p1n == p2n && memcmp(p1, p2, p1n) == 0;
}

/* Does origin equal the origin of url ("http://h:p/path")? */
static bool origin_of_url(const char *origin, const char *url)
{
    bool https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0)
        return false;
    const char *a = url + (https ? 8 : 7);
    size_t an = strcspn(a, "/?#");
    return same_origin(origin, https, a, an);
}

int corral_request_check(const struct corral_request_facts *f, struct corral_error *err)
{
    if (f->has_body && (!f->content_type || !is_json_type(f->content_type)))
        return corral_error_set(err, CORRAL_EMEDIA, "Content-Type",
                                "a request body must be sent as Content-Type: application/json");
    if (f->host_guard && f->host && !corral_host_is_loopback(f->host))
        return corral_error_set(err, CORRAL_EFORBIDDEN, "Host",
                                "this server listens on loopback without a token file and "
                                "answers only requests for a loopback host name");
    if (f->origin) {
        bool ok = f->host && same_origin(f->origin, f->tls, f->host, strlen(f->host));
        if (!ok && f->own)
            ok = origin_of_url(f->origin, f->own);
        if (!ok)
            return corral_error_set(err, CORRAL_EFORBIDDEN, "Origin",
                                    "cross-origin requests are refused");
    }
    return CORRAL_OK;
}
