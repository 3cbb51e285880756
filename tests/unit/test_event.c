/* SPDX-License-Identifier: MIT */
/* The events feed (corral/event.h): the event znode's data as a txn records it and as a reader
 * decodes it, the generation and event znode names, the seal record, the cursor and the trim
 * rule; the events fields of a txn (copied by a batch, freed by cleanup). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/event.h"
#include "corral/txn.h"

#define NS  "/corral"
#define ID1 "019a1b2c3d4e-9f8e7d6c"
#define ID2 "019a1b2c3d4f-00000001"
#define ID3 "019a1b2c3d50-ffffffff"

static struct corral_event_rec *decode_ok(const char *text, size_t len, size_t *n)
{
    struct corral_event_rec *evs = NULL;
    struct corral_error err = {0};
    int rc = corral_event_decode(text, len, &evs, n, &err);
    if (rc != CORRAL_OK)
        fail_msg("decode %.*s: %s: %s", (int)(len > 200 ? 200 : len), text, err.field, err.msg);
    assert_non_null(evs);
    return evs;
}

static void decode_bad_len(const char *text, size_t len)
{
    static struct corral_event_rec sentinel;
    struct corral_event_rec *evs = &sentinel; /* not NULL: must be reset */
    size_t n = 99;
    struct corral_error err = {0};
    int rc = corral_event_decode(text, len, &evs, &n, &err);
    if (rc != CORRAL_EINVAL)
        fail_msg("decode %.*s: rc %d, want CORRAL_EINVAL", (int)(len > 200 ? 200 : len),
                 text ? text : "(null)", rc);
    assert_int_equal(err.code, CORRAL_EINVAL);
    assert_true(err.msg[0] != '\0');
    assert_null(evs);
    assert_int_equal(n, 0);
}

static void decode_bad(const char *text)
{
    decode_bad_len(text, strlen(text));
}

static void assert_event(const struct corral_event_rec *ev, enum corral_event_kind kind,
                         const char *id, const char *state, uint32_t attempt, const char *worker)
{
    assert_int_equal(ev->kind, kind);
    assert_string_equal(ev->id, id);
    assert_string_equal(ev->state, state);
    assert_int_equal(ev->attempt, attempt);
    assert_string_equal(ev->worker, worker);
}

static void changes_round_trip_in_order(void **state)
{
    (void)state;
    struct corral_txn t;
    corral_txn_init(&t, "x");
    size_t len = 99;
    assert_null(corral_event_node_data(&t, &len)); /* nothing recorded: no event znode */
    assert_int_equal(len, 0);
    assert_int_equal(CORRAL_TXN_EVENT_OPS(&t), 0);

    corral_event_task(&t, NS, ID1, "assigned", 1, "w1");
    corral_event_task(&t, NS, ID2, "queued", 0, NULL);
    corral_event_worker(&t, NS, "w1", CORRAL_EVENT_WORKER_GONE);
    corral_event_task(&t, NS, ID3, "running", 1000000, "");
    corral_event_worker(&t, NS, "node-7.example_com", "draining");
    assert_int_equal(t.events_n, 5);
    assert_string_equal(t.events_ns, NS);
    assert_int_equal(CORRAL_TXN_EVENT_OPS(&t), 2);
    assert_int_equal(t.n, 0); /* the event znode's ops are added at commit, not here */

    char *data = corral_event_node_data(&t, &len);
    assert_non_null(data);
    assert_int_equal(len, strlen(data));
    assert_string_equal(data,
                        "[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"assigned\",\"a\":1,\"w\":\"w1\"},"
                        "{\"k\":\"t\",\"id\":\"" ID2 "\",\"s\":\"queued\",\"a\":0},"
                        "{\"k\":\"w\",\"id\":\"w1\",\"s\":\"gone\"},"
                        "{\"k\":\"t\",\"id\":\"" ID3 "\",\"s\":\"running\",\"a\":1000000},"
                        "{\"k\":\"w\",\"id\":\"node-7.example_com\",\"s\":\"draining\"}]");

    size_t n = 0;
    struct corral_event_rec *evs = decode_ok(data, len, &n);
    assert_int_equal(n, 5);
    assert_event(&evs[0], CORRAL_EVENT_TASK, ID1, "assigned", 1, "w1");
    assert_event(&evs[1], CORRAL_EVENT_TASK, ID2, "queued", 0, "");
    assert_event(&evs[2], CORRAL_EVENT_WORKER, "w1", "gone", 0, "");
    assert_event(&evs[3], CORRAL_EVENT_TASK, ID3, "running", 1000000, "");
    assert_event(&evs[4], CORRAL_EVENT_WORKER, "node-7.example_com", "draining", 0, "");
    free(evs);
    free(data);

    /* Every task state and every worker state of the feed goes through. */
    static const char *const task_states[] = {"queued",    "assigned",  "running",
                                              "succeeded", "failed",    "cancelling",
                                              "cancelled", "scheduled", "waiting"};
    static const char *const worker_states[] = {"active", "cordoned", "draining", "gone"};
    struct corral_txn all;
    corral_txn_init(&all, "all");
    for (size_t i = 0; i < sizeof task_states / sizeof *task_states; i++)
        corral_event_task(&all, NS, ID1, task_states[i], (uint32_t)i, "w-9");
    for (size_t i = 0; i < sizeof worker_states / sizeof *worker_states; i++)
        corral_event_worker(&all, NS, "w-9", worker_states[i]);
    data = corral_event_node_data(&all, &len);
    evs = decode_ok(data, len, &n);
    assert_int_equal(n, 13);
    for (size_t i = 0; i < 9; i++)
        assert_event(&evs[i], CORRAL_EVENT_TASK, ID1, task_states[i], (uint32_t)i, "w-9");
    for (size_t i = 0; i < 4; i++)
        assert_event(&evs[9 + i], CORRAL_EVENT_WORKER, "w-9", worker_states[i], 0, "");
    free(evs);
    free(data);
    corral_txn_cleanup(&all);
    corral_txn_cleanup(&t);
}

