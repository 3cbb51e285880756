/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "event": what a reader of the events feed decodes (corral/event.h). Input: one
 * mode byte, then the data:
 *   'n'  an event znode's data: an accepted node holds 1..CORRAL_EVENTS_PER_NODE_MAX valid
 *        changes; each re-recorded through corral_event_task/_worker in a fresh txn gives node
 *        data that decodes to the same changes, in order, and re-encodes to the same text; a
 *        refusal is CORRAL_EINVAL with nothing returned;
 *   'c'  a cursor: an accepted one is in range, formats back to the same text and parses again
 *        to the same cursor;
 *   'g'  a generation folder or event znode name: an accepted one is the canonical name of the
 *        number it parses to;
 *   's'  a generation folder's data: an accepted seal re-encodes to a seal of the same time.
 */
#include <inttypes.h>

#include "corral/event.h"
#include "corral/id.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "fuzz.h"

static bool worker_state(const char *s)
{
    return strcmp(s, "active") == 0 || strcmp(s, "cordoned") == 0 || strcmp(s, "draining") == 0 ||
           strcmp(s, CORRAL_EVENT_WORKER_GONE) == 0;
}

/* Record the changes of evs in a fresh txn and return its node data. */
static char *reencode(const struct corral_event_rec *evs, size_t n, size_t *len)
{
    struct corral_txn t;
    corral_txn_init(&t, "fuzz");
    for (size_t i = 0; i < n; i++) {
        if (evs[i].kind == CORRAL_EVENT_TASK)
            corral_event_task(&t, "/corral", evs[i].id, evs[i].state, evs[i].attempt,
                              evs[i].worker);
        else
            corral_event_worker(&t, "/corral", evs[i].id, evs[i].state);
    }
    /* Every change a reader accepts is one a writer could have recorded. */
    FUZZ_CHECK(t.events_n == n);
    char *data = corral_event_node_data(&t, len);
    FUZZ_CHECK(data != NULL && strlen(data) == *len);
    corral_txn_cleanup(&t);
    return data;
}

static void node(const char *text, size_t len)
{
    static struct corral_event_rec sentinel;
    struct corral_event_rec *evs = &sentinel;
    size_t n = 99;
    struct corral_error err = {0};
    if (corral_event_decode(text, len, &evs, &n, &err) != CORRAL_OK) {
        FUZZ_CHECK(err.code == CORRAL_EINVAL && evs == NULL && n == 0);
        return;
    }
    FUZZ_CHECK(evs != NULL && n >= 1 && n <= CORRAL_EVENTS_PER_NODE_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct corral_event_rec *e = &evs[i];
        FUZZ_CHECK(e->kind == CORRAL_EVENT_TASK || e->kind == CORRAL_EVENT_WORKER);
        FUZZ_CHECK(e->kind == CORRAL_EVENT_TASK ? corral_id_is_valid(e->id)
                                                : corral_path_valid_name(e->id));
        FUZZ_CHECK(e->kind == CORRAL_EVENT_TASK ? corral_state_parse(e->state) >= 0
                                                : worker_state(e->state));
        FUZZ_CHECK(e->worker[0] == '\0' || corral_path_valid_name(e->worker));
        FUZZ_CHECK(e->attempt <= 1000000u);
    }
    size_t len1 = 0;
    char *enc = reencode(evs, n, &len1);
    struct corral_event_rec *back = NULL;
    size_t n2 = 0;
    FUZZ_CHECK(corral_event_decode(enc, len1, &back, &n2, &err) == CORRAL_OK);
    FUZZ_CHECK(n2 == n);
    for (size_t i = 0; i < n; i++) {
        const struct corral_event_rec *a = &evs[i], *b = &back[i];
        FUZZ_CHECK(a->kind == b->kind);
        FUZZ_CHECK(strcmp(a->id, b->id) == 0);
        FUZZ_CHECK(strcmp(a->state, b->state) == 0);
        /* A worker change carries no attempt or worker: the encoder writes none, so a decoded
         * "a"/"w" on a "k":"w" object (which the decoder keeps) cannot survive re-encoding. */
        if (a->kind == CORRAL_EVENT_TASK) {
            FUZZ_CHECK(a->attempt == b->attempt);
            FUZZ_CHECK(strcmp(a->worker, b->worker) == 0);
        } else {
            FUZZ_CHECK(b->attempt == 0 && b->worker[0] == '\0');
        }
    }
    size_t len2 = 0;
    char *enc2 = reencode(back, n2, &len2);
    FUZZ_CHECK(len2 == len1 && memcmp(enc, enc2, len1) == 0);
    free(enc2);
    free(back);
    free(enc);
    free(evs);
}

static void cursor(const char *s)
{
    struct corral_event_cursor c = {.gen = -5, .seq = -5, .idx = 5}, again;
    if (!corral_event_cursor_parse(s, &c)) {
        FUZZ_CHECK(c.gen == -5 && c.seq == -5 && c.idx == 5); /* untouched */
        return;
    }
    FUZZ_CHECK(c.gen >= 1 && c.gen <= CORRAL_EVENTS_GEN_MAX);
    FUZZ_CHECK(c.seq >= 0);
    FUZZ_CHECK(c.idx <= CORRAL_EVENTS_PER_NODE_MAX);
    char text[CORRAL_EVENT_CURSOR_MAX];
    corral_event_cursor_format(&c, text);
    FUZZ_CHECK(strcmp(text, s) == 0);
    FUZZ_CHECK(corral_event_cursor_parse(text, &again));
    FUZZ_CHECK(again.gen == c.gen && again.seq == c.seq && again.idx == c.idx);
}

static void name(const char *s)
{
    int64_t g = corral_event_gen_parse(s);
    FUZZ_CHECK(g == -1 || (g >= 1 && g <= CORRAL_EVENTS_GEN_MAX));
    if (g >= 1) {
        char out[17];
        corral_event_gen_name(out, g);
        FUZZ_CHECK(strcmp(out, s) == 0);
        FUZZ_CHECK(corral_event_gen_parse(out) == g);
        /* The first event of the generation is a cursor that round-trips. */
        struct corral_event_cursor c = {.gen = g, .seq = 0, .idx = 0}, back;
        char text[CORRAL_EVENT_CURSOR_MAX];
        corral_event_cursor_format(&c, text);
        FUZZ_CHECK(corral_event_cursor_parse(text, &back) && back.gen == g);
    }
    int32_t q = corral_event_seq_parse(s);
    FUZZ_CHECK(q >= -1);
    if (q >= 0) {
        char out[16];
        snprintf(out, sizeof out, "e-%010" PRId32, q);
        FUZZ_CHECK(strcmp(out, s) == 0);
        FUZZ_CHECK(g == -1); /* a name is one or the other */
    }
}

static void seal(const char *text, size_t len)
{
    int64_t ms = corral_event_seal_decode(text, len);
    FUZZ_CHECK(ms >= -1);
    if (ms < 0)
        return;
    char *enc = corral_event_seal_encode(ms);
    FUZZ_CHECK(corral_event_seal_decode(enc, strlen(enc)) == ms);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0]) {
        case 'n':
            node(text, len);
            break;
        case 'c':
        case 'g': {
            char *s = fuzz_str(data + 1, len);
            if (data[0] == 'c')
                cursor(s);
            else
                name(s);
            free(s);
            break;
        }
        case 's':
            seal(text, len);
            break;
        default:
            break;
    }
    return 0;
}
