/* SPDX-License-Identifier: MIT */
/*
 * Task flags of `corral submit` / `corral run` -> task spec JSON (CONTRACT "Task spec"). Pure: no
 * IO and no libcurl, so it can be unit tested on its own. Ranges are left to the server, which
 * names the field in its 400 answer; only malformed local input (K=V without '=', an empty
 * command) is rejected here.
 */
#ifndef CORRAL_CLI_SPEC_BUILD_H
#define CORRAL_CLI_SPEC_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "corral/error.h"
#include "corral/opts.h"

/* Value of an integer task flag that was not given (outside every range the flags accept). */
#define CLI_UNSET_INT INT64_MIN
/* Value of --cpu (thousandths) when not given. */
#define CLI_UNSET_MILLI UINT64_MAX

/* The task flags; integer fields hold CLI_UNSET_INT / CLI_UNSET_MILLI when not given. */
struct cli_task_flags {
    int64_t priority;
    int64_t timeout_s;
    int64_t max_attempts;
    uint64_t cpu_milli; /* --cpu 1.5 -> 1500 */
    int64_t mem_mb;
    int64_t estimated_ms;
    uint64_t delay_milli;              /* --delay 1.5 -> 1500 */
    const char *run_at;                /* borrowed from argv, NULL when not given */
    struct corral_strlist labels;      /* "K=V", -> "constraints" */
    struct corral_strlist depends_on;  /* task ids, -> "depends_on" */
    const char *on_dependency_failure; /* borrowed from argv, NULL when not given */
    struct corral_strlist env;         /* "K=V", -> "env" */
    struct corral_strlist secret_env;  /* "K=V", -> "secret_env" (from --secret-env-file) */
    const char *secret_env_file;       /* borrowed from argv, NULL when not given */
    const char *idempotency_key;       /* borrowed from argv, NULL when not given */
    const char *name;                  /* borrowed from argv, NULL when not given */
    bool shell;
    bool json; /* --json after the command name; not part of the spec */
};

/* Set every field to "not given" (lists empty). Cannot fail. */
void cli_task_flags_init(struct cli_task_flags *f);

/*
 * Build the spec object from flags and the command argv (argc strings, after "--"). With
 * f->shell the arguments are joined with single spaces into one string. Returns a new object
 * (caller decrefs), or NULL with err set: CORRAL_EUSAGE, field "--label"/"--env" for a K=V
 * without '=' or with an empty key, no field for an empty command, field "command" for non-UTF-8
 * text.
 */
json_t *cli_spec_build(const struct cli_task_flags *f, int argc, char *const *argv,
                       struct corral_error *err);

/*
 * Parse the text of an env file (--secret-env-file): one K=V per line; blank lines and lines
 * whose first non-blank character is '#' are skipped; a final newline and a CR before each
 * newline are dropped; nothing is unquoted. Appends each entry to out. CORRAL_EUSAGE naming
 * flag and the line number on a line without '=' or with an empty key.
 */
CORRAL_NODISCARD int cli_env_lines(const char *text, const char *flag, struct corral_strlist *out,
                                   struct corral_error *err);

/*
 * Parse the "K=V" strings of l into a new JSON object of strings (later duplicates win).
 * NULL with err (CORRAL_EUSAGE, field flag) on a malformed entry.
 */
json_t *cli_kv_object(const struct corral_strlist *l, const char *flag, struct corral_error *err);

#endif