static void requeued_carries_the_outcome(void **state)
{
    (void)state;
    struct corral_txn t;
    corral_txn_init(&t, "x");
    corral_event_task_requeued(&t, NS, ID1, 2, "failed");
    corral_event_task_requeued(&t, NS, ID2, 1, "returned");
    corral_event_task_requeued(&t, NS, ID3, 2, "bogus"); /* not an outcome: left out */
    size_t len = 0, n = 0;
    char *data = corral_event_node_data(&t, &len);
    struct corral_event_rec *evs = decode_ok(data, len, &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].state, "queued");
    assert_int_equal(evs[0].attempt, 2);
    assert_string_equal(evs[0].outcome, "failed");
    assert_string_equal(evs[1].outcome, "returned");
    free(evs);
    free(data);
    corral_txn_cleanup(&t);
    /* A plain change has none; an unknown outcome in a node is refused; a worker's is ignored. */
    corral_txn_init(&t, "x");
    corral_event_task(&t, NS, ID1, "queued", 1, NULL);
    data = corral_event_node_data(&t, &len);
    evs = decode_ok(data, len, &n);
    assert_string_equal(evs[0].outcome, "");
    free(evs);
    free(data);
    corral_txn_cleanup(&t);
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":2,\"o\":\"nope\"}]");
    const char *w = "[{\"k\":\"w\",\"id\":\"w1\",\"s\":\"active\",\"o\":\"failed\"}]";
    evs = decode_ok(w, strlen(w), &n);
    assert_string_equal(evs[0].outcome, "");
    free(evs);
}

