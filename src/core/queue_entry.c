/* SPDX-License-Identifier: MIT */
/* Queue entry names and the idempotency record (queue_entry.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "corral/id.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"

#define PRIORITY_OFFSET 1000

void corral_queue_key_of(const struct corral_task *t, struct corral_queue_key *k)
{
    memset(k, 0, sizeof *k);
    snprintf(k->id, sizeof k->id, "%.*s", (int)CORRAL_ID_LEN, t->id);
    k->priority = t->spec.priority;
    k->submitted_at_ms = t->submitted_at_ms;
    k->has_estimated = t->spec.has_estimated;
    k->estimated_ms = t->spec.estimated_ms;
    k->cpu_milli = t->spec.cpu_milli;
    k->mem_mb = t->spec.mem_mb;
    k->not_before_ms = t->not_before_ms;
}

/* Negative times (a clock before 1970) are stored as 0: they only order "very old". */
static uint64_t nonneg(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0u;
}

void corral_queue_key_format(const struct corral_queue_key *k, char out[CORRAL_QUEUE_NAME_MAX + 1])
{
    char est[24] = "-";
    if (k->has_estimated)
        snprintf(est, sizeof est, "%" PRIx64, k->estimated_ms);
    int p = k->priority + PRIORITY_OFFSET;
    snprintf(out, CORRAL_QUEUE_NAME_MAX + 1,
             "%s.%x.%" PRIx64 ".%s.%" PRIx32 ".%" PRIx64 ".%" PRIx64, k->id,
             (unsigned)(p < 0 ? 0 : p), nonneg(k->submitted_at_ms), est, k->cpu_milli, k->mem_mb,
             nonneg(k->not_before_ms));
}

void corral_queue_key_name(const struct corral_queue_key *k, char out[CORRAL_QUEUE_NAME_MAX + 1])
{
    if (k->legacy)
        snprintf(out, CORRAL_QUEUE_NAME_MAX + 1, "%s", k->id);
    else
        corral_queue_key_format(k, out);
}

/* One lowercase hex field of at most max_digits digits ending at '.' or the end; advances *s.
 * No leading zero (but "0" itself): each key has exactly one name, so that the name the leader
 * rebuilds from the keys (to delete or replace the entry) is the name it listed. A second
 * spelling (found by fuzzing: "0400" for "400") made the assign multi delete an entry that did
 * not exist, and its task was never assigned. */
static bool hex_field(const char **s, unsigned max_digits, uint64_t *out)
{
    const char *p = *s;
    if (p[0] == '0' && p[1] != '\0' && p[1] != '.')
        return false;
    uint64_t v = 0;
    unsigned n = 0;
    for (; *p && *p != '.'; p++, n++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0 || n >= max_digits)
            return false;
        v = v * 16u + (uint64_t)d;
    }
    if (n == 0)
        return false;
    *out = v;
    *s = *p == '.' ? p + 1 : p;
    return true;
}

bool corral_queue_key_decode(const char *name, struct corral_queue_key *k)
{
    memset(k, 0, sizeof *k);
    if (!name || strnlen(name, CORRAL_QUEUE_NAME_MAX + 1) > CORRAL_QUEUE_NAME_MAX ||
        strlen(name) < CORRAL_ID_LEN)
        return false;
    memcpy(k->id, name, CORRAL_ID_LEN);
    k->id[CORRAL_ID_LEN] = '\0';
    if (!corral_id_is_valid(k->id))
        return false;
    const char *s = name + CORRAL_ID_LEN;
    if (*s == '\0') {
        k->legacy = true;
        return true;
    }
    if (*s++ != '.')
        return false;
    uint64_t prio, sub, cpu, mem, nb, est = 0;
    if (!hex_field(&s, 3, &prio) || prio > 2u * PRIORITY_OFFSET || !hex_field(&s, 12, &sub))
        return false;
    if (s[0] == '-' && s[1] == '.') {
        s += 2;
    } else {
        if (!hex_field(&s, 16, &est))
            return false;
        k->has_estimated = true;
    }
    if (!hex_field(&s, 8, &cpu) || !hex_field(&s, 16, &mem) || !hex_field(&s, 12, &nb) ||
        *s != '\0' || s[-1] == '.')
        return false;
    k->priority = (int)prio - PRIORITY_OFFSET;
    k->submitted_at_ms = (int64_t)sub;
    k->estimated_ms = est;
    k->cpu_milli = (uint32_t)cpu;
    k->mem_mb = mem;
    k->not_before_ms = (int64_t)nb;
    return true;
}

int corral_queue_entry_path_of_name(char *buf, size_t n, const char *ns, const char *name)
{
    struct corral_queue_key k;
    char dir[CORRAL_PATH_MAX];
    if (!corral_queue_key_decode(name, &k)) {
        if (n > 0)
            buf[0] = '\0';
        return CORRAL_EINVAL;
    }
    int rc = corral_path_queue_bucket(dir, sizeof dir, ns, corral_path_bucket(k.id));
    if (rc != CORRAL_OK) {
        if (n > 0)
            buf[0] = '\0';
        return rc;
    }
    return corral_path_child(buf, n, dir, name);
}

void corral_queue_entry_name(const struct corral_task *t, char out[CORRAL_QUEUE_NAME_MAX + 1])
{
    struct corral_queue_key k;
    corral_queue_key_of(t, &k);
    corral_queue_key_format(&k, out);
}

int corral_queue_entry_path(char *buf, size_t n, const char *ns, const struct corral_task *t)
{
    char name[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_entry_name(t, name);
    return corral_queue_entry_path_of_name(buf, n, ns, name);
}

bool corral_queue_entry_parse(const char *name, char id[CORRAL_ID_LEN + 1])
{
    struct corral_queue_key k;
    if (!corral_queue_key_decode(name, &k))
        return false;
    memcpy(id, k.id, CORRAL_ID_LEN + 1);
    return true;
}

int corral_idem_decode(const char *buf, size_t len, char id[CORRAL_ID_LEN + 1],
                       struct corral_error *err)
{
    id[0] = '\0';
    if (!buf || len != CORRAL_ID_LEN || memchr(buf, '\0', len))
        return corral_error_set(err, CORRAL_EINVAL, "", "idempotency record: not a task id");
    char tmp[CORRAL_ID_LEN + 1];
    memcpy(tmp, buf, len);
    tmp[len] = '\0';
    if (!corral_id_is_valid(tmp))
        return corral_error_set(err, CORRAL_EINVAL, "", "idempotency record: not a task id");
    memcpy(id, tmp, sizeof tmp);
    return CORRAL_OK;
}
