#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: SIGSTOP of a worker (its main process only) for 2·T, then SIGCONT. Its supervisors
# keep running, so the lease must kill its task processes by last_rx + 0.75·T; the leader
# requeues the tasks once the frozen worker's session expires, the other worker runs them,
# and no two attempts overlap (I4). After SIGCONT the worker re-registers (no exit).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

ens_start 3
fl_corrald r1
fl_corrald r2
fl_worker w1 --slots 2
fl_worker w2 --slots 4
wait_for "a leader" 20 has_leader

on_w1()
{
    api GET "/v1/tasks?state=running&limit=100"
    [[ "$API_STATUS" == 200 ]] && (($(jb '[.tasks[] | select(.worker == "w1")] | length') >= 1)) &&
        (($(jb '.tasks | length') >= 4))
}

# VIDS (the tasks of w1) and stopped_at are what the later cases check.
case_begin "SIGSTOP of w1 for 2·T while it runs tasks"
for i in $(seq 1 4); do submit_ledger "long-$i" 7000 >/dev/null; done
wait_for "4 tasks running, at least one on w1" 30 on_w1
VIDS=$(jb '.tasks[] | select(.worker == "w1") | .id')
log "SIGSTOP w1 for $((2 * SESSION_MS)) ms; it runs: $(tr '\n' ' ' <<<"$VIDS")"
stopped_at=$(now_ms)
kill -STOP "${PID_OF[w1]}"
# The lease: no ledger line of w1's attempts later than last_rx + 0.75·T (+ one beat period
# and scheduling slack); last_rx <= stopped_at.
sleep "$((2 * SESSION_MS / 1000)).$((2 * SESSION_MS % 1000))"
kill -CONT "${PID_OF[w1]}"
log "SIGCONT w1"
case_end

lease_holds()
{
    local lease_limit id last
    lease_limit=$((stopped_at + SESSION_MS * 3 / 4 + 400))
    for id in $VIDS; do
        last=$(awk -v id="$id" '$2 == id && $3 == 1 { m = $5 } END { printf "%.0f\n", m }' "$LEDGER")
        log "task $id attempt 1: last ledger line $((last - stopped_at)) ms after SIGSTOP"
        ((last <= lease_limit)) ||
            fail "task $id attempt 1 still ran $((last - stopped_at)) ms after its worker froze (lease: $((SESSION_MS * 3 / 4)) ms)"
    done
}
run_case "the frozen worker's task processes stop by last_rx + 0.75·T (the lease)" lease_holds

requeued_elsewhere()
{
    local id
    for id in $VIDS; do
        wait_final "$id" 40
        assert_eq "task $id" succeeded "$(jb .state "$TASK")"
        assert_jq "task $id: attempt 1 lost with w1" \
            '(.history | length >= 1) and .history[0].outcome == "worker_lost" and .history[0].worker == "w1"' "$TASK"
    done
}
run_case "the frozen worker's tasks succeed elsewhere with history worker_lost" requeued_elsewhere

registers_again()
{
    wait_for "w1 to register again after SIGCONT" 20 worker_listed w1 "$(first_url)"
}
run_case "the worker registers again after SIGCONT" registers_again
run_case "I1..I9 hold after SIGSTOP of a worker" fl_check "SIGSTOP of worker w1"
pass
