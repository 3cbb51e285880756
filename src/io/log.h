/* SPDX-License-Identifier: MIT */
/* Logging sink: one write(2) per line to stderr. The line format is corral_log_format(). */
#ifndef CORRAL_IO_LOG_H
#define CORRAL_IO_LOG_H

#include <stdbool.h>

#include "corral/log.h"

/* Set the program name and minimum level; call once at startup, before threads start. */
void log_init(const char *prog, enum corral_log_level min);
/* --log-format json: one JSON object per line (corral_log_json), each carrying key: val (the
 * process's "replica" or "worker" id; NULL: none). Call at startup, before threads start. */
void log_set_format(bool json, const char *key, const char *val);
/* What log_set_format set: JSON lines?, and the context value ("" if none). */
bool log_is_json(void);
const char *log_context_value(void);
enum corral_log_level log_min_level(void);
void log_write(enum corral_log_level level, const char *module, const char *fmt, ...)
    CORRAL_PRINTF(3, 4);

/* Each .c file that logs defines CORRAL_LOG_MODULE ("leader", "api", ...) before using this. */
#define CORRAL_LOG(level, ...)                                                                     \
    do {                                                                                           \
        if ((level) >= log_min_level())                                                            \
            log_write((level), CORRAL_LOG_MODULE, __VA_ARGS__);                                    \
    } while (0)

#endif
