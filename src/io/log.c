/* SPDX-License-Identifier: MIT */
/* Log sink: formats with the pure corral_log_format() and writes each line with one write(2). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/log.h"

static char prog_name[32] = "corral";
static atomic_int min_level = CORRAL_LOG_INFO;

void log_init(const char *prog, enum corral_log_level min)
{
    snprintf(prog_name, sizeof prog_name, "%s", prog);
    atomic_store(&min_level, (int)min);
}

enum corral_log_level log_min_level(void)
{
    return (enum corral_log_level)atomic_load(&min_level);
}

void log_write(enum corral_log_level level, const char *module, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    size_t len = corral_log_format(line, sizeof line, clock_wall_ms(), level, prog_name,
                                   (long)getpid(), module, fmt, ap);
    va_end(ap);
    /* One write per line so that lines of concurrent threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
