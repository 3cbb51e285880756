/* SPDX-License-Identifier: MIT */
/*
 * Who may call what on the REST API (CONTRACT "Access"): the roles of a token file, the table of
 * endpoints with the right each needs, and the checks against cross-site requests. Pure: the
 * server (corrald/api.c) gathers the facts of a request and asks; nothing here does IO.
 */
#ifndef CORRAL_ACCESS_H
#define CORRAL_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/error.h"
#include "corral/limits.h"

/* Ordered: a role holds every right of the roles below it. */
enum corral_role {
    CORRAL_ROLE_NONE = 0, /* no token, a wrong one, or an endpoint open to all */
    CORRAL_ROLE_READ,     /* every GET and /metrics */
    CORRAL_ROLE_SUBMIT,   /* read, plus submit, batch, cancel, schedule triggers */
    CORRAL_ROLE_ADMIN,    /* everything */
};

/* "read", "submit", "admin"; "none" for CORRAL_ROLE_NONE. */
const char *corral_role_name(enum corral_role role);

#define CORRAL_TOKEN_MAX     256 /* bytes of one token */
#define CORRAL_TOKENS_MAX    64  /* lines of one token file */
#define CORRAL_TOKEN_MIN_LEN 8   /* shorter tokens are refused: guessable */

struct corral_token {
    enum corral_role role;
    size_t len;
    char token[CORRAL_TOKEN_MAX + 1];
};

struct corral_tokens {
    size_t n;
    struct corral_token v[CORRAL_TOKENS_MAX];
};

/*
 * Parse a token file's text: one `ROLE TOKEN` or `TOKEN` (admin) per line; blank lines and lines
 * starting with '#' are skipped; spaces or tabs separate the fields, a trailing CR is ignored.
 * A token is printable ASCII without spaces, CORRAL_TOKEN_MIN_LEN..CORRAL_TOKEN_MAX bytes.
 * Refused (CORRAL_EUSAGE, the message names the line): an unknown role, a bad or duplicate
 * token, more than CORRAL_TOKENS_MAX tokens, a NUL byte, or no token at all.
 */
int corral_tokens_parse(const char *text, size_t len, struct corral_tokens *out,
                        struct corral_error *err);

/* The role of the token in an `Authorization` header value ("Bearer <token>"), NONE when the
 * header is missing, not a bearer token, or unknown. Compares against every token without an
 * early exit, so the time does not tell which bytes matched. */
enum corral_role corral_tokens_role(const struct corral_tokens *t, const char *authorization);

/* ------------------------------------------------------------------ endpoints */

enum corral_endpoint {
    CORRAL_EP_NONE = 0, /* no such endpoint: 404 */
    CORRAL_EP_HEALTHZ,
    CORRAL_EP_READYZ,
    CORRAL_EP_METRICS,
    CORRAL_EP_TASKS,       /* GET list, POST submit */
    CORRAL_EP_TASKS_BATCH, /* POST */
    CORRAL_EP_TASK,        /* GET /v1/tasks/{id} */
    CORRAL_EP_TASK_CANCEL, /* POST /v1/tasks/{id}/cancel */
    CORRAL_EP_WORKERS,
    CORRAL_EP_LEADER,
    CORRAL_EP_SCHEDULES,        /* GET list, POST create */
    CORRAL_EP_SCHEDULE,         /* GET, DELETE /v1/schedules/{name} */
    CORRAL_EP_SCHEDULE_PAUSE,   /* POST /v1/schedules/{name}/pause */
    CORRAL_EP_SCHEDULE_RESUME,  /* POST .../resume */
    CORRAL_EP_SCHEDULE_TRIGGER, /* POST .../trigger */
    CORRAL_EP_SCHEDULE_FIRES,   /* GET .../fires */
    CORRAL_EP_WORKER_CORDON,    /* POST /v1/workers/{worker}/cordon */
    CORRAL_EP_WORKER_UNCORDON,  /* POST .../uncordon */
    CORRAL_EP_WORKER_DRAIN,     /* POST .../drain */
    CORRAL_EP_UI,               /* GET / and /ui/<file>: the dashboard, open (api_ui.c) */
    CORRAL_EP_EVENTS,           /* GET /v1/events: the feed of changes */
    CORRAL_EP_TASK_OUTPUT,      /* GET /v1/tasks/{id}/output: live output */
};

