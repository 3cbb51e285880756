#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: kill -9 of a worker during long tasks. Its task processes die with it (the lease), the
# leader requeues its tasks (history worker_lost), the other workers run them, no two
# attempts overlap (I4), and I1..I9 hold.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

ens_start 3
fl_corrald r1
fl_corrald r2
fl_worker w1 --slots 3
fl_worker w2 --slots 3
fl_worker w3 --slots 3
wait_for "a leader" 20 has_leader

running_on()
{
    api GET "/v1/tasks?state=running&limit=100"
    [[ "$API_STATUS" == 200 ]] && (($(jb '.tasks | length') >= 6))
}

# VICTIM and its tasks (VIDS) are what the later cases check.
case_begin "kill -9 of the busiest of 3 workers running 6 long tasks"
IDS=()
for i in $(seq 1 6); do IDS+=("$(submit_ledger "long-$i" 8000)"); done
wait_for "6 tasks running" 60 running_on
VICTIM=$(jb '[.tasks[].worker] | group_by(.) | max_by(length) | .[0]')
VIDS=$(jq -r --arg w "$VICTIM" '.tasks[] | select(.worker == $w) | .id' <<<"$API_BODY")
log "killing $VICTIM, which runs: $(tr '\n' ' ' <<<"$VIDS")"
fl_kill9 "$VICTIM"
case_end

requeued_elsewhere()
{
    local id
    for id in $VIDS; do
        wait_final "$id" 40
        assert_eq "task $id" succeeded "$(jb .state "$TASK")"
        assert_jq "task $id: attempt 1 lost with $VICTIM" \
            "(.history | length >= 1) and .history[0].outcome == \"worker_lost\" and .history[0].worker == \"$VICTIM\" and .worker != \"$VICTIM\"" "$TASK"
    done
}
run_case "the killed worker's tasks succeed elsewhere with history worker_lost" requeued_elsewhere
run_case "I1..I9 hold after kill -9 of a worker" fl_check "kill -9 of worker $VICTIM"
pass
