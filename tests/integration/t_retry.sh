#!/usr/bin/env bash
# shellcheck disable=SC2016  # $VARS in single quotes are expanded by the task's shell
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Retries: a task that always fails ends failed after max_attempts with every earlier attempt in
# history; a task that fails once and then succeeds ends succeeded at attempt 2.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
worker_start w1 --slots 2

# The three tasks are submitted together (they run side by side); each case checks one.
# Always fails.
AID=$(submit '{"command":["sh","-c","echo attempt $CORRAL_ATTEMPT failing; exit 7"],"max_attempts":3}')
# Fails the first time (creates the marker file), succeeds the second.
F=$T_DIR/flaky-marker
OID=$(submit "$(jq -nc --arg f "$F" '{command:["sh","-c","if [ -e \"$1\" ]; then echo second; exit 0; fi; touch \"$1\"; echo first; exit 1","flaky",$f], max_attempts:3}')")
# max_attempts 1: no retry.
NID=$(submit '{"command":["false"],"max_attempts":1}')

always_failing()
{
    local t
    wait_final "$AID" 60
    t=$TASK
    assert_eq "always-failing state" failed "$(jb .state "$t")"
    assert_jq "attempt 3" '.attempt == 3' "$t"
    assert_jq "exit code 7" '.exit_code == 7' "$t"
    assert_contains "last attempt's output" "attempt 3 failing" "$(jb .output "$t")"
    assert_jq "two earlier attempts" '.history | length == 2' "$t"
    assert_jq "history attempts 1 and 2" '[.history[].attempt] == [1,2]' "$t"
    assert_jq "history outcomes failed" '.history | all(.outcome == "failed" and .exit_code == 7)' "$t"
    assert_jq "history has workers and epochs" '.history | all(.worker == "w1" and (.epoch | type == "number" and . > 0))' "$t"
    assert_jq "history timestamps" '.history | all((.started_at | type == "string") and (.finished_at | type == "string"))' "$t"
}
run_case "an always-failing task ends failed after max_attempts, earlier attempts in history" always_failing

fails_once()
{
    local t
    wait_final "$OID" 60
    t=$TASK
    assert_eq "flaky task state" succeeded "$(jb .state "$t")"
    assert_jq "succeeded at attempt 2" '.attempt == 2 and .exit_code == 0' "$t"
    assert_contains "second run's output" second "$(jb .output "$t")"
    assert_jq "one failed attempt in history" '(.history | length == 1) and .history[0].attempt == 1
        and .history[0].outcome == "failed" and .history[0].exit_code == 1' "$t"
}
run_case "a task that fails once succeeds at attempt 2" fails_once

no_retry()
{
    local t
    wait_final "$NID" 30
    t=$TASK
    assert_eq "max_attempts 1 state" failed "$(jb .state "$t")"
    assert_jq "no retry" '.attempt == 1 and ((.history // []) | length == 0) and .exit_code == 1' "$t"
}
run_case "max_attempts 1 is not retried" no_retry

pass