static void invalid_changes_are_left_out(void **state)
{
    (void)state;
    char long_name[CORRAL_WORKER_ID_MAX + 2];
    memset(long_name, 'w', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0'; /* one byte over CORRAL_WORKER_ID_MAX */

    struct corral_txn t;
    corral_txn_init(&t, "x");
    corral_event_task(&t, NS, "019a1b2c3d4e/9f8e7d6c", "queued", 1, NULL);
    corral_event_task(&t, NS, "019a1b2c3d4e\"9f8e7d6", "queued", 1, NULL);
    corral_event_task(&t, NS, "", "queued", 1, NULL);
    corral_event_task(&t, NS, NULL, "queued", 1, NULL);
    corral_event_task(&t, NS, "..", "queued", 1, NULL);
    corral_event_task(&t, NS, ID1, "bogus", 1, NULL);
    corral_event_task(&t, NS, ID1, NULL, 1, NULL);
    corral_event_task(&t, NS, ID1, "active", 1, NULL); /* a worker state */
    corral_event_task(&t, NS, ID1, "Queued", 1, NULL);
    corral_event_task(&t, NS, ID1, "assigned", 1, "w/1");
    corral_event_task(&t, NS, ID1, "assigned", 1, "w\"1");
    corral_event_task(&t, NS, ID1, "assigned", 1, long_name);
    corral_event_worker(&t, NS, "w/1", "active");
    corral_event_worker(&t, NS, "w\"1", "active");
    corral_event_worker(&t, NS, "w\\1", "active");
    corral_event_worker(&t, NS, "", "active");
    corral_event_worker(&t, NS, NULL, "active");
    corral_event_worker(&t, NS, long_name, "active");
    corral_event_worker(&t, NS, "w1", "queued"); /* a task state */
    corral_event_worker(&t, NS, "w1", "bogus");
    corral_event_worker(&t, NS, "w1", NULL);
    assert_int_equal(t.events_n, 0);
    assert_int_equal(CORRAL_TXN_EVENT_OPS(&t), 0);
    size_t len = 99;
    assert_null(corral_event_node_data(&t, &len));
    assert_int_equal(len, 0);

    /* The longest valid name is kept, and a valid change after refused ones is recorded. */
    long_name[CORRAL_WORKER_ID_MAX] = '\0';
    corral_event_task(&t, NS, ID1, "assigned", 2, long_name);
    corral_event_worker(&t, NS, long_name, "cordoned");
    corral_event_worker(&t, NS, "w1", "bogus");
    assert_int_equal(t.events_n, 2);
    char *data = corral_event_node_data(&t, &len);
    size_t n = 0;
    struct corral_event_rec *evs = decode_ok(data, len, &n);
    assert_int_equal(n, 2);
    assert_event(&evs[0], CORRAL_EVENT_TASK, ID1, "assigned", 2, long_name);
    assert_event(&evs[1], CORRAL_EVENT_WORKER, long_name, "cordoned", 0, "");
    free(evs);
    free(data);
    corral_txn_cleanup(&t);
}

#define TEV(id, s) "{\"k\":\"t\",\"id\":\"" id "\",\"s\":\"" s "\",\"a\":1}"
#define WEV(id, s) "{\"k\":\"w\",\"id\":\"" id "\",\"s\":\"" s "\"}"

static void hostile_nodes_are_refused(void **state)
{
    (void)state;
    /* Not an array of 1..CORRAL_EVENTS_PER_NODE_MAX objects. */
    decode_bad("{}");
    decode_bad("{\"k\":\"w\",\"id\":\"w1\",\"s\":\"active\"}");
    decode_bad("\"[]\"");
    decode_bad("1");
    decode_bad("null");
    decode_bad("[]");
    decode_bad("[1]");
    decode_bad("[null]");
    decode_bad("[[]]");
    decode_bad("[\"" ID1 "\"]");
    decode_bad("[" WEV("w1", "active") ",7]");

    /* Not JSON: empty, truncated, trailing bytes, invalid UTF-8, NUL. */
    decode_bad("");
    decode_bad("[");
    decode_bad("[" WEV("w1", "active"));
    decode_bad("[{\"k\":\"t\",\"id\":\"019a1b2c");
    decode_bad("[" WEV("w1", "active") "]x");
    decode_bad("[" WEV("w1", "active") "][]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w\xff\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w\xc3\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w\\u0000x\",\"s\":\"active\"}]");
    decode_bad_len("[" WEV("w1", "active") "]\0", sizeof("[" WEV("w1", "active") "]"));
    decode_bad_len(NULL, 0);

    /* Ids. */
    decode_bad("[" TEV("abc", "queued") "]"); /* a worker-like name is not a task id */
    decode_bad("[" TEV("019A1B2C3D4E-9F8E7D6C", "queued") "]");
    decode_bad("[" TEV("019a1b2c3d4e-9f8e7d6", "queued") "]");
    decode_bad("[" TEV("019a1b2c3d4e-9f8e7d6c0", "queued") "]");
    decode_bad("[" TEV("019a1b2c3d4e_9f8e7d6c", "queued") "]");
    decode_bad("[" TEV("", "queued") "]");
    decode_bad("[" WEV("w/1", "active") "]");
    decode_bad("[" WEV("..", "active") "]");
    decode_bad("[" WEV("", "active") "]");
    decode_bad("[" WEV("w 1", "active") "]");
    decode_bad("[{\"k\":\"t\",\"s\":\"queued\",\"a\":1}]");
    decode_bad("[{\"k\":\"w\",\"s\":\"active\"}]");
    char text[1024];
    char long_name[CORRAL_WORKER_ID_MAX + 2];
    memset(long_name, 'w', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    snprintf(text, sizeof text, "[{\"k\":\"w\",\"id\":\"%s\",\"s\":\"active\"}]", long_name);
    decode_bad(text);
    snprintf(text, sizeof text,
             "[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"running\",\"a\":1,\"w\":\"%s\"}]",
             long_name);
    decode_bad(text);

    /* Kinds and states. */
    decode_bad("[{\"k\":\"x\",\"id\":\"w1\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"tw\",\"id\":\"w1\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"\",\"id\":\"w1\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"T\",\"id\":\"" ID1 "\",\"s\":\"queued\"}]");
    decode_bad("[{\"id\":\"w1\",\"s\":\"active\"}]");
    decode_bad("[" TEV(ID1, "bogus") "]");
    decode_bad("[" TEV(ID1, "active") "]");  /* a worker state on a task */
    decode_bad("[" WEV("w1", "queued") "]"); /* a task state on a worker */
    decode_bad("[" WEV("w1", "") "]");
    decode_bad("[" WEV("w1", "gonegonegonegonegone") "]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w1\"}]");

    /* Types and ranges. */
    decode_bad("[{\"k\":1,\"id\":\"w1\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"w\",\"id\":1,\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"w\",\"id\":[\"w1\"],\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w1\",\"s\":null}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":\"1\"}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":1.0}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":-1}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":true}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":1000001}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":4294967296}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":99999999999999999999}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"running\",\"a\":1,\"w\":1}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"running\",\"a\":1,\"w\":\"\"}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"running\",\"a\":1,\"w\":\"a/b\"}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"running\",\"a\":1,\"w\":null}]");

    /* Duplicate keys, at either level. */
    decode_bad("[{\"k\":\"w\",\"k\":\"w\",\"id\":\"w1\",\"s\":\"active\"}]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w1\",\"s\":\"active\",\"s\":\"gone\"}]");
    decode_bad("[{\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"queued\",\"a\":1,\"a\":2}]");
    decode_bad("[{\"k\":\"w\",\"id\":\"w1\",\"s\":\"active\",\"x\":{\"y\":1,\"y\":2}}]");

    /* One bad entry refuses the whole node. */
    decode_bad("[" WEV("w1", "active") "," TEV(ID1, "queued") "," WEV("w1", "bogus") "]");

    /* What the decoder accepts: unknown fields, no attempt, the largest attempt, spacing. */
    size_t n = 0;
    const char *ok =
        " [ {\"future\":{\"x\":[1,2]},\"k\":\"t\",\"id\":\"" ID1 "\",\"s\":\"failed\"},"
        "{\"k\":\"t\",\"id\":\"" ID2 "\",\"s\":\"running\",\"a\":1000000,"
        "\"w\":\"w.2\",\"extra\":null} ]\n";
    struct corral_event_rec *evs = decode_ok(ok, strlen(ok), &n);
    assert_int_equal(n, 2);
    assert_event(&evs[0], CORRAL_EVENT_TASK, ID1, "failed", 0, "");
    assert_event(&evs[1], CORRAL_EVENT_TASK, ID2, "running", 1000000, "w.2");
    free(evs);
}

