/* SPDX-License-Identifier: MIT */
/*
 * Job pool of the REST server: a bounded FIFO queue and a few threads that run what the HTTP
 * handlers hand over (the parts that talk to ZooKeeper), so that libmicrohttpd's polling threads
 * never wait on ZooKeeper. It knows nothing of HTTP: a job is two function pointers embedded at
 * the start of the caller's own struct. Every function may be called from any thread.
 */
#ifndef CORRALD_API_JOBS_H
#define CORRALD_API_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

struct api_job;
typedef void (*api_job_fn)(struct api_job *job);

struct api_job {
    api_job_fn run;       /* on a job thread; owns the job from then on (frees it) */
    api_job_fn drop;      /* instead of run when the pool stops before the job started; frees it */
    struct api_job *next; /* the pool's queue link */
};

struct api_jobs_stats {
    size_t queued;     /* waiting for a thread */
    size_t running;    /* on a thread now */
    uint64_t rejected; /* pushes refused because the queue was full */
};

struct api_jobs;

/* Start n_threads threads (at least 1) over a queue of at most max_queued jobs. Never NULL. */
struct api_jobs *api_jobs_new(unsigned n_threads, size_t max_queued);
/* Queue job (run or drop will be called exactly once). CORRAL_EFULL when the queue is full,
 * CORRAL_EUNAVAIL once stopping; on failure the caller keeps the job. */
CORRAL_NODISCARD int api_jobs_push(struct api_jobs *p, struct api_job *job);
/* Refuse new jobs and drop the queued ones (their drop is called here). Idempotent. */
void api_jobs_stop(struct api_jobs *p);
/* Wait up to grace_ms for the running jobs to end; returns how many still run. */
size_t api_jobs_wait_idle(struct api_jobs *p, int64_t grace_ms);
void api_jobs_stats(struct api_jobs *p, struct api_jobs_stats *out);
/* Stop, join the threads (this waits for running jobs however long they take) and free.
 * NULL is fine. */
void api_jobs_free(struct api_jobs *p);

#endif
