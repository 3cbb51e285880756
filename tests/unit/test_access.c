/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/access.c: token file roles, the endpoint table, cross-site checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/access.h"

static int parse(const char *text, struct corral_tokens *t, struct corral_error *err)
{
    corral_error_clear(err);
    return corral_tokens_parse(text, strlen(text), t, err);
}

static void tokens_roles_and_the_bare_token_line(void **state)
{
    (void)state;
    struct corral_tokens t;
    struct corral_error err;
    assert_int_equal(parse("# cluster tokens\n"
                           "read    reader-0001\n"
                           "\n"
                           "submit\tsubmitter-02\r\n"
                           "admin admin-token-3\n"
                           "  legacy-admin-token  \n",
                           &t, &err),
                     CORRAL_OK);
    assert_int_equal(t.n, 4);
    assert_int_equal(corral_tokens_role(&t, "Bearer reader-0001"), CORRAL_ROLE_READ);
    assert_int_equal(corral_tokens_role(&t, "Bearer submitter-02"), CORRAL_ROLE_SUBMIT);
    assert_int_equal(corral_tokens_role(&t, "Bearer admin-token-3"), CORRAL_ROLE_ADMIN);
    /* a line with a token alone is admin, so a file of before the roles keeps working */
    assert_int_equal(corral_tokens_role(&t, "Bearer legacy-admin-token"), CORRAL_ROLE_ADMIN);
    assert_string_equal(corral_role_name(CORRAL_ROLE_SUBMIT), "submit");
}

static void tokens_unknown_or_partial_tokens_have_no_role(void **state)
{
    (void)state;
    struct corral_tokens t;
    struct corral_error err;
    assert_int_equal(parse("read reader-0001\n", &t, &err), CORRAL_OK);
    assert_int_equal(corral_tokens_role(&t, NULL), CORRAL_ROLE_NONE);
    assert_int_equal(corral_tokens_role(&t, "reader-0001"), CORRAL_ROLE_NONE);
    assert_int_equal(corral_tokens_role(&t, "Basic reader-0001"), CORRAL_ROLE_NONE);
    assert_int_equal(corral_tokens_role(&t, "Bearer reader-000"), CORRAL_ROLE_NONE);
    assert_int_equal(corral_tokens_role(&t, "Bearer reader-00011"), CORRAL_ROLE_NONE);
    assert_int_equal(corral_tokens_role(&t, "Bearer "), CORRAL_ROLE_NONE);
    assert_int_equal(corral_tokens_role(&t, "Bearer read reader-0001"), CORRAL_ROLE_NONE);
}

