/* SPDX-License-Identifier: MIT */
/* The completion probe (probe.h). */
#include <stdlib.h>
#include <string.h>

#include "bench/probe.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "corral/xalloc.h"

#define WINDOW_MIN 64
#define WINDOW_MAX 2000

struct ptask {
    char id[CORRAL_ID_LEN + 1];
    bool final;
    bool succeeded;
    int64_t submitted, started, finished; /* wall ms; -1 = null */
};

struct probe {
    struct zkraw *z;
    char *ns;
    struct ptask *t;
    size_t n;
    size_t *pending; /* indices of unfinished tasks, oldest first */
    size_t n_pending;
    size_t n_final, n_succeeded;
    size_t window;
    struct zkraw_get *g;
};

struct probe *probe_new(struct zkraw *z, const char *ns, const char (*ids)[CORRAL_ID_LEN + 1],
                        size_t n)
{
    struct probe *p = corral_xcalloc(1, sizeof *p);
    p->z = z;
    p->ns = corral_xstrdup(ns);
    p->n = n;
    p->t = corral_xcalloc(n ? n : 1, sizeof *p->t);
    p->pending = corral_xcalloc(n ? n : 1, sizeof *p->pending);
    for (size_t i = 0; i < n; i++) {
        memcpy(p->t[i].id, ids[i], CORRAL_ID_LEN + 1);
        p->pending[i] = i;
    }
    p->n_pending = n;
    p->window = WINDOW_MIN;
    p->g = corral_xcalloc(WINDOW_MAX, sizeof *p->g);
    return p;
}

void probe_free(struct probe *p)
{
    if (!p)
        return;
    zkraw_gets_free(p->g, WINDOW_MAX);
    free(p->g);
    free(p->pending);
    free(p->t);
    free(p->ns);
    free(p);
}

int probe_pass(struct probe *p, int64_t deadline_ms, struct corral_error *err)
{
    size_t w = p->n_pending < p->window ? p->n_pending : p->window;
    if (w == 0)
        return CORRAL_OK;
    for (size_t i = 0; i < w; i++)
        if (corral_path_task(p->g[i].path, sizeof p->g[i].path, p->ns, p->t[p->pending[i]].id) !=
            CORRAL_OK)
            p->g[i].path[0] = '\0';
    int rc = zkraw_get_many(p->z, p->g, w, NULL, 1000, deadline_ms, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t newly = 0;
    for (size_t i = 0; i < w; i++) {
        struct ptask *t = &p->t[p->pending[i]];
        if (p->g[i].rc != ZOK) {
            if (p->g[i].rc == ZNONODE) { /* deleted (retention): finished, times unknown */
                t->final = true;
                t->submitted = t->started = t->finished = -1;
                newly++;
            }
            continue;
        }
        struct corral_task task = {0};
        struct corral_error e = {0};
        if (corral_task_parse(p->g[i].data, p->g[i].len, &task, &e) == CORRAL_OK &&
            corral_state_is_final(task.state)) {
            t->final = true;
            t->succeeded = task.state == CORRAL_STATE_SUCCEEDED;
            t->submitted = task.submitted_at_ms;
            t->started = task.started_at_ms;
            t->finished = task.finished_at_ms;
            newly++;
        }
        corral_task_cleanup(&task);
    }
    zkraw_gets_free(p->g, w);
    /* Keep the unfinished ones, oldest first. */
    size_t k = 0;
    for (size_t i = 0; i < p->n_pending; i++) {
        struct ptask *t = &p->t[p->pending[i]];
        if (!t->final)
            p->pending[k++] = p->pending[i];
        else if (i < w) {
            p->n_final++;
            p->n_succeeded += t->succeeded;
        }
    }
    p->n_pending = k;
    /* Follow the finish rate: read twice what finished last time, within bounds. */
    size_t next = 2 * newly;
    p->window = next < WINDOW_MIN ? WINDOW_MIN : next > WINDOW_MAX ? WINDOW_MAX : next;
    return CORRAL_OK;
}

size_t probe_finished(const struct probe *p)
{
    return p->n_final;
}

size_t probe_succeeded(const struct probe *p)
{
    return p->n_succeeded;
}

void probe_times(const struct probe *p, struct probe_times *out)
{
    memset(out, 0, sizeof *out);
    out->start_ms = corral_xcalloc(p->n ? p->n : 1, sizeof *out->start_ms);
    out->end_ms = corral_xcalloc(p->n ? p->n : 1, sizeof *out->end_ms);
    for (size_t i = 0; i < p->n; i++) {
        const struct ptask *t = &p->t[i];
        if (!t->final || t->submitted < 0)
            continue;
        if (out->first_submitted_wall_ms == 0 || t->submitted < out->first_submitted_wall_ms)
            out->first_submitted_wall_ms = t->submitted;
        if (t->started >= 0)
            out->start_ms[out->n_start++] = t->started - t->submitted;
        if (t->finished >= 0) {
            out->end_ms[out->n_end++] = t->finished - t->submitted;
            if (t->finished > out->last_finished_wall_ms)
                out->last_finished_wall_ms = t->finished;
        }
    }
}