/* "[" + count copies of one worker event + "]" */
static char *many(size_t count, size_t *len)
{
    static const char one[] = WEV("w1", "active");
    size_t per = sizeof one - 1;
    char *s = malloc(count * (per + 1) + 3);
    assert_non_null(s);
    size_t at = 0;
    s[at++] = '[';
    for (size_t i = 0; i < count; i++) {
        if (i)
            s[at++] = ',';
        memcpy(s + at, one, per);
        at += per;
    }
    s[at++] = ']';
    s[at] = '\0';
    *len = at;
    return s;
}

static void node_limits(void **state)
{
    (void)state;
    size_t len, n = 0;
    char *s = many(CORRAL_EVENTS_PER_NODE_MAX, &len);
    struct corral_event_rec *evs = decode_ok(s, len, &n);
    assert_int_equal(n, CORRAL_EVENTS_PER_NODE_MAX);
    assert_event(&evs[CORRAL_EVENTS_PER_NODE_MAX - 1], CORRAL_EVENT_WORKER, "w1", "active", 0, "");
    free(evs);
    free(s);
    s = many(CORRAL_EVENTS_PER_NODE_MAX + 1, &len);
    decode_bad_len(s, len);
    free(s);

    /* Bytes: over CORRAL_EVENTS_NODE_MAX is refused before parsing, even when valid JSON. */
    size_t big = CORRAL_EVENTS_NODE_MAX + 1;
    char *pad = malloc(big + 1);
    assert_non_null(pad);
    static const char one[] = "[" WEV("w1", "active") "]";
    memset(pad, ' ', big);
    memcpy(pad, one, sizeof one - 1);
    pad[big] = '\0';
    decode_bad_len(pad, big);
    evs = decode_ok(pad, big - 1, &n); /* exactly CORRAL_EVENTS_NODE_MAX bytes */
    assert_int_equal(n, 1);
    free(evs);
    free(pad);
}

