/* SPDX-License-Identifier: MIT */
/*
 * Human output of the `corral` client: aligned tables (list, workers, schedules, fires) and the
 * key: value blocks of `corral get` and `corral schedule get`. Pure: JSON and "now" come in,
 * text goes to a FILE (open_memstream in tests). `--json` output does not come through here; it
 * is the API's body as received.
 */
#ifndef CORRAL_CLI_TABLE_H
#define CORRAL_CLI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* A table of owned cells; row 0 is the header. */
struct cli_table {
    size_t ncols;
    size_t nrows;
    size_t cap_rows;
    char **cells; /* nrows * ncols strings, row-major, owned */
};

/* Start an empty table of ncols columns (ncols >= 1). Cannot fail. */
void table_init(struct cli_table *t, size_t ncols);
/* Append a row; cells holds ncols strings (NULL prints as "-"), copied. Aborts on OOM. */
void table_add_row(struct cli_table *t, const char *const *cells);
/*
 * Print with columns padded to their widest cell (counted in UTF-8 code points), separated by
 * two spaces; the last column is not padded. Control characters in cells print as '?'.
 */
void table_print(const struct cli_table *t, FILE *out);
/* Free every cell; idempotent; works on a zeroed struct. */
void table_cleanup(struct cli_table *t);

/*
 * `corral list`: columns ID STATE PRIO ATTEMPT WORKER AGE NAME (name, or the command when the
 * task has no name). tasks is the "tasks" array of GET /v1/tasks; now_ms is the wall clock used
 * for AGE (time since submitted_at).
 */
void table_print_tasks(FILE *out, json_t *tasks, int64_t now_ms);

/* `corral workers`: ID SLOTS RUNNING CPU(used/cap) MEM(used/cap) WEIGHT LABELS. */
void table_print_workers(FILE *out, json_t *workers);

/*
 * `corral get`: one "key: value" line per field (null as "-"), the history one line per earlier
 * attempt, then "output:" and the output as is.
 */
void table_print_task(FILE *out, json_t *task);

/* `corral schedule list`: NAME CRON TZ PAUSED LAST_FIRE NEXT_FIRE (PAUSED yes/no). schedules is
 * the "schedules" array of GET /v1/schedules. */
void table_print_schedules(FILE *out, json_t *schedules);

/*
 * `corral schedule get` (and add, pause, resume): one "key: value" line per field of the
 * schedule object (null as "-"), then the task's command as `corral get` shows it.
 */
void table_print_schedule(FILE *out, json_t *schedule);

/* `corral schedule fires`: SCHEDULED_AT FIRED_AT TASK STATE, in the order the API gave. */
void table_print_fires(FILE *out, json_t *fires);

/*
 * "4s", "12m", "3h", "2d" for a duration in ms (negative counts as 0). out holds at least 24
 * bytes.
 */
void table_format_age(int64_t ms, char *out, size_t n);

/*
 * The task's command for humans: the --shell line, the argv joined with spaces, or
 * "HTTP <METHOD> <url>". Returns a malloc'd string (caller frees); "-" when the spec has none.
 */
char *table_task_command(json_t *task);

#endif
