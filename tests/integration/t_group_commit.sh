#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Group commit: concurrent POST /v1/tasks are stored together in shared multis, and each answer
# is still that submit's own. Test builds hold a group committer for CORRAL_TEST_GROUP_HOLD_MS
# before it takes the queue, so 26 submits sent at once form groups deterministically. Among
# them: a key already bound to another spec (422 for those two, their neighbours stored), the
# bound key with its own spec (200, the stored task), and one new key sent three times at once
# (one task: one 201, two 200). /metrics shows the groups.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
CORRAL_TEST_GROUP_HOLD_MS=1500 corrald_start r1
R1=${URL_OF[r1]}
wait_for "a leader" 20 has_leader
# No workers: the tasks stay queued, so nothing but the submits changes them.

metric()
{
    curl -s --max-time 5 "$R1/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

stored_tasks()
{
    api_at "$R1" GET '/v1/tasks?limit=1000'
    assert_status "list tasks" 200
    jb '.tasks | length'
}

TAKEN='{"command":["echo","taken"],"idempotency_key":"taken"}'
case_begin "a key stored before the group"
api_at "$R1" POST /v1/tasks "$TAKEN"
assert_status "first submit with key taken" 201
TAKEN_ID=$(jb .id)
case_end

OUT=$T_DIR/answers
mkdir -p "$OUT"

# post NAME JSON: one submit in the background; its status and body land in $OUT/NAME.
post()
{
    (
        api_at "$R1" POST /v1/tasks "$2"
        printf '%s\n%s\n' "$API_STATUS" "$API_BODY" >"$OUT/$1.tmp"
        mv "$OUT/$1.tmp" "$OUT/$1"
    ) &
    JOBS+=("$!")
}

status_of() { sed -n 1p "$OUT/$1"; }
body_of() { sed -n '2,$p' "$OUT/$1"; }

case_begin "26 concurrent submits: each gets its own answer"
JOBS=()
groups_before=$(metric corral_submit_groups_total)
for i in $(seq 1 20); do
    post "fresh$i" "{\"command\":[\"echo\",\"fresh $i\"],\"priority\":$((i % 5))}"
done
post other1 '{"command":["echo","not taken"],"idempotency_key":"taken"}'
post other2 '{"command":["echo","taken"],"priority":7,"idempotency_key":"taken"}'
post same1 "$TAKEN"
for i in 1 2 3; do
    post "dup$i" '{"command":["echo","dup"],"idempotency_key":"dup"}'
done
for p in "${JOBS[@]}"; do
    wait "$p" || fail "a submit job failed"
done

ids=()
for i in $(seq 1 20); do
    assert_eq "fresh$i: 201" 201 "$(status_of "fresh$i")"
    id=$(body_of "fresh$i" | jq -r '.id')
    ids+=("$id")
    api_at "$R1" GET "/v1/tasks/$id"
    assert_status "fresh$i stored" 200
    assert_jq "fresh$i: its own spec, queued" \
        ".spec.command == [\"echo\", \"fresh $i\"] and .state == \"queued\""
done
assert_eq "20 distinct ids" 20 "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)"

for n in other1 other2; do
    assert_eq "$n: key bound to another spec -> 422" 422 "$(status_of "$n")"
    assert_eq "$n: error code" idempotency_key "$(body_of "$n" | jq -r '.field // empty')"
done
assert_eq "same1: the stored task's spec -> 200" 200 "$(status_of same1)"
assert_eq "same1: the stored task" "$TAKEN_ID" "$(body_of same1 | jq -r .id)"

codes=$(for i in 1 2 3; do status_of "dup$i"; done | sort | tr '\n' ' ')
assert_eq "one key three times at once: one 201, two 200" "200 200 201 " "$codes"
dup_ids=$(for i in 1 2 3; do body_of "dup$i" | jq -r .id; done | sort -u | wc -l)
assert_eq "one key three times at once: one task" 1 "$dup_ids"

assert_eq "stored: 1 before + 20 fresh + 1 dup" 22 "$(stored_tasks)"
case_end

case_begin "/metrics shows the submits were grouped"
groups=$(metric corral_submit_groups_total)
grouped=$(metric corral_submit_grouped_total)
largest=$(metric corral_submit_group_largest)
log "groups ${groups_before} -> ${groups}, grouped ${grouped}, largest ${largest}"
[[ "$largest" =~ ^[0-9]+$ ]] || fail "corral_submit_group_largest missing"
((largest >= 2)) || fail "no group held more than one submit (largest $largest)"
((grouped > groups)) || fail "groups $groups, grouped submits $grouped: nothing shared a multi"
case_end

pass
