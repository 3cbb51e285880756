#!/usr/bin/env bash
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

# --- queued: no worker exists yet --------------------------------------------------------------------
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

# --- running: a tree of two sleeps ---------------------------------------------------------------------
worker_start w1 --slots 2
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
# The queued task was never run, and the worker is free again.
assert_eq "queued-cancelled task never ran" cancelled "$(task_state "$QID")"
api_at "$R1" GET /v1/workers
assert_jq "worker has nothing running" '.workers[0].running == 0'

# --- finished: 409, and nothing changes ---------------------------------------------------------------
DID=$(submit '{"command":["echo","done"]}' "$R2")
wait_final "$DID" 20
assert_eq "finished task" succeeded "$(jb .state "$TASK")"
api_at "$R1" POST "/v1/tasks/$DID/cancel"
assert_status "cancel finished" 409
assert_error_body "cancel finished"
assert_eq "finished task unchanged" succeeded "$(task_state "$DID")"
api_at "$R1" POST "/v1/tasks/$RID/cancel"
assert_status "cancel cancelled" 409
assert_error_body "cancel cancelled"

# --- unknown: 404 ------------------------------------------------------------------------------------
api_at "$R2" POST /v1/tasks/000000000000-00000000/cancel
assert_status "cancel unknown" 404
assert_error_body "cancel unknown"
api_at "$R2" POST /v1/tasks/no-such-task/cancel
assert_status "cancel unknown (odd id)" 404
assert_error_body "cancel unknown (odd id)"

pass
