/* SPDX-License-Identifier: MIT */
/*
 * Log line formatting (pure). The sink and the CORRAL_LOG macro live in src/io/log.h.
 * Line: "2026-11-24T08:52:52.123Z info corrald[4242] leader: assigned task=t7 worker=w1\n"
 */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

#define CORRAL_LOG_LEVELS(X)                                                                       \
    X(CORRAL_LOG_DEBUG, "debug")                                                                   \
    X(CORRAL_LOG_INFO, "info")                                                                     \
    X(CORRAL_LOG_WARN, "warn")                                                                     \
    X(CORRAL_LOG_ERROR, "error")

enum corral_log_level {
#define CORRAL_X_ENUM(e, s) e,
    CORRAL_LOG_LEVELS(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_LOG_LEVEL_COUNT
};

const char *corral_log_level_name(enum corral_log_level l);
/* -1 when unknown. */
int corral_log_level_parse(const char *name);

/*
 * Format one line into buf (capacity n >= 64): always ends with '\n' and NUL, truncated to fit;
 * any '\n' or '\r' inside the message becomes ' '. Returns the line length (without NUL).
 */
size_t corral_log_format(char *buf, size_t n, int64_t wall_ms, enum corral_log_level level,
                         const char *prog, long pid, const char *module, const char *fmt,
                         va_list ap) CORRAL_PRINTF(8, 0);

/*
 * The same entry as one JSON object per line (--log-format json):
 *   {"ts":"2026-11-24T08:52:52.123Z","level":"info","prog":"corrald","pid":4242,
 *    "module":"leader","msg":"assigned task=t7 worker=w1", <ctx_key>:<ctx_val>,
 *    "task":"t7","worker":"w1"}
 * msg is the formatted message; each key=value (or key="value") word of it becomes a field too
 * (integers as numbers), the first of each key winning, so a task's lines carry task, attempt,
 * worker and epoch as fields. ctx_key/ctx_val (may be NULL) name the process ("replica" or
 * "worker"). Invalid UTF-8 becomes U+FFFD, control characters are escaped; the line is always
 * one valid JSON object ending with '\n' when n >= 256 (fields that do not fit are left out, the
 * message is cut). Returns the line length (without NUL).
 */
size_t corral_log_json(char *buf, size_t n, int64_t wall_ms, enum corral_log_level level,
                       const char *prog, long pid, const char *module, const char *ctx_key,
                       const char *ctx_val, const char *msg);

#endif
