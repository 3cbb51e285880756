#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# --log-format json: every line every replica and worker writes is one JSON object, and the
# lines about a task carry its id, attempt, worker and epoch as fields, so that one filter
# follows the task across replicas and workers (also across a leader kill -9); a bad value of
# --log-format is a usage error.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1 --log-format json
corrald_start r2 --log-format json
wait_for "a leader" 20 has_leader
CORRAL_LOG_FORMAT=json worker_start w1 --slots 2

# lines FILE...: the log lines of our processes (a line that is not JSON fails the case).
all_json()
{
    local f n=0 bad
    for f in "$@"; do
        bad=$(jq -c . <"$f" 2>&1 >/dev/null | head -3) || true
        [[ -z "$bad" ]] || fail "$(basename "$f") has a line that is not JSON: $bad"
        jq -e 'type == "object" and (.ts | test("Z$")) and (.level | length > 0) and (.prog | length > 0) and (.pid | type == "number") and (.msg | type == "string")' \
            <"$f" >/dev/null || fail "$(basename "$f"): a line lacks ts, level, prog, pid or msg"
        n=$((n + $(wc -l <"$f")))
    done
    log "$n JSON lines in $#  files"
}

follow_a_task()
{
    local ok bad slow old id
    ok=$(submit '{"command":["echo","hello"]}')
    bad=$(submit '{"command":["sh","-c","exit 4"],"max_attempts":2}')
    slow=$(submit '{"command":["sleep","30"],"timeout_s":1,"max_attempts":1}')
    wait_final "$ok" 30
    wait_final "$bad" 30
    wait_final "$slow" 30
    old=$(leader_id)
    kill9 "$old"
    wait_for "a new leader" 30 leader_is_not "$old"
    id=$(submit '{"command":["echo","after-kill"]}' "$(first_url)")
    wait_final "$id" 30
    assert_eq "the task after the kill" succeeded "$(jb .state "$TASK")"
    all_json "$T_DIR"/r1.log "$T_DIR"/r2.log "$T_DIR"/w1.log
    local lines
    lines=$(cat "$T_DIR"/r1.log "$T_DIR"/r2.log "$T_DIR"/w1.log | jq -c --arg id "$bad" 'select(.task == $id)')
    assert_jq "the leader's assignments name worker, attempt and epoch" \
        '[.[] | select(.prog == "corrald" and .state == "queued->assigned")] | length == 2 and all(.worker == "w1" and (.attempt | type == "number") and (.epoch | type == "number"))' \
        "$(jq -s . <<<"$lines")"
    assert_jq "the worker's lines name it, the attempt and the epoch" \
        '[.[] | select(.prog == "corral-worker" and (.state // "" | startswith("running->")))] | length == 2 and all(.worker == "w1" and (.attempt | type == "number") and (.epoch | type == "number"))' \
        "$(jq -s . <<<"$lines")"
    assert_jq "the two attempts are 1 and 2" \
        '[.[] | select(.prog == "corral-worker" and (.state // "" | startswith("running->"))) | .attempt] | sort == [1, 2]' \
        "$(jq -s . <<<"$lines")"
    assert_jq "replicas name themselves" '[.[] | select(.prog == "corrald") | .replica] | all(. == "r1" or . == "r2")' \
        "$(jq -s . <<<"$lines")"
    assert_jq "the task supervisor's lines are JSON with the task and worker" \
        '[.[] | select(.module == "supervisor" and .task == "'"$slow"'")] | length >= 1 and all(.worker == "w1")' \
        "$(jq -s . "$T_DIR"/w1.log)"
    lines=$(cat "$T_DIR"/r1.log "$T_DIR"/r2.log "$T_DIR"/w1.log | jq -c --arg id "$id" 'select(.task == $id)')
    assert_jq "after the kill, the new leader's assignment carries the new epoch" \
        '[.[] | select(.state == "queued->assigned") | .epoch] | length == 1' "$(jq -s . <<<"$lines")"
}
run_case "a task is followed across replicas and the worker by its fields" follow_a_task

bad_flag()
{
    local rc=0 err
    err=$("$CORRALD" --log-format xml --zk "$ZK" 2>&1 >/dev/null) || rc=$?
    assert_eq "corrald --log-format xml exits 2" 2 "$rc"
    assert_contains "and names the flag" "log-format" "$err"
    rc=0
    err=$(CORRAL_LOG_FORMAT=yaml "$WORKER" --zk "$ZK" 2>&1 >/dev/null) || rc=$?
    assert_eq "corral-worker CORRAL_LOG_FORMAT=yaml exits 2" 2 "$rc"
    assert_contains "and names it" "CORRAL_LOG_FORMAT" "$err"
}
run_case "a bad --log-format is a usage error" bad_flag

pass
