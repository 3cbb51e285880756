/* SPDX-License-Identifier: MIT */
/*
 * `corral schedule add` flags -> POST /v1/schedules body (CONTRACT "Schedule object"), and the
 * local check of a schedule NAME. Pure: no IO and no libcurl, so it can be unit tested on its own.
 * As for tasks, ranges and the cron expression are left to the server, which names the field in
 * its 400 answer; only what would break the request locally is refused here.
 */
#ifndef CORRAL_CLI_SCHEDULE_BUILD_H
#define CORRAL_CLI_SCHEDULE_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "corral/error.h"
#include "cli/spec_build.h"

/* Longest schedule NAME in bytes. */
#define CLI_SCHEDULE_NAME_MAX 64

/* The flags of `corral schedule add`; the task flags are those of `corral submit`. */
struct cli_schedule_flags {
    struct cli_task_flags task;
    const char *cron;         /* borrowed from argv; required */
    const char *timezone;     /* borrowed, NULL when not given (server default UTC) */
    const char *misfire;      /* skip | fire_once | fire_all, NULL when not given */
    const char *overlap;      /* allow | skip | queue | cancel_previous, NULL when not given */
    int64_t catchup_window_s; /* CLI_UNSET_INT when not given */
    bool paused;
};

/* Every field "not given" (task flags as cli_task_flags_init). Cannot fail. */
void cli_schedule_flags_init(struct cli_schedule_flags *f);

/*
 * A schedule NAME goes into URL paths as is: 1..CLI_SCHEDULE_NAME_MAX bytes of [A-Za-z0-9._-],
 * not starting with '.'. Returns 0, or CORRAL_EUSAGE (field "NAME") with a message saying what is
 * wrong; the message never quotes the name (it may hold control characters).
 */
CORRAL_NODISCARD int cli_schedule_name_check(const char *name, struct corral_error *err);

/*
 * The POST /v1/schedules body: {"name", "cron", "task": spec} plus "timezone", "misfire",
 * "overlap", "catchup_window_s" and "paused" (true) only when given. The task spec is
 * cli_spec_build(&f->task, argc, argv). Returns a new object (caller decrefs), or NULL with err:
 * CORRAL_EUSAGE for a bad NAME (field "NAME"), a missing --cron (field "--cron"), text that is
 * not UTF-8 (field the flag), or any error of cli_spec_build.
 */
json_t *cli_schedule_body(const char *name, const struct cli_schedule_flags *f, int argc,
                          char *const *argv, struct corral_error *err);

#endif
