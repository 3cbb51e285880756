#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for and traps
# SPDX-License-Identifier: MIT
# Failpoint matrix (a -DCORRAL_TEST_HOOKS=ON build): for each label that matters
# (corrald.submit, corrald.batch, corrald.cancel, leader.assign, leader.requeue, leader.unsched,
# worker.start, worker.finish, worker.return) and each action
# (crash-before, crash-after: the process SIGKILLs itself around that multi; lose-reply: the
# multi commits but the caller is told "outcome unknown"), arm the failpoint in one process,
# make it fire with a small workload, restart what crashed (without failpoints) and check
# I1..I9. One cluster for the whole matrix (standalone ZooKeeper, 3 replicas, 2 workers; w2
# carries the label fp=1 so that tasks constrained to it reach the armed worker).
# FP_ROUNDS="label:action ..." runs a subset. Each round is one case named after its failpoint;
# a failed round stops the matrix, since every round runs on the cluster the last one left.
#   corrald.batch  a 3-task batch through the armed r3 (rec_submit_batch: after a lost answer
#                  the retry's 422 "keys in use" is resolved by listing the keys)
#   corrald.cancel cancel of a running task through the armed r3 (rec_cancel retries elsewhere)
#   leader.unsched a cpu-64 task (never schedulable) under the armed leader; the task must show
#                  "unschedulable: ..." afterwards, then the test cancels it so that I1 holds
#   worker.return  a long task on the armed w2, then SIGTERM w2: after --drain-timeout (1 s) it
#                  returns the task, which reruns (same attempt) once w2 is back; I3 allows a
#                  second start of an attempt per "returned" history entry
#   leader.cleanup a queue entry for a finished task, written by hand (corral-zk-touch); the
#                  leader must remove it (after a crash, its successor does)
#   leader.retention  after the matrix, in a namespace of its own (the sweep deletes finished
#                  tasks, which the invariants of the matrix rely on): an armed leader with
#                  --retention 1 and a fast sweep (CORRAL_TEST_RETENTION_PERIOD_MS); both tasks
#                  and the idempotency record must be gone, and new work must still complete
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

ROUNDS=${FP_ROUNDS:-"corrald.submit:crash-before corrald.submit:crash-after corrald.submit:lose-reply
corrald.batch:crash-before corrald.batch:crash-after corrald.batch:lose-reply
corrald.cancel:crash-before corrald.cancel:crash-after corrald.cancel:lose-reply
leader.unsched:crash-before leader.unsched:crash-after leader.unsched:lose-reply
worker.return:crash-before worker.return:crash-after worker.return:lose-reply
leader.assign:crash-before leader.assign:crash-after leader.assign:lose-reply
leader.requeue:crash-before leader.requeue:crash-after leader.requeue:lose-reply
worker.start:crash-before worker.start:crash-after worker.start:lose-reply
worker.finish:crash-before worker.finish:crash-after worker.finish:lose-reply
leader.cleanup:crash-before leader.cleanup:crash-after leader.cleanup:lose-reply"}
RET_ACTIONS=${FP_RET_ACTIONS-"crash-before crash-after lose-reply"}
ZK_TOUCH=$CORRAL_BUILD_DIR/corral-zk-touch
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

# stale_entry_for_a_finished_task ROUND: the path of a queue entry (not existing) for a task
# that has finished: same bucket as its task znode.
stale_entry_for_a_finished_task()
{
    local round=$1 id path
    api GET "/v1/tasks?state=succeeded&limit=1"
    id=$(jb '.tasks[0].id // empty')
    if [[ -z "$id" ]]; then # run on its own (FP_ROUNDS): make one
        id=$(submit_ledger "fp$round-done" 100)
        wait_state "$id" succeeded 30 >&2
    fi
    path=$("$ZK_LS" "$ZK" "$T_NS/tasks" | awk -v id="$id" '$1 ~ ("/" id "$") { print $1 }')
    [[ -n "$path" ]] || fail "task znode of $id not found"
    echo "${path/\/tasks\//\/queue\/}"
}

znode_gone()
{
    ! "$ZK_LS" "$ZK" "$(dirname "$1")" | awk '{ print $1 }' | grep -qxF -- "$1"
}

task_running()
{
    [[ "$(task_state "$1")" == running ]]
}

# task_unschedulable ID: the task is queued with an "unschedulable: ..." error.
task_unschedulable()
{
    api GET "/v1/tasks/$1"
    [[ "$API_STATUS" == 200 && "$(jb .state)" == queued && "$(jb '.error // ""')" == unschedulable* ]]
}

UNSCHED=() # tasks that can never run: cancelled before fl_check

n=0
started=$(now_ms)
for round in $ROUNDS; do
    n=$((n + 1))
    label=${round%%:*}
    action=${round#*:}
    fp="$label:$action"
    case_begin "round $n: $fp"
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
        corrald.batch)
            rearm r3 "$fp"
            FROM=$(log_lines r3)
            rec_submit_batch "fp$n-b" 3 "$(ledger_spec 200)" "${URL_OF[r3]}" >/dev/null ||
                fail "batch through an armed r3 was never acknowledged (or only partly stored)"
            wait_fired r3 "$label" "$action"
            victim=r3
            ;;
        corrald.cancel)
            rearm r3 "$fp"
            FROM=$(log_lines r3)
            id=$(submit_ledger "fp$n-a" 6000)
            wait_for "task $id running" 20 task_running "$id"
            rec_cancel "$id" "${URL_OF[r3]}" || fail "cancel of $id through an armed r3 never answered"
            wait_fired r3 "$label" "$action"
            victim=r3
            ;;
        leader.unsched)
            arm_leader "$fp"
            FROM=$(log_lines r1)
            id=$(submit_ledger "fp$n-a" 200 '{"resources":{"cpu":64}}')
            UNSCHED+=("$id")
            wait_fired r1 "$label" "$action"
            victim=r1
            ;;
        worker.return)
            if proc_alive w2; then fl_term w2 10; fi
            FL_FP=$fp fl_worker w2 --slots 2 --label fp=1 --drain-timeout 1
            FROM=$(log_lines w2)
            id=$(submit_ledger "fp$n-a" 3000 "$FP_CONSTRAINT")
            wait_for "task $id running on w2" 20 task_running "$id"
            fl_term w2 15
            wait_fired w2 "$label" "$action"
            rearm w2 ""
            victim=
            if [[ "$action" != crash-before ]]; then
                # The return committed: the task went back without using an attempt.
                api GET "/v1/tasks/$id"
                assert_jq "task $id was returned" '[.history[] | select(.outcome == "returned")] | length == 1'
            fi
            ;;
        leader.cleanup)
            arm_leader "$fp"
            FROM=$(log_lines r1)
            stale=$(stale_entry_for_a_finished_task "$n")
            "$ZK_TOUCH" "$ZK" "$stale" || fail "could not write the stale queue entry $stale"
            wait_fired r1 "$label" "$action"
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
    if [[ -n "$victim" && "$action" == crash-* ]]; then
        FL_DEAD_OK[$victim]=1
        reap "${PID_OF[$victim]}"
        rearm "$victim" ""
    fi
    if [[ "$label" == leader.cleanup ]]; then
        wait_for "the stale queue entry $stale to be removed" 30 znode_gone "$stale"
    fi
    if [[ "$label" == leader.unsched ]]; then
        wait_for "task $id to show why it waits" 20 task_unschedulable "$id"
    fi
    for id in "${UNSCHED[@]}"; do
        rec_cancel "$id" || fail "could not cancel the unschedulable task $id"
    done
    UNSCHED=()
    fl_check "$fp"
    case_end
