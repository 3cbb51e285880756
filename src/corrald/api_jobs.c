/* SPDX-License-Identifier: MIT */
/*
 * Job pool: one mutex guards the FIFO queue and the counters; idle threads sleep on `work`,
 * api_jobs_wait_idle sleeps on `idle`. A job is popped, run without the lock, and counted as
 * running meanwhile. Stopping drops what is still queued (each job's drop) and lets every
 * thread leave once the queue is empty.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "corral/xalloc.h"
#include "corrald/api_jobs.h"
#include "io/clock.h"

struct api_jobs {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t idle; /* a running job ended */
    struct api_job *head, *tail;
    size_t n_queued, max_queued, n_running;
    uint64_t n_rejected;
    bool stopping;
    pthread_t *threads;
    unsigned n_threads;
};

static void *job_thread(void *arg)
{
    struct api_jobs *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        struct api_job *job = p->head;
        if (!job)
            break; /* stopping and nothing left */
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        job->next = NULL;
        p->n_queued--;
        p->n_running++;
        pthread_mutex_unlock(&p->mu);
        job->run(job);
        pthread_mutex_lock(&p->mu);
        p->n_running--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct api_jobs *api_jobs_new(unsigned n_threads, size_t max_queued)
{
    struct api_jobs *p = corral_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->idle, &ca);
    pthread_condattr_destroy(&ca);
    p->max_queued = max_queued;
    p->n_threads = n_threads ? n_threads : 1;
    p->threads = corral_xcalloc(p->n_threads, sizeof *p->threads);
    for (unsigned i = 0; i < p->n_threads; i++)
        if (pthread_create(&p->threads[i], NULL, job_thread, p) != 0)
            abort(); /* out of threads at startup: nothing sensible to serve with */
    return p;
}

int api_jobs_push(struct api_jobs *p, struct api_job *job)
{
    int rc = CORRAL_OK;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        rc = CORRAL_EUNAVAIL;
    } else if (p->n_queued >= p->max_queued) {
        p->n_rejected++;
        rc = CORRAL_EFULL;
    } else {
        job->next = NULL;
        if (p->tail)
            p->tail->next = job;
        else
            p->head = job;
        p->tail = job;
        p->n_queued++;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void api_jobs_stop(struct api_jobs *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    struct api_job *list = p->head;
    p->head = p->tail = NULL;
    p->n_queued = 0;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    while (list) {
        struct api_job *job = list;
        list = job->next;
        job->next = NULL;
        job->drop(job);
    }
}

size_t api_jobs_wait_idle(struct api_jobs *p, int64_t grace_ms)
{
    int64_t deadline = clock_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
                          .tv_nsec = (long)(deadline % 1000) * 1000000L};
    pthread_mutex_lock(&p->mu);
    while (p->n_running > 0 && clock_mono_ms() < deadline)
        pthread_cond_timedwait(&p->idle, &p->mu, &ts);
    size_t n = p->n_running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void api_jobs_stats(struct api_jobs *p, struct api_jobs_stats *out)
{
    pthread_mutex_lock(&p->mu);
    out->queued = p->n_queued;
    out->running = p->n_running;
    out->rejected = p->n_rejected;
    pthread_mutex_unlock(&p->mu);
}

void api_jobs_free(struct api_jobs *p)
{
    if (!p)
        return;
    api_jobs_stop(p);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