static void tokens_bad_files_are_refused_with_the_line(void **state)
{
    (void)state;
    struct corral_tokens t;
    struct corral_error err;
    assert_int_equal(parse("", &t, &err), CORRAL_EUSAGE);
    assert_int_equal(parse("# only a comment\n\n", &t, &err), CORRAL_EUSAGE);
    assert_int_equal(parse("read reader-0001\nroot sometoken-9\n", &t, &err), CORRAL_EUSAGE);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(parse("short\n", &t, &err), CORRAL_EUSAGE);
    assert_int_equal(parse("read a-token-000 extra\n", &t, &err), CORRAL_EUSAGE);
    assert_int_equal(parse("read a-token-000\nadmin a-token-000\n", &t, &err), CORRAL_EUSAGE);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(parse("read tok\x01"
                           "en-0001\n",
                           &t, &err),
                     CORRAL_EUSAGE);
    assert_int_equal(corral_tokens_parse("read a-token-000\n\0admin x", 26, &t, &err),
                     CORRAL_EUSAGE);
    assert_int_equal(t.n, 0); /* nothing half-parsed is kept */
    char big[CORRAL_TOKEN_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(parse(big, &t, &err), CORRAL_EUSAGE);
}

static void tokens_at_most_the_limit(void **state)
{
    (void)state;
    char text[(CORRAL_TOKENS_MAX + 1) * 32];
    size_t n = 0;
    for (unsigned i = 0; i <= CORRAL_TOKENS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "read token-number-%u\n", i);
    struct corral_tokens t;
    struct corral_error err = {0};
    assert_int_equal(corral_tokens_parse(text, n, &t, &err), CORRAL_EUSAGE);
    /* one fewer fits */
    const char *last = strstr(text, "read token-number-64\n");
    assert_non_null(last);
    corral_error_clear(&err);
    assert_int_equal(corral_tokens_parse(text, (size_t)(last - text), &t, &err), CORRAL_OK);
    assert_int_equal(t.n, CORRAL_TOKENS_MAX);
    assert_int_equal(corral_tokens_role(&t, "Bearer token-number-63"), CORRAL_ROLE_READ);
}

static void route_every_endpoint_and_its_right(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        enum corral_endpoint ep;
        enum corral_role need;
        bool open;
    } cases[] = {
        {"GET", "/healthz", CORRAL_EP_HEALTHZ, CORRAL_ROLE_NONE, true},
        {"HEAD", "/readyz", CORRAL_EP_READYZ, CORRAL_ROLE_NONE, true},
        {"GET", "/metrics", CORRAL_EP_METRICS, CORRAL_ROLE_READ, false},
        {"GET", "/v1/tasks", CORRAL_EP_TASKS, CORRAL_ROLE_READ, false},
        {"POST", "/v1/tasks", CORRAL_EP_TASKS, CORRAL_ROLE_SUBMIT, false},
        {"POST", "/v1/tasks/batch", CORRAL_EP_TASKS_BATCH, CORRAL_ROLE_SUBMIT, false},
        {"GET", "/v1/tasks/019a1b2c3d4e-9f8e7d6c", CORRAL_EP_TASK, CORRAL_ROLE_READ, false},
        {"POST", "/v1/tasks/019a1b2c3d4e-9f8e7d6c/cancel", CORRAL_EP_TASK_CANCEL,
         CORRAL_ROLE_SUBMIT, false},
        {"GET", "/v1/workers", CORRAL_EP_WORKERS, CORRAL_ROLE_READ, false},
        {"GET", "/v1/leader", CORRAL_EP_LEADER, CORRAL_ROLE_READ, false},
        {"GET", "/v1/schedules", CORRAL_EP_SCHEDULES, CORRAL_ROLE_READ, false},
        {"POST", "/v1/schedules", CORRAL_EP_SCHEDULES, CORRAL_ROLE_ADMIN, false},
        {"GET", "/v1/schedules/nightly", CORRAL_EP_SCHEDULE, CORRAL_ROLE_READ, false},
        {"DELETE", "/v1/schedules/nightly", CORRAL_EP_SCHEDULE, CORRAL_ROLE_ADMIN, false},
        {"POST", "/v1/schedules/nightly/pause", CORRAL_EP_SCHEDULE_PAUSE, CORRAL_ROLE_ADMIN, false},
        {"POST", "/v1/schedules/nightly/resume", CORRAL_EP_SCHEDULE_RESUME, CORRAL_ROLE_ADMIN,
         false},
        {"POST", "/v1/schedules/nightly/trigger", CORRAL_EP_SCHEDULE_TRIGGER, CORRAL_ROLE_SUBMIT,
         false},
        {"GET", "/v1/schedules/nightly/fires", CORRAL_EP_SCHEDULE_FIRES, CORRAL_ROLE_READ, false},
        {"GET", "/", CORRAL_EP_UI, CORRAL_ROLE_NONE, true},
        {"HEAD", "/", CORRAL_EP_UI, CORRAL_ROLE_NONE, true},
        {"GET", "/ui/app.js", CORRAL_EP_UI, CORRAL_ROLE_NONE, true},
        {"GET", "/ui/app.css", CORRAL_EP_UI, CORRAL_ROLE_NONE, true},
        {"GET", "/ui/icon.svg", CORRAL_EP_UI, CORRAL_ROLE_NONE, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct corral_route rt;
        assert_int_equal(corral_route_find(cases[i].method, cases[i].path, &rt), CORRAL_OK);
        assert_int_equal(rt.ep, cases[i].ep);
        assert_int_equal(rt.need, cases[i].need);
        assert_int_equal(rt.open, cases[i].open);
        assert_int_equal(rt.post, strcmp(cases[i].method, "POST") == 0);
        assert_int_equal(rt.del, strcmp(cases[i].method, "DELETE") == 0);
    }
    struct corral_route rt;
    assert_int_equal(corral_route_find("GET", "/v1/tasks/019a1b2c3d4e-9f8e7d6c", &rt), CORRAL_OK);
    assert_true(rt.id_valid);
    assert_string_equal(rt.id, "019a1b2c3d4e-9f8e7d6c");
}

/* The dashboard: its page and files are open, GET only, and nothing else under / or /ui. */
static void route_dashboard_files(void **state)
{
    (void)state;
    struct corral_route rt;
    assert_int_equal(corral_route_find("POST", "/", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "GET");
    assert_int_equal(corral_route_find("DELETE", "/ui/app.js", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "GET");
    static const char *const unknown[] = {
        "/ui",         "/ui/", "/ui/app.js/", "/ui/app.jsx", "/ui/../v1/tasks", "/ui/index.html",
        "/index.html", "//",   "/ui/APP.JS"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(corral_route_find("GET", unknown[i], &rt), CORRAL_ENOTFOUND);
        assert_int_equal(rt.ep, CORRAL_EP_NONE);
    }
    /* Every open row is a health check or a file of the dashboard: no API call is open. */
    for (size_t i = 0; i < corral_route_count(); i++) {
        struct corral_route_def d;
        assert_true(corral_route_at(i, &d));
        if (!d.open)
            continue;
        assert_int_equal(d.need, CORRAL_ROLE_NONE);
        assert_string_equal(d.method, "GET");
        assert_true(strcmp(d.path, "/healthz") == 0 || strcmp(d.path, "/readyz") == 0 ||
                    strcmp(d.path, "/") == 0 || strncmp(d.path, "/ui/", 4) == 0);
    }
}

static void route_schedule_names(void **state)
{
    (void)state;
    struct corral_route rt;
    assert_int_equal(corral_route_find("GET", "/v1/schedules/db-backup.v2_x", &rt), CORRAL_OK);
    assert_true(rt.name_valid);
    assert_string_equal(rt.name, "db-backup.v2_x");
    /* A bad name still routes (404 "no schedule" after the access checks). */
    static const char *const bad[] = {
        "/v1/schedules/.hidden", "/v1/schedules/a%20b",
        "/v1/schedules/" /* 65 */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(corral_route_find("GET", bad[i], &rt), CORRAL_OK);
        assert_int_equal(rt.ep, CORRAL_EP_SCHEDULE);
        assert_false(rt.name_valid);
        assert_string_equal(rt.name, "");
    }
    assert_int_equal(corral_route_find("PUT", "/v1/schedules/x", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "GET, DELETE");
    assert_int_equal(corral_route_find("DELETE", "/v1/schedules", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "GET, POST");
    assert_int_equal(corral_route_find("GET", "/v1/schedules/x/pause", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "POST");
    assert_true(corral_schedule_name_is_valid("a"));
    assert_false(corral_schedule_name_is_valid(""));
    assert_false(corral_schedule_name_is_valid(NULL));
    assert_false(corral_schedule_name_is_valid("a/b"));
}

static void route_wrong_method_unknown_path_and_bad_ids(void **state)
{
    (void)state;
    struct corral_route rt;
    assert_int_equal(corral_route_find("DELETE", "/v1/tasks", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "GET, POST");
    assert_int_equal(corral_route_find("GET", "/v1/tasks/batch", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "POST");
    assert_int_equal(corral_route_find("POST", "/healthz", &rt), CORRAL_EMETHOD);
    assert_string_equal(rt.allow, "GET");
    assert_int_equal(corral_route_find("GET", "/v1/tasks/x/cancel", &rt), CORRAL_EMETHOD);
    assert_int_equal(corral_route_find("GET", "/v1/nothing", &rt), CORRAL_ENOTFOUND);
    assert_int_equal(rt.ep, CORRAL_EP_NONE);
    assert_int_equal(corral_route_find("GET", "/v1/tasks/", &rt), CORRAL_ENOTFOUND);
    assert_int_equal(corral_route_find("GET", "/v1/tasks//cancel", &rt), CORRAL_ENOTFOUND);
    assert_int_equal(corral_route_find("GET", "/v1/leader/", &rt), CORRAL_ENOTFOUND);
    assert_int_equal(corral_route_find("GET", "", &rt), CORRAL_ENOTFOUND);
    /* a malformed id routes, so that it is "no task" after the access checks */
    assert_int_equal(corral_route_find("GET", "/v1/tasks/not-an-id", &rt), CORRAL_OK);
    assert_int_equal(rt.ep, CORRAL_EP_TASK);
    assert_false(rt.id_valid);
    assert_string_equal(rt.id, "");
    assert_int_equal(corral_route_find("GET", "/v1/tasks/019A1B2C3D4E-9F8E7D6C", &rt), CORRAL_OK);
    assert_false(rt.id_valid);
    char long_path[256];
    snprintf(long_path, sizeof long_path, "/v1/tasks/%0100d", 7);
    assert_int_equal(corral_route_find("GET", long_path, &rt), CORRAL_ENOTFOUND);
}

static int check(const char *method, bool body, const char *ct, const char *origin,
                 const char *host, bool guard)
{
    struct corral_request_facts f = {
        .method = method,
        .has_body = body,
        .content_type = ct,
        .origin = origin,
        .host = host,
        .host_guard = guard,
        .own = "http://10.0.0.5:7070",
    };
    struct corral_error err = {0};
    return corral_request_check(&f, &err);
}

static void check_a_body_must_be_json(void **state)
{
    (void)state;
    const char *h = "127.0.0.1:7070";
    assert_int_equal(check("POST", true, "application/json", NULL, h, true), CORRAL_OK);
    assert_int_equal(check("POST", true, "Application/JSON; charset=utf-8", NULL, h, true),
                     CORRAL_OK);
    assert_int_equal(check("POST", true, NULL, NULL, h, true), CORRAL_EMEDIA);
    assert_int_equal(check("POST", true, "text/plain", NULL, h, true), CORRAL_EMEDIA);
    assert_int_equal(check("POST", true, "application/x-www-form-urlencoded", NULL, h, true),
                     CORRAL_EMEDIA);
    assert_int_equal(check("POST", true, "application/jsonx", NULL, h, true), CORRAL_EMEDIA);
    assert_int_equal(check("POST", true, "application/json-seq", NULL, h, true), CORRAL_EMEDIA);
    /* no body: nothing to type (cancel) */
    assert_int_equal(check("POST", false, NULL, NULL, h, true), CORRAL_OK);
}

static void check_origin_must_be_the_servers_own(void **state)
{
    (void)state;
    const char *h = "127.0.0.1:7070";
    assert_int_equal(check("GET", false, NULL, "http://127.0.0.1:7070", h, true), CORRAL_OK);
    assert_int_equal(check("GET", false, NULL, "HTTP://127.0.0.1:7070", h, true), CORRAL_OK);
    assert_int_equal(check("GET", false, NULL, "http://evil.example", h, true), CORRAL_EFORBIDDEN);
    assert_int_equal(check("POST", true, "application/json", "null", h, true), CORRAL_EFORBIDDEN);
    assert_int_equal(check("GET", false, NULL, "https://127.0.0.1:7070", h, true),
                     CORRAL_EFORBIDDEN);
    assert_int_equal(check("GET", false, NULL, "http://127.0.0.1:7071", h, true),
                     CORRAL_EFORBIDDEN);
    /* default ports may be left out on either side */
    assert_int_equal(check("GET", false, NULL, "http://localhost", "localhost:80", true),
                     CORRAL_OK);
    assert_int_equal(check("GET", false, NULL, "http://localhost:80", "localhost", true),
                     CORRAL_OK);
    /* the advertised URL's origin is the server's too (behind a proxy) */
    assert_int_equal(check("GET", false, NULL, "http://10.0.0.5:7070", "proxy:8080", false),
                     CORRAL_OK);
    /* no Host and a foreign Origin */
    assert_int_equal(check("GET", false, NULL, "http://evil.example", NULL, false),
                     CORRAL_EFORBIDDEN);
}

static void check_host_guard_refuses_rebinding(void **state)
{
    (void)state;
    assert_int_equal(check("GET", false, NULL, NULL, "evil.example:7070", true), CORRAL_EFORBIDDEN);
    assert_int_equal(check("GET", false, NULL, NULL, "127.0.0.1.evil.example", true),
                     CORRAL_EFORBIDDEN);
    assert_int_equal(check("GET", false, NULL, NULL, "localhost.evil.example", true),
                     CORRAL_EFORBIDDEN);
    /* a rebinding page sends its own name in Host and Origin: same origin, still refused */
    assert_int_equal(
        check("GET", false, NULL, "http://evil.example:7070", "evil.example:7070", true),
        CORRAL_EFORBIDDEN);
    /* with a token file the guard is off: the token is what protects */
    assert_int_equal(check("GET", false, NULL, NULL, "corral.example.com", false), CORRAL_OK);
    assert_int_equal(check("GET", false, NULL, NULL, NULL, true), CORRAL_OK);
    assert_true(corral_host_is_loopback("localhost"));
    assert_true(corral_host_is_loopback("LOCALHOST:7070"));
    assert_true(corral_host_is_loopback("localhost."));
    assert_true(corral_host_is_loopback("api.localhost:1"));
    assert_true(corral_host_is_loopback("127.0.0.1"));
    assert_true(corral_host_is_loopback("127.1.2.254:65535"));
    assert_true(corral_host_is_loopback("[::1]:7070"));
    assert_true(corral_host_is_loopback("[::1]"));
    assert_false(corral_host_is_loopback("128.0.0.1"));
    assert_false(corral_host_is_loopback("127.0.0.256"));
    assert_false(corral_host_is_loopback("127.0.0"));
    assert_false(corral_host_is_loopback("127.0.0.1:port"));
    assert_false(corral_host_is_loopback("127.0.0.1:123456"));
    assert_false(corral_host_is_loopback("::1"));
    assert_false(corral_host_is_loopback("[::1"));
    assert_false(corral_host_is_loopback(""));
    assert_false(corral_host_is_loopback(NULL));
}

static void zk_hosts_all_loopback(void **state)
{
    (void)state;
    assert_true(corral_zk_hosts_loopback("127.0.0.1:2181"));
    assert_true(corral_zk_hosts_loopback("localhost:2181,127.0.0.2:2182,[::1]:2183"));
    assert_true(corral_zk_hosts_loopback("127.0.0.1:2181/chroot/path"));
    assert_true(corral_zk_hosts_loopback("localhost"));
    assert_false(corral_zk_hosts_loopback("127.0.0.1:2181,10.0.0.5:2181"));
    assert_false(corral_zk_hosts_loopback("zk.example.com:2181"));
    assert_false(corral_zk_hosts_loopback("127.0.0.1:2181,"));
    assert_false(corral_zk_hosts_loopback(""));
    assert_false(corral_zk_hosts_loopback("/chroot"));
    assert_false(corral_zk_hosts_loopback(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_roles_and_the_bare_token_line),
        cmocka_unit_test(tokens_unknown_or_partial_tokens_have_no_role),
        cmocka_unit_test(tokens_bad_files_are_refused_with_the_line),
        cmocka_unit_test(tokens_at_most_the_limit),
        cmocka_unit_test(route_every_endpoint_and_its_right),
        cmocka_unit_test(route_wrong_method_unknown_path_and_bad_ids),
        cmocka_unit_test(route_schedule_names),
        cmocka_unit_test(route_dashboard_files),
        cmocka_unit_test(check_a_body_must_be_json),
        cmocka_unit_test(check_origin_must_be_the_servers_own),
        cmocka_unit_test(check_host_guard_refuses_rebinding),
        cmocka_unit_test(zk_hosts_all_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
