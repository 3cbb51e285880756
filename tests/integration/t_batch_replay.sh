#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# POST /v1/tasks/batch replayed with idempotency keys already stored (a client retrying after
# outcome_unknown) answers as a single submit does: every key stored with the same spec -> 200
# and the stored tasks, nothing written; stored and new keys mixed -> 201, the new ones stored
# in one multi, tasks in request order; a key bound to another spec -> 422 naming its index and
# nothing stored; a key repeated inside one batch is one task.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
wait_for "a leader" 20 has_leader
# No workers: the tasks stay queued, so nothing but the submits changes them.

# spec KEY [PRIORITY]: a task spec with idempotency key KEY.
spec()
{
    jq -cn --arg k "$1" --argjson p "${2:-0}" '{command: ["echo", $k], priority: $p, idempotency_key: $k}'
}

# batch SPEC...: {"tasks": [SPEC, ...]}
batch()
{
    local IFS=,
    echo "{\"tasks\":[$*]}"
}

stored_tasks()
{
    api_at "$R1" GET '/v1/tasks?limit=1000'
    assert_status "list tasks" 200
    jb '.tasks | length'
}

# IDS: the ids of the first batch, compared by the later cases.
case_begin "a batch replayed with the same keys returns the same tasks and stores nothing"
B1=$(batch "$(spec k1)" "$(spec k2)" "$(spec k3)")
api_at "$R1" POST /v1/tasks/batch "$B1"
assert_status "first batch" 201
IDS=$(jb '[.tasks[].id] | join(" ")')
assert_eq "3 tasks stored" 3 "$(stored_tasks)"
api_at "$R1" POST /v1/tasks/batch "$B1"
assert_status "replay on the same replica" 200
assert_eq "replay: same ids in the same order" "$IDS" "$(jb '[.tasks[].id] | join(" ")')"
assert_jq "replay: the stored tasks" 'all(.tasks[]; .state == "queued")'
api_at "$R2" POST /v1/tasks/batch "$B1"
assert_status "replay on the other replica" 200
assert_eq "replay on r2: same ids" "$IDS" "$(jb '[.tasks[].id] | join(" ")')"
assert_eq "the replays stored nothing" 3 "$(stored_tasks)"
read -r ID1 ID2 ID3 <<<"$IDS"
case_end

mixed_replay()
{
    local b
    # Stored k1, new k4, an entry without a key, stored k3.
    b=$(batch "$(spec k1)" "$(spec k4)" '{"command":["echo","nokey"]}' "$(spec k3)")
    api_at "$R2" POST /v1/tasks/batch "$b"
    assert_status "stored and new keys" 201
    assert_jq "4 tasks answered" '.tasks | length == 4'
    assert_eq "tasks[0] is the stored k1" "$ID1" "$(jb '.tasks[0].id')"
    assert_eq "tasks[3] is the stored k3" "$ID3" "$(jb '.tasks[3].id')"
    assert_jq "tasks[1] is new, with key k4" '.tasks[1].spec.idempotency_key == "k4"'
    assert_jq "tasks[2] is new, without key" '.tasks[2].spec.command == ["echo","nokey"]'
    assert_jq "the new ids differ from the stored ones" \
        "[.tasks[1].id, .tasks[2].id] | all(. != \"$ID1\" and . != \"$ID2\" and . != \"$ID3\")"
    assert_eq "2 new tasks stored" 5 "$(stored_tasks)"
    local k4
    k4=$(jb '.tasks[1].id')
    api_at "$R1" POST /v1/tasks "$(spec k4)"
    assert_status "single submit of k4" 200
    assert_eq "the single submit finds the batch's k4" "$k4" "$(jb .id)"
    api_at "$R1" POST /v1/tasks/batch "$(batch "$(spec k4)" "$(spec k2)")"
    assert_status "replay of k4 and k2" 200
    assert_eq "replay of k4 and k2: their ids" "$k4 $ID2" "$(jb '[.tasks[].id] | join(" ")')"
    assert_eq "nothing more stored" 5 "$(stored_tasks)"
}
run_case "a replay mixing stored and new keys stores only the new ones (201)" mixed_replay

other_spec_is_422()
{
    local before
    before=$(stored_tasks)
    api_at "$R1" POST /v1/tasks/batch "$(batch "$(spec k9)" "$(spec k1)" "$(spec k2 5)")"
    assert_status "k2 with another priority" 422
    assert_error_body "k2 with another priority"
    assert_eq "error code" idempotency_mismatch "$(jb .error)"
    assert_eq "the field names the entry" "tasks[2].idempotency_key" "$(jb .field)"
    assert_eq "nothing stored" "$before" "$(stored_tasks)"
    api_at "$R1" POST /v1/tasks "$(spec k9)"
    assert_status "k9 was not stored by the refused batch" 201
}
run_case "a key reused with a different spec: 422 naming its index, nothing stored" other_spec_is_422

repeated_key()
{
    local before
    before=$(stored_tasks)
    api_at "$R1" POST /v1/tasks/batch "$(batch "$(spec k7)" '{"command":["true"]}' "$(spec k7)")"
    assert_status "k7 twice" 201
    assert_jq "both entries are the same task" '.tasks[0].id == .tasks[2].id'
    assert_eq "2 tasks stored" "$((before + 2))" "$(stored_tasks)"
    api_at "$R1" POST /v1/tasks/batch "$(batch "$(spec k8)" "$(spec k8 1)")"
    assert_status "k8 twice with different specs" 422
    assert_eq "the field names the second entry" "tasks[1].idempotency_key" "$(jb .field)"
    assert_eq "nothing more stored" "$((before + 2))" "$(stored_tasks)"
}
run_case "a key repeated inside one batch is one task; with two specs 422" repeated_key

pass
