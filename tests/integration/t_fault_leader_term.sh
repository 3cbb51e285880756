#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: SIGTERM of the leader replica while tasks are queued and running. The leader closes
# its session at once, so the next leader must be established within 1.5 s of the signal
# (measured from its "became leader" log line); I1..I9 hold afterwards.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

LIMIT_MS=${FAULT_TERM_LIMIT_MS:-1500}
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
log "leader $OLD epoch $E1"

# took (signal -> "became leader") is judged by the next case.
case_begin "SIGTERM of the leader: another replica becomes leader with a larger epoch"
for i in $(seq 1 8); do submit_ledger "pre-$i" 1500 >/dev/null; done
rec_burst 12 300 a
wait_for "10 acknowledged submissions" 30 acked_ge 10
sent_at=$(now_ms)
kill -TERM "${PID_OF[$OLD]}"
FL_DEAD_OK[$OLD]=1
wait_leader_epoch_gt "$E1" 10
NEW_AT=$(log_ms "$LEADER_NOW" "became leader.*epoch=$EPOCH_NOW")
[[ -n "$NEW_AT" ]] || fail "no 'became leader' line in $LEADER_NOW's log"
took=$((NEW_AT - sent_at))
log "SIGTERM $OLD -> $LEADER_NOW became leader (epoch $EPOCH_NOW) after $took ms"
# The old leader is this shell's child: only this shell can collect its exit status.
stop_pid "$OLD" 10
OLD_STATUS=$STOP_STATUS
case_end

run_case "the old leader exits with status 0 after SIGTERM" \
    assert_eq "$OLD exit status after SIGTERM" 0 "$OLD_STATUS"

fast_enough()
{
    ((took <= LIMIT_MS)) || fail "graceful failover took $took ms (> $LIMIT_MS ms)"
}
run_case "the next leader is established within $LIMIT_MS ms of the signal" fast_enough

rec_wait 60
fl_corrald "$OLD"
run_case "I1..I9 hold after SIGTERM of the leader" fl_check "SIGTERM of the leader"
pass
