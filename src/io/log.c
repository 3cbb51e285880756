/* SPDX-License-Identifier: MIT */
/* Log sink: formats with the pure corral_log_format() and writes each line with one write(2). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/log.h"

static char prog_name[32] = "corral";
static atomic_int min_level = CORRAL_LOG_INFO;
static bool json_lines;
static char ctx_key[16], ctx_val[160];

void log_init(const char *prog, enum corral_log_level min)
{
    snprintf(prog_name, sizeof prog_name, "%s", prog);
    atomic_store(&min_level, (int)min);
}

void log_set_format(bool json, const char *key, const char *val)
{
    json_lines = json;
    snprintf(ctx_key, sizeof ctx_key, "%s", key && val ? key : "");
    snprintf(ctx_val, sizeof ctx_val, "%s", key && val ? val : "");
}

bool log_is_json(void)
{
    return json_lines;
}

const char *log_context_value(void)
{
    return ctx_val;
}

enum corral_log_level log_min_level(void)
{
    return (enum corral_log_level)atomic_load(&min_level);
}

void log_write(enum corral_log_level level, const char *module, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    size_t len;
    if (json_lines) {
        char msg[2048];
        if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
            msg[0] = '\0';
        len = corral_log_json(line, sizeof line, clock_wall_ms(), level, prog_name, (long)getpid(),
                              module, ctx_key[0] ? ctx_key : NULL, ctx_val, msg);
    } else {
        len = corral_log_format(line, 2048, clock_wall_ms(), level, prog_name, (long)getpid(),
                                module, fmt, ap);
    }
    va_end(ap);
    /* One write per line so that lines of concurrent threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
