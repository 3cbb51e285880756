#!/usr/bin/env bash
# shellcheck disable=SC2016  # $VARS in single quotes are expanded by the task's shell
# shellcheck disable=SC2317  # the condition functions are called through wait_for
# SPDX-License-Identifier: MIT
# Scheduling policies end to end (issue 4), real ZooKeeper, corrald and workers:
#   1. three workers with different slots/cpu/labels: constrained tasks land only on matching
#      workers;
#   2. an unschedulable task (cpu 64) stays queued with "error": "unschedulable: ..." while
#      other tasks run;
#   3. priority order with one busy slot: behind a blocker, a high-priority task submitted after
#      a low-priority one starts first;
#   4. a replica with --placement weighted and workers of weight 1, 2, 3: 60 short tasks split
#      10/20/30 within +-1 (slots and cpu are large, so weights decide, not capacity).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1 --placement least-loaded --order priority
wait_for "a leader" 20 has_leader
worker_start wa --slots 4 --cpu 4 --mem-mb 4096 --label zone=a
worker_start wb --slots 2 --cpu 2 --mem-mb 2048 --label zone=b --label disk=ssd
worker_start wc --slots 1 --cpu 1 --mem-mb 1024 --label zone=c

# --- 1. constraints: zone=b only on wb, zone=a only on wa ------------------------------------------
B_IDS=()
A_IDS=()
for i in 1 2 3 4 5 6; do
    B_IDS+=("$(submit '{"command":["sleep","0.2"],"name":"b'"$i"'","constraints":{"zone":"b"}}')")
done
for i in 1 2 3; do
    A_IDS+=("$(submit '{"command":["true"],"name":"a'"$i"'","constraints":{"zone":"a"}}')")
done
B2=$(submit '{"command":["true"],"name":"b-ssd","constraints":{"zone":"b","disk":"ssd"}}')
for id in "${B_IDS[@]}" "$B2"; do
    wait_final "$id" 30
    assert_eq "task $id state" succeeded "$(jb .state "$TASK")"
    assert_eq "zone=b task $id ran on" wb "$(jb .worker "$TASK")"
done
for id in "${A_IDS[@]}"; do
    wait_final "$id" 30
    assert_eq "task $id state" succeeded "$(jb .state "$TASK")"
    assert_eq "zone=a task $id ran on" wa "$(jb .worker "$TASK")"
done
log "constraints respected: zone=b -> wb, zone=a -> wa"

# --- 2. unschedulable: stays queued with its reason while others run --------------------------------
BIG=$(submit '{"command":["true"],"name":"big","resources":{"cpu":64}}')
unsched_reason_shown()
{
    api GET "/v1/tasks/$BIG"
    [[ "$API_STATUS" == 200 ]] && jq -e '.state == "queued" and
        ((.error // "") | startswith("unschedulable:"))' >/dev/null 2>&1 <<<"$API_BODY"
}
wait_for "task $BIG to show an unschedulable reason" 20 unsched_reason_shown
assert_contains "reason names the cpu" "cpu 64" "$(jb .error)"
OTHER=$(submit '{"command":["echo","still running"],"name":"other"}')
wait_final "$OTHER" 30
assert_eq "other task runs past the unschedulable one" succeeded "$(jb .state "$TASK")"
api GET "/v1/tasks/$BIG"
assert_jq "big task still queued with its reason" '.state == "queued" and
    (.error | startswith("unschedulable: needs cpu 64"))'
log "unschedulable: $(jb .error)"
api POST "/v1/tasks/$BIG/cancel"
assert_status "cancel the unschedulable task" 200

# --- 3. priority with one busy slot (wc, --slots 1) --------------------------------------------------
RELEASE=$T_DIR/release-blocker
# The blocker holds wc's only slot until the test creates $RELEASE (bounded: at most ~30 s).
BLOCKER=$(submit "$(jq -cn --arg f "$RELEASE" '{command: ["sh", "-c",
    "i=0; while [ ! -e \"$1\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done", "blocker", $f],
    name: "blocker", constraints: {zone: "c"}}')")
wait_state "$BLOCKER" running 20
# Low then high in one batch (stored all or none), so no leader round sees only one of them.
api POST /v1/tasks/batch '{"tasks":[
    {"command":["sleep","0.3"],"name":"low","priority":0,"constraints":{"zone":"c"}},
    {"command":["sleep","0.3"],"name":"high","priority":10,"constraints":{"zone":"c"}}]}'
