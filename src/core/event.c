/* SPDX-License-Identifier: MIT */
/* The events feed's formats and trim rule (event.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/event.h"
#include "corral/fleet.h"
#include "corral/id.h"
#include "corral/jsonx.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "corral/xalloc.h"

#define ATTEMPT_MAX 1000000u

static bool state_ok(enum corral_event_kind kind, const char *s)
{
    if (kind == CORRAL_EVENT_TASK)
        return corral_state_parse(s) >= 0;
    return strcmp(s, "active") == 0 || strcmp(s, "cordoned") == 0 || strcmp(s, "draining") == 0 ||
           strcmp(s, CORRAL_EVENT_WORKER_GONE) == 0;
}

/* Ids and states are validated names ([A-Za-z0-9._-]): no byte needs escaping. A change whose
 * names are not valid is a bug upstream; it is left out of the feed rather than written. */
static bool outcome_ok(const char *o)
{
    for (int i = 0; i < CORRAL_OUTCOME_COUNT; i++)
        if (strcmp(o, corral_outcome_name((enum corral_outcome)i)) == 0)
            return true;
    return false;
}

static void add(struct corral_txn *txn, const char *ns, enum corral_event_kind kind, const char *id,
                const char *state, uint32_t attempt, const char *worker, const char *outcome)
{
    /* Exactly what the decoder accepts: one bad change must not make its whole node unreadable. */
    if (!id || !(kind == CORRAL_EVENT_TASK ? corral_id_is_valid(id) : corral_path_valid_name(id)) ||
        !state || !state_ok(kind, state) || attempt > ATTEMPT_MAX ||
        (worker && worker[0] && !corral_path_valid_name(worker)) ||
        (outcome && (kind != CORRAL_EVENT_TASK || !outcome_ok(outcome))))
        return;
    char buf[64 + 2 * CORRAL_WORKER_ID_MAX + 32];
    int n;
    if (kind == CORRAL_EVENT_WORKER)
        n = snprintf(buf, sizeof buf, "{\"k\":\"w\",\"id\":\"%s\",\"s\":\"%s\"}", id, state);
    else if (outcome)
        n = snprintf(buf, sizeof buf,
                     "{\"k\":\"t\",\"id\":\"%s\",\"s\":\"%s\",\"a\":%" PRIu32 ",\"o\":\"%s\"}", id,
                     state, attempt, outcome);
    else if (worker && worker[0])
        n = snprintf(buf, sizeof buf,
                     "{\"k\":\"t\",\"id\":\"%s\",\"s\":\"%s\",\"a\":%" PRIu32 ",\"w\":\"%s\"}", id,
                     state, attempt, worker);
    else
        n = snprintf(buf, sizeof buf, "{\"k\":\"t\",\"id\":\"%s\",\"s\":\"%s\",\"a\":%" PRIu32 "}",
                     id, state, attempt);
    if (n > 0 && (size_t)n < sizeof buf)
        corral_txn_add_event(txn, ns, buf, (size_t)n);
}

void corral_event_task(struct corral_txn *txn, const char *ns, const char *id, const char *state,
                       uint32_t attempt, const char *worker)
{
    add(txn, ns, CORRAL_EVENT_TASK, id, state, attempt, worker, NULL);
}

void corral_event_task_requeued(struct corral_txn *txn, const char *ns, const char *id,
                                uint32_t attempt, const char *outcome)
{
    add(txn, ns, CORRAL_EVENT_TASK, id, "queued", attempt, NULL, outcome);
}

void corral_event_worker(struct corral_txn *txn, const char *ns, const char *worker,
                         const char *state)
{
    add(txn, ns, CORRAL_EVENT_WORKER, worker, state, 0, NULL, NULL);
}

char *corral_event_node_data(const struct corral_txn *txn, size_t *len)
{
    if (txn->events_n == 0) {
        *len = 0;
        return NULL;
    }
    char *out = corral_xmalloc(txn->events_len + 3);
    out[0] = '[';
    memcpy(out + 1, txn->events, txn->events_len);
    out[txn->events_len + 1] = ']';
    out[txn->events_len + 2] = '\0';
    *len = txn->events_len + 2;
    return out;
}

