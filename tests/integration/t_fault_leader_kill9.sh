#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: kill -9 of the leader replica during a burst of submissions to all 3 replicas
# (3-node ZooKeeper ensemble, 2 workers). A new leader with a larger epoch takes over, every
# acknowledged task finishes exactly once, and I1..I9 hold (check_invariants.sh).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

ens_start 3
fl_corrald r1
fl_corrald r2
fl_corrald r3
fl_worker w1 --slots 4
fl_worker w2 --slots 4
wait_for "a leader" 20 has_leader
L1=$(leader_json)
OLD=$(jb .id "$L1")
E1=$(jb .epoch "$L1")
log "leader $OLD epoch $E1"

# The invariants are checked on the cluster this case leaves behind.
case_begin "kill -9 of the leader during a burst: a new leader with a larger epoch"
rec_burst 25 400 a
rec_burst 25 400 b
wait_for "15 acknowledged submissions" 30 acked_ge 15
killed_at=$(now_ms)
fl_kill9 "$OLD"
wait_leader_epoch_gt "$E1" 15
NEW_AT=$(log_ms "$LEADER_NOW" "became leader.*epoch=$EPOCH_NOW")
log "new leader $LEADER_NOW epoch $EPOCH_NOW, $((${NEW_AT:-$killed_at} - killed_at)) ms after the kill (log)"
case_end

rec_wait 90
log "$(acked_count) submissions acknowledged"
fl_corrald "$OLD"
run_case "I1..I9 hold after kill -9 of the leader" fl_check "kill -9 of the leader"
pass