assert_status "batch low+high" 201
LOW=$(jb '.tasks[0].id')
HIGH=$(jb '.tasks[1].id')
assert_eq "batch order" "low high" "$(jb '[.tasks[].name] | join(" ")')"
assert_eq "low queued behind the blocker" queued "$(task_state "$LOW")"
assert_eq "high queued behind the blocker" queued "$(task_state "$HIGH")"
assert_eq "blocker still running" running "$(task_state "$BLOCKER")"
touch "$RELEASE"
wait_final "$BLOCKER" 30
wait_final "$HIGH" 30
T_HIGH=$TASK
wait_final "$LOW" 30
T_LOW=$TASK
assert_eq "high succeeded" succeeded "$(jb .state "$T_HIGH")"
assert_eq "low succeeded" succeeded "$(jb .state "$T_LOW")"
assert_eq "high ran on wc" wc "$(jb .worker "$T_HIGH")"
assert_eq "low ran on wc" wc "$(jb .worker "$T_LOW")"
HS=$(jb .started_at "$T_HIGH")
HF=$(jb .finished_at "$T_HIGH")
LS=$(jb .started_at "$T_LOW")
[[ "$HS" < "$LS" ]] || fail "high-priority task started at $HS, not before low-priority at $LS"
[[ "$HF" < "$LS" || "$HF" == "$LS" ]] || fail "low started at $LS before high finished at $HF (one slot)"
log "priority: high started $HS, low started $LS"

# --- 4. weighted placement: 60 tasks over weights 1, 2, 3 ------------------------------------------
for w in wa wb wc; do stop_pid "$w" 10; done
stop_pid r1 10
corrald_start r2 --placement weighted --order fifo
# shellcheck disable=SC2034  # read by lib.sh's api()
API_URL=${URL_OF[r2]}
wait_for "r2 to lead" 20 bash -c '[[ "$(curl -s --max-time 2 "$1/v1/leader" | jq -r .id)" == r2 ]]' _ "${URL_OF[r2]}"
# A longer session (so a longer start lease) for workers that start ~30 tasks at once on a small
# machine; the placement is judged by each task's first assignment (history[0] if requeued).
worker_start w1 --weight 1 --slots 64 --cpu 64 --mem-mb 8192 --session-timeout 6000
worker_start w2 --weight 2 --slots 64 --cpu 64 --mem-mb 8192 --session-timeout 6000
worker_start w3 --weight 3 --slots 64 --cpu 64 --mem-mb 8192 --session-timeout 6000
only_weighted_workers()
{
    api GET /v1/workers
    [[ "$API_STATUS" == 200 ]] && jq -e '[.workers[].id] | sort == ["w1","w2","w3"]' \
        >/dev/null 2>&1 <<<"$API_BODY"
}
wait_for "exactly w1, w2, w3 registered" 20 only_weighted_workers
BATCH=$(jq -cn '{tasks: [range(60) | {command: ["true"], name: "wt-\(.)"}]}')
api POST /v1/tasks/batch "$BATCH"
assert_status "batch of 60" 201
mapfile -t W_IDS < <(jb '.tasks[].id')
assert_eq "60 ids" 60 "${#W_IDS[@]}"
all_weighted_done()
{
    api GET "/v1/tasks?state=succeeded&limit=1000"
    [[ "$API_STATUS" == 200 ]] || return 1
    local n
    n=$(jq '[.tasks[] | select(.name | startswith("wt-"))] | length' <<<"$API_BODY")
    ((n == 60))
}
wait_for "60 weighted tasks to succeed" 60 all_weighted_done
COUNTS=$(jq -c '[.tasks[] | select(.name | startswith("wt-")) | ((.history // [])[0].worker // .worker)] | group_by(.)
    | map({key: .[0], value: length}) | from_entries' <<<"$API_BODY")
log "weighted split: $COUNTS"
for pair in w1:10 w2:20 w3:30; do
    w=${pair%%:*}
    want=${pair#*:}
    got=$(jq -r --arg w "$w" '.[$w] // 0' <<<"$COUNTS")
    ((got >= want - 1 && got <= want + 1)) ||
        fail "weighted: $w ran $got tasks, want $want +-1 (split $COUNTS)"
done

pass
