/* SPDX-License-Identifier: MIT */
/*
 * The task supervisor: a small single-threaded process per task, forked by the worker's zygote
 * (zygote.h) or, without one, started by the worker as `corral-supervisor` (installed next to
 * corral-worker; it links neither ZooKeeper nor libcurl, so it starts in a fraction of the
 * worker's time) or, when that program is missing, as `corral-worker --supervise` (exec of
 * /proc/self/exe). Either way it is the worker's child and finds the fds below. It runs one task
 * and kills its whole process tree on timeout, cancel, worker death or lease expiry. Living outside
 * the worker's process is the point: a paused or killed worker cannot stop it from enforcing the
 * lease (CONTRACT: "a worker that has lost contact with ZooKeeper kills its running tasks before
 * its session can expire").
 *
 * Protocol between worker (runner.c) and supervisor (supervisor.c):
 *   fd 0  a memfd (or, from the zygote, a pipe) holding one JSON object, read to EOF:
 *         {"task_id","attempt","epoch","spec":{...},"parent":<worker pid>,"log_level":"info",
 *          "worker_exe":"/path/of/corral-worker"} (sup_config.h; HTTP tasks run as
 *         `<worker_exe> --http-task`, http_task.c, with the same object on stdin)
 *   fd 2  the worker's stderr (log lines)
 *   fd 3  result pipe (write end). Lines of JSON:
 *         {"pgid":N}  once the task runs (so the worker can kill it if the supervisor dies)
 *         {"outcome":"exited|signaled|timed_out|cancelled|lease_expired|spawn_failed",
 *          "exit_code":N,"signal":N,"error":"...","http_status":N}  once, last
 *   fd 4  the lease page (memfd, struct sup_lease), mapped read-only
 *   fd 5  the task's output file, opened read-write and empty by the worker (the supervisor
 *         never opens it by name, so the worker may unlink it at any time). The task's stdout
 *         and stderr are a pipe that the supervisor copies into this file, keeping it at most
 *         SUP_OUTPUT_MAX_BYTES long and always the latest bytes in order; the task is never
 *         stopped or killed for writing a lot. The file is complete when the outcome is sent.
 *   SIGUSR1, SIGTERM  cancel: SIGTERM to the task's group, SIGKILL after 2 s (SIGTERM also comes
 *                     as PR_SET_PDEATHSIG when the worker dies)
 *   SIGUSR2           kill now: SIGKILL at once (session expired, assignment taken away)
 */
#ifndef CORRAL_WORKER_SUPERVISOR_H
#define CORRAL_WORKER_SUPERVISOR_H

#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>

#include "corral/result.h"

#define SUP_RESULT_FD 3
#define SUP_LEASE_FD  4
#define SUP_OUTPUT_FD 5

/*
 * The output file never grows beyond this many bytes. When the next write would cross it, the
 * file is cut to its last SUP_OUTPUT_MAX_BYTES / 2 bytes (with the new ones), so from then on it
 * holds at least that much of the latest output; the API shows only the last
 * CORRAL_OUTPUT_TAIL_BYTES.
 */
#define SUP_OUTPUT_MAX_BYTES (256u * 1024u)

/* Exit codes of `corral-worker --http-task` (http_task.c) and the most it reports on fd 3. */
#define HTTP_EXIT_OK       0
#define HTTP_EXIT_STATUS   1 /* status not in expect_status */
#define HTTP_EXIT_CURL     2 /* transfer failed */
#define HTTP_EXIT_TIMEDOUT 124
#define HTTP_ERROR_MAX     512

#define SUP_KILL_GRACE_MS 2000
#define SUP_TICK_MS       100

/* Shared page written by the worker, read by every supervisor (same CLOCK_MONOTONIC). */
struct sup_lease {
    _Atomic int64_t last_rx_ms; /* monotonic ms of the worker's last reply from ZooKeeper */
    _Atomic int64_t lease_ms;   /* 0.75 x negotiated session timeout; 0 = no lease yet */
};

static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the lease page needs lock-free 64-bit atomics");

/* How a run ended: enum corral_run_outcome (corral/result.h), one table for the supervisor's
 * report, the worker's reading of it and the core's decision. */

/* Entry point of corral-supervisor and `corral-worker --supervise`; returns the exit status. */
int supervisor_main(void);
/* Entry point of `corral-worker --http-task` (http_task.c). */
int http_task_main(void);

#endif
