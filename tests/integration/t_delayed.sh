#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Delayed tasks (run_at / delay_s): stored at once as "scheduled", released to the queue at their
# time by the leader (also by a new leader after a kill -9 in between), started within 1 s of it
# and never before; a scheduled task can be cancelled and then never runs; bad times are 400 and
# store nothing; the CLI's --delay and --run-at reach the same spec fields.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
corrald_start r3
wait_for "a leader" 20 has_leader
worker_start w1 --slots 4

# rfc3339_in MS: the RFC 3339 time MS ms from now, with an explicit +HH:MM offset (not Z).
rfc3339_in()
{
    local at=$(($(now_ms) + $1))
    TZ=Asia/Kolkata date -d "@$((at / 1000)).$(printf '%03d' $((at % 1000)))" '+%Y-%m-%dT%H:%M:%S.%3N%:z'
}

task_count()
{
    api GET '/v1/tasks?limit=1000'
    assert_status "list" 200
    jb '.tasks | length'
}

bad_times_are_refused()
{
    local before after body
    before=$(task_count)
    for body in \
        '{"command":["true"],"run_at":"2026-12-06T20:30:00Z","delay_s":5}' \
        '{"command":["true"],"run_at":"2026-12-06T20:30:00"}' \
        '{"command":["true"],"run_at":"tomorrow"}' \
        '{"command":["true"],"delay_s":-1}' \
        '{"command":["true"],"delay_s":31536001}' \
        '{"command":["true"],"delay_s":"5"}'; do
        api POST /v1/tasks "$body"
        assert_status "bad time $body" 400
        assert_error_body "bad time $body"
        assert_match "the 400 names run_at or delay_s" '"(run_at|delay_s)' "$API_BODY"
    done
    after=$(task_count)
    assert_eq "nothing stored by bad times" "$before" "$after"
}
run_case "bad run_at / delay_s: 400 naming the field, nothing stored" bad_times_are_refused

# DUE and ID of a task that is due 8 s from now, submitted through a follower; the leader is then
# killed with -9, and a new one must release the task at its time.
case_begin "a task with run_at 8 s ahead is scheduled, then the leader is killed"
OLD=$(leader_id)
via=r1
[[ "$via" == "$OLD" ]] && via=r2
RUN_AT=$(rfc3339_in 8000)
DUE=$(ms_of "$RUN_AT")
ID=$(submit "{\"command\":[\"echo\",\"on-time\"],\"run_at\":\"$RUN_AT\"}" "${URL_OF[$via]}")
api_at "${URL_OF[$via]}" GET "/v1/tasks/$ID"
assert_status "read back at once" 200
assert_eq "state right after submit" scheduled "$(jb .state)"
assert_eq "not_before is the due time" "$DUE" "$(ms_of "$(jb .not_before)")"
assert_eq "spec.run_at in UTC is the same instant" "$DUE" "$(ms_of "$(jb .spec.run_at)")"
api_at "${URL_OF[$via]}" GET '/v1/tasks?state=scheduled'
assert_status "list scheduled" 200
assert_jq "listed as scheduled" "[.tasks[].id] | index(\"$ID\") != null"
kill9 "$OLD"
wait_for "a leader other than $OLD" 20 leader_is_not "$OLD"
NEW=$(leader_id)
assert_ne "leader changed" "$OLD" "$NEW"
log "new leader $NEW, $((DUE - $(now_ms))) ms before the task is due"
(($(now_ms) < DUE - 500)) || fail "failover took too long to test a release before the due time"
assert_eq "still scheduled before its time" scheduled "$(task_state "$ID")"
case_end

runs_at_its_time()
{
    wait_final "$ID" 40
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_contains "output" on-time "$(jb .output "$TASK")"
    local started late
    started=$(ms_of "$(jb .started_at "$TASK")")
    late=$((started - DUE))
    log "due $DUE, started $started: $late ms late"
    ((late >= 0)) || fail "started $((-late)) ms before its time"
    ((late <= 1000)) || fail "started $late ms after its time (more than 1 s)"
    assert_jq "one attempt, assigned by the new leader" '.attempt == 1 and (.history | length == 0)' "$TASK"
}
run_case "the new leader releases it: started within 1 s after run_at, never before" runs_at_its_time