static void batches_concatenate_and_cleanup_frees(void **state)
{
    (void)state;
    struct corral_txn a, b, empty, batch;
    corral_txn_init(&a, "member.a");
    corral_txn_init(&b, "member.b");
    corral_txn_init(&empty, "member.empty");
    corral_txn_init(&batch, "batch");
    corral_event_task(&a, NS, ID1, "queued", 0, NULL);
    corral_event_task(&a, NS, ID2, "queued", 0, NULL);
    corral_event_worker(&b, NS, "w1", "active");

    corral_txn_copy_events(&batch, &a);
    corral_txn_copy_events(&batch, &empty); /* nothing recorded: nothing added */
    corral_txn_copy_events(&batch, &b);
    assert_int_equal(batch.events_n, 3);
    assert_string_equal(batch.events_ns, NS);
    assert_int_equal(empty.events_n, 0);
    assert_null(corral_event_node_data(&empty, &(size_t){0}));
    /* The members keep theirs. */
    assert_int_equal(a.events_n, 2);
    assert_int_equal(b.events_n, 1);

    size_t len, n = 0;
    char *data = corral_event_node_data(&batch, &len);
    struct corral_event_rec *evs = decode_ok(data, len, &n);
    assert_int_equal(n, 3);
    assert_event(&evs[0], CORRAL_EVENT_TASK, ID1, "queued", 0, "");
    assert_event(&evs[1], CORRAL_EVENT_TASK, ID2, "queued", 0, "");
    assert_event(&evs[2], CORRAL_EVENT_WORKER, "w1", "active", 0, "");
    free(evs);
    free(data);

    /* A batch that already records changes of its own appends after them. */
    corral_event_worker(&batch, NS, "w2", "gone");
    corral_txn_copy_events(&batch, &a);
    data = corral_event_node_data(&batch, &len);
    evs = decode_ok(data, len, &n);
    assert_int_equal(n, 6);
    assert_event(&evs[3], CORRAL_EVENT_WORKER, "w2", "gone", 0, "");
    assert_event(&evs[4], CORRAL_EVENT_TASK, ID1, "queued", 0, "");
    assert_event(&evs[5], CORRAL_EVENT_TASK, ID2, "queued", 0, "");
    free(evs);
    free(data);

    /* Many changes (the buffer grows) stay whole and in order. */
    struct corral_txn big;
    corral_txn_init(&big, "big");
    for (uint32_t i = 0; i < 2000; i++)
        corral_event_task(&big, NS, ID3, "assigned", i % 1000, "w1");
    corral_txn_copy_events(&batch, &big);
    assert_int_equal(batch.events_n, 2006);
    data = corral_event_node_data(&batch, &len);
    evs = decode_ok(data, len, &n);
    assert_int_equal(n, 2006);
    for (uint32_t i = 0; i < 2000; i++)
        assert_event(&evs[6 + i], CORRAL_EVENT_TASK, ID3, "assigned", i % 1000, "w1");
    free(evs);
    free(data);

    /* Cleanup frees the events (ASan build: no leak), is idempotent, and the txn is usable
     * again. */
    corral_txn_cleanup(&big);
    corral_txn_cleanup(&batch);
    assert_null(batch.events);
    assert_null(batch.events_ns);
    assert_int_equal(batch.events_n, 0);
    assert_int_equal(batch.events_len, 0);
    assert_int_equal(CORRAL_TXN_EVENT_OPS(&batch), 0);
    corral_txn_cleanup(&batch);
    corral_event_worker(&batch, "/other", "w3", "active");
    assert_string_equal(batch.events_ns, "/other");
    data = corral_event_node_data(&batch, &len);
    assert_string_equal(data, "[" WEV("w3", "active") "]");
    free(data);
    corral_txn_cleanup(&batch);

    struct corral_txn zero = {0};
    corral_txn_cleanup(&zero);
    corral_txn_copy_events(&zero, &a); /* a zeroed txn takes changes too */
    assert_int_equal(zero.events_n, 2);
    corral_txn_cleanup(&zero);

    corral_txn_cleanup(&a);
    corral_txn_cleanup(&b);
    corral_txn_cleanup(&empty);
}

