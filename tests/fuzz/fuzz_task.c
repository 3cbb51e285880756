/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "task": the task znode's JSON (corral_task_parse), as the leader, the worker and
 * every replica read it back from tasks/<bb>/<id>. Invariants: an accepted task renders to
 * text that parses to the same rendering; every event the transition table allows leaves a
 * task that still renders and parses; a queued task's queue entry name and a final task's
 * done entry decode back to its id and build a path.
 */
#include "corral/done_entry.h"
#include "corral/id.h"
#include "corral/limits.h"
#include "corral/queue_entry.h"
#include "corral/task.h"
#include "fuzz.h"

/* Parse text, which must be accepted; returns its rendering (free it). */
static char *reparse(const char *text, struct corral_task *t)
{
    struct corral_error err = {0};
    memset(t, 0, sizeof *t);
    FUZZ_CHECK(corral_task_parse(text, strlen(text), t, &err) == CORRAL_OK);
    return corral_task_render(t);
}

static void check_keys(const struct corral_task *t)
{
    char path[CORRAL_PATH_MAX];
    if (t->state == CORRAL_STATE_QUEUED) {
        char name[CORRAL_QUEUE_NAME_MAX + 1], id[CORRAL_ID_LEN + 1];
        struct corral_queue_key k;
        corral_queue_entry_name(t, name);
        FUZZ_CHECK(corral_queue_key_decode(name, &k) && strcmp(k.id, t->id) == 0);
        FUZZ_CHECK(corral_queue_entry_parse(name, id) && strcmp(id, t->id) == 0);
        FUZZ_CHECK(corral_queue_entry_path(path, sizeof path, "/corral", t) == CORRAL_OK);
    }
    if (corral_state_is_final(t->state)) {
        struct corral_done_entry e, back;
        char name[CORRAL_DONE_NAME_LEN + 1];
        FUZZ_CHECK(corral_done_entry_of(t, &e) == CORRAL_OK);
        corral_done_entry_name(&e, name);
        FUZZ_CHECK(corral_done_entry_parse(name, &back) && strcmp(back.id, t->id) == 0);
        FUZZ_CHECK(corral_done_entry_path(path, sizeof path, "/corral", &e) == CORRAL_OK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct corral_task t = {0};
    struct corral_error err = {0};
    if (corral_task_parse((const char *)data, size, &t, &err) != CORRAL_OK) {
        FUZZ_CHECK(err.code != CORRAL_OK);
        corral_task_cleanup(&t);
        return 0;
    }
    FUZZ_CHECK(corral_id_is_valid(t.id));
    check_keys(&t);
    char *text = corral_task_render(&t);
    struct corral_task again;
    char *text2 = reparse(text, &again);
    FUZZ_CHECK(strcmp(text, text2) == 0);
    corral_task_cleanup(&again);
    free(text2);

    uint32_t jitter = 0;
    for (size_t i = 0; i < size; i++)
        jitter = jitter * 31u + data[i];
    for (int ev = 0; ev < CORRAL_EV_COUNT; ev++) {
        struct corral_task u;
        free(reparse(text, &u));
        struct corral_transition_ctx ctx = {.now_ms = INT64_C(1800000000000),
                                            .worker = "w1",
                                            .epoch = 7,
                                            .has_exit_code = true,
                                            .exit_code = ev == CORRAL_EV_SUCCEED ? 0 : 3,
                                            .error = "fuzz",
                                            .output = "out",
                                            .jitter = jitter};
        struct corral_error terr = {0};
        int rc = corral_task_transition(&u, (enum corral_event)ev, &ctx, &terr);
        FUZZ_CHECK((rc == CORRAL_OK) == corral_task_can(t.state, (enum corral_event)ev) ||
                   rc == CORRAL_EINVAL);
        if (rc == CORRAL_OK) {
            char *after = corral_task_render(&u);
            struct corral_task w;
            free(reparse(after, &w));
            check_keys(&w);
            corral_task_cleanup(&w);
            free(after);
        }
        corral_task_cleanup(&u);
    }
    free(text);
    corral_task_cleanup(&t);
    return 0;
}
