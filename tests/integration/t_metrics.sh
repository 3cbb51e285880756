#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# /metrics on a live leader and a follower passes `promtool check metrics` (Debian's prometheus
# package) and says what an operator and an autoscaler read: submitted and assigned counters,
# finished tasks by state and submission-to-finish times, queue depth by priority band, running
# tasks, workers by state, is-leader, epoch, elections,
# the ZooKeeper connection and multi round trips, the queue-wait histogram, and the unmet
# demand of due tasks no live worker can take.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
wait_for "a leader" 20 has_leader
worker_start w1 --slots 2 --cpu 2 --mem-mb 1024
worker_start w2 --slots 1 --cpu 1 --mem-mb 512

# metric NAME [URL]: the value of the sample line NAME (with its labels) from /metrics.
metric()
{
    api_at "${2:-$(leader_url)}" GET /metrics
    [[ "$API_STATUS" == 200 ]] || return 1
    awk -v name="$1" '$1 == name {print $2}' <<<"$API_BODY"
}

metric_is()
{
    [[ "$(metric "$1")" == "$2" ]]
}

promtool_passes()
{
    local url=$1 out
    api_at "$url" GET /metrics
    assert_status "GET /metrics at $url" 200
    out=$(promtool check metrics <<<"$API_BODY" 2>&1) || fail "promtool check metrics ($url): $out"
    # promtool prints lint problems (and exits non-zero for them); nothing else may show.
    [[ -z "$out" ]] || fail "promtool check metrics ($url) complained: $out"
}

live_metrics()
{
    local i ids=() big long follower
    for i in 1 2 3; do
        ids+=("$(submit '{"command":["true"],"priority":5}')")
    done
    for i in "${ids[@]}"; do
        wait_final "$i" 30
    done
    local failed
    failed=$(submit '{"command":["sh","-c","exit 3"],"max_attempts":2,"retry_backoff_s":0}')
    wait_final "$failed" 30
    wait_for "the leader counted 3 succeeded" 20 metric_is 'corral_tasks_finished_total{state="succeeded"}' 3
    wait_for "and 1 failed" 20 metric_is 'corral_tasks_finished_total{state="failed"}' 1
    assert_eq "none cancelled yet" 0 "$(metric 'corral_tasks_finished_total{state="cancelled"}')"
    assert_eq "submit-to-finish observed each" 4 "$(metric corral_task_submit_to_finish_seconds_count)"
    # From the events feed: the failed task's first attempt was retried; 5 attempts started.
    wait_for "a retry counted from the feed" 20 metric_is 'corral_tasks_retried_total{outcome="failed"}' 1
    assert_eq "no other retries" 0 "$(metric 'corral_tasks_retried_total{outcome="worker_lost"}')"
    wait_for "submit-to-start observed each attempt" 20 metric_is corral_task_submit_to_start_seconds_count 5
    long=$(submit '{"command":["sleep","30"],"resources":{"cpu":1}}')
    wait_state "$long" running 20
    big=$(submit '{"command":["true"],"resources":{"cpu":16,"mem_mb":4096},"priority":-5}')
    submit '{"command":["true"],"delay_s":600}' >/dev/null
    # cordon w2: the workers gauge shows it
    api POST /v1/workers/w2/cordon
    assert_status "cordon w2" 200
    wait_for "the unmet demand shows the 16-CPU task" 20 metric_is corral_unmet_demand_tasks 1
    assert_eq "its CPUs" 16.000 "$(metric corral_unmet_demand_cpu)"
    assert_eq "its memory" $((4096 * 1048576)) "$(metric corral_unmet_demand_memory_bytes)"
    assert_eq "its slot" 1 "$(metric corral_unmet_demand_slots)"
    assert_eq "queue depth, band low" 1 "$(metric 'corral_queue_depth{band="low"}')"
    assert_eq "queue depth, band high (all assigned)" 0 "$(metric 'corral_queue_depth{band="high"}')"
    assert_eq "the delayed task is not due" 1 "$(metric corral_queue_not_due)"
    wait_for "one task running" 20 metric_is corral_tasks_running 1
    wait_for "workers by state" 20 metric_is 'corral_workers{state="cordoned"}' 1
    assert_eq "active workers" 1 "$(metric 'corral_workers{state="active"}')"
    assert_eq "the leader says so" 1 "$(metric corral_is_leader)"
    assert_eq "it won one election" 1 "$(metric corral_elections_total)"
    (($(metric corral_leader_epoch) >= 1)) || fail "no epoch on the leader"
    (($(metric corral_tasks_assigned_total) >= 4)) || fail "assigned counter below 4"
    (($(metric corral_task_queue_wait_seconds_count) >= 4)) || fail "queue wait histogram empty"
    (($(metric corral_zk_multi_seconds_count) >= 1)) || fail "no ZooKeeper multi round trips"
    assert_eq "connected" 1 "$(metric corral_zk_connected)"
    local version
    version=$("$CORRALD" --version | awk '{print $2}')
    assert_eq "the version is labelled" 1 "$(metric "corral_build_info{version=\"$version\"}")"
    promtool_passes "$(leader_url)"
    # A follower: valid too; the leader-only gauges are 0 there, its own counters are its own.
    follower=$(live_urls | grep -vxF "$(leader_url)" | head -1)
    [[ -n "$follower" ]] || fail "no follower"
    promtool_passes "$follower"
    assert_eq "a follower is not the leader" 0 "$(metric corral_is_leader "$follower")"
    assert_eq "nor shows the leader's queue" 0 "$(metric 'corral_queue_depth{band="low"}' "$follower")"
    (($(metric corral_tasks_submitted_total "$follower") + $(metric corral_tasks_submitted_total) >= 7)) ||
        fail "submitted counters do not add up to the 7 submits"
    api POST "/v1/tasks/$big/cancel"
    assert_status "cancel the big task" 200
    wait_for "the cancel is counted" 20 metric_is 'corral_tasks_finished_total{state="cancelled"}' 1
    api POST "/v1/tasks/$long/cancel"
}
run_case "a live leader's and follower's /metrics pass promtool and say what runs" live_metrics

pass
