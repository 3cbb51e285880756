/* SPDX-License-Identifier: MIT */
/*
 * Task spec: parsing and validation of the body of POST /v1/tasks (CONTRACT "Task spec"), and
 * rendering back to JSON with every default filled. Pure: no IO, no clock.
 */
#ifndef CORRAL_SPEC_H
#define CORRAL_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "corral/error.h"

/*
 * Flags for every json_dumps of corral JSON (task znodes, API bodies). The precision makes a
 * fractional resources.cpu print as 0.1 instead of jansson's default 0.10000000000000001; 15
 * significant digits still parse back to the same double.
 */
#define CORRAL_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* A string map entry (env, constraints, labels, headers); both strings owned. */
struct corral_kv {
    char *key;
    char *value;
};

struct corral_http_spec {
    char *method;              /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" */
    char *url;                 /* http:// or https:// only */
    struct corral_kv *headers; /* n_headers entries */
    size_t n_headers;
    struct corral_kv *secret_headers; /* sent like headers; never shown by the API nor logged */
    size_t n_secret_headers;
    char *body;         /* NULL when absent/null */
    int *expect_status; /* n_expect entries, each 100..599; default {200} */
    size_t n_expect;
};

struct corral_spec {
    char **argv; /* command: argc strings; when shell, argc == 1 and argv[0] is the line */
    size_t argc; /* 0 when http is used */
    bool shell;
    bool has_http; /* exactly one of argc > 0 and has_http */
    struct corral_http_spec http;
    char *name;                    /* NULL when absent */
    int priority;                  /* -1000..1000, default 0 */
    uint32_t timeout_s;            /* 1..CORRAL_TIMEOUT_MAX_S, default 3600 */
    uint32_t max_attempts;         /* 1..100, default 3 */
    uint32_t retry_backoff_s;      /* base of the retry backoff, 0..3600, default 1 (see task.h) */
    uint32_t cpu_milli;            /* resources.cpu * 1000, default 1000; 0..CORRAL_CPU_MAX_MILLI */
    uint64_t mem_mb;               /* resources.mem_mb, default 0 */
    struct corral_kv *constraints; /* required worker labels */
    size_t n_constraints;
    bool has_estimated;
    uint64_t estimated_ms;
    struct corral_kv *env;
    size_t n_env;
    struct corral_kv *secret_env; /* given like env; never shown by the API nor logged */
    size_t n_secret_env;
    char *idempotency_key; /* NULL when absent; 1..128 bytes */
    /* Delayed start (at most one of the two): "run_at" as wall-clock ms, or "delay_s" as ms
     * counted from the submission (corral_task_init_new turns either into the due time). */
    bool has_run_at;
    int64_t run_at_ms;
    bool has_delay;
    uint64_t delay_ms; /* 0..CORRAL_DELAY_MAX_S * 1000 */
    /* Dependencies: task ids, or "#N" (entry N of the same batch, resolved by the store before
     * the task is stored); at most CORRAL_DEPENDS_MAX, no repeats. */
    char **depends_on;
    size_t n_depends_on;
    bool dependency_failure_run; /* on_dependency_failure "run" (else "cancel") */
};

/* True when s is "#N" with N a batch index (0..CORRAL_BATCH_MAX-1, no leading zeros); *index
 * gets N. */
bool corral_spec_batch_ref(const char *s, size_t *index);

/*
 * Parse and validate one spec from JSON text. The 64 KiB cap (CORRAL_SPEC_MAX_BYTES, else
 * CORRAL_ESPEC with field "") applies to the compact serialisation, so indentation does not count,
 * both as given and as stored (corral_spec_to_json, with the defaults filled in): so every spec
 * accepted once is accepted again when its task is read back from ZooKeeper.
 * Text over CORRAL_BODY_MAX_BYTES is refused without parsing.
 * On success out holds the spec with defaults filled. On failure returns CORRAL_ESPEC (or
 * CORRAL_ETOOBIG never: oversize spec is CORRAL_ESPEC per contract) with err->field naming the
 * field ("priority", "resources.cpu", "command[2]") and out left zeroed.
 * out must be zeroed or cleaned up by the caller beforehand.
 */
CORRAL_NODISCARD int corral_spec_parse(const char *buf, size_t len, struct corral_spec *out,
                                       struct corral_error *err);

/*
 * Same from an already-parsed JSON object. prefix is prepended to field names in errors
 * ("tasks[3]." gives "tasks[3].priority"); it may be NULL or "". Also enforces the 64 KiB cap on
 * the object's compact serialisation and on that of the spec as stored.
 */
CORRAL_NODISCARD int corral_spec_from_json(const json_t *obj, const char *prefix,
                                           struct corral_spec *out, struct corral_error *err);

/* New JSON object of the spec, defaults filled, keys in contract order. Never NULL. */
json_t *corral_spec_to_json(const struct corral_spec *spec);

/* Replace every value of "secret_env" and of "http"."secret_headers" in a spec object (as
 * corral_spec_to_json makes it) by null: what the API shows of a spec. */
void corral_spec_redact_json(json_t *spec_obj);

/* CPU thousandths as JSON: an integer when whole (2), else a real (0.5). */
json_t *corral_cpu_to_json(uint32_t cpu_milli);

/* True when both specs render to equal JSON (used for idempotency-key replays). */
bool corral_spec_equal(const struct corral_spec *a, const struct corral_spec *b);

/* Deep copy; dst must be zeroed. */
void corral_spec_copy(struct corral_spec *dst, const struct corral_spec *src);

/* Free everything; idempotent; works on a zeroed struct. */
void corral_spec_cleanup(struct corral_spec *spec);

/* Value of a map entry or NULL. */
const char *corral_kv_get(const struct corral_kv *kv, size_t n, const char *key);

#endif
