#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for and run_case
# SPDX-License-Identifier: MIT
# Leader failover: 20 tasks are queued (no workers), the leader replica is killed with SIGKILL,
# another replica becomes leader with a larger epoch, workers start, and all 20 tasks succeed
# exactly once; none is lost or duplicated.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
corrald_start r3
wait_for "a leader" 20 has_leader

# IDS: every later case checks these tasks.
case_begin "20 tasks queued through the three replicas"
IDS=()
for i in $(seq 1 20); do
    r=r$(((i % 3) + 1))
    IDS+=("$(submit "{\"command\":[\"echo\",\"task-$i\"],\"name\":\"t$i\"}" "${URL_OF[$r]}")")
done
log "submitted ${#IDS[@]} tasks"
case_end

new_leader()
{
    local u j
    for u in $(live_urls); do
        api_at "$u" GET /v1/leader
        [[ "$API_STATUS" == 200 ]] || return 1
        j=$API_BODY
        jq -e --arg old "$OLD" --argjson e "$E1" '.id != $old and .epoch > $e' >/dev/null 2>&1 <<<"$j" || return 1
    done
    return 0
}

# OLD, NEW and L2 (the new leader) are used by the cases below.
case_begin "kill -9 of the leader: every survivor names a new leader with a larger epoch"
L1=$(leader_json)
OLD=$(jb .id "$L1")
E1=$(jb .epoch "$L1")
assert_jq "old leader is ours" '.id == "r1" or .id == "r2" or .id == "r3"' "$L1"
log "leader $OLD epoch $E1: kill -9"
killed_at=$(now_ms)
kill9 "$OLD"
wait_for "a new leader with a larger epoch on every survivor" 30 new_leader
log "failover took $(($(now_ms) - killed_at)) ms"
L2=$(leader_json)
NEW=$(jb .id "$L2")
assert_ne "new leader" "$OLD" "$NEW"
assert_jq "epoch rose" ".epoch > $E1" "$L2"
assert_eq "new leader url" "${URL_OF[$NEW]}" "$(jb .url "$L2")"
agree=$(for u in $(live_urls); do curl -s --max-time 5 "$u/v1/leader" | jq -c '{id,url,epoch}'; done | sort -u | wc -l)
assert_eq "survivors agree on the leader" 1 "$agree"
case_end

# Every task is still there, on every survivor, still queued.
all_still_queued()
{
    local u id
    for u in $(live_urls); do
        for id in "${IDS[@]}"; do
            api_at "$u" GET "/v1/tasks/$id"
            assert_status "task $id via $u after failover" 200
            assert_eq "task $id still queued" queued "$(jb .state)"
        done
    done
}
run_case "all 20 tasks are still queued on every survivor" all_still_queued

worker_start w1 --slots 2
worker_start w2 --slots 2

all_run_once()
{
    local i
    for i in "${!IDS[@]}"; do
        wait_final "${IDS[$i]}" 60
        assert_eq "task ${IDS[$i]}" succeeded "$(jb .state "$TASK")"
        assert_contains "task ${IDS[$i]} output" "task-$((i + 1))" "$(jb .output "$TASK")"
        assert_jq "task ${IDS[$i]} ran once, under the new leader" \
            ".attempt == 1 and ((.history // []) | length == 0) and .epoch >= $(jb .epoch "$L2")" "$TASK"
    done
}
run_case "all 20 tasks succeed once under the new leader" all_run_once

none_lost_or_duplicated()
{
    api GET '/v1/tasks?limit=1000'
    assert_status "list" 200
    assert_jq "exactly 20 tasks, all succeeded" '(.tasks | length == 20) and (.tasks | all(.state == "succeeded"))'
    assert_eq "no duplicate ids" 20 "$(jb '.tasks[].id' | sort -u | wc -l)"
}
run_case "no task lost or duplicated" none_lost_or_duplicated

# The killed replica comes back as a follower; the leader does not change.
restarted_follows()
{
    corrald_start "$OLD"
    api_at "${URL_OF[$OLD]}" GET /v1/leader
    assert_status "restarted replica sees a leader" 200
    assert_eq "leader unchanged after restart" "$NEW" "$(jb .id)"
}
run_case "the killed replica restarts as a follower" restarted_follows

pass
