/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics in the Prometheus text format. Inline on the polling thread: it reads counters
 * and gauges kept in memory (atomics, or counts behind short locks) and never calls ZooKeeper.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "corral/fleet.h"
#include "corral/metrics.h"

#include "corrald/api_internal.h"
#include "corrald/api_wait.h"
#include "io/zk_txn.h"

/* The histogram of cron fire lateness (fired minus scheduled time), appended at text + n.
 * Returns the new length, or -1 when it does not fit. */
static int fire_lateness(struct replica *r, char *text, size_t cap, size_t n)
{
    static const char *const le[CORRAL_FIRE_LATE_BUCKETS] = {"0.01", "0.05", "0.1", "0.25", "0.5",
                                                             "1",    "2",    "5",   "10",   "60"};
    int k = snprintf(text + n, cap - n,
                     "# HELP corral_schedule_fire_lateness_seconds Cron fires made by this "
                     "replica as leader: fired minus scheduled time.\n"
                     "# TYPE corral_schedule_fire_lateness_seconds histogram\n");
    for (size_t i = 0; k >= 0 && (size_t)k < cap - n && i < CORRAL_FIRE_LATE_BUCKETS; i++) {
        n += (size_t)k;
        k = snprintf(text + n, cap - n,
                     "corral_schedule_fire_lateness_seconds_bucket{le=\"%s\"} %llu\n", le[i],
                     (unsigned long long)atomic_load(&r->fire_late_le[i]));
    }
    if (k < 0 || (size_t)k >= cap - n)
        return -1;
    n += (size_t)k;
    unsigned long long count = (unsigned long long)atomic_load(&r->fire_late_count);
    uint64_t sum = atomic_load(&r->fire_late_sum_ms);
    k = snprintf(text + n, cap - n,
                 "corral_schedule_fire_lateness_seconds_bucket{le=\"+Inf\"} %llu\n"
                 "corral_schedule_fire_lateness_seconds_sum %llu.%03llu\n"
                 "corral_schedule_fire_lateness_seconds_count %llu\n",
                 count, (unsigned long long)(sum / 1000), (unsigned long long)(sum % 1000), count);
    if (k < 0 || (size_t)k >= cap - n)
        return -1;
    return (int)(n + (size_t)k);
}

/* printf at text + *n; false once it does not fit (then *n is left as it was). */
static bool add(char *text, size_t cap, size_t *n, const char *fmt, ...) CORRAL_PRINTF(4, 5);
static bool add(char *text, size_t cap, size_t *n, const char *fmt, ...)
{
    if (*n >= cap)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(text + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *n)
        return false;
    *n += (size_t)k;
    return true;
}

