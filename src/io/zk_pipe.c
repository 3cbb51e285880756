/* SPDX-License-Identifier: MIT */
/* ZooKeeper adapter, pipelined requests (zk_internal.h "zk_pipe"). */
#include <stdlib.h>

#include "corral/xalloc.h"
#include "io/zk_internal.h"

void zk_pipe_init(struct zk_pipe *p, size_t n)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->pending = 0;
    p->rcs = corral_xcalloc(n ? n : 1, sizeof *p->rcs);
}

void zk_pipe_sent(struct zk_pipe *p, size_t i, int rc)
{
    pthread_mutex_lock(&p->mu);
    if (rc == ZOK)
        p->pending++;
    else
        p->rcs[i] = rc;
    pthread_mutex_unlock(&p->mu);
}

void zk_pipe_answered(struct zk_pipe *p, size_t i, int rc)
{
    pthread_mutex_lock(&p->mu);
    p->rcs[i] = rc;
    if (--p->pending == 0)
        pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

void zk_pipe_wait(struct zk *zk, struct zk_pipe *p, size_t n)
{
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->cond, &p->mu);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < n; i++)
        zk_touch_rx(zk, p->rcs[i]);
}

void zk_pipe_cleanup(struct zk_pipe *p)
{
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p->rcs);
    p->rcs = NULL;
}
