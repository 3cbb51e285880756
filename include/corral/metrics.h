/* SPDX-License-Identifier: MIT */
/*
 * What /metrics exports, the pure parts (docs/operations.md "Metrics"): priority bands of the
 * queue depth gauge, histogram bucket bounds, and the Prometheus text of one histogram. The
 * counters themselves live with their writers (corrald's replica, the ZooKeeper adapter).
 */
#ifndef CORRAL_METRICS_H
#define CORRAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Queue depth by priority band: low (< 0), normal (0), high (1..99), urgent (>= 100). */
enum corral_band { CORRAL_BAND_LOW, CORRAL_BAND_NORMAL, CORRAL_BAND_HIGH, CORRAL_BAND_URGENT };
#define CORRAL_BAND_COUNT 4
enum corral_band corral_priority_band(int priority);
const char *corral_band_name(enum corral_band b);

/* Upper bounds (seconds) of the latency histograms: 1 ms .. 60 s. */
#define CORRAL_LATENCY_BUCKETS 12
extern const double corral_latency_le_s[CORRAL_LATENCY_BUCKETS];
/* Upper bounds (seconds) of the task-time histograms (queue wait): 10 ms .. 1 day. */
#define CORRAL_WAIT_BUCKETS 12
extern const double corral_wait_le_s[CORRAL_WAIT_BUCKETS];

/* The bucket of v: the first i with v <= le[i], or n (only +Inf holds it). */
size_t corral_histo_index(const double *le, size_t n, double v);

/*
 * Append the Prometheus text of a histogram at buf + len (capacity cap): HELP, TYPE, one
 * cumulative _bucket line per bound plus +Inf, _sum and _count. counts[i] is the number of
 * observations in bucket i alone (i = 0..n, n being +Inf). Returns the new length, or -1 when
 * it does not fit.
 */
int corral_metrics_histogram(char *buf, size_t cap, size_t len, const char *name, const char *help,
                             const double *le, size_t n, const uint64_t *counts, double sum);

#endif