cancel_scheduled()
{
    local id
    id=$(submit '{"command":["echo","never"],"delay_s":4}')
    assert_eq "scheduled" scheduled "$(task_state "$id")"
    api POST "/v1/tasks/$id/cancel"
    assert_status "cancel a scheduled task" 200
    assert_eq "cancelled at once" cancelled "$(jb .state)"
    # Its due time passes: it stays cancelled and never starts.
    local until=$(($(now_ms) + 6000))
    wait_for "its due time to pass" 10 bash -c "(( \$(date +%s%3N) > $until ))"
    TASK=$(task_json "$id")
    assert_jq "still cancelled, never started" '.state == "cancelled" and .started_at == null and .worker == null' "$TASK"
    api POST "/v1/tasks/$id/cancel"
    assert_status "cancel again" 409
}
run_case "a scheduled task can be cancelled and then never runs" cancel_scheduled

# all_ids_succeeded JSON_IDS: every task of the list succeeded; sets LISTED to them.
LISTED=
all_ids_succeeded()
{
    api GET '/v1/tasks?limit=1000'
    [[ "$API_STATUS" == 200 ]] || return 1
    LISTED=$(jq -c --argjson ids "$1" '[.tasks[] | select(.id as $i | $ids | index($i))]' <<<"$API_BODY")
    jq -e --argjson ids "$1" 'length == ($ids | length) and all(.[]; .state == "succeeded")' >/dev/null <<<"$LISTED"
}

many_due_together()
{
    local at body ids
    at=$(rfc3339_in 3000)
    body=$(jq -cn --arg at "$at" '{tasks: [range(30) | {command: ["true"], run_at: $at}]}')
    api POST /v1/tasks/batch "$body"
    assert_status "batch of 30 delayed tasks" 201
    assert_jq "30 tasks, all scheduled" '(.tasks | length == 30) and all(.tasks[]; .state == "scheduled")'
    ids=$(jb '[.tasks[].id]')
    wait_for "all 30 to succeed" 60 all_ids_succeeded "$ids"
    # Both times are UTC with milliseconds ("…T20:30:00.000Z"): as strings they sort as times.
    assert_jq "none started before run_at" 'all(.[]; .started_at >= .spec.run_at)' "$LISTED"
}
run_case "30 tasks due at the same instant (one batch) all run, none early" many_due_together

cli_flags()
{
    local out id
    out=$(timeout 30 "$CLI" --server "$(first_live_url)" submit --delay 1.5 -- echo via-cli) ||
        fail "corral submit --delay failed: $out"
    id=$(awk 'NF {l=$NF} END {print l}' <<<"$out")
    TASK=$(task_json "$id")
    assert_jq "delay_s from --delay" '.spec.delay_s == 1.5 and .state == "scheduled"' "$TASK"
    wait_final "$id" 30
    assert_eq "CLI delayed task" succeeded "$(jb .state "$TASK")"
    out=$(timeout 30 "$CLI" --server "$(first_live_url)" submit --run-at 2000-01-01T00:00:00+01:00 -- true) ||
        fail "corral submit --run-at failed: $out"
    id=$(awk 'NF {l=$NF} END {print l}' <<<"$out")
    TASK=$(task_json "$id")
    assert_jq "a run_at in the past is queued at once" '.spec.run_at == "1999-12-31T23:00:00.000Z" and .state != "scheduled"' "$TASK"
    local rc=0
    timeout 30 "$CLI" --server "$(first_live_url)" submit --run-at soon -- true >/dev/null 2>"$T_DIR/.err" || rc=$?
    assert_eq "bad --run-at exits 1 (server 400)" 1 "$rc"
    assert_contains "the error names run_at" run_at "$(cat "$T_DIR/.err")"
}
run_case "corral submit --delay / --run-at" cli_flags

released_counted()
{
    api_at "${URL_OF[$(leader_id)]}" GET /metrics
    assert_status "metrics" 200
    local n
    n=$(awk '$1 == "corral_tasks_released_total" {print $2}' <<<"$API_BODY")
    ((n >= 30)) || fail "corral_tasks_released_total on the leader is '$n', want >= 30"
}
run_case "the leader counts its releases in /metrics" released_counted

pass
