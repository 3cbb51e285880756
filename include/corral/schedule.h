/* SPDX-License-Identifier: MIT */
/*
 * Cron schedules (CONTRACT "Schedule object"; docs/workflows.md): the request of
 * POST /v1/schedules, the znode schedules/<name> (the request plus the schedule's state: its last
 * fire, its last task, a fire held by overlap "queue", and the ledger of recent fires), the
 * object the API shows, and the decision of what a schedule does at an instant. Pure: the zone
 * comes in as data, times come in as numbers.
 *
 * Exactly once per fire: the leader creates a fire's task and records the fire in the schedule
 * znode (set at the version it read) in one fenced multi, and the task's id is derived from
 * (schedule, scheduled time), so neither a failover nor a retry can double or lose a fire.
 */
#ifndef CORRAL_SCHEDULE_H
#define CORRAL_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "corral/access.h"
#include "corral/cron.h"
#include "corral/error.h"
#include "corral/limits.h"
#include "corral/misfire.h"
#include "corral/spec.h"
#include "corral/tz.h"

#define CORRAL_SCHEDULE_FIRES_KEPT    1000u /* ledger entries kept in the znode, newest */
#define CORRAL_SCHEDULE_CATCHUP_DEF_S 3600  /* catchup_window_s default */
#define CORRAL_SCHEDULE_TZ_MAX        64u   /* bytes of a time zone name */
#define CORRAL_SCHEDULE_GRACE_MS      2000  /* a fire at most this late is on time */
#define CORRAL_SCHEDULE_FIRES_DEFAULT 20u   /* GET .../fires limit default */

/* One fire in the ledger. */
struct corral_fire {
    int64_t scheduled_ms;         /* the cron time it stands for */
    int64_t fired_ms;             /* when it was decided */
    char task[CORRAL_ID_LEN + 1]; /* the task it created; "" when skipped */
};

struct corral_schedule {
    char name[CORRAL_SCHEDULE_NAME_MAX + 1];
    char cron_text[CORRAL_CRON_MAX_LEN + 1];
    struct corral_cron cron; /* parsed cron_text */
    char timezone[CORRAL_SCHEDULE_TZ_MAX + 1];
    struct corral_spec task;
    enum corral_misfire misfire;
    enum corral_overlap overlap;
    int64_t catchup_window_s;
    bool paused;
    int64_t created_at_ms;
    int64_t last_fire_ms; /* scheduled time of the last fire decided (fired or skipped); -1 none */
    char last_task[CORRAL_ID_LEN + 1]; /* task of the newest fire that made one; "" none */
    int64_t held_ms;           /* overlap "queue": the fire waiting for last_task to end; -1 none */
    struct corral_fire *fires; /* oldest first, at most CORRAL_SCHEDULE_FIRES_KEPT */
    size_t n_fires;
};

/*
 * Parse and validate the body of POST /v1/schedules. now_ms becomes created_at. The zone name is
 * checked for its form only (the caller loads it and answers 400 "timezone" if it does not
 * exist). Errors are CORRAL_ESPEC with err->field naming the field ("cron", "task.priority",
 * "misfire"); the task may not have run_at, delay_s or idempotency_key (each fire is a new
 * task at its time). out must be zeroed; it is zeroed again on failure.
 */
CORRAL_NODISCARD int corral_schedule_from_request(const json_t *body, int64_t now_ms,
                                                  struct corral_schedule *out,
                                                  struct corral_error *err);

/* The znode's JSON text (compact); caller frees. Never NULL. */
char *corral_schedule_encode(const struct corral_schedule *s);
/* Parse a znode's text. CORRAL_EINVAL naming the field on bad data. out must be zeroed. */
CORRAL_NODISCARD int corral_schedule_decode(const char *buf, size_t len,
                                            struct corral_schedule *out, struct corral_error *err);

/* The API's object: the contract's fields, the task spec with secrets shown as null, and
 * next_fire (NULL-able: next_fire_ms < 0 is null). New reference, never NULL. */
json_t *corral_schedule_to_json(const struct corral_schedule *s, int64_t next_fire_ms);

/* The next fire strictly after now_ms (-1 when paused or never), in zone tz. */
int64_t corral_schedule_next_fire(const struct corral_schedule *s, const struct corral_tz *tz,
                                  int64_t now_ms);

/* The id of the task of the fire at scheduled_ms: the scheduled time as the id's time part and
 * FNV-1a of (name, time) as its random part. */
void corral_schedule_fire_id(const char *name, int64_t scheduled_ms, char out[CORRAL_ID_LEN + 1]);

/* Append a fire to the ledger (dropping the oldest past CORRAL_SCHEDULE_FIRES_KEPT); task NULL
 * or "" for a skipped fire. */
void corral_schedule_add_fire(struct corral_schedule *s, int64_t scheduled_ms, int64_t fired_ms,
                              const char *task);

/* What a schedule does now (corral_schedule_decide). */
struct corral_fire_decision {
    size_t n_fire; /* fires that create a task, ascending */
    int64_t fire_ms[CORRAL_MISFIRE_MAX_FIRES];
    size_t n_skip; /* fires recorded as skipped (misfire or overlap) */
    int64_t skip_ms[CORRAL_MISFIRE_MAX_FIRES];
    bool cancel_previous; /* cancel last_task before the fires (overlap cancel_previous) */
    int64_t hold_ms;      /* the fire to hold for later (overlap queue); -1 none */
    int64_t record_ms;    /* the new last_fire_ms */
    bool changed;         /* anything to write */
};

/*
 * Decide the fires of s at now_ms: the misfire plan since last_fire_ms (or since creation), then
 * the overlap policy against the previous fire's task (previous_unfinished: last_task exists and
 * is not final). A held fire (held_ms) is released when the previous task has ended. Fires after
 * the first in one decision see the task the first one creates as unfinished. Pure; CORRAL_EINVAL
 * from the cron or misfire code.
 */
CORRAL_NODISCARD int corral_schedule_decide(const struct corral_schedule *s,
                                            const struct corral_tz *tz, int64_t now_ms,
                                            bool previous_unfinished,
                                            struct corral_fire_decision *out,
                                            struct corral_error *err);

/* Names of the policies (API strings) and back; -1 for an unknown name. */
const char *corral_misfire_name(enum corral_misfire m);
int corral_misfire_parse(const char *s);
const char *corral_overlap_name(enum corral_overlap o);
int corral_overlap_parse(const char *s);

void corral_schedule_cleanup(struct corral_schedule *s);

#endif
