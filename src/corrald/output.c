/* SPDX-License-Identifier: MIT */
/*
 * Live output, read side (output.h). The record output/<id> (written by the task's worker while
 * someone follows it) holds the newest bytes of the current attempt; once the task is final
 * without one (nobody followed it while it ran), the task's stored tail stands in for it.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/output.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "corral/text.h"
#include "corrald/output.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "output"

void output_wait_paths(const struct replica *r, const char *id, char out_path[CORRAL_PATH_MAX],
                       char task_path[CORRAL_PATH_MAX])
{
    if (corral_path_output(out_path, CORRAL_PATH_MAX, r->opts.ns, id) != CORRAL_OK)
        out_path[0] = '\0';
    store_task_path(r, id, task_path);
}

static bool unfinished_on_worker(const struct corral_task *t)
{
    return t->worker && (t->state == CORRAL_STATE_ASSIGNED || t->state == CORRAL_STATE_RUNNING ||
                         t->state == CORRAL_STATE_CANCELLING);
}

int output_read(struct replica *r, const struct output_pos *pos, json_t **answer, bool *empty,
                struct corral_error *err)
{
    *answer = NULL;
    *empty = false;
    struct corral_task t = {0};
    int rc = store_get_task(r, pos->id, &t, NULL, err);
    if (rc != CORRAL_OK) {
        corral_task_cleanup(&t);
        return rc;
    }
    if (unfinished_on_worker(&t) &&
        (rc = store_follow(r, t.worker, t.id, clock_wall_ms(), err)) != CORRAL_OK) {
        corral_task_cleanup(&t);
        return rc;
    }
    char path[CORRAL_PATH_MAX];
    char *data = NULL;
    size_t len = 0;
    struct corral_output rec;
    bool have_rec = false;
    if (corral_path_output(path, sizeof path, r->opts.ns, t.id) == CORRAL_OK) {
        rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
        if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = CORRAL_OK;
        } else if (rc == CORRAL_OK) {
            struct corral_error derr = {0};
            have_rec = corral_output_decode(data, len, &rec, &derr) == CORRAL_OK;
            if (!have_rec)
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "output", path,
                                "ignoring an output record that does not decode path=%s: %s", path,
                                derr.msg);
        }
    }
    if (rc != CORRAL_OK) {
        free(data);
        corral_task_cleanup(&t);
        return rc;
    }
    bool final = corral_state_is_final(t.state);
    /* The attempt this answer is about: the follower's own while the record still holds bytes
     * of it past its offset (a retry began, but its end is still to be read), else the task's
     * current one. A follower of another attempt starts the current one from its beginning. */
    uint32_t attempt = t.attempt;
    if (have_rec && rec.attempt == pos->attempt && pos->attempt != t.attempt &&
        pos->offset < rec.size)
        attempt = rec.attempt;
    bool have = have_rec && rec.attempt == attempt;
    uint64_t offset = pos->attempt == attempt ? pos->offset : 0;
    uint64_t start = offset, skipped = 0;
    size_t n = 0;
    const char *bytes = NULL;
    bool tail = false, done;
    if (have) {
        corral_output_slice(&rec, offset, CORRAL_OUTPUT_ANSWER_MAX, &start, &n, &skipped);
        bytes = rec.data + (start - rec.from);
        /* Done when nothing more can come: the task is final, this is its last attempt, and
         * its published end is read (or its worker never published an end). */
        done = final && attempt == t.attempt && (start + n >= rec.size || !rec.final);
    } else if (final && offset == 0 && t.output && t.output[0]) {
        bytes = t.output; /* nobody followed it: the stored tail (valid UTF-8 already) */
        n = strlen(t.output);
        tail = true;
        done = true;
    } else {
        done = final;
    }
    char *text = corral_utf8_repair(bytes ? bytes : "", n);
    json_t *o = json_object();
    json_object_set_new(o, "task", json_string(t.id));
    json_object_set_new(o, "attempt", json_integer(attempt));
    json_object_set_new(o, "state", json_string(corral_state_name(t.state)));
    json_object_set_new(o, "offset", json_integer((json_int_t)start));
    json_object_set_new(o, "next", json_integer((json_int_t)(tail ? n : start + n)));
    json_object_set_new(o, "skipped", json_integer((json_int_t)skipped));
    json_object_set_new(o, "data", json_string(text));
    json_object_set_new(o, "done", json_boolean(done));
    json_object_set_new(o, "tail", json_boolean(tail));
    free(text);
    free(data);
    corral_task_cleanup(&t);
    *answer = o;
    *empty = n == 0 && !done;
    return CORRAL_OK;
}