static void generation_and_event_names(void **state)
{
    (void)state;
    char name[17];
    static const int64_t gens[] = {1,
                                   2,
                                   9,
                                   10,
                                   123456789,
                                   1000000000000000LL,
                                   CORRAL_EVENTS_GEN_MAX - 1,
                                   CORRAL_EVENTS_GEN_MAX};
    for (size_t i = 0; i < sizeof gens / sizeof *gens; i++) {
        memset(name, 'x', sizeof name);
        corral_event_gen_name(name, gens[i]);
        assert_int_equal(strlen(name), 16);
        assert_true(corral_event_gen_parse(name) == gens[i]);
    }
    corral_event_gen_name(name, 1);
    assert_string_equal(name, "0000000000000001");
    corral_event_gen_name(name, CORRAL_EVENTS_GEN_MAX);
    assert_string_equal(name, "9999999999999999");
    corral_event_gen_name(name, 1765000000123LL);
    assert_string_equal(name, "0001765000000123");
    /* Out of range never writes something that is not a generation name. */
    corral_event_gen_name(name, 0);
    assert_true(corral_event_gen_parse(name) >= 1);
    corral_event_gen_name(name, -5);
    assert_true(corral_event_gen_parse(name) >= 1);
    corral_event_gen_name(name, CORRAL_EVENTS_GEN_MAX + 1);
    assert_true(corral_event_gen_parse(name) >= 1);

    static const char *const bad_gens[] = {
        "",
        "000000000000001",   /* 15 digits */
        "00000000000000001", /* 17 */
        "0000000000000000",  /* 0 */
        "000000000000000a",
        "-000000000000001",
        "+000000000000001",
        " 000000000000001",
        "000000000000001 ",
        "0x00000000000001",
        "e-0000000001",
        "00000000000000-1",
    };
    for (size_t i = 0; i < sizeof bad_gens / sizeof *bad_gens; i++) {
        if (corral_event_gen_parse(bad_gens[i]) != -1)
            fail_msg("gen_parse accepted \"%s\"", bad_gens[i]);
    }

    assert_int_equal(corral_event_seq_parse("e-0000000000"), 0);
    assert_int_equal(corral_event_seq_parse("e-0000000001"), 1);
    assert_int_equal(corral_event_seq_parse("e-0000009999"), 9999);
    assert_int_equal(corral_event_seq_parse("e-2147483647"), INT32_MAX);
    static const char *const bad_seqs[] = {
        "",
        "e-",
        "e-123",
        "x-0000000001",
        "E-0000000001",
        "e_0000000001",
        "-0000000001",
        "e-000000001",   /* 9 digits */
        "e-00000000001", /* 11 */
        "e-2147483648",  /* INT32_MAX + 1 */
        "e-9999999999",
        "e-000000000a",
        "e--000000001",
        "e-+000000001",
        "e- 000000001",
        "e-0000000001 ",
        "0000000001",
        "0000000000000001",
    };
    for (size_t i = 0; i < sizeof bad_seqs / sizeof *bad_seqs; i++) {
        if (corral_event_seq_parse(bad_seqs[i]) != -1)
            fail_msg("seq_parse accepted \"%s\"", bad_seqs[i]);
    }
}

static void cursor_round_trip(const struct corral_event_cursor *c, const char *want)
{
    char text[CORRAL_EVENT_CURSOR_MAX];
    memset(text, 'x', sizeof text);
    corral_event_cursor_format(c, text);
    assert_string_equal(text, want);
    struct corral_event_cursor back = {.gen = -7, .seq = -7, .idx = 7};
    assert_true(corral_event_cursor_parse(text, &back));
    assert_true(back.gen == c->gen);
    assert_int_equal(back.seq, c->seq);
    assert_int_equal(back.idx, c->idx);
}

