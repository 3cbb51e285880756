/* SPDX-License-Identifier: MIT */
/*
 * Least privilege for tasks (CONTRACT "corral-worker": --run-as, --allow-root), the pure part:
 * what a --run-as value is, whether a worker may run tasks with the identity it has, and which
 * resource limits a task process gets. The worker resolves users and the supervisor applies
 * the limits (src/worker/run_as.c, src/io/proc.c); docs/security-worker.md explains the
 * choices.
 */
#ifndef CORRAL_PRIVILEGE_H
#define CORRAL_PRIVILEGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

/* The longest user name --run-as accepts (useradd's limit on Linux). */
#define CORRAL_USER_NAME_MAX 32u

/* A resource limit left as the worker's: no new limit. */
#define CORRAL_RLIM_NONE UINT64_MAX

/*
 * Task limits. RLIMIT_AS comes from resources.mem_mb only when the spec gives one (mem_mb > 0),
 * and generously: CORRAL_TASK_AS_FACTOR x mem_mb + CORRAL_TASK_AS_SLACK_MB, because address space
 * is not memory (thread stacks, malloc arenas, a JVM's reserved heap and class space are mapped
 * but mostly never touched). It stops a runaway allocation, not a slow leak.
 * RLIMIT_FSIZE caps every file a task writes (its output goes through a pipe, not affected).
 * RLIMIT_NPROC counts the processes of a user, so it is set only when tasks run as a user of
 * their own (--run-as): on the worker's own uid it would count the worker and everything else
 * that user runs.
 */
#define CORRAL_TASK_AS_FACTOR   4u
#define CORRAL_TASK_AS_SLACK_MB 1024u
#define CORRAL_TASK_FSIZE_BYTES (4ull * 1024u * 1024u * 1024u) /* 4 GiB */
#define CORRAL_TASK_NPROC       4096u

struct corral_task_limits {
    uint64_t as_bytes;    /* RLIMIT_AS, or CORRAL_RLIM_NONE */
    uint64_t fsize_bytes; /* RLIMIT_FSIZE, or CORRAL_RLIM_NONE */
    uint64_t nproc;       /* RLIMIT_NPROC, or CORRAL_RLIM_NONE */
};

/*
 * Check a --run-as value: all digits is a numeric uid (0..4294967294, *numeric = true, *uid
 * set); otherwise a user name of 1..CORRAL_USER_NAME_MAX characters [A-Za-z0-9._-] not starting
 * with '-' (a trailing '$' is allowed, as for machine accounts). CORRAL_EUSAGE with field
 * "--run-as" otherwise.
 */
CORRAL_NODISCARD int corral_run_as_parse(const char *s, bool *numeric, uint32_t *uid,
                                         struct corral_error *err);

/*
 * May a worker whose effective uid is euid run tasks? has_run_as: --run-as was given and
 * resolved to run_as_uid. Refused (CORRAL_EUSAGE, one sentence naming the remedy):
 *   - euid 0, no --run-as, no --allow-root (tasks would run as root);
 *   - --run-as resolving to uid 0 without --allow-root;
 *   - --run-as another user while euid is not 0 (only root can change uid).
 * Pure: the caller looks the identities up.
 */
CORRAL_NODISCARD int corral_worker_identity_check(uint32_t euid, bool has_run_as,
                                                  uint32_t run_as_uid, bool allow_root,
                                                  struct corral_error *err);

/* Whether the task process must change uid (root worker, --run-as someone else). */
bool corral_run_as_needs_switch(uint32_t euid, bool has_run_as, uint32_t run_as_uid);

/*
 * Whether a user (uid, primary gid, supplementary groups) may write into a directory of this
 * owner, group and mode (permission bits as in st_mode): it owns it, or the directory is
 * writable by others, or by a group the user is in. Root's override is not considered: the
 * caller asks about a --run-as user, never root.
 */
bool corral_user_may_write(uint32_t uid, uint32_t gid, const uint32_t *groups, size_t n_groups,
                           uint32_t owner, uint32_t group, uint32_t mode);

/* The limits of a task process; mem_mb = resources.mem_mb (0: none given); dedicated_uid: the
 * task runs as a --run-as user of its own. */
void corral_task_limits_compute(uint64_t mem_mb, bool dedicated_uid,
                                struct corral_task_limits *out);

/* The limit to set when the current one is cur and we want want (CORRAL_RLIM_NONE = infinity):
 * limits only ever go down. */
uint64_t corral_rlim_lower(uint64_t cur, uint64_t want);

#endif