/* The leader's views (0 on a follower), elections, and the two newer histograms. */
static int leader_views(struct replica *r, bool leading, char *text, size_t cap, size_t n)
{
#define LV(x) (leading ? (unsigned long long)atomic_load(&r->x) : 0ull)
    bool ok = add(text, cap, &n,
                  "# HELP corral_elections_total Times this replica became the leader.\n"
                  "# TYPE corral_elections_total counter\ncorral_elections_total %llu\n"
                  "# HELP corral_queue_depth Queued tasks that are due, by priority band (low < 0, "
                  "normal 0, high 1..99, urgent >= 100); leader only, 0 on a follower.\n"
                  "# TYPE corral_queue_depth gauge\n",
                  (unsigned long long)atomic_load(&r->n_elections));
    for (size_t b = 0; ok && b < CORRAL_BAND_COUNT; b++)
        ok = add(text, cap, &n, "corral_queue_depth{band=\"%s\"} %llu\n",
                 corral_band_name((enum corral_band)b), LV(g_queue_band[b]));
    ok = ok && add(text, cap, &n,
                   "# HELP corral_queue_not_due Queue entries not due yet (a delay or a retry "
                   "backoff); leader only.\n"
                   "# TYPE corral_queue_not_due gauge\ncorral_queue_not_due %llu\n"
                   "# HELP corral_tasks_running Tasks assigned to live workers and not finished; "
                   "leader only.\n"
                   "# TYPE corral_tasks_running gauge\ncorral_tasks_running %llu\n"
                   "# HELP corral_workers Live workers by state; leader only.\n"
                   "# TYPE corral_workers gauge\n",
                   LV(g_queue_later), LV(g_running));
    for (size_t i = 0; ok && i < 3; i++)
        ok = add(text, cap, &n, "corral_workers{state=\"%s\"} %llu\n",
                 corral_fleet_state_name((enum corral_fleet_state)i), LV(g_workers[i]));
    unsigned long long cpu = LV(g_unmet_cpu_milli);
    ok = ok && add(text, cap, &n,
                   "# HELP corral_unmet_demand_tasks Due tasks that no live worker can take (no "
                   "worker has the capacity or labels): what an autoscaler should add; leader "
                   "only.\n"
                   "# TYPE corral_unmet_demand_tasks gauge\ncorral_unmet_demand_tasks %llu\n"
                   "# HELP corral_unmet_demand_slots Slots those tasks need (one each).\n"
                   "# TYPE corral_unmet_demand_slots gauge\ncorral_unmet_demand_slots %llu\n"
                   "# HELP corral_unmet_demand_cpu CPUs those tasks need.\n"
                   "# TYPE corral_unmet_demand_cpu gauge\ncorral_unmet_demand_cpu %llu.%03llu\n"
                   "# HELP corral_unmet_demand_memory_bytes Memory those tasks need.\n"
                   "# TYPE corral_unmet_demand_memory_bytes gauge\n"
                   "corral_unmet_demand_memory_bytes %llu\n",
                   LV(g_unmet_tasks), LV(g_unmet_tasks), cpu / 1000, cpu % 1000,
                   LV(g_unmet_mem_mb) * 1048576ull);
#undef LV
    if (!ok)
        return -1;
    uint64_t counts[CORRAL_LATENCY_BUCKETS + 1 > CORRAL_WAIT_BUCKETS + 1
                        ? CORRAL_LATENCY_BUCKETS + 1
                        : CORRAL_WAIT_BUCKETS + 1];
    for (size_t i = 0; i <= CORRAL_WAIT_BUCKETS; i++)
        counts[i] = atomic_load(&r->queue_wait[i]);
    int k = corral_metrics_histogram(
        text, cap, n, "corral_task_queue_wait_seconds",
        "Time from a task's submission (or due time) to its first assignment, for the tasks this "
        "replica assigned as leader.",
        corral_wait_le_s, CORRAL_WAIT_BUCKETS, counts,
        (double)atomic_load(&r->queue_wait_sum_ms) / 1e3);
    if (k < 0)
        return -1;
    static const char *const fin[3] = {"succeeded", "failed", "cancelled"};
    size_t pos = (size_t)k;
    if (!add(text, cap, &pos,
             "# HELP corral_tasks_finished_total Tasks that became final, by state, as this "
             "replica saw them as leader (from the done index).\n"
             "# TYPE corral_tasks_finished_total counter\n"))
        return -1;
    for (size_t i = 0; i < 3; i++)
        if (!add(text, cap, &pos, "corral_tasks_finished_total{state=\"%s\"} %llu\n", fin[i],
                 (unsigned long long)atomic_load(&r->n_finished[i])))
            return -1;
    for (size_t i = 0; i <= CORRAL_WAIT_BUCKETS; i++)
        counts[i] = atomic_load(&r->submit_to_finish[i]);
    k = corral_metrics_histogram(
        text, cap, pos, "corral_task_submit_to_finish_seconds",
        "Time from a task's submission to its final state, for the finishes this replica saw as "
        "leader.",
        corral_wait_le_s, CORRAL_WAIT_BUCKETS, counts,
        (double)atomic_load(&r->submit_to_finish_sum_ms) / 1e3);
    if (k < 0)
        return -1;
    for (size_t i = 0; i <= CORRAL_WAIT_BUCKETS; i++)
        counts[i] = atomic_load(&r->submit_to_start[i]);
    k = corral_metrics_histogram(
        text, cap, (size_t)k, "corral_task_submit_to_start_seconds",
        "Time from a task's submission to the start of each of its attempts, for the starts this "
        "replica saw in the events feed as leader.",
        corral_wait_le_s, CORRAL_WAIT_BUCKETS, counts,
        (double)atomic_load(&r->submit_to_start_sum_ms) / 1e3);
    if (k < 0)
        return -1;
    pos = (size_t)k;
    static const char *const by[4] = {"failed", "timed_out", "worker_lost", "returned"};
    if (!add(text, cap, &pos,
             "# HELP corral_tasks_retried_total Attempts that ended and put their task back in "
             "the queue, by how they ended (returned: a drain or refusal, which costs no "
             "attempt), as this replica saw them in the events feed as leader.\n"
             "# TYPE corral_tasks_retried_total counter\n"))
        return -1;
    for (size_t i = 0; i < 4; i++)
        if (!add(text, cap, &pos, "corral_tasks_retried_total{outcome=\"%s\"} %llu\n", by[i],
                 (unsigned long long)atomic_load(&r->n_requeued_by[i])))
            return -1;
    if (!add(text, cap, &pos,
             "# HELP corral_events_feed_skips_total Times this replica as leader fell behind the "
             "events feed's retention and skipped to its head (its feed metrics miss events).\n"
             "# TYPE corral_events_feed_skips_total counter\ncorral_events_feed_skips_total "
             "%llu\n",
             (unsigned long long)atomic_load(&r->n_feed_skipped)))
        return -1;
    k = (int)pos;
    double sum = 0;
    zk_multi_latency(r->zk, counts, &sum);
    return corral_metrics_histogram(text, cap, (size_t)k, "corral_zk_multi_seconds",
                                    "Round trips of ZooKeeper multi requests (every write "
                                    "corral makes) from this process.",
                                    corral_latency_le_s, CORRAL_LATENCY_BUCKETS, counts, sum);
}

