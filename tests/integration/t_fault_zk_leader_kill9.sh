#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: kill -9 of the ZooKeeper ensemble's leader server during a burst of submissions.
# The remaining two servers elect a new ZooKeeper leader; corral keeps working and must not
# even re-elect its own leader (the epoch stays the same); the server restarts and rejoins;
# I1..I9 hold.
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
E1=$(jb .epoch "$L1")
log "corral leader $(jb .id "$L1") epoch $E1"

# The later cases check the ensemble and the cluster this case leaves behind.
case_begin "kill -9 of the ZooKeeper leader during a burst: the other two elect a new one"
rec_burst 15 500 a
rec_burst 15 500 b
wait_for "6 acknowledged submissions" 30 acked_ge 6
ZL=$(ens_leader)
[[ -n "$ZL" ]] || fail "no ZooKeeper leader found with srvr"
t0=$(now_ms)
ens_kill9 "$ZL"
wait_for "the two remaining servers to elect a new leader" 30 ens_formed
log "ZooKeeper zk$ZL killed; zk$(ens_leader) leads after $(($(now_ms) - t0)) ms"
case_end

rec_wait 90
# EPOCH_NOW is compared with the epoch before the kill below.
case_begin "the killed server rejoins the ensemble; corral names a leader"
ens_restart "$ZL"
wait_for "zk$ZL to rejoin the ensemble" 30 ens_formed
wait_leader_epoch_gt 0 15
log "corral leader $LEADER_NOW epoch $EPOCH_NOW (was $(jb .id "$L1") epoch $E1)"
case_end

run_case "I1..I9 hold after kill -9 of the ZooKeeper leader" fl_check "kill -9 of the ZooKeeper leader"
run_case "corral's epoch is unchanged (no corral re-election)" \
    assert_eq "corral epoch unchanged (no corral re-election)" "$E1" "$EPOCH_NOW"
pass