done
log "$n failpoint rounds passed in $(($(now_ms) - started)) ms"

# ---- leader.retention, in a namespace of its own -----------------------------------------------
task_gone()
{
    api_at "$RET_URL" GET "/v1/tasks/$1"
    [[ "$API_STATUS" == 404 ]]
}

# ret_done_or_dead ID...: every ID succeeded per rr, or rr is gone.
ret_done_or_dead()
{
    local id
    for id in "$@"; do
        api_at "$RET_URL" GET "/v1/tasks/$id"
        [[ "$API_STATUS" == 000 ]] && return 0
        [[ "$API_STATUS" == 200 ]] && jq -e '.state == "succeeded"' >/dev/null <<<"$API_BODY" ||
            return 1
    done
}

ret_started=$(now_ms)
main_ns=$T_NS
main_api=$API_URL
main_replicas=("${REPLICAS[@]}")
REPLICAS=() # lib.sh's helpers ask the first live replica: let that be rr
for action in $RET_ACTIONS; do
    n=$((n + 1))
    case_begin "round $n: leader.retention:$action"
    log "namespace $main_ns-ret-$action"
    T_NS=$main_ns-ret-$action
    API_URL=
    CORRAL_TEST_RETENTION_PERIOD_MS=50 FL_FP=leader.retention:$action fl_corrald rr --retention 1
    RET_URL=${URL_OF[rr]}
    fl_worker rw --slots 2
    wait_for "rr to lead" 20 leader_is rr
    FROM=$(log_lines rr)
    id1=$(submit '{"command":["true"],"idempotency_key":"ret-'"$action"'"}' "$RET_URL")
    id2=$(submit '{"command":["true"]}' "$RET_URL")
    # A crash armed in retention may come as soon as the first task is a second old: ask rr
    # itself (000 once it crashed), never "the first live replica", which may be none then.
    # Retention deletes only finished tasks, so their deletion below proves they finished.
    wait_for "$id1 and $id2 to succeed (or rr to crash in retention)" 30 ret_done_or_dead "$id1" "$id2"
    wait_fired rr leader.retention "$action"
    if [[ "$action" == crash-* ]]; then
        FL_DEAD_OK[rr]=1
        reap "${PID_OF[rr]}"
        CORRAL_TEST_RETENTION_PERIOD_MS=50 FL_FP='' fl_corrald rr --retention 1
        RET_URL=${URL_OF[rr]}
    fi
    wait_for "retention to delete $id1 and $id2" 30 task_gone "$id1"
    wait_for "retention to delete $id2" 30 task_gone "$id2"
    left=$("$ZK_LS" "$ZK" "$T_NS" | awk '{ print $1 }' |
        grep -E "/(idem|queue|tasks)/[0-9a-f]{2}/|/assign/[^/]+/" || true)
    [[ -z "$left" ]] || fail "leader.retention:$action left znodes behind: $left"
    id3=$(submit '{"command":["true"]}' "$RET_URL")
    wait_state "$id3" succeeded 30
    proc_alive rr || fail "rr died after leader.retention:$action"
    proc_alive rw || fail "rw died after leader.retention:$action"
    fl_term rw 10
    fl_term rr 10
    case_end
done
T_NS=$main_ns
API_URL=$main_api
REPLICAS=("${main_replicas[@]}" rr)
log "retention rounds passed in $(($(now_ms) - ret_started)) ms"
pass