void api_metrics(struct api *a, struct api_reply *rp)
{
    struct replica *r = a->r;
    struct api_jobs_stats js = {0};
    api_jobs_stats(a->jobs, &js);
    bool leading = atomic_load(&r->leading);
    uint64_t groups = 0, grouped = 0, largest = 0;
    zk_group_stats(r->submits, &groups, &grouped, &largest);
    static _Thread_local char text[32768];
    int n = snprintf(
        text, sizeof text,
        "# HELP corral_up 1 while the replica runs.\n# TYPE corral_up gauge\ncorral_up 1\n"
        "# HELP corral_build_info The running version (a rolling upgrade shows both).\n"
        "# TYPE corral_build_info gauge\ncorral_build_info{version=\"" CORRAL_VERSION "\"} 1\n"
        "# HELP corral_zk_connected 1 while connected to ZooKeeper.\n"
        "# TYPE corral_zk_connected gauge\ncorral_zk_connected %d\n"
        "# HELP corral_is_leader 1 while this replica is the leader.\n"
        "# TYPE corral_is_leader gauge\ncorral_is_leader %d\n"
        "# HELP corral_leader_epoch Epoch of this replica while leader, else 0.\n"
        "# TYPE corral_leader_epoch gauge\ncorral_leader_epoch %llu\n"
        "# HELP corral_tasks_submitted_total Tasks stored through this replica.\n"
        "# TYPE corral_tasks_submitted_total counter\ncorral_tasks_submitted_total %llu\n"
        "# HELP corral_tasks_assigned_total Assignments made by this replica as leader.\n"
        "# TYPE corral_tasks_assigned_total counter\ncorral_tasks_assigned_total %llu\n"
        "# HELP corral_tasks_requeued_total Tasks of lost workers requeued by this replica.\n"
        "# TYPE corral_tasks_requeued_total counter\ncorral_tasks_requeued_total %llu\n"
        "# HELP corral_tasks_released_total Scheduled tasks released to the queue at their time "
        "by this replica as leader.\n"
        "# TYPE corral_tasks_released_total counter\ncorral_tasks_released_total %llu\n"
        "# HELP corral_http_requests_total HTTP requests served.\n"
        "# TYPE corral_http_requests_total counter\ncorral_http_requests_total %llu\n"
        "# HELP corral_api_jobs_queued Requests waiting for a job thread.\n"
        "# TYPE corral_api_jobs_queued gauge\ncorral_api_jobs_queued %zu\n"
        "# HELP corral_api_jobs_running Requests in ZooKeeper calls on a job thread.\n"
        "# TYPE corral_api_jobs_running gauge\ncorral_api_jobs_running %zu\n"
        "# HELP corral_api_jobs_rejected_total Requests answered 503 because the job queue was "
        "full.\n"
        "# TYPE corral_api_jobs_rejected_total counter\ncorral_api_jobs_rejected_total %llu\n"
        "# HELP corral_api_long_polls Long polls (GET /v1/tasks/{id}?wait=) held now.\n"
        "# TYPE corral_api_long_polls gauge\ncorral_api_long_polls %zu\n"
        "# HELP corral_zk_callback_watches ZooKeeper callback watches set and not yet fired.\n"
        "# TYPE corral_zk_callback_watches gauge\ncorral_zk_callback_watches %zu\n"
        "# HELP corral_submit_groups_total Groups of concurrent single submits committed "
        "together.\n"
        "# TYPE corral_submit_groups_total counter\ncorral_submit_groups_total %llu\n"
        "# HELP corral_submit_grouped_total Single submits committed in those groups.\n"
        "# TYPE corral_submit_grouped_total counter\ncorral_submit_grouped_total %llu\n"
        "# HELP corral_submit_group_largest Most single submits sent in one group.\n"
        "# TYPE corral_submit_group_largest gauge\ncorral_submit_group_largest %llu\n"
        "# HELP corral_http_slow_closed_total Connections closed for sending a request too "
        "slowly.\n"
        "# TYPE corral_http_slow_closed_total counter\ncorral_http_slow_closed_total %llu\n",
        zk_is_connected(r->zk) ? 1 : 0, leading ? 1 : 0,
        leading ? (unsigned long long)atomic_load(&r->epoch) : 0ull,
        (unsigned long long)atomic_load(&r->n_submitted),
        (unsigned long long)atomic_load(&r->n_assigned),
        (unsigned long long)atomic_load(&r->n_requeued),
        (unsigned long long)atomic_load(&r->n_released),
        (unsigned long long)atomic_load(&r->n_http), js.queued, js.running,
        (unsigned long long)js.rejected, api_wait_count(a->wait), zk_watch_boxes(r->zk),
        (unsigned long long)groups, (unsigned long long)grouped, (unsigned long long)largest,
        (unsigned long long)api_guard_cut_count(a->guard));
    if (n >= 0 && (size_t)n < sizeof text)
        n = fire_lateness(r, text, sizeof text, (size_t)n);
    if (n >= 0 && (size_t)n < sizeof text)
        n = leader_views(r, leading, text, sizeof text, (size_t)n);
    if (n < 0 || (size_t)n >= sizeof text) {
        api_reply_fail(rp, CORRAL_EINTERNAL, NULL, "metrics do not fit");
        return;
    }
    api_reply_text(rp, MHD_HTTP_OK, "text/plain; version=0.0.4", text, (size_t)n);
}
