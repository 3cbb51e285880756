/* SPDX-License-Identifier: MIT */
/* Operation lists of one ZooKeeper multi (txn.h). Pure data: no server is involved here. */
#include <stdlib.h>
#include <string.h>

#include "corral/txn.h"
#include "corral/xalloc.h"

void corral_txn_init(struct corral_txn *t, const char *label)
{
    memset(t, 0, sizeof *t);
    if (label) {
        size_t n = strlen(label);
        if (n >= sizeof t->label)
            n = sizeof t->label - 1;
        memcpy(t->label, label, n);
    }
}

void corral_txn_cleanup(struct corral_txn *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->ops[i].path);
        free(t->ops[i].data);
    }
    free(t->ops);
    t->ops = NULL;
    t->n = t->cap = 0;
    free(t->events);
    free(t->events_ns);
    t->events = t->events_ns = NULL;
    t->events_len = t->events_cap = t->events_n = 0;
}

static void events_append(struct corral_txn *t, const char *ns, const char *text, size_t len,
                          size_t count)
{
    if (count == 0)
        return;
    if (!t->events_ns)
        t->events_ns = corral_xstrdup(ns);
    size_t need = t->events_len + len + 2;
    if (need > t->events_cap) {
        size_t cap = t->events_cap ? t->events_cap : 256;
        while (cap < need)
            cap *= 2;
        t->events = corral_xrealloc(t->events, cap);
        t->events_cap = cap;
    }
    if (t->events_n > 0)
        t->events[t->events_len++] = ',';
    memcpy(t->events + t->events_len, text, len);
    t->events_len += len;
    t->events[t->events_len] = '\0';
    t->events_n += count;
}

void corral_txn_add_event(struct corral_txn *t, const char *ns, const char *obj, size_t len)
{
    events_append(t, ns, obj, len, 1);
}

void corral_txn_copy_events(struct corral_txn *dst, const struct corral_txn *src)
{
    if (src->events_n > 0)
        events_append(dst, src->events_ns, src->events, src->events_len, src->events_n);
}

static size_t add(struct corral_txn *t, enum corral_op_kind kind, const char *path,
                  const void *data, size_t len, int32_t version)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct corral_op *ops = corral_xcalloc(cap, sizeof *ops);
        if (t->n)
            memcpy(ops, t->ops, t->n * sizeof *ops);
        free(t->ops);
        t->ops = ops;
        t->cap = cap;
    }
    struct corral_op *op = &t->ops[t->n];
    op->kind = kind;
    op->path = corral_xstrdup(path ? path : "");
    op->data = NULL;
    op->len = 0;
    if (data && len) {
        op->data = corral_xcalloc(len + 1, 1);
        memcpy(op->data, data, len);
        op->len = len;
    }
    op->version = version;
    return t->n++;
}

size_t corral_txn_create(struct corral_txn *t, const char *path, const void *data, size_t len)
{
    return add(t, CORRAL_OP_CREATE, path, data, len, -1);
}

size_t corral_txn_delete(struct corral_txn *t, const char *path, int32_t version)
{
    return add(t, CORRAL_OP_DELETE, path, NULL, 0, version);
}

size_t corral_txn_set(struct corral_txn *t, const char *path, const void *data, size_t len,
                      int32_t version)
{
    return add(t, CORRAL_OP_SET, path, data, len, version);
}

size_t corral_txn_check(struct corral_txn *t, const char *path, int32_t version)
{
    return add(t, CORRAL_OP_CHECK, path, NULL, 0, version);
}

size_t corral_txn_fence(struct corral_txn *t, const char *path, int32_t version)
{
    return add(t, CORRAL_OP_FENCE, path, NULL, 0, version);
}

int corral_txn_find(const struct corral_txn *t, enum corral_op_kind kind, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ops[i].kind == kind && strcmp(t->ops[i].path, path) == 0)
            return (int)i;
    return -1;
}

size_t corral_txn_wire_bytes(const struct corral_txn *t)
{
    /* Per op: a header, the path string and the data buffer with their lengths, ACLs on
     * creates; 64 bytes covers the fixed parts generously. */
    size_t bytes = 64;
    for (size_t i = 0; i < t->n; i++)
        bytes += 64 + strlen(t->ops[i].path) + t->ops[i].len;
    if (t->events_n > 0) /* the generation check and the event znode (paths ~60 bytes) */
        bytes += 2 * (64 + 80) + strlen(t->events_ns) * 2 + t->events_len + 2;
    return bytes;
}

const char *corral_op_kind_name(enum corral_op_kind k)
{
    switch (k) {
        case CORRAL_OP_CREATE:
            return "create";
        case CORRAL_OP_DELETE:
            return "delete";
        case CORRAL_OP_SET:
            return "set";
        case CORRAL_OP_CHECK:
            return "check";
        case CORRAL_OP_FENCE:
            return "fence";
    }
    return "?";
}
