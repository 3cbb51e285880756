#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# idempotency_key: the same key with the same spec returns the existing task (200, same id) from
# any replica; the same key with another spec is 422; ten concurrent submits with one key through
# three replicas create exactly one task.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
corrald_start r3
R=("${URL_OF[r1]}" "${URL_OF[r2]}" "${URL_OF[r3]}")
wait_for "a leader" 20 has_leader

# No workers: the tasks stay queued, so nothing but the submits changes them.
SPEC='{"command":["echo","once"],"priority":3,"idempotency_key":"key-one"}'

# ID: the later cases compare with it.
case_begin "same key and spec through any replica: 200 and the same id"
api_at "${R[0]}" POST /v1/tasks "$SPEC"
assert_status "first submit" 201
ID=$(jb .id)
assert_jq "key kept in spec" '.spec.idempotency_key == "key-one"'

api_at "${R[1]}" POST /v1/tasks "$SPEC"
assert_status "same key, same spec, other replica" 200
assert_eq "same id" "$ID" "$(jb .id)"
api_at "${R[2]}" POST /v1/tasks "$SPEC"
assert_status "same key, same spec, third replica" 200
assert_eq "same id (r3)" "$ID" "$(jb .id)"

# Defaults filled explicitly are the same spec.
api_at "${R[0]}" POST /v1/tasks '{"command":["echo","once"],"priority":3,"max_attempts":3,"idempotency_key":"key-one"}'
assert_status "same spec with explicit defaults" 200
assert_eq "same id (explicit defaults)" "$ID" "$(jb .id)"
case_end

same_key_other_spec()
{
    api_at "${R[1]}" POST /v1/tasks '{"command":["echo","twice"],"priority":3,"idempotency_key":"key-one"}'
    assert_status "same key, different command" 422
    assert_error_body "same key, different command"
    api_at "${R[2]}" POST /v1/tasks '{"command":["echo","once"],"priority":4,"idempotency_key":"key-one"}'
    assert_status "same key, different priority" 422
    assert_error_body "same key, different priority"
}
run_case "same key with another spec: 422" same_key_other_spec

# ID2 and ID3 are looked for in the store at the end.
case_begin "another key, or no key: a new task"
api_at "${R[0]}" POST /v1/tasks '{"command":["echo","once"],"priority":3,"idempotency_key":"key-two"}'
assert_status "other key" 201
ID2=$(jb .id)
assert_ne "other key, other task" "$ID" "$ID2"
api_at "${R[0]}" POST /v1/tasks '{"command":["echo","once"],"priority":3}'
assert_status "no key" 201
ID3=$(jb .id)
case_end

# Batch: a key already used with the same spec gives that task back.
batch_known_key()
{
    api_at "${R[1]}" POST /v1/tasks/batch "{\"tasks\":[$SPEC,{\"command\":[\"true\"]}]}"
    if [[ "$API_STATUS" == 201 ]]; then
        assert_jq "batch returns existing task for known key" ".tasks[0].id == \"$ID\""
    fi
}
run_case "a batch with a known key gives the existing task back" batch_known_key

# RACE is looked for in the store at the end.
case_begin "10 concurrent submits of one key through 3 replicas: one task"
CSPEC='{"command":["echo","race"],"idempotency_key":"race-key"}'
printf '%s' "$CSPEC" >"$T_DIR/race.json"
pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
    curl -sS -o "$T_DIR/race.$i.body" -w '%{http_code}' --max-time 30 -X POST \
        -H 'Content-Type: application/json' --data-binary "@$T_DIR/race.json" \
        "${R[$((i % 3))]}/v1/tasks" >"$T_DIR/race.$i.status" 2>/dev/null &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
created=0
ids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
    st=$(cat "$T_DIR/race.$i.status")
    body=$(cat "$T_DIR/race.$i.body")
    case "$st" in
        201) created=$((created + 1)) ;;
        200) ;;
        *) fail "concurrent submit $i: expected 200 or 201, got $st: $body" ;;
    esac
    ids+=("$(jb .id "$body")")
done
assert_eq "exactly one 201 among concurrent submits" 1 "$created"
assert_eq "all concurrent submits name one task" 1 "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)"
RACE=${ids[0]}
case_end

# The store holds exactly the tasks we expect.
store_one_task_per_key()
{
    local id
    api_at "${R[2]}" GET '/v1/tasks?limit=1000'
    assert_status "list" 200
    assert_jq "task count" '.tasks | length == 4 or length == 5'
    assert_jq "exactly one task per key" '[.tasks[] | .spec.idempotency_key // empty] | group_by(.) | all(length == 1)'
    for id in "$ID" "$ID2" "$ID3" "$RACE"; do
        assert_jq "listed $id" "any(.tasks[]; .id == \"$id\")"
    done
}
run_case "the store holds one task per key" store_one_task_per_key

pass