static void cursors(void **state)
{
    (void)state;
    cursor_round_trip(&(struct corral_event_cursor){1, 0, 0}, "1-0-0");
    cursor_round_trip(&(struct corral_event_cursor){12, 345, 6}, "12-345-6");
    cursor_round_trip(
        &(struct corral_event_cursor){CORRAL_EVENTS_GEN_MAX, INT32_MAX, CORRAL_EVENTS_PER_NODE_MAX},
        "9999999999999999-2147483647-4096");
    assert_true(strlen("9999999999999999-2147483647-4096") < CORRAL_EVENT_CURSOR_MAX);

    static const char *const bad[] = {
        "",
        "1-2",
        "1-2-3-4",
        "01-2-3", /* leading zeros: not a cursor corral makes */
        "1-02-3",
        "1-2-03",
        "00-0-0",
        "0-0-0", /* generation 0 does not exist */
        "0-1-1",
        "-1-2-3",
        "1--2",
        "1--2-3",
        "1-2-",
        "-1-2",
        "--",
        "-",
        "1-2-x",
        "x-2-3",
        "1-x-3",
        "1-2-3x",
        "a",
        "+1-2-3",
        "1-+2-3",
        " 1-2-3",
        "1-2-3 ",
        "1-2-3\n",
        "1.0-2-3",
        "0x1-2-3",
        "10000000000000000-0-0", /* gen over CORRAL_EVENTS_GEN_MAX */
        "99999999999999999-0-0",
        "1-2147483648-0", /* seq over INT32_MAX */
        "1-9999999999-0",
        "1-99999999999-0",
        "1-0-4097", /* idx over CORRAL_EVENTS_PER_NODE_MAX */
        "1-0-99999",
        "1-0-4294967296",
        "1-0-000000000000000000000000000000000000001",
        "1234567890123456789012345678901234567890-0-0",
        "1-1234567890123456789012345678901234567890-0",
        "1-2-1234567890123456789012345678901234567890",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct corral_event_cursor c = {.gen = 5, .seq = 6, .idx = 7};
        if (corral_event_cursor_parse(bad[i], &c))
            fail_msg("cursor_parse accepted \"%s\"", bad[i]);
        assert_true(c.gen == 5 && c.seq == 6 && c.idx == 7); /* untouched */
    }
    struct corral_event_cursor c;
    assert_true(corral_event_cursor_parse("9999999999999999-0-0", &c));
    assert_true(c.gen == CORRAL_EVENTS_GEN_MAX);
    assert_true(corral_event_cursor_parse("3-2147483647-0", &c));
    assert_int_equal(c.seq, INT32_MAX);
}

static void seal_records(void **state)
{
    (void)state;
    static const int64_t times[] = {0, 1, 1765000000123LL, INT64_MAX};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        char *s = corral_event_seal_encode(times[i]);
        assert_non_null(s);
        assert_true(corral_event_seal_decode(s, strlen(s)) == times[i]);
        free(s);
    }
    char *s = corral_event_seal_encode(1765000000123LL);
    assert_string_equal(s, "{\"sealed_ms\":1765000000123}");
    free(s);
    s = corral_event_seal_encode(-1); /* never writes the "not sealed" value */
    assert_true(corral_event_seal_decode(s, strlen(s)) >= 0);
    free(s);

    /* A current generation folder: empty data; anything else that is not a seal. */
    static const char *const bad[] = {
        "",
        "{}",
        "garbage",
        "[]",
        "null",
        "1765000000123",
        "{\"sealed_ms\":-1}",
        "{\"sealed_ms\":\"1\"}",
        "{\"sealed_ms\":1.5}",
        "{\"sealed_ms\":null}",
        "{\"sealed_ms\":9223372036854775808}",
        "{\"sealed_ms\":1,\"sealed_ms\":2}",
        "{\"sealed_ms\":1",
        "{\"sealed\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (corral_event_seal_decode(bad[i], strlen(bad[i])) != -1)
            fail_msg("seal_decode accepted \"%s\"", bad[i]);
    }
    assert_true(corral_event_seal_decode(NULL, 0) == -1);
    assert_true(corral_event_seal_decode("{\"sealed_ms\":5}", 0) == -1);
    const char *extra = "{\"sealed_ms\":5,\"by\":\"x\"}"; /* unknown fields are ignored */
    assert_true(corral_event_seal_decode(extra, strlen(extra)) == 5);
}

