/* SPDX-License-Identifier: MIT */
/* Live workers: registration JSON of workers/<id> and usage from assign/<id>/<task>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/opts.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "corrald/store.h"
#include "corrald/workers.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "workers"

static bool get_u64(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

bool workers_parse(const char *id, const char *data, size_t len, struct worker_info *out)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *o = json_loadb(data, len, 0, &jerr);
    bool ok = json_is_object(o);
    uint64_t slots = 0, mem = 0, weight = 1;
    ok = ok && get_u64(o, "slots", 1u << 20, &slots) && get_u64(o, "mem_mb", UINT64_MAX >> 1, &mem);
    json_t *w = json_object_get(o, "weight");
    if (ok && w)
        ok = get_u64(o, "weight", 1u << 20, &weight);
    json_t *cpu = json_object_get(o, "cpu");
    ok = ok && json_is_number(cpu) && json_number_value(cpu) >= 0 && json_number_value(cpu) <= 1e6;
    const char *reg = json_string_value(json_object_get(o, "reg"));
    if (ok) {
        out->id = strdup(id);
        if (!out->id)
            abort();
        snprintf(out->reg, sizeof out->reg, "%s", reg ? reg : "");
        out->slots = (uint32_t)slots;
        out->mem_mb = mem;
        out->weight = weight ? (uint32_t)weight : 1;
        out->cpu_milli = (uint32_t)(json_number_value(cpu) * 1000.0 + 0.5);
        out->draining = json_is_true(json_object_get(o, "draining"));
        json_t *labels = json_object_get(o, "labels");
        size_t nl = json_is_object(labels) ? json_object_size(labels) : 0;
        if (nl) {
            out->labels = calloc(nl, sizeof *out->labels);
            if (!out->labels)
                abort();
            const char *k;
            json_t *v;
            json_object_foreach(labels, k, v)
            {
                if (!json_is_string(v))
                    continue;
                out->labels[out->n_labels].key = strdup(k);
                out->labels[out->n_labels].value = strdup(json_string_value(v));
                out->n_labels++;
            }
        }
    }
    json_decref(o);
    return ok;
}

void workers_info_cleanup(struct worker_info *w)
{
    free(w->id);
    for (size_t i = 0; i < w->n_labels; i++) {
        free(w->labels[i].key);
        free(w->labels[i].value);
    }
    free(w->labels);
    memset(w, 0, sizeof *w);
}

void workers_cleanup(struct worker_set *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        workers_info_cleanup(&ws->items[i]);
    free(ws->items);
    ws->items = NULL;
    ws->n = 0;
}

const struct worker_info *workers_find(const struct worker_set *ws, const char *id)
{
    for (size_t i = 0; i < ws->n; i++)
        if (strcmp(ws->items[i].id, id) == 0)
            return &ws->items[i];
    return NULL;
}

/* Usage of w: the tasks assigned to its current incarnation. */
static int load_usage(struct replica *r, struct worker_info *w, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    if (corral_path_assign_dir(dir, sizeof dir, r->opts.ns, w->id) != CORRAL_OK)
        return CORRAL_OK;
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return CORRAL_OK;
    }
    for (size_t i = 0; rc == CORRAL_OK && i < kids.n; i++) {
        struct corral_task t = {0};
        char path[CORRAL_PATH_MAX];
        store_task_path(r, kids.items[i], path);
        int trc = store_read_task(r, path, &t, NULL, err);
        if (trc == CORRAL_OK) {
            if (t.worker && strcmp(t.worker, w->id) == 0 && !corral_state_is_final(t.state)) {
                w->running++;
                w->used_cpu_milli += t.spec.cpu_milli;
                w->used_mem_mb += t.spec.mem_mb;
            }
        } else if (trc == CORRAL_ENOTFOUND || trc == CORRAL_EINVAL) {
            corral_error_clear(err);
        } else {
            rc = trc;
        }
        corral_task_cleanup(&t);
    }
    corral_strlist_cleanup(&kids);
    return rc;
}

int workers_load(struct replica *r, struct worker_set *out, bool watch, bool with_usage,
                 struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    char dir[CORRAL_PATH_MAX];
    store_ns_path(r, "workers", dir);
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, watch, &kids, err);
    if (rc != CORRAL_OK)
        return rc;
    if (kids.n) {
        out->items = calloc(kids.n, sizeof *out->items);
        if (!out->items)
            abort();
    }
    for (size_t i = 0; i < kids.n && rc == CORRAL_OK; i++) {
        char path[CORRAL_PATH_MAX];
        (void)store_child(path, dir, kids.items[i]);
        char *data = NULL;
        size_t len = 0;
        int grc = zk_get(r->zk, path, false, &data, &len, NULL, err);
        if (grc == CORRAL_ENOTFOUND) { /* left meanwhile */
            corral_error_clear(err);
            continue;
        }
        if (grc != CORRAL_OK) {
            rc = grc;
            break;
        }
        if (workers_parse(kids.items[i], data, len, &out->items[out->n]))
            out->n++;
        else
            CORRAL_LOG(CORRAL_LOG_WARN, "ignoring malformed worker znode worker=%s", kids.items[i]);
        free(data);
    }
    corral_strlist_cleanup(&kids);
    for (size_t i = 0; with_usage && rc == CORRAL_OK && i < out->n; i++)
        rc = load_usage(r, &out->items[i], err);
    if (rc != CORRAL_OK)
        workers_cleanup(out);
    return rc;
}

json_t *workers_to_json(const struct worker_info *w)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(w->id));
    json_object_set_new(o, "slots", json_integer(w->slots));
    json_object_set_new(o, "running", json_integer(w->running));
    json_t *cap = json_object();
    json_object_set_new(cap, "cpu", corral_cpu_to_json(w->cpu_milli));
    json_object_set_new(cap, "mem_mb", json_integer((json_int_t)w->mem_mb));
    json_object_set_new(o, "capacity", cap);
    json_t *used = json_object();
    json_object_set_new(used, "cpu", corral_cpu_to_json(w->used_cpu_milli));
    json_object_set_new(used, "mem_mb", json_integer((json_int_t)w->used_mem_mb));
    json_object_set_new(o, "used", used);
    json_t *labels = json_object();
    for (size_t i = 0; i < w->n_labels; i++)
        json_object_set_new(labels, w->labels[i].key, json_string(w->labels[i].value));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "weight", json_integer(w->weight));
    json_object_set_new(o, "draining", json_boolean(w->draining));
    return o;
}
