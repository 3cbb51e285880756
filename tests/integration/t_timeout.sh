#!/usr/bin/env bash
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
new_marker M
started=$(now_ms)
ID=$(submit "{\"command\":[\"sh\",\"-c\",\"sleep 300 $M & sleep 300 $M; wait\"],\"timeout_s\":2,\"max_attempts\":1}")
wait_state "$ID" running 20
wait_for "the task's processes to appear" 10 some_pids_with "$M"
log "task tree: $(pids_with "$M" | tr '\n' ' ')"
wait_final "$ID" 30
elapsed=$(($(now_ms) - started))
T=$TASK
assert_eq "state" failed "$(jb .state "$T")"
assert_match "error mentions the timeout" '[Tt]ime(d)?[ _-]?out' "$(jb '.error // ""' "$T")"
assert_jq "one attempt" '.attempt == 1 and ((.history // []) | length == 0)' "$T"
((elapsed < 20000)) || fail "timeout of 2 s took ${elapsed} ms to end the task"
# The tree is gone at once; allow a short grace for the kernel to reap.
wait_for "no process of the timed-out task survives" 3 no_pids_with "$M"

# Two attempts: both time out; the first is in history as timed_out.
new_marker M2
ID2=$(submit "{\"command\":[\"sleep\",\"300\",\"$M2\"],\"timeout_s\":1,\"max_attempts\":2}")
wait_final "$ID2" 40
T2=$TASK
assert_eq "retried timeout state" failed "$(jb .state "$T2")"
assert_jq "second attempt" '.attempt == 2' "$T2"
assert_jq "history: first attempt timed out" '(.history | length == 1) and .history[0].attempt == 1
    and .history[0].outcome == "timed_out"' "$T2"
wait_for "no process of the retried task survives" 3 no_pids_with "$M2"

# A task that ends within its timeout is not affected.
ID3=$(submit '{"command":["sh","-c","sleep 0.2; echo fine"],"timeout_s":5,"max_attempts":1}')
wait_final "$ID3" 20
assert_eq "quick task" succeeded "$(jb .state "$TASK")"

pass
