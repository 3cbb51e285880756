#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# timeout_s: an attempt that runs too long is killed with its whole process tree (children that
# the task put in the background too) and the task fails with an error naming the timeout; with
# attempts left, a timed-out attempt is retried and recorded in history as "timed_out".
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
worker_start w1 --slots 2

# One attempt: sleeps in the background and in the foreground; both must die at the timeout.
one_attempt_times_out()
{
    local m started id elapsed t
    new_marker m
    started=$(now_ms)
    id=$(submit "{\"command\":[\"sh\",\"-c\",\"sleep 300 $m & sleep 300 $m; wait\"],\"timeout_s\":2,\"max_attempts\":1}")
    wait_state "$id" running 20
    wait_for "the task's processes to appear" 10 some_pids_with "$m"
    log "task tree: $(pids_with "$m" | tr '\n' ' ')"
    wait_final "$id" 30
    elapsed=$(($(now_ms) - started))
    t=$TASK
    assert_eq "state" failed "$(jb .state "$t")"
    assert_match "error mentions the timeout" '[Tt]ime(d)?[ _-]?out' "$(jb '.error // ""' "$t")"
    assert_jq "one attempt" '.attempt == 1 and ((.history // []) | length == 0)' "$t"
    ((elapsed < 20000)) || fail "timeout of 2 s took ${elapsed} ms to end the task"
    # The tree is gone at once; allow a short grace for the kernel to reap.
    wait_for "no process of the timed-out task survives" 3 no_pids_with "$m"
}
run_case "a timed-out attempt fails the task and kills its whole process tree" one_attempt_times_out

# Two attempts: both time out; the first is in history as timed_out.
retried_timeout()
{
    local m id t
    new_marker m
    id=$(submit "{\"command\":[\"sleep\",\"300\",\"$m\"],\"timeout_s\":1,\"max_attempts\":2}")
    wait_final "$id" 40
    t=$TASK
    assert_eq "retried timeout state" failed "$(jb .state "$t")"
    assert_jq "second attempt" '.attempt == 2' "$t"
    assert_jq "history: first attempt timed out" '(.history | length == 1) and .history[0].attempt == 1
        and .history[0].outcome == "timed_out"' "$t"
    wait_for "no process of the retried task survives" 3 no_pids_with "$m"
}
run_case "a timed-out attempt with attempts left is retried and recorded as timed_out" retried_timeout

quick_task_unaffected()
{
    local id
    id=$(submit '{"command":["sh","-c","sleep 0.2; echo fine"],"timeout_s":5,"max_attempts":1}')
    wait_final "$id" 20
    assert_eq "quick task" succeeded "$(jb .state "$TASK")"
}
run_case "a task that ends within its timeout is not affected" quick_task_unaffected

pass