static int decode_one(const json_t *o, size_t i, struct corral_event_rec *ev,
                      struct corral_error *err)
{
    char field[32];
    snprintf(field, sizeof field, "[%zu]", i);
    if (!json_is_object(o))
        return corral_error_set(err, CORRAL_EINVAL, field, "must be an object");
    const char *k = NULL, *id = NULL, *s = NULL, *w = NULL, *oc = NULL;
    uint64_t a = 0;
    int rc = corral_json_get_str(o, "k", true, 1, false, &k, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "id", true, CORRAL_WORKER_ID_MAX, false, &id, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "s", true, sizeof ev->state - 1, false, &s, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "a", false, ATTEMPT_MAX, &a, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "w", false, CORRAL_WORKER_ID_MAX, false, &w, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "o", false, sizeof ev->outcome - 1, false, &oc, err);
    if (rc != CORRAL_OK)
        return rc;
    if (strcmp(k, "t") == 0)
        ev->kind = CORRAL_EVENT_TASK;
    else if (strcmp(k, "w") == 0)
        ev->kind = CORRAL_EVENT_WORKER;
    else
        return corral_error_set(err, CORRAL_EINVAL, field, "unknown kind");
    if (ev->kind == CORRAL_EVENT_TASK ? !corral_id_is_valid(id) : !corral_path_valid_name(id))
        return corral_error_set(err, CORRAL_EINVAL, field, "invalid id");
    if (!state_ok(ev->kind, s))
        return corral_error_set(err, CORRAL_EINVAL, field, "unknown state");
    if (w && !corral_path_valid_name(w))
        return corral_error_set(err, CORRAL_EINVAL, field, "invalid worker");
    if (oc && !outcome_ok(oc))
        return corral_error_set(err, CORRAL_EINVAL, field, "unknown outcome");
    snprintf(ev->id, sizeof ev->id, "%s", id);
    snprintf(ev->state, sizeof ev->state, "%s", s);
    /* A worker's change has no attempt and no worker of its own: ignored if present. */
    bool task = ev->kind == CORRAL_EVENT_TASK;
    ev->attempt = task ? (uint32_t)a : 0;
    snprintf(ev->worker, sizeof ev->worker, "%s", task && w ? w : "");
    snprintf(ev->outcome, sizeof ev->outcome, "%s", task && oc ? oc : "");
    return CORRAL_OK;
}

int corral_event_decode(const char *buf, size_t len, struct corral_event_rec **out, size_t *n,
                        struct corral_error *err)
{
    *out = NULL;
    *n = 0;
    if (!buf || len > CORRAL_EVENTS_NODE_MAX)
        return corral_error_set(err, CORRAL_EINVAL, "", "event node: over %u bytes",
                                CORRAL_EVENTS_NODE_MAX);
    json_error_t jerr;
    json_t *a = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!a)
        return corral_error_set(err, CORRAL_EINVAL, "", "event node: invalid JSON: %s", jerr.text);
    int rc = CORRAL_OK;
    size_t count = json_is_array(a) ? json_array_size(a) : 0;
    if (!json_is_array(a))
        rc = corral_error_set(err, CORRAL_EINVAL, "", "event node: not an array");
    else if (count == 0 || count > CORRAL_EVENTS_PER_NODE_MAX)
        rc = corral_error_set(err, CORRAL_EINVAL, "", "event node: %zu events (1..%u)", count,
                              CORRAL_EVENTS_PER_NODE_MAX);
    struct corral_event_rec *evs = NULL;
    if (rc == CORRAL_OK) {
        evs = corral_xcalloc(count, sizeof *evs);
        for (size_t i = 0; rc == CORRAL_OK && i < count; i++)
            rc = decode_one(json_array_get(a, i), i, &evs[i], err);
    }
    json_decref(a);
    if (rc != CORRAL_OK) {
        free(evs);
        return rc;
    }
    *out = evs;
    *n = count;
    return CORRAL_OK;
}

