/* SPDX-License-Identifier: MIT */
/*
 * What every part of corral-bench shares: the stop request (SIGINT/SIGTERM or a fatal error:
 * every loop polls it and ends within ~100 ms), progress lines on stderr, and a bounded sleep.
 * The clocks are io/clock.h's (monotonic for deadlines, wall for task timestamps).
 */
#ifndef CORRAL_BENCH_BENCH_H
#define CORRAL_BENCH_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/error.h"

/* Ask every loop to end (async-signal-safe: it only sets a flag). */
void bench_request_stop(void);
bool bench_stopping(void);

/* Remember when the run began (monotonic ms): progress lines show the time since. */
void bench_set_start(int64_t mono_ms);
/* One line "[corral-bench  12.3s] <text>" on stderr. */
void bench_progress(const char *fmt, ...) CORRAL_PRINTF(1, 2);

/* Sleep ms (at most 1000 at a time; returns early, false, when a stop was requested). */
bool bench_sleep_ms(int64_t ms);

/* Start a thread with SIGINT and SIGTERM blocked (they go to the main thread, which stops the
 * run). Aborts when no thread can be created. */
void bench_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
