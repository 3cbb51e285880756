#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Live output: `corral logs -f ID` and `corral run` print a running task's output as it is
# written (while the task still runs), completely and once, across a kill -9 of the replica the
# CLI talks to (and of the leader); `corral logs ID` prints a finished task's output; an unknown
# task is an error.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
wait_for "a leader" 20 has_leader
worker_start w1 --slots 4

# A task that writes one line a second: line-1 .. line-N.
ticker()
{
    local n=$1
    # shellcheck disable=SC2016  # the $(...) is for the task's shell
    printf '{"command":["sh","-c","for i in $(seq 1 %d); do echo line-$i; sleep 1; done"],"max_attempts":1}' "$n"
}

lines_of()
{
    paste -sd' ' "$1"
}

logs_follow()
{
    local id out=$T_DIR/follow.out err=$T_DIR/follow.err pid rc=0
    id=$(submit "$(ticker 6)")
    "$CLI" --server "$(first_url)" logs -f "$id" >"$out" 2>"$err" &
    pid=$!
    wait_for "line-2 to show while the task runs" 20 grep -q line-2 "$out"
    local state
    state=$(task_state "$id")
    [[ "$state" == running ]] || fail "line-2 showed only when the task was $state"
    wait "$pid" || rc=$?
    assert_eq "logs -f exits 0 when the task ended" 0 "$rc"
    assert_eq "every line once, in order" "line-1 line-2 line-3 line-4 line-5 line-6" "$(lines_of "$out")"
    assert_eq "the task succeeded" succeeded "$(task_state "$id")"
}
run_case "corral logs -f prints a running task's output as it is written" logs_follow

run_streams()
{
    local out=$T_DIR/run.out err=$T_DIR/run.err pid rc=0
    "$CLI" --server "$(first_url)" run --max-attempts 2 -- sh -c 'echo start; sleep 3; echo end; exit 3' \
        >"$out" 2>"$err" &
    pid=$!
    wait_for "run to print the first line" 20 grep -q start "$out"
    if grep -q end "$out"; then fail "run printed nothing before the task ended"; fi
    wait "$pid" || rc=$?
    assert_eq "run exits with the task's code" 3 "$rc"
    assert_eq "run printed both attempts' whole output, once each" "start end start end" "$(lines_of "$out")"
    assert_contains "the second attempt is announced on stderr" "corral: attempt 2" "$(cat "$err")"
}
run_case "corral run streams the output of every attempt and exits with the task's code" run_streams

finished_and_unknown()
{
    local id out rc=0
    id=$(submit '{"command":["sh","-c","echo one; echo two >&2"]}')
    wait_final "$id" 30
    out=$("$CLI" --server "$(first_url)" logs "$id")
    assert_eq "logs of a finished task" "one two" "$(paste -sd' ' <<<"$out" | tr -s ' ')"
    out=$("$CLI" --server "$(first_url)" logs -f "$id")
    assert_contains "logs -f of a finished task ends at once" two "$out"
    "$CLI" --server "$(first_url)" logs 01a000000000-00000000 >/dev/null 2>&1 || rc=$?
    assert_eq "logs of an unknown task exits 1" 1 "$rc"
    api GET /v1/tasks/01a000000000-00000000/output
    assert_status "output of an unknown task" 404
    api GET "/v1/tasks/$id/output?offset=-1"
    assert_status "a negative offset" 400
    api GET "/v1/tasks/$id/output?wait=61"
    assert_status "wait over 60" 400
    api GET "/v1/tasks/$id/output"
    assert_status "output of a finished task" 200
    assert_jq "the finished task's output: done, from the stored tail" \
        '.done == true and .tail == true and (.data | test("one")) and .state == "succeeded"' "$API_BODY"
}
run_case "logs of a finished task; an unknown task is an error" finished_and_unknown

across_replica_kill()
{
    local id out=$T_DIR/kill.out err=$T_DIR/kill.err pid rc=0 victim url
    id=$(submit "$(ticker 8)")
    victim=$(leader_id)
    url=${URL_OF[$victim]}
    local other=r1
    [[ "$victim" == r1 ]] && other=r2
    # The CLI talks to the leader first and moves on to the other replica when it is gone.
    "$CLI" --server "$url,${URL_OF[$other]}" logs -f "$id" >"$out" 2>"$err" &
    pid=$!
    wait_for "line-2 before the kill" 20 grep -q line-2 "$out"
    kill9 "$victim"
    wait_for "a new leader" 30 leader_is_not "$victim"
    wait "$pid" || rc=$?
    assert_eq "logs -f exits 0 after the kill" 0 "$rc"
    assert_eq "every line once, in order, across the kill" \
        "line-1 line-2 line-3 line-4 line-5 line-6 line-7 line-8" "$(lines_of "$out")"
    corrald_start "$victim"
}
case_begin "following keeps working when the replica it talks to (the leader) is killed"
across_replica_kill
case_end

pass
