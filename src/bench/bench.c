/* SPDX-License-Identifier: MIT */
/* The stop request, progress lines and sleeps every part of corral-bench shares (bench.h). */
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "bench/bench.h"
#include "io/clock.h"

static volatile sig_atomic_t stop_flag;
static int64_t start_mono_ms;

void bench_request_stop(void)
{
    stop_flag = 1;
}

bool bench_stopping(void)
{
    return stop_flag != 0;
}

void bench_set_start(int64_t mono_ms)
{
    start_mono_ms = mono_ms;
}

void bench_progress(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    double t = (double)(clock_mono_ms() - start_mono_ms) / 1000.0;
    fprintf(stderr, "[corral-bench %6.1fs] %s\n", t, line);
    fflush(stderr);
}

bool bench_sleep_ms(int64_t ms)
{
    if (ms > 1000)
        ms = 1000;
    if (ms > 0 && !bench_stopping()) {
        struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                              .tv_nsec = (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !bench_stopping();
}

void bench_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "corral-bench: cannot start a thread\n");
        abort();
    }
}
