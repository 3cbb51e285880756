/* SPDX-License-Identifier: MIT */
/*
 * Worker side of the supervisors (supervisor.h): start one supervisor per task, signal it
 * (cancel, stop, kill now), read its result line, keep the shared lease page current, and read
 * the tail of a task's output file and delete that file. It knows nothing of ZooKeeper;
 * agent.c decides.
 * Called from the worker's main thread only.
 */
#ifndef CORRAL_WORKER_RUNNER_H
#define CORRAL_WORKER_RUNNER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "corral/error.h"
#include "corral/log.h"
#include "corral/result.h"
#include "corral/spec.h"
#include "worker/supervisor.h"

/* One running supervisor; caller storage, zero it and call runner_start(). */
struct run {
    pid_t pid;       /* supervisor pid; 0 once the supervisor was reaped or never started */
    pid_t task_pgid; /* the task's process group once reported, else 0 */
    int fd;          /* result pipe read end; -1 once closed */
    char buf[1024];  /* partial line */
    size_t len;
    bool has_result;
    bool done;    /* pipe closed: result (or CORRAL_RUN_LOST) final */
    bool stopped; /* the supervisor was seen stopped (SIGSTOP): its tree and it were killed */
    struct corral_run_result result; /* the supervisor's report (corral/result.h) */
    char output_path[PATH_MAX];      /* the task's output file; "" once runner_close() removed it */
};

struct runner;
struct run_as;

/* Create the lease page and remember the work dir (must exist) and the user tasks run as
 * (run_as may be NULL: the worker's). NULL with err on failure. */
struct runner *runner_new(const char *work_dir, enum corral_log_level level,
                          const struct run_as *run_as, struct corral_error *err);
void runner_free(struct runner *r);

/* Publish the lease: last_rx_ms is CLOCK_MONOTONIC ms of the last ZooKeeper reply. */
void runner_set_lease(struct runner *r, int64_t last_rx_ms, int64_t lease_ms);

/*
 * Start a supervisor for one attempt of a task. On success run->pid and run->fd are set
 * (poll run->fd for POLLIN and call runner_read()). Output goes to
 * <work_dir>/<task_id>.<attempt>.out (run->output_path), created here; the supervisor keeps it
 * within SUP_OUTPUT_MAX_BYTES (the latest output) and it is complete once runner_read() returned
 * true. It stays on disk until runner_close(). CORRAL_EINTERNAL on failure (no file is left).
 */
CORRAL_NODISCARD int runner_start(struct runner *r, struct run *run, const char *task_id,
                                  uint32_t attempt, uint64_t epoch, const struct corral_spec *spec,
                                  struct corral_error *err);

/* Cancel (SIGUSR1: TERM, then KILL after 2 s). */
void runner_cancel(struct run *run);
/* Kill at once (SIGUSR2: SIGKILL to the task's tree); also kills the group directly. */
void runner_kill(struct run *run);

/* Read what is available on run->fd. Returns true once run->done (result final). */
bool runner_read(struct run *run);

/*
 * Note that pid was seen stopped (waitpid WUNTRACED); returns true when it was this run's
 * supervisor. A stopped supervisor enforces nothing (timeout, cancel, lease): the attempt is
 * killed at once, the task's processes first, then the supervisor; runner_read() then reports
 * CORRAL_RUN_LOST with an error saying why.
 */
bool runner_stopped(struct run *run, pid_t pid);

/* Note that pid was reaped (SIGCHLD); returns true when it was this run's supervisor. */
bool runner_reaped(struct run *run, pid_t pid);

/*
 * Note that pid, a child that no run claimed, was reaped or seen stopped; true when it was the
 * runner's own (the supervisors' zygote, zygote.h), which is then killed if stopped and started
 * again later. Its supervisors are our children too: they are runs' pids.
 */
bool runner_own_child(struct runner *r, pid_t pid, bool stopped);
/* The zygote's pid (a child of ours that is no supervisor and no stray), or 0. */
pid_t runner_zygote_pid(const struct runner *r);

/*
 * Forget the run: close the result pipe if open and delete the output file. Call it only once
 * the output is no longer needed (the result is stored, or the attempt is void). Does not
 * signal: a supervisor still running keeps writing into the unlinked file, whose space is freed
 * when it exits (it never reopens the file by name). Idempotent.
 */
void runner_close(struct run *run);

/*
 * The last max_bytes of the file, repaired to valid UTF-8 (malloc'd; caller frees), or NULL
 * when the file cannot be read.
 */
char *runner_output_tail(const char *path, size_t max_bytes);
/* The raw newest bytes of the output file (at most max_bytes; malloc'd in *data, *len) and
 * the file's size in *size. False when there is no regular file to read (never follows a link,
 * never waits on a FIFO). */
bool runner_output_window(const char *path, size_t max_bytes, char **data, size_t *len,
                          uint64_t *size);

#endif
