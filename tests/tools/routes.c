/* SPDX-License-Identifier: MIT */
/*
 * Test tool for tests/tools/check-openapi: prints the REST endpoint table of src/core/access.c,
 * one "METHOD PATH ROLE" line per row (ROLE: none, read, submit or admin; "GET" also answers
 * HEAD). Before printing, each row is routed back through corral_route_find with its {id} and
 * {name} segments filled in, so the lines are what the server routes, not just what the table
 * says: a row the router would not reach, or would reach with another right, exits 1.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "corral/access.h"
#include "corral/error.h"

#define SAMPLE_ID   "019a1b2c3d4e-9f8e7d6c" /* a well-formed task id */
#define SAMPLE_NAME "openapi-check"         /* a valid schedule name */

/* pattern with every "{id}" and "{name}" segment replaced by a sample; false if too long. */
static bool fill(const char *pattern, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = pattern; *p;) {
        const char *sub = NULL;
        size_t skip = 1;
        if (strncmp(p, "{id}", 4) == 0) {
            sub = SAMPLE_ID;
            skip = 4;
        } else if (strncmp(p, "{name}", 6) == 0) {
            sub = SAMPLE_NAME;
            skip = 6;
        }
        size_t len = sub ? strlen(sub) : 1;
        if (n + len >= cap)
            return false;
        memcpy(out + n, sub ? sub : p, len);
        n += len;
        p += skip;
    }
    out[n] = '\0';
    return true;
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: corral-routes (prints METHOD PATH ROLE per endpoint)\n");
        return 2;
    }
    size_t n = corral_route_count();
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct corral_route_def d;
        if (!corral_route_at(i, &d)) {
            fprintf(stderr, "corral-routes: row %zu of %zu is missing\n", i, n);
            return 1;
        }
        char path[512];
        struct corral_route rt;
        if (!fill(d.path, path, sizeof path)) {
            fprintf(stderr, "corral-routes: %s %s: path too long\n", d.method, d.path);
            bad = 1;
            continue;
        }
        int rc = corral_route_find(d.method, path, &rt);
        if (rc != CORRAL_OK || rt.need != d.need || rt.open != d.open ||
            (strstr(d.path, "{id}") && !rt.id_valid) ||
            (strstr(d.path, "{name}") && !rt.name_valid)) {
            fprintf(stderr,
                    "corral-routes: %s %s (as %s): the router does not route it as the "
                    "table says\n",
                    d.method, d.path, path);
            bad = 1;
            continue;
        }
        if (d.open != (d.need == CORRAL_ROLE_NONE)) {
            fprintf(stderr, "corral-routes: %s %s: an open row needs no role, a closed one some\n",
                    d.method, d.path);
            bad = 1;
            continue;
        }
        for (size_t k = 0; k < i; k++) {
            struct corral_route_def e;
            if (corral_route_at(k, &e) && strcmp(e.method, d.method) == 0 &&
                strcmp(e.path, d.path) == 0) {
                fprintf(stderr, "corral-routes: %s %s is in the table twice\n", d.method, d.path);
                bad = 1;
            }
        }
        printf("%s %s %s\n", d.method, d.path, corral_role_name(d.need));
    }
    if (n == 0) {
        fprintf(stderr, "corral-routes: the endpoint table is empty\n");
        bad = 1;
    }
    return bad;
}
