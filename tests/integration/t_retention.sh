#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Retention precision (docs/operations.md "Retention"): with --retention 2, a finished task is
# readable right after it finishes and gone (404) within retention + 5 s of its finished_at; so
# is every task of a batch of 300; a task that runs longer than the retention, and one that
# stays queued, are never deleted; deleted tasks leave nothing in the done index.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

RETENTION_S=2
BOUND_MS=$(((RETENTION_S + 5) * 1000))
ZK_LS=$CORRAL_BUILD_DIR/corral-zk-ls

zk_start
corrald_start r1 --retention "$RETENTION_S"
wait_for "a leader" 20 has_leader
worker_start w1 --slots 8

iso_to_ms()
{
    date -d "$1" +%s%3N
}

gone()
{
    api GET "/v1/tasks/$1"
    [[ "$API_STATUS" == 404 ]]
}

# Task znodes and done-index entries left in the namespace (paths, one a line).
leftovers()
{
    "$ZK_LS" "$ZK" "$T_NS" | awk '{ print $1 }' |
        grep -E "/tasks/[0-9a-f]{2}/|/done/[0-9]{7}/[0-9]{2}/[0-9]{3}/" || true
}

QUEUED=$(submit '{"command":["true"],"constraints":{"zone":"nowhere"}}')

case_begin "a finished task is readable at once and gone within retention + 5 s"
id=$(submit '{"command":["true"]}')
wait_final "$id" 20
fin=$(iso_to_ms "$(jb .finished_at "$TASK")")
seen=$(now_ms)
((seen - fin < RETENTION_S * 1000)) ||
    fail "the finished task was first seen $((seen - fin)) ms after it finished (too late to test)"
wait_for "task $id to be deleted" 15 gone "$id"
gone_at=$(now_ms)
log "task $id: finished, readable, deleted $((gone_at - fin)) ms after it finished"
((gone_at - fin <= BOUND_MS)) || fail "deleted $((gone_at - fin)) ms after finishing (bound $BOUND_MS)"
((gone_at - fin >= RETENTION_S * 1000)) || fail "deleted before its retention: $((gone_at - fin)) ms"
case_end

# Every poll lists the succeeded tasks (the done index) and notes when each was last seen; a
# task still listed more than BOUND_MS after it finished is a failure.
batch_poll()
{
    local now
    api GET "/v1/tasks?state=succeeded&limit=1000"
    [[ "$API_STATUS" == 200 ]] || return 1
    now=$(now_ms)
    jq -r '.tasks[] | "\(.id) \(.finished_at)"' <<<"$API_BODY" >"$T_DIR/listed"
    while read -r tid tfin; do
        grep -qx "$tid" "$T_DIR/batch.ids" || continue
        local fms
        fms=$(iso_to_ms "$tfin")
        if ((now - fms > BOUND_MS)); then
            fail "task $tid still listed $((now - fms)) ms after it finished (bound $BOUND_MS)"
        fi
        echo "$tid" >>"$T_DIR/batch.seen"
    done <"$T_DIR/listed"
    # Done when every batch task has finished and none is listed any more.
    local left
    left=$(grep -cxFf "$T_DIR/batch.ids" <(jq -r '.tasks[].id' <<<"$API_BODY") || true)
    api GET "/v1/tasks?limit=1000"
    [[ "$API_STATUS" == 200 ]] || return 1
    local alive
    alive=$(grep -cxFf "$T_DIR/batch.ids" <(jq -r '.tasks[].id' <<<"$API_BODY") || true)
    ((left == 0 && alive == 0))
}

case_begin "a batch of 300 finished tasks is deleted within the same bound"
specs=$(jq -nc '{tasks: [range(300) | {command: ["true"]}]}')
api POST /v1/tasks/batch "$specs"
assert_status "batch submit" 201
jb '.tasks[].id' >"$T_DIR/batch.ids"
: >"$T_DIR/batch.seen"
assert_eq "batch size" 300 "$(wc -l <"$T_DIR/batch.ids")"
wait_for "all 300 tasks to finish and be deleted" 90 batch_poll
seen_n=$(sort -u "$T_DIR/batch.seen" | wc -l)
log "batch: $seen_n of 300 seen finished before their deletion"
((seen_n > 0)) || fail "no batch task was ever seen finished: the test saw nothing"
while read -r tid; do
    gone "$tid" || fail "batch task $tid is still readable: $API_STATUS ${API_BODY:0:300}"
done < <(head -20 "$T_DIR/batch.ids")
case_end

still_running()
{
    api GET "/v1/tasks/$1"
    assert_status "the long task must stay readable while it runs" 200
    assert_eq "long task state" running "$(jb .state)"
    (($(now_ms) >= $2))
}

case_begin "a task running longer than the retention is never deleted"
id=$(submit '{"command":["sleep","9"]}')
wait_state "$id" running 20
# Checked every poll until 8 s have passed: more than retention + 5 s.
wait_for "8 s of checks" 20 still_running "$id" $(($(now_ms) + 8000))
wait_final "$id" 20
assert_eq "long task result" succeeded "$(jb .state "$TASK")"
wait_for "the long task to be deleted after it finished" 15 gone "$id"
case_end

case_begin "a queued task older than the retention stays"
api GET "/v1/tasks/$QUEUED"
assert_status "queued task" 200
assert_eq "still queued" queued "$(jb .state)"
case_end

case_begin "the done index keeps nothing of deleted tasks"
left=$(leftovers)
n_left=$(grep -c . <<<"$left" || true)
# Only the queued task's znode may remain.
[[ "$n_left" == 1 && "$left" == *"/$QUEUED" ]] || fail "left behind: $left"
case_end

pass
