/* SPDX-License-Identifier: MIT */
/* ZooKeeper ACLs (corral/acl.h): SHA-1 against FIPS vectors, digest ids against ZooKeeper's own
 * DigestAuthenticationProvider, and the rule of every kind of path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/acl.h"
#include "corral/paths.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void sha1_is(const char *msg, size_t len, const char *want)
{
    uint8_t sum[20];
    char got[41];
    corral_sha1(msg, len, sum);
    hex(sum, 20, got);
    assert_string_equal(got, want);
}

static void sha1_vectors(void **state)
{
    (void)state;
    sha1_is("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_is("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    /* 56 bytes: the length no longer fits the first padded block. */
    const char *m56 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_is(m56, strlen(m56), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* A million 'a's: many blocks. */
    size_t n = 1000000;
    char *a = malloc(n);
    assert_non_null(a);
    memset(a, 'a', n);
    sha1_is(a, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(a);
    /* 55 and 64 bytes: the padding's edges. */
    char b[65];
    memset(b, 'x', sizeof b);
    sha1_is(b, 55, "cef734ba81a024479e09eb5a75b6ddae62e6abf1");
    sha1_is(b, 64, "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163");
}

static void digest_ids(void **state)
{
    (void)state;
    char id[CORRAL_DIGEST_ID_MAX + 1];
    /* Both from `java org.apache.zookeeper.server.auth.DigestAuthenticationProvider`. */
    assert_true(corral_digest_id("corral:s3cret", id, sizeof id));
    assert_string_equal(id, "corral:7X7vc4BTHRWbdu4XOhS+Dchsd9k=");
    assert_true(corral_digest_id("w.w1:abc", id, sizeof id));
    assert_string_equal(id, "w.w1:prfV8qFNbra982OvpECVRp1zuUQ=");
    /* A password with ':' in it: only the first one separates. */
    assert_true(corral_digest_id("u:a:b", id, sizeof id));
    assert_int_equal(strncmp(id, "u:", 2), 0);
    assert_int_equal(strlen(id), 2 + 28);
    assert_false(corral_digest_id("nocolon", id, sizeof id));
    assert_string_equal(id, "");
    assert_false(corral_digest_id(":pass", id, sizeof id));
    assert_false(corral_digest_id(NULL, id, sizeof id));
    assert_false(corral_digest_id("corral:s3cret", id, 10)); /* no room */
    assert_string_equal(id, "");
    char longuser[CORRAL_DIGEST_USER_MAX + 8];
    memset(longuser, 'u', CORRAL_DIGEST_USER_MAX + 1);
    strcpy(longuser + CORRAL_DIGEST_USER_MAX + 1, ":p");
    assert_false(corral_digest_id(longuser, id, sizeof id));
}

static void worker_identities(void **state)
{
    (void)state;
    char user[CORRAL_DIGEST_USER_MAX + 1];
    assert_true(corral_worker_identity_user("w1", user, sizeof user));
    assert_string_equal(user, "w.w1");
    assert_false(corral_worker_identity_user("a/b", user, sizeof user));
    assert_false(corral_worker_identity_user("..", user, sizeof user));
    char id128[CORRAL_WORKER_ID_MAX + 1];
    memset(id128, 'x', CORRAL_WORKER_ID_MAX);
    id128[CORRAL_WORKER_ID_MAX] = '\0';
    assert_true(corral_worker_identity_user(id128, user, sizeof user));
    char id[CORRAL_DIGEST_ID_MAX + 1];
    char up[CORRAL_DIGEST_USER_MAX + 8];
    snprintf(up, sizeof up, "%s:pw", user);
    assert_true(corral_digest_id(up, id, sizeof id)); /* the longest worker id fits */

    assert_true(corral_digest_id_is_worker("w.w1:prfV8qFNbra982OvpECVRp1zuUQ=", "w1"));
    assert_false(corral_digest_id_is_worker("w.w1:prfV8qFNbra982OvpECVRp1zuUQ=", "w2"));
    assert_false(corral_digest_id_is_worker("w.w10:prfV8qFNbra982OvpECVRp1zuUQ=", "w1"));
    assert_false(corral_digest_id_is_worker("w.w1:short", "w1"));
    assert_false(corral_digest_id_is_worker("corral:7X7vc4BTHRWbdu4XOhS+Dchsd9k=", "corral"));
    assert_false(corral_digest_id_is_worker(NULL, "w1"));
}

struct want {
    const char *rel; /* below the namespace ("" for the namespace itself) */
    int workers, owner, creator;
    const char *owner_id;
};

static void rules(void **state)
{
    (void)state;
    const char *ns = "/c/ns";
    char dir[CORRAL_PATH_MAX];
    /* Built from paths.h so that this test spells no folder name itself. */
    char workers[64], tasks[64], queue[64], assign[64], done[64], fleet[64], events[64], output[64],
        election[64], idem[64], schedules[64], deps[64];
#define NAME(var, d)                                                                               \
    do {                                                                                           \
        assert_int_equal(corral_path_dir(dir, sizeof dir, ns, d), 0);                              \
        snprintf(var, sizeof var, "%.60s", dir + strlen(ns));                                      \
    } while (0)
    NAME(workers, CORRAL_DIR_WORKERS);
    NAME(tasks, CORRAL_DIR_TASKS);
    NAME(queue, CORRAL_DIR_QUEUE);
    NAME(assign, CORRAL_DIR_ASSIGN);
    NAME(done, CORRAL_DIR_DONE);
    NAME(fleet, CORRAL_DIR_FLEET);
    NAME(events, CORRAL_DIR_EVENTS);
    NAME(output, CORRAL_DIR_OUTPUT);
    NAME(election, CORRAL_DIR_ELECTION);
    NAME(idem, CORRAL_DIR_IDEM);
    NAME(schedules, CORRAL_DIR_SCHEDULES);
    NAME(deps, CORRAL_DIR_DEPS);
#undef NAME
    const int R = CORRAL_PERM_READ, W = CORRAL_PERM_WRITE, C = CORRAL_PERM_CREATE,
              D = CORRAL_PERM_DELETE, A = CORRAL_PERM_ALL;
    struct {
        const char *dir, *rest;
        int workers, owner, creator;
        const char *owner_id;
    } cases[] = {
        {"", "", 0, 0, 0, ""},
        {workers, "", R | C, 0, 0, ""},
        {workers, "/w1", 0, 0, A, ""},
        {workers, "/w1/x", 0, 0, 0, ""},
        {tasks, "", 0, 0, 0, ""},
        {tasks, "/3f", 0, 0, 0, ""},
        {tasks, "/3f/0000018c2b3f4a5b-0a1b2c3d", 0, 0, 0, ""}, /* assignee R | W: below */
        {queue, "", W, 0, 0, ""},
        {queue, "/3f", C, 0, 0, ""},
        {queue, "/3f/entry", 0, 0, 0, ""},
        {assign, "", 0, 0, 0, ""},
        {assign, "/w1", 0, R | D, 0, "w1"},
        {assign, "/w1/0000018c2b3f4a5b-0a1b2c3d", 0, R, 0, "w1"},
        {assign, "/..", 0, 0, 0, ""}, /* not a worker id: nobody's */
        {done, "", C, 0, 0, ""},
        {done, "/h/m/s", C, 0, 0, ""},
        {done, "/h/m/s/entry", 0, 0, 0, ""},
        {fleet, "", 0, 0, 0, ""},
        {fleet, "/w1", R, 0, 0, ""},
        {events, "", R, 0, 0, ""},
        {events, "/0000000000000001", R | C, 0, 0, ""},
        {events, "/0000000000000001/e-0000000001", 0, 0, 0, ""},
        {output, "", C, 0, 0, ""},
        {output, "/0000018c2b3f4a5b-0a1b2c3d", 0, 0, A, ""},
        {election, "", 0, 0, 0, ""},
        {election, "/n_x-0000000001", 0, 0, 0, ""},
        {idem, "/3f/6b6579", 0, 0, 0, ""},
        {schedules, "/nightly", 0, 0, 0, ""},
        {deps, "/3f/a.b", 0, 0, 0, ""},
        {workers, "//w1", 0, 0, 0, ""}, /* an empty part: no rule */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[CORRAL_PATH_MAX];
        snprintf(path, sizeof path, "%s%s%s", ns, cases[i].dir, cases[i].rest);
        struct corral_acl_rule r;
        corral_acl_rule_of(ns, path, &r);
        if (r.workers != cases[i].workers || r.owner != cases[i].owner ||
            r.creator != cases[i].creator || strcmp(r.owner_id, cases[i].owner_id) != 0)
            fail_msg("%s: workers %d owner %d (%s) creator %d", path, r.workers, r.owner,
                     r.owner_id, r.creator);
    }
    /* A task: only the worker it is assigned to, read and write; other nodes grant none. */
    struct corral_acl_rule r;
    char tpath[CORRAL_PATH_MAX];
    snprintf(tpath, sizeof tpath, "%s%s/3f/0000018c2b3f4a5b-0a1b2c3d", ns, tasks);
    corral_acl_rule_of(ns, tpath, &r);
    assert_int_equal(r.assignee, R | W);
    snprintf(tpath, sizeof tpath, "%s%s/w1", ns, workers);
    corral_acl_rule_of(ns, tpath, &r);
    assert_int_equal(r.assignee, 0);
    /* Outside the namespace, or a namespace that merely starts alike. */
    corral_acl_rule_of(ns, "/c", &r);
    assert_int_equal(r.workers | r.owner | r.creator, 0);
    char other[CORRAL_PATH_MAX];
    snprintf(other, sizeof other, "/c/ns2%s", workers);
    corral_acl_rule_of(ns, other, &r);
    assert_int_equal(r.workers | r.owner | r.creator, 0);
    corral_acl_rule_of(NULL, other, &r);
    assert_int_equal(r.workers | r.owner | r.creator, 0);
}

static void replicas_codec(void **state)
{
    (void)state;
    const char *in[] = {"corral:7X7vc4BTHRWbdu4XOhS+Dchsd9k=", "w.w1:prfV8qFNbra982OvpECVRp1zuUQ="};
    char *json = corral_acl_replicas_encode(in, 2);
    assert_non_null(json);
    char ids[CORRAL_ACL_REPLICAS_MAX][CORRAL_DIGEST_ID_MAX + 1];
    size_t n = 9;
    struct corral_error err = {0};
    assert_int_equal(
        corral_acl_replicas_decode(json, strlen(json), ids, CORRAL_ACL_REPLICAS_MAX, &n, &err),
        CORRAL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], in[0]);
    assert_string_equal(ids[1], in[1]);
    free(json);
    const char *bad[] = {
        "",
        "null",
        "[]",
        "{}",
        "{\"replicas\":[]}",
        "{\"replicas\":\"corral:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\"}",
        "{\"replicas\":[1]}",
        "{\"replicas\":[\"corral\"]}",
        "{\"replicas\":[\"corral:x\"]}",                            /* a hash ZooKeeper masked */
        "{\"replicas\":[\":7X7vc4BTHRWbdu4XOhS+Dchsd9k=\"]}",       /* no user */
        "{\"replicas\":[\"a b:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\"]}",    /* a space in the user */
        "{\"replicas\":[\"corral:7X7vc4BTHRWbdu4XOhS+Dchsd9k!\"]}", /* not base64 */
        "{\"replicas\":[\"corral:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\"],\"x\":1}",
        "{\"replicas\":[\"a:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\",\"b:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\","
        "\"c:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\",\"d:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\","
        "\"e:7X7vc4BTHRWbdu4XOhS+Dchsd9k=\"]}", /* more than the maximum */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 9;
        err = (struct corral_error){0};
        if (corral_acl_replicas_decode(bad[i], strlen(bad[i]), ids, CORRAL_ACL_REPLICAS_MAX, &n,
                                       &err) != CORRAL_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(n, 0);
        assert_string_equal(err.field, "replicas");
    }
    assert_int_equal(corral_acl_replicas_decode(NULL, 0, ids, 4, &n, &err), CORRAL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha1_vectors),      cmocka_unit_test(digest_ids),
        cmocka_unit_test(worker_identities), cmocka_unit_test(rules),
        cmocka_unit_test(replicas_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
