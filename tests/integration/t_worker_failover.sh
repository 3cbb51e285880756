#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for and run_case
# SPDX-License-Identifier: MIT
# Worker failover: the worker running a task is killed with SIGKILL; its task process dies too
# (the worker's lease), the task is requeued and succeeds on the other worker as attempt 2, and
# history records attempt 1 as worker_lost.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
worker_start w1 --slots 1
worker_start w2 --slots 1
wait_for "a leader" 20 has_leader

# The victim, its task and its processes are what every later case looks at.
case_begin "a task runs on one of two workers"
new_marker M
ID=$(submit "{\"command\":[\"sh\",\"-c\",\"sleep 8 $M; echo done attempt \$CORRAL_ATTEMPT\"],\"max_attempts\":3}")
wait_state "$ID" running 20
T=$(task_json "$ID")
VICTIM=$(jb .worker "$T")
assert_match "running on one of ours" '^w[12]$' "$VICTIM"
OTHER=w1
[[ "$VICTIM" == w1 ]] && OTHER=w2
wait_for "the task's process to appear" 10 some_pids_with "$M"
FIRST=$(pids_with "$M" | tr '\n' ' ')
log "task runs on $VICTIM as pids $FIRST"
case_end

kill9 "$VICTIM"
killed_at=$(now_ms)

# The first attempt's processes must die on their own (lease: well before 8 s of sleep end).
first_gone()
{
    local p
    for p in $FIRST; do
        pid_alive "$p" && return 1
    done
    return 0
}
attempt1_dies_with_lease()
{
    wait_for "attempt 1's processes to be killed after their worker died" 6 first_gone
    log "attempt 1 processes gone $(($(now_ms) - killed_at)) ms after the kill"
}
run_case "the killed worker's task processes die with its lease" attempt1_dies_with_lease

worker_gone()
{
    api GET /v1/workers
    [[ "$API_STATUS" == 200 ]] && jq -e --arg w "$VICTIM" 'all(.workers[]; .id != $w)' >/dev/null 2>&1 <<<"$API_BODY"
}
run_case "the killed worker leaves /v1/workers" wait_for "worker $VICTIM to leave /v1/workers" 15 worker_gone

requeued_elsewhere()
{
    local t
    wait_final "$ID" 45
    t=$TASK
    assert_eq "state" succeeded "$(jb .state "$t")"
    assert_eq "ran on the other worker" "$OTHER" "$(jb .worker "$t")"
    assert_jq "attempt 2" '.attempt == 2' "$t"
    assert_contains "second attempt's output" "done attempt 2" "$(jb .output "$t")"
    assert_jq "history: attempt 1 worker_lost on the victim" "(.history | length == 1) and .history[0].attempt == 1
        and .history[0].outcome == \"worker_lost\" and .history[0].worker == \"$VICTIM\"" "$t"
    assert_jq "epoch recorded" '.epoch > 0 and .history[0].epoch > 0' "$t"
    wait_for "no process of the task survives" 5 no_pids_with "$M"
}
run_case "the task succeeds on the other worker as attempt 2, attempt 1 worker_lost" requeued_elsewhere

pass