/* Longest schedule name; a {name} path segment up to a few bytes longer still routes. */
#define CORRAL_SCHEDULE_NAME_MAX 64u

struct corral_route {
    enum corral_endpoint ep;
    bool post;             /* the method is POST (else GET or HEAD, or DELETE) */
    bool del;              /* the method is DELETE */
    bool open;             /* needs no token (health checks, the dashboard's files) */
    enum corral_role need; /* the least role that may call it */
    bool id_valid;         /* for TASK, TASK_CANCEL, TASK_OUTPUT: {id} is a well-formed task id */
    char id[CORRAL_ID_LEN + 1];
    bool name_valid; /* for the SCHEDULE endpoints: the {name} is a valid schedule name */
    char name[CORRAL_SCHEDULE_NAME_MAX + 1];
    bool worker_valid; /* for the WORKER endpoints: the {worker} is a valid worker id */
    char worker[CORRAL_WORKER_ID_MAX + 1];
    const char *allow; /* on a wrong method: the Allow list ("GET, POST") */
};

/* A schedule name: 1..CORRAL_SCHEDULE_NAME_MAX bytes of [A-Za-z0-9._-], not starting with '.'
 * (so it is one safe path segment in URLs and znode paths). */
bool corral_schedule_name_is_valid(const char *s);

/*
 * Find the endpoint of a method and a path (the path without its query). Returns CORRAL_OK and
 * fills out; CORRAL_ENOTFOUND for an unknown path (out->ep NONE); CORRAL_EMETHOD for a known path
 * with a method it does not take (out->ep and out->allow set). A task id that is not well-formed
 * still routes (id_valid false), so that the caller answers 404 "no task" after the access
 * checks, as for an unknown id.
 */
int corral_route_find(const char *method, const char *path, struct corral_route *out);

/* One row of the endpoint table, for tools that list the API (tests/tools/routes.c, which the
 * OpenAPI check docs/openapi.yaml runs): the method ("GET" also answers HEAD), the path pattern
 * with "{id}" (a task id) and "{name}" (a schedule name) segments, whether it needs no token, and
 * the least role that may call it (CORRAL_ROLE_NONE when open). */
struct corral_route_def {
    const char *method;
    const char *path;
    bool open;
    enum corral_role need;
};

/* The number of rows of the endpoint table. */
size_t corral_route_count(void);

/* Row i (0..corral_route_count() - 1) into out; false past the end. Strings are static. */
bool corral_route_at(size_t i, struct corral_route_def *out);

/* ------------------------------------------------------------------ cross-site requests */

/* What the server knows about one request, for corral_request_check. */
struct corral_request_facts {
    const char *method;
    bool has_body;            /* a Content-Length above 0, or a chunked body */
    const char *content_type; /* header values, NULL when absent */
    const char *origin;
    const char *host;
    bool tls;        /* the request came over HTTPS */
    bool host_guard; /* loopback listener without a token file: Host must be loopback */
    const char *own; /* the server's advertised URL ("http://10.0.0.5:7070"), or NULL */
};

/*
 * Refuse what a browser would send on behalf of another site: a body whose Content-Type is not
 * application/json (CORRAL_EMEDIA), an Origin that is not the server's own (CORRAL_EFORBIDDEN;
 * its own origin is the scheme with the request's Host, or that of `own`), and, with
 * host_guard, a Host that is not a loopback name or address (CORRAL_EFORBIDDEN: DNS
 * rebinding). Returns CORRAL_OK when the request may go on.
 */
int corral_request_check(const struct corral_request_facts *f, struct corral_error *err);

/* The host part of a Host header ("127.0.0.1:7070" -> 127.0.0.1, "[::1]:80" -> ::1) is a
 * loopback name or address: localhost, *.localhost, 127.0.0.0/8, ::1. */
bool corral_host_is_loopback(const char *host);

/* Every host of a ZooKeeper connection string ("h1:p1,h2:p2[/chroot]") is a loopback name or
 * address. False for an empty or malformed string. */
bool corral_zk_hosts_loopback(const char *hosts);

#endif
