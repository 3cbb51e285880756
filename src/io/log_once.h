/* SPDX-License-Identifier: MIT */
/*
 * Log a skipped znode once (CONTRACT "a znode that corral did not write as it expects ... is
 * ignored and logged, never fatal"). The leader re-reads the same bad znode every round, the
 * API on every request: without this, one hostile znode would flood the log. The set remembers
 * (kind, name) pairs by a 64-bit hash, at most LOG_ONCE_MAX of them; when full it forgets all
 * (so a flood of distinct bad names costs at most one line per name per LOG_ONCE_MAX names).
 * Thread-safe (a mutex): the API's threads and the main loop share it.
 */
#ifndef CORRAL_IO_LOG_ONCE_H
#define CORRAL_IO_LOG_ONCE_H

#include <stdbool.h>

#include "io/log.h"

#define LOG_ONCE_MAX 4096u

/* True the first time (kind, name) is seen since the start (or since the set was last full). */
bool log_once_first(const char *kind, const char *name);
/* Forget (kind, name): the next log_once_first() of it is true again (a znode that was fixed and
 * broke again is worth a new line). */
void log_once_forget(const char *kind, const char *name);

/* CORRAL_LOG, but only the first time for (kind, name). */
#define CORRAL_LOG_ONCE(level, kind, name, ...)                                                    \
    do {                                                                                           \
        if ((level) >= log_min_level() && log_once_first((kind), (name)))                          \
            log_write((level), CORRAL_LOG_MODULE, __VA_ARGS__);                                    \
    } while (0)

#endif
