#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for and traps
# SPDX-License-Identifier: MIT
# Failpoint matrix (a -DCORRAL_TEST_HOOKS=ON build): for each label that matters
# (corrald.submit, leader.assign, leader.requeue, worker.start, worker.finish) and each action
# (crash-before, crash-after: the process SIGKILLs itself around that multi; lose-reply: the
# multi commits but the caller is told "outcome unknown"), arm the failpoint in one process,
# make it fire with a small workload, restart what crashed (without failpoints) and check
# I1..I9. One cluster for the whole matrix (standalone ZooKeeper, 3 replicas, 2 workers; w2
# carries the label fp=1 so that tasks constrained to it reach the armed worker).
# FP_ROUNDS="label:action ..." runs a subset.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

ROUNDS=${FP_ROUNDS:-"corrald.submit:crash-before corrald.submit:crash-after corrald.submit:lose-reply
leader.assign:crash-before leader.assign:crash-after leader.assign:lose-reply
leader.requeue:crash-before leader.requeue:crash-after leader.requeue:lose-reply
worker.start:crash-before worker.start:crash-after worker.start:lose-reply
worker.finish:crash-before worker.finish:crash-after worker.finish:lose-reply"}
FP_CONSTRAINT='{"constraints":{"fp":"1"}}'

zk_start
fl_corrald r1
fl_corrald r2
fl_corrald r3
fl_worker w1 --slots 2
fl_worker w2 --slots 2 --label fp=1
wait_for "a leader" 20 has_leader

# fired NAME LABEL WHAT: NAME's log (from line FROM) shows "failpoint LABEL: WHAT".
fired()
{
    awk -v from="$FROM" -v pat="failpoint $2: $3" 'NR > from && index($0, pat) { f = 1 } END { exit !f }' \
        "$T_DIR/$1.log"
}

crashed()
{
    fired "$1" "$2" "crash" && ! proc_alive "$1"
}

# wait_fired NAME LABEL ACTION: the failpoint went off (and, for a crash, the process is gone).
wait_fired()
{
    local name=$1 label=$2 action=$3
    case "$action" in
        crash-*) wait_for "$name to crash at failpoint $label ($action)" 30 crashed "$name" "$label" ;;
        lose-reply) wait_for "$name to lose a reply at failpoint $label" 30 fired "$name" "$label" "reply lost" ;;
    esac
}

# arm_leader FP: restart every replica so that the first one (armed with FP) leads.
arm_leader()
{
    local r
    for r in $(live_replicas); do fl_term "$r" 10; done
    FL_FP=$1 fl_corrald r1
    wait_for "r1 to lead" 20 leader_is r1
    fl_corrald r2
    fl_corrald r3
}

leader_is()
{
    api_at "${URL_OF[$1]}" GET /v1/leader
    [[ "$API_STATUS" == 200 && "$(jb .id)" == "$1" ]]
}

# rearm NAME FP: restart NAME (a replica or worker) with failpoints FP ("" for none).
rearm()
{
    local name=$1 fp=$2
    if proc_alive "$name"; then fl_term "$name" 10; fi
    case "$name" in
        w2) FL_FP=$fp fl_worker w2 --slots 2 --label fp=1 ;;
        w*) FL_FP=$fp fl_worker "$name" --slots 2 ;;
        *) FL_FP=$fp fl_corrald "$name" ;;
    esac
}

task_running()
{
    [[ "$(task_state "$1")" == running ]]
}

n=0
started=$(now_ms)
for round in $ROUNDS; do
    n=$((n + 1))
    label=${round%%:*}
    action=${round#*:}
    fp="$label:$action"
    t0=$(now_ms)
    log "=== round $n: $fp"
    case "$label" in
        corrald.submit)
            rearm r3 "$fp"
            FROM=$(log_lines r3)
            rec_submit "fp$n-a" "$(ledger_spec 200)" "${URL_OF[r3]}" >/dev/null ||
                fail "submission through an armed r3 was never acknowledged"
            wait_fired r3 "$label" "$action"
            victim=r3
            ;;
        leader.assign)
            arm_leader "$fp"
            FROM=$(log_lines r1)
            submit_ledger "fp$n-a" 200 >/dev/null
            wait_fired r1 "$label" "$action"
            victim=r1
            ;;
        leader.requeue)
            arm_leader "$fp"
            FROM=$(log_lines r1)
            id=$(submit_ledger "fp$n-a" 4000 "$FP_CONSTRAINT")
            wait_for "task $id running on w2" 20 task_running "$id"
            fl_kill9 w2
            wait_fired r1 "$label" "$action"
            rearm w2 ""
            victim=r1
            ;;
        worker.*)
            rearm w2 "$fp"
            FROM=$(log_lines w2)
            submit_ledger "fp$n-a" 300 "$FP_CONSTRAINT" >/dev/null
            wait_fired w2 "$label" "$action"
            victim=w2
            ;;
        *) fail "unknown failpoint label $label" ;;
    esac
    if [[ "$action" == crash-* ]]; then
        FL_DEAD_OK[$victim]=1
        reap "${PID_OF[$victim]}"
        rearm "$victim" ""
    fi
    fl_check "$fp"
    log "=== round $n ($fp) passed in $(($(now_ms) - t0)) ms"
done
log "$n failpoint rounds passed in $(($(now_ms) - started)) ms"
pass
