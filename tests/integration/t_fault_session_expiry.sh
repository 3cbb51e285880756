#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: ZooKeeper session expiry injected from outside (corral-zk-expire closes a second
# handle on the victim's session): first into the leader replica (another replica takes over
# with a larger epoch, the victim starts a new session and rejoins as a follower without
# exiting), then into a worker running tasks (it kills them, re-registers; the tasks are
# requeued and run once more without overlap). I1..I9 after each.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

ens_start 3
fl_corrald r1
fl_corrald r2
fl_corrald r3
fl_worker w1 --slots 3
fl_worker w2 --slots 3
wait_for "a leader" 20 has_leader
L1=$(leader_json)
OLD=$(jb .id "$L1")
E1=$(jb .epoch "$L1")

# 1. The leader. The cases after it look at the victim (OLD) and its old session (S1).
case_begin "expiry of the leader's session: a new leader with a larger epoch"
rec_burst 12 800 a
wait_for "4 acknowledged submissions" 30 acked_ge 4
S1=$(session_of "$OLD")
log "expiring leader $OLD's session 0x$S1 (epoch $E1)"
fl_expire "$OLD"
wait_leader_epoch_gt "$E1" 15
log "leader now $LEADER_NOW epoch $EPOCH_NOW"
case_end

new_session() { [[ -n "$(session_of "$OLD")" && "$(session_of "$OLD")" != "$S1" ]]; }
leader_rejoins()
{
    wait_for "$OLD to open a new session" 15 new_session
    wait_for "$OLD to serve again" 15 replica_ready "$OLD"
    proc_alive "$OLD" || fail "$OLD exited after its session expired"
    assert_contains "$OLD noticed the expiry" "session expired" "$(cat "$T_DIR/$OLD.log")"
}
run_case "the expired leader opens a new session and serves again without exiting" leader_rejoins
rec_wait 60
run_case "I1..I9 hold after expiry of the leader's session" fl_check "expiry of the leader's session"

# 2. A worker running tasks. VIDS (its tasks) are what the later cases check.
on_w1()
{
    api GET "/v1/tasks?state=running&limit=100"
    [[ "$API_STATUS" == 200 ]] && (($(jb '[.tasks[] | select(.worker == "w1")] | length') >= 1))
}
case_begin "expiry of the session of w1 while it runs tasks"
for i in $(seq 1 4); do submit_ledger "long-$i" 5000 >/dev/null; done
wait_for "a task running on w1" 30 on_w1
VIDS=$(jb '.tasks[] | select(.worker == "w1") | .id')
S1=$(session_of w1)
log "expiring w1's session 0x$S1; it runs: $(tr '\n' ' ' <<<"$VIDS")"
fl_expire w1
case_end

requeued()
{
    local id
    for id in $VIDS; do
        wait_final "$id" 40
        assert_eq "task $id" succeeded "$(jb .state "$TASK")"
        assert_jq "task $id: attempt 1 lost with w1" \
            '(.history | length >= 1) and .history[0].outcome == "worker_lost"' "$TASK"
    done
}
run_case "the expired worker's tasks are requeued (worker_lost) and succeed" requeued

worker_rejoins()
{
    proc_alive w1 || fail "w1 exited after its session expired"
    wait_for "w1 to register again" 20 worker_listed w1 "$(first_url)"
}
run_case "the expired worker registers again without exiting" worker_rejoins
run_case "I1..I9 hold after expiry of a worker's session" fl_check "expiry of worker w1's session"
pass
