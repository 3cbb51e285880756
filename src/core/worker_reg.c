/* SPDX-License-Identifier: MIT */
/* Codec of the worker registration znode (worker_reg.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/jsonx.h"
#include "corral/paths.h"
#include "corral/worker_reg.h"
#include "corral/xalloc.h"

char *corral_worker_reg_encode(const struct corral_worker_reg *w)
{
    json_t *labels = json_object();
    for (size_t i = 0; i < w->n_labels; i++)
        json_object_set_new(labels, w->labels[i].key, corral_json_str(w->labels[i].value));
    json_t *o = json_object();
    json_object_set_new(o, "id", corral_json_str(w->id));
    json_object_set_new(o, "slots", json_integer(w->slots));
    json_object_set_new(o, "cpu", corral_cpu_to_json(w->cpu_milli));
    json_object_set_new(o, "mem_mb", json_integer((json_int_t)w->mem_mb));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "weight", json_integer(w->weight));
    json_object_set_new(o, "reg", json_string(w->reg));
    json_object_set_new(o, "draining", json_boolean(w->draining));
    if (w->ok_count)
        json_object_set_new(o, "ok_count", json_integer((json_int_t)w->ok_count));
    if (w->fail_streak)
        json_object_set_new(o, "fail_streak", json_integer(w->fail_streak));
    char *text = json_dumps(o, CORRAL_JSON_DUMP_FLAGS);
    json_decref(o);
    if (!text)
        abort(); /* validated strings and integers: only memory can fail */
    return text;
}

static int decode_labels(json_t *o, struct corral_worker_reg *out, struct corral_error *err)
{
    json_t *labels = json_object_get(o, "labels");
    if (!labels)
        return CORRAL_OK;
    if (!json_is_object(labels))
        return corral_error_set(err, CORRAL_EINVAL, "labels", "must be an object");
    size_t n = json_object_size(labels);
    if (n > CORRAL_MAP_MAX_ENTRIES)
        return corral_error_set(err, CORRAL_EINVAL, "labels", "over %u entries",
                                CORRAL_MAP_MAX_ENTRIES);
    if (n == 0)
        return CORRAL_OK;
    out->labels = corral_xcalloc(n, sizeof *out->labels);
    for (void *it = json_object_iter(labels); it; it = json_object_iter_next(labels, it)) {
        const char *k = json_object_iter_key(it);
        const json_t *v = json_object_iter_value(it);
        if (strlen(k) == 0 || strlen(k) > CORRAL_KEY_MAX)
            return corral_error_set(err, CORRAL_EINVAL, "labels", "a key is not 1..%u bytes",
                                    CORRAL_KEY_MAX);
        if (!json_is_string(v) || json_string_length(v) > CORRAL_URL_MAX ||
            strlen(json_string_value(v)) != json_string_length(v))
            return corral_error_set(err, CORRAL_EINVAL, "labels",
                                    "value of '%.64s' is not a string", k);
        out->labels[out->n_labels].key = corral_xstrdup(k);
        out->labels[out->n_labels].value = corral_xstrdup(json_string_value(v));
        out->n_labels++;
    }
    return CORRAL_OK;
}

int corral_worker_reg_decode(const char *id, const char *buf, size_t len,
                             struct corral_worker_reg *out, struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    if (!corral_path_valid_name(id))
        return corral_error_set(err, CORRAL_EINVAL, "id", "not a valid worker id");
    json_t *o = corral_json_load_object(buf, len, CORRAL_ZNODE_JSON_MAX * 16u, "worker", err);
    if (!o)
        return CORRAL_EINVAL;
    uint64_t slots = 0, mem = 0, weight = 1, oks = 0, streak = 0;
    const char *reg = NULL, *named = NULL;
    bool draining = false;
    int rc = corral_json_get_u64(o, "slots", true, CORRAL_WORKER_SLOTS_MAX, &slots, err);
    if (rc == CORRAL_OK && slots == 0)
        rc = corral_error_set(err, CORRAL_EINVAL, "slots", "must be at least 1");
    if (rc == CORRAL_OK)
        rc = corral_json_get_cpu_milli(o, "cpu", true, CORRAL_CPU_MAX_MILLI, &out->cpu_milli, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "mem_mb", true, CORRAL_MEM_MAX_MB, &mem, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "weight", false, CORRAL_WORKER_WEIGHT_MAX, &weight, err);
    if (rc == CORRAL_OK && weight == 0)
        rc = corral_error_set(err, CORRAL_EINVAL, "weight", "must be at least 1");
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "reg", true, CORRAL_REG_MAX, false, &reg, err);
    if (rc == CORRAL_OK && !corral_reg_is_valid(reg))
        rc = corral_error_set(err, CORRAL_EINVAL, "reg", "not a registration id");
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "id", false, CORRAL_WORKER_ID_MAX, false, &named, err);
    if (rc == CORRAL_OK && named && strcmp(named, id) != 0)
        rc = corral_error_set(err, CORRAL_EINVAL, "id", "'%.64s' is not the znode's name", named);
    if (rc == CORRAL_OK)
        rc = corral_json_get_bool(o, "draining", false, &draining, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "ok_count", false, (uint64_t)INT64_MAX, &oks, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "fail_streak", false, UINT32_MAX, &streak, err);
    if (rc == CORRAL_OK)
        rc = decode_labels(o, out, err);
    if (rc == CORRAL_OK)
        memcpy(out->reg, reg, strlen(reg) + 1); /* reg is borrowed from o */
    json_decref(o);
    if (rc != CORRAL_OK) {
        corral_worker_reg_cleanup(out);
        return rc;
    }
    out->id = corral_xstrdup(id);
    out->slots = (uint32_t)slots;
    out->mem_mb = mem;
    out->weight = (uint32_t)weight;
    out->draining = draining;
    out->ok_count = oks;
    out->fail_streak = (uint32_t)streak;
    return CORRAL_OK;
}

void corral_worker_reg_cleanup(struct corral_worker_reg *w)
{
    free(w->id);
    for (size_t i = 0; i < w->n_labels; i++) {
        free(w->labels[i].key);
        free(w->labels[i].value);
    }
    free(w->labels);
    memset(w, 0, sizeof *w);
}
