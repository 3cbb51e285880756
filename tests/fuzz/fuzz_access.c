/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "access": the REST router and its access decisions (core/access.c) with what a
 * request carries. Input lines: method, path, Authorization, Content-Type, Origin, Host, a
 * query value (as ?limit= or ?wait= would give it), a ZooKeeper connection string; the rest is a
 * token file. Invariants: a route found names an endpoint and a right, a task id it calls valid
 * is valid; a wrong method comes with an Allow list; a token file that parses has 1..64 tokens
 * within the length bounds, each of which authenticates as its own role; a request check only
 * ever says ok, 415 or 403.
 */
#include "corral/access.h"
#include "corral/id.h"
#include "corral/text.h"
#include "fuzz.h"

#define N_LINES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line[N_LINES];
    const uint8_t *p = data;
    size_t left = size;
    for (size_t i = 0; i < N_LINES; i++) {
        const uint8_t *rest;
        size_t rest_len;
        line[i] = fuzz_split(p, left, &rest, &rest_len);
        p = rest;
        left = rest_len;
    }

    struct corral_route rt;
    int rc = corral_route_find(line[0], line[1], &rt);
    FUZZ_CHECK(rc == CORRAL_OK || rc == CORRAL_ENOTFOUND || rc == CORRAL_EMETHOD);
    if (rc == CORRAL_OK) {
        FUZZ_CHECK(rt.ep != CORRAL_EP_NONE && rt.allow == NULL);
        FUZZ_CHECK(rt.open == (rt.need == CORRAL_ROLE_NONE));
        if (rt.id_valid)
            FUZZ_CHECK(corral_id_is_valid(rt.id) && strstr(line[1], rt.id) != NULL);
    } else if (rc == CORRAL_EMETHOD) {
        FUZZ_CHECK(rt.ep != CORRAL_EP_NONE && rt.allow != NULL);
    } else {
        FUZZ_CHECK(rt.ep == CORRAL_EP_NONE);
    }

    struct corral_tokens *t = malloc(sizeof *t);
    if (!t)
        abort();
    struct corral_error err = {0};
    if (corral_tokens_parse((const char *)p, left, t, &err) == CORRAL_OK) {
        FUZZ_CHECK(t->n >= 1 && t->n <= CORRAL_TOKENS_MAX);
        for (size_t k = 0; k < t->n; k++) {
            FUZZ_CHECK(t->v[k].len >= CORRAL_TOKEN_MIN_LEN && t->v[k].len <= CORRAL_TOKEN_MAX);
            FUZZ_CHECK(strlen(t->v[k].token) == t->v[k].len);
            char h[CORRAL_TOKEN_MAX + 8];
            snprintf(h, sizeof h, "Bearer %s", t->v[k].token);
            FUZZ_CHECK(corral_tokens_role(t, h) == t->v[k].role);
        }
    } else {
        FUZZ_CHECK(err.code == CORRAL_EUSAGE && t->n == 0);
    }
    enum corral_role role = corral_tokens_role(t, line[2]);
    FUZZ_CHECK(role >= CORRAL_ROLE_NONE && role <= CORRAL_ROLE_ADMIN);
    free(t);

    struct corral_request_facts f = {
        .method = line[0],
        .has_body = size % 2 == 1,
        .content_type = line[3][0] ? line[3] : NULL,
        .origin = line[4][0] ? line[4] : NULL,
        .host = line[5][0] ? line[5] : NULL,
        .tls = size % 3 == 0,
        .host_guard = size % 5 != 0,
        .own = "http://127.0.0.1:7070",
    };
    corral_error_clear(&err);
    rc = corral_request_check(&f, &err);
    FUZZ_CHECK(rc == CORRAL_OK || rc == CORRAL_EMEDIA || rc == CORRAL_EFORBIDDEN);
    FUZZ_CHECK(rc == (int)err.code);
    if (f.host_guard && f.host && rc == CORRAL_OK)
        FUZZ_CHECK(corral_host_is_loopback(f.host));

    int64_t v = 0;
    if (corral_parse_i64(line[6], 0, 60, &v) == CORRAL_OK)
        FUZZ_CHECK(v >= 0 && v <= 60);
    (void)corral_zk_hosts_loopback(line[7]);

    for (size_t i = 0; i < N_LINES; i++)
        free(line[i]);
    return 0;
}
