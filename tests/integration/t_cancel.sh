#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Cancel: a queued task (no workers) becomes cancelled at once; a running task becomes cancelled
# and its process tree is gone; cancelling a finished task is 409; an unknown task is 404.
# Cancels go through a replica other than the one that took the submit.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
wait_for "a leader" 20 has_leader

# QID is checked again once a worker runs: later cases depend on this one.
case_begin "cancel of a queued task (no worker yet)"
QID=$(submit '{"command":["echo","never"]}' "$R1")
api_at "$R2" GET "/v1/tasks/$QID"
assert_status "queued task" 200
assert_eq "still queued" queued "$(jb .state)"
api_at "$R2" POST "/v1/tasks/$QID/cancel"
assert_status "cancel queued" 200
assert_eq "cancel queued answer" cancelled "$(jb .state)"
api_at "$R1" GET "/v1/tasks/$QID"
assert_eq "cancelled seen via r1" cancelled "$(jb .state)"
assert_jq "cancelled task has finished_at" '.finished_at != null'
api_at "$R1" GET '/v1/tasks?state=queued'
assert_status "list queued" 200
assert_jq "cancelled task is not queued" "all(.tasks[]; .id != \"$QID\")"
case_end

worker_start w1 --slots 2

# RID is cancelled a second time below: later cases depend on this one.
case_begin "cancel of a running task (a process tree)"
new_marker M
RID=$(submit "{\"command\":[\"sh\",\"-c\",\"sleep 300 $M & sleep 300 $M; wait\"],\"max_attempts\":3}" "$R1")
wait_state "$RID" running 20
wait_for "the task's processes to appear" 10 some_pids_with "$M"
api_at "$R2" POST "/v1/tasks/$RID/cancel"
assert_status "cancel running" 200
assert_match "cancel running answer" '^(cancelled|cancelling)$' "$(jb .state)"
wait_state "$RID" cancelled 20
wait_for "no process of the cancelled task survives" 10 no_pids_with "$M"
T=$(task_json "$RID")
assert_jq "cancel is not retried" '.state == "cancelled" and .attempt == 1' "$T"
api_at "$R1" GET /v1/workers
assert_jq "worker has nothing running" '.workers[0].running == 0'
case_end

queued_cancelled_never_runs()
{
    assert_eq "queued-cancelled task never ran" cancelled "$(task_state "$QID")"
}
run_case "a task cancelled while queued never runs once a worker exists" queued_cancelled_never_runs

cancel_finished_is_409()
{
    local did
    did=$(submit '{"command":["echo","done"]}' "$R2")
    wait_final "$did" 20
    assert_eq "finished task" succeeded "$(jb .state "$TASK")"
    api_at "$R1" POST "/v1/tasks/$did/cancel"
    assert_status "cancel finished" 409
    assert_error_body "cancel finished"
    assert_eq "finished task unchanged" succeeded "$(task_state "$did")"
}
run_case "cancel of a finished task is 409 and changes nothing" cancel_finished_is_409

cancel_cancelled_is_409()
{
    api_at "$R1" POST "/v1/tasks/$RID/cancel"
    assert_status "cancel cancelled" 409
    assert_error_body "cancel cancelled"
}
run_case "cancel of a cancelled task is 409" cancel_cancelled_is_409

cancel_unknown_is_404()
{
    api_at "$R2" POST /v1/tasks/000000000000-00000000/cancel
    assert_status "cancel unknown" 404
    assert_error_body "cancel unknown"
    api_at "$R2" POST /v1/tasks/no-such-task/cancel
    assert_status "cancel unknown (odd id)" 404
    assert_error_body "cancel unknown (odd id)"
}
run_case "cancel of an unknown task is 404" cancel_unknown_is_404

pass
