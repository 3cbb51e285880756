#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: 2 of the 3 ZooKeeper servers (the leader and a follower) stopped for 10 s, then
# restarted. Meanwhile every replica answers 503 (readyz and reads; never stale data) and
# submissions are retried by the recorder; afterwards the cluster heals and I1..I9 hold.
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
# ID0 (a finished task) is read during the outage.
case_begin "tasks run on a healthy ensemble"
ID0=$(submit_ledger pre-1 300)
wait_for "task $ID0 to finish" 20 task_is_final "$ID0"
for i in $(seq 2 5); do submit_ledger "pre-$i" 3000 >/dev/null; done
case_end

ZL=$(ens_leader)
ZF=1
[[ "$ZF" == "$ZL" ]] && ZF=2
t0=$(now_ms)
ens_stop "$ZL"
ens_stop "$ZF"
log "stopped zk$ZL (leader) and zk$ZF in $(($(now_ms) - t0)) ms; quorum lost"
REC_DEADLINE_S=60 rec_burst 6 300 during
all_503()
{
    local r code
    for r in $(live_replicas); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${URL_OF[$r]}/readyz" || true)
        [[ "$code" == 503 ]] || return 1
        api_at "${URL_OF[$r]}" GET "/v1/tasks/$ID0"
        [[ "$API_STATUS" == 503 ]] || return 1
        assert_error_body "GET through $r without quorum"
    done
}
answers_503()
{
    wait_for "every replica to answer 503 without a quorum" 8 all_503
    log "every replica answers 503 $(($(now_ms) - t0)) ms after the quorum was lost"
}
run_case "without a quorum every replica answers 503 on /readyz and on reads" answers_503
# The outage lasts 10 s from the stop.
rest=$((10000 - ($(now_ms) - t0)))
((rest > 0)) && sleep "$((rest / 1000)).$(printf '%03d' $((rest % 1000)))"
all_503 || log "note: a replica answered something else than 503 at the end of the outage"
ens_restart "$ZL"
ens_restart "$ZF"

heals()
{
    wait_for "the ensemble to form again" 40 ens_formed
    log "ensemble back $(($(now_ms) - t0)) ms after the stop"
    wait_leader_epoch_gt 0 30
}
run_case "after the restart the ensemble forms again and corral names a leader" heals
rec_wait 90
run_case "I1..I9 hold after the loss of the ZooKeeper quorum for 10 s" fl_check "loss of the ZooKeeper quorum for 10 s"
pass