void corral_event_gen_name(char out[17], int64_t gen)
{
    if (gen < 1 || gen > CORRAL_EVENTS_GEN_MAX)
        gen = 1;
    snprintf(out, 17, "%016" PRId64, gen);
}

/* A number of exactly width decimal digits (width 0: 1..max_digits digits, no leading zero
 * unless it is "0"). -1 when s is not one. */
static int64_t digits(const char *s, size_t width, size_t max_digits)
{
    size_t n = strlen(s);
    if (width ? n != width : (n == 0 || n > max_digits || (n > 1 && s[0] == '0')))
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int64_t corral_event_gen_parse(const char *name)
{
    int64_t g = digits(name, 16, 0);
    return g >= 1 ? g : -1;
}

int32_t corral_event_seq_parse(const char *name)
{
    if (strncmp(name, "e-", 2) != 0)
        return -1;
    int64_t s = digits(name + 2, 10, 0);
    return s >= 0 && s <= INT32_MAX ? (int32_t)s : -1;
}

char *corral_event_seal_encode(int64_t sealed_ms)
{
    char buf[48];
    snprintf(buf, sizeof buf, "{\"sealed_ms\":%" PRId64 "}", sealed_ms < 0 ? 0 : sealed_ms);
    return corral_xstrdup(buf);
}

int64_t corral_event_seal_decode(const char *buf, size_t len)
{
    if (!buf || len == 0)
        return -1;
    json_t *o = corral_json_load_object(buf, len, 256, "event generation", NULL);
    if (!o)
        return -1;
    uint64_t ms = 0;
    int rc = corral_json_get_u64(o, "sealed_ms", true, (uint64_t)INT64_MAX, &ms, NULL);
    json_decref(o);
    return rc == CORRAL_OK ? (int64_t)ms : -1;
}

void corral_event_cursor_format(const struct corral_event_cursor *c,
                                char out[CORRAL_EVENT_CURSOR_MAX])
{
    snprintf(out, CORRAL_EVENT_CURSOR_MAX, "%" PRId64 "-%" PRId32 "-%" PRIu32, c->gen, c->seq,
             c->idx);
}

bool corral_event_cursor_parse(const char *s, struct corral_event_cursor *out)
{
    char part[3][24];
    size_t k = 0, j = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '-') {
            if (k == 2)
                return false;
            part[k][j] = '\0';
            k++;
            j = 0;
            continue;
        }
        if (j + 1 >= sizeof part[0])
            return false;
        part[k][j++] = *p;
    }
    if (k != 2)
        return false;
    part[2][j] = '\0';
    int64_t g = digits(part[0], 0, 16), q = digits(part[1], 0, 10), i = digits(part[2], 0, 5);
    if (g < 1 || g > CORRAL_EVENTS_GEN_MAX || q < 0 || q > INT32_MAX || i < 0 ||
        i > (int64_t)CORRAL_EVENTS_PER_NODE_MAX)
        return false;
    *out = (struct corral_event_cursor){.gen = g, .seq = (int32_t)q, .idx = (uint32_t)i};
    return true;
}

size_t corral_event_trim_count(const int64_t *sealed_ms, size_t n, int64_t now_ms)
{
    return corral_event_trim_count_with(sealed_ms, n, now_ms, CORRAL_EVENTS_KEEP_MS,
                                        CORRAL_EVENTS_KEEP_GENS);
}

size_t corral_event_trim_count_with(const int64_t *sealed_ms, size_t n, int64_t now_ms,
                                    int64_t keep_ms, size_t keep_gens)
{
    if (n <= 1)
        return 0;
    size_t drop = 0;
    /* Leading sealed generations, oldest first; the newest (current) is never dropped. */
    while (drop < n - 1 && sealed_ms[drop] >= 0) {
        size_t sealed_kept = n - 1 - drop; /* this one and the sealed ones after it */
        bool old = now_ms - sealed_ms[drop] > keep_ms;
        bool too_many = sealed_kept > keep_gens;
        if (!old && !too_many)
            break;
        drop++;
    }
    return drop;
}
