/* SPDX-License-Identifier: MIT */
/* Every input-driven size in corral has a cap here; hitting one is an error, never a realloc. */
#ifndef CORRAL_LIMITS_H
#define CORRAL_LIMITS_H

#define CORRAL_BODY_MAX_BYTES      (1024u * 1024u) /* REST request body: 413 above */
#define CORRAL_SPEC_MAX_BYTES      (64u * 1024u)   /* one task spec as JSON text: 400 above */
#define CORRAL_SPEC_MAX_ARGS       1024u           /* command array entries */
#define CORRAL_IDEM_KEY_MAX        128u            /* idempotency_key length in bytes */
#define CORRAL_NAME_MAX            256u            /* spec.name length in bytes */
#define CORRAL_OUTPUT_TAIL_BYTES   4096u           /* stdout+stderr tail kept in the task */
#define CORRAL_BATCH_MAX           1000u           /* specs in POST /v1/tasks/batch */
#define CORRAL_PRIORITY_MIN        (-1000)
#define CORRAL_PRIORITY_MAX        1000
#define CORRAL_TIMEOUT_MAX_S       (7u * 24u * 3600u)
#define CORRAL_MAX_ATTEMPTS_MAX    100u
#define CORRAL_RETRY_BACKOFF_MAX_S 3600u                /* spec.retry_backoff_s */
#define CORRAL_DELAY_MAX_S         (365u * 24u * 3600u) /* spec.delay_s */
#define CORRAL_DEPENDS_MAX         64u                  /* spec.depends_on entries */
#define CORRAL_DEPENDENTS_MAX      4096u                /* ids a task keeps in its "dependents" */
#define CORRAL_RETRY_DELAY_CAP_MS  (300u * 1000u)       /* longest wait between attempts */
#define CORRAL_CPU_MAX_MILLI       (1024u * 1000u)      /* resources.cpu at most 1024 */
#define CORRAL_MEM_MAX_MB          (1024u * 1024u * 1024u) /* 1 PiB in MiB */
#define CORRAL_MAP_MAX_ENTRIES     256u /* env, constraints, labels, http headers */
#define CORRAL_KEY_MAX             128u /* env/label/header key length */
#define CORRAL_URL_MAX             8192u
#define CORRAL_LIST_LIMIT_MAX      1000u /* GET /v1/tasks?limit= */
#define CORRAL_LIST_LIMIT_DEFAULT  100u
#define CORRAL_WAIT_MAX_S          60u /* GET /v1/tasks/{id}?wait= */
#define CORRAL_ID_LEN              21u /* task id: 12 hex ms + '-' + 8 hex random */
#define CORRAL_WORKER_ID_MAX       128u
#define CORRAL_PATH_MAX            512u /* any znode path corral builds */
#define CORRAL_BUCKETS             256u /* tasks/ and queue/ are split into these */
/* A task's history keeps its first entry, every counted attempt (at most max_attempts - 1) and
 * the newest CORRAL_HISTORY_RETURNS_KEPT "returned" entries after the first; older returns are
 * dropped and counted in the task's history_omitted. So it has at most 1 + 99 + 20 entries of
 * under 400 bytes each (~48 KiB) however often a task is handed back. */
#define CORRAL_HISTORY_RETURNS_KEPT 20u

#endif
