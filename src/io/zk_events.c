/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, events: the queue that carries watch events from the client's completion
 * thread to the owner's main loop (signalled on an eventfd), and the one-shot callback watches
 * (zk_watch_exists) whose boxes live until they fire or their handle closes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corral/xalloc.h"
#include "io/zk_internal.h"

/* ------------------------------------------------------------------ event queue */

void zk_push_event(struct zk *zk, enum zk_event_type type, const char *path)
{
    struct zk_event_node *n = calloc(1, sizeof *n);
    char *p = strdup(path ? path : "");
    if (!n || !p) {
        /* Dropping a hint is safe: owners reconcile periodically. */
        free(n);
        free(p);
        return;
    }
    n->ev.type = type;
    n->ev.path = p;
    n->ev.state = zk->state;
    if (zk->tail)
        zk->tail->next = n;
    else
        zk->head = n;
    zk->tail = n;
    uint64_t one = 1;
    ssize_t w = write(zk->efd, &one, sizeof one);
    (void)w;
}

int zk_event_fd(struct zk *zk)
{
    return zk->efd;
}

bool zk_next_event(struct zk *zk, struct zk_event *ev)
{
    pthread_mutex_lock(&zk->mu);
    struct zk_event_node *n = zk->head;
    if (n) {
        zk->head = n->next;
        if (!zk->head)
            zk->tail = NULL;
    }
    if (!zk->head) {
        uint64_t v;
        ssize_t r = read(zk->efd, &v, sizeof v);
        (void)r;
    }
    pthread_mutex_unlock(&zk->mu);
    if (!n)
        return false;
    *ev = n->ev;
    free(n);
    return true;
}

void zk_event_cleanup(struct zk_event *ev)
{
    free(ev->path);
    ev->path = NULL;
}

/* ------------------------------------------------------------------ callback watches */

struct watch_box {
    zk_watch_fn fn;
    void *ctx;
    struct zk *zk;
    struct watch_box *prev, *next; /* in zk->boxes while registered */
};

static void box_unlink(struct watch_box *box)
{
    struct zk *zk = box->zk;
    pthread_mutex_lock(&zk->mu);
    if (box->prev)
        box->prev->next = box->next;
    else
        zk->boxes = box->next;
    if (box->next)
        box->next->prev = box->prev;
    pthread_mutex_unlock(&zk->mu);
}

/* After the handle that held them is closed, no watch can fire: free what is left. */
void zk_boxes_free_all(struct zk *zk)
{
    pthread_mutex_lock(&zk->mu);
    struct watch_box *box = zk->boxes;
    zk->boxes = NULL;
    pthread_mutex_unlock(&zk->mu);
    while (box) {
        struct watch_box *next = box->next;
        free(box);
        box = next;
    }
}

size_t zk_watch_boxes(struct zk *zk)
{
    size_t n = 0;
    pthread_mutex_lock(&zk->mu);
    for (const struct watch_box *box = zk->boxes; box; box = box->next)
        n++;
    pthread_mutex_unlock(&zk->mu);
    return n;
}

static void box_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)state;
    struct watch_box *box = ctx;
    if (type == ZOO_SESSION_EVENT) {
        /* The watch stays registered across a reconnect: keep the box (closing the handle
         * frees it if it never fires). */
        box->fn(box->ctx, "");
        return;
    }
    box_unlink(box);
    box->fn(box->ctx, path ? path : "");
    free(box);
}

int zk_watch_exists(struct zk *zk, const char *path, zk_watch_fn fn, void *ctx,
                    struct corral_error *err)
{
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct watch_box *box = corral_xcalloc(1, sizeof *box);
    box->fn = fn;
    box->ctx = ctx;
    box->zk = zk;
    pthread_mutex_lock(&zk->mu);
    box->next = zk->boxes;
    if (zk->boxes)
        zk->boxes->prev = box;
    zk->boxes = box;
    pthread_mutex_unlock(&zk->mu);
    struct Stat st;
    int rc = zoo_wexists(zh, path, box_watcher, box, &st);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    if (rc != ZOK && rc != ZNONODE) {
        box_unlink(box); /* not registered */
        free(box);
    }
    return zk_translate(rc, true, "exists", path, err);
}