#define NOW    (1765000000000LL)
#define OLD    (NOW - CORRAL_EVENTS_KEEP_MS - 1) /* sealed more than KEEP_MS ago */
#define RECENT (NOW - CORRAL_EVENTS_KEEP_MS)     /* exactly KEEP_MS ago: kept */
#define CUR    (-1)                              /* not sealed */

static void trim_rule(void **state)
{
    (void)state;
    assert_int_equal(corral_event_trim_count(NULL, 0, NOW), 0);
    assert_int_equal(corral_event_trim_count((int64_t[]){CUR}, 1, NOW), 0);
    assert_int_equal(corral_event_trim_count((int64_t[]){OLD}, 1, NOW), 0);

    /* Old sealed generations go; the newest never does, sealed or not. */
    assert_int_equal(corral_event_trim_count((int64_t[]){OLD, CUR}, 2, NOW), 1);
    assert_int_equal(corral_event_trim_count((int64_t[]){OLD, OLD, OLD, CUR}, 4, NOW), 3);
    assert_int_equal(corral_event_trim_count((int64_t[]){OLD, OLD}, 2, NOW), 1);
    assert_int_equal(corral_event_trim_count((int64_t[]){0, 1, CUR}, 3, NOW), 2);

    /* Recent ones stay, and so does everything after them. */
    assert_int_equal(corral_event_trim_count((int64_t[]){RECENT, CUR}, 2, NOW), 0);
    assert_int_equal(corral_event_trim_count((int64_t[]){NOW, CUR}, 2, NOW), 0);
    assert_int_equal(corral_event_trim_count((int64_t[]){NOW + 5000, CUR}, 2, NOW), 0);
    assert_int_equal(corral_event_trim_count((int64_t[]){OLD, OLD, RECENT, CUR}, 4, NOW), 2);

    /* An unsealed generation stops the trim. */
    assert_int_equal(corral_event_trim_count((int64_t[]){CUR, OLD, CUR}, 3, NOW), 0);
    assert_int_equal(corral_event_trim_count((int64_t[]){OLD, CUR, OLD, CUR}, 4, NOW), 1);

    /* At most CORRAL_EVENTS_KEEP_GENS recent sealed ones are kept: only the excess oldest go. */
    enum { N = CORRAL_EVENTS_KEEP_GENS + 20 };
    int64_t g[N + 1];
    for (size_t extra = 0; extra <= 20; extra++) {
        size_t n = CORRAL_EVENTS_KEEP_GENS + extra + 1; /* sealed ones + the current one */
        for (size_t i = 0; i + 1 < n; i++)
            g[i] = RECENT + (int64_t)i;
        g[n - 1] = CUR;
        assert_int_equal(corral_event_trim_count(g, n, NOW), extra);
    }
    /* Old ones go first, then the excess of recent ones. */
    for (size_t i = 0; i < 5; i++)
        g[i] = OLD;
    for (size_t i = 5; i < 5 + CORRAL_EVENTS_KEEP_GENS + 3; i++)
        g[i] = RECENT;
    g[5 + CORRAL_EVENTS_KEEP_GENS + 3] = CUR;
    assert_int_equal(corral_event_trim_count(g, 5 + CORRAL_EVENTS_KEEP_GENS + 4, NOW), 8);
    /* Exactly KEEP_GENS recent sealed ones and the current one: nothing to do. */
    for (size_t i = 0; i < CORRAL_EVENTS_KEEP_GENS; i++)
        g[i] = NOW - 1000;
    g[CORRAL_EVENTS_KEEP_GENS] = CUR;
    assert_int_equal(corral_event_trim_count(g, CORRAL_EVENTS_KEEP_GENS + 1, NOW), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(changes_round_trip_in_order),
        cmocka_unit_test(requeued_carries_the_outcome),
        cmocka_unit_test(invalid_changes_are_left_out),
        cmocka_unit_test(hostile_nodes_are_refused),
        cmocka_unit_test(node_limits),
        cmocka_unit_test(batches_concatenate_and_cleanup_frees),
        cmocka_unit_test(generation_and_event_names),
        cmocka_unit_test(cursors),
        cmocka_unit_test(seal_records),
        cmocka_unit_test(trim_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
