/* SPDX-License-Identifier: MIT */
/*
 * The completion probe of scenarios c and d: reads the oldest unfinished tasks' znodes
 * (pipelined, zkraw.h; not through corrald, which it would load) about once per task. Rates and
 * latencies come from the task JSON's submitted_at, started_at and finished_at, not from when
 * the probe saw them.
 */
#ifndef CORRAL_BENCH_PROBE_H
#define CORRAL_BENCH_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "bench/zkraw.h"
#include "corral/error.h"
#include "corral/limits.h"

struct probe;

/* A probe of ids[0..n) (copied) in namespace ns, reading through z (borrowed). */
struct probe *probe_new(struct zkraw *z, const char *ns, const char (*ids)[CORRAL_ID_LEN + 1],
                        size_t n);
void probe_free(struct probe *p);
/* One pass: read the oldest unfinished tasks (a window that grows with the finish rate).
 * Returns 0 or the read failure. */
CORRAL_NODISCARD int probe_pass(struct probe *p, int64_t deadline_ms, struct corral_error *err);
size_t probe_finished(const struct probe *p);
/* Tasks finished in state succeeded. */
size_t probe_succeeded(const struct probe *p);

struct probe_times {
    int64_t *start_ms; /* started_at - submitted_at of finished tasks that started */
    size_t n_start;
    int64_t *end_ms; /* finished_at - submitted_at of finished tasks */
    size_t n_end;
    int64_t first_submitted_wall_ms, last_finished_wall_ms; /* 0 = none */
};
/* The latencies of the finished tasks (arrays owned by the caller: free them). */
void probe_times(const struct probe *p, struct probe_times *out);

#endif
