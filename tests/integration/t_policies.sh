#!/usr/bin/env bash
# shellcheck disable=SC2016  # $VARS in single quotes are expanded by the task's shell
# shellcheck disable=SC2317  # the case bodies and conditions are called through run_case and wait_for
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
# Each is one case; they use separate tasks, so a failed one does not stop the others.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1 --placement least-loaded --order priority
wait_for "a leader" 20 has_leader
worker_start wa --slots 4 --cpu 4 --mem-mb 4096 --label zone=a
worker_start wb --slots 2 --cpu 2 --mem-mb 2048 --label zone=b --label disk=ssd
worker_start wc --slots 1 --cpu 1 --mem-mb 1024 --label zone=c

# --- 1. constraints: zone=b only on wb, zone=a only on wa ------------------------------------------
constraints()
{
    local b_ids=() a_ids=() i b2 id
    for i in 1 2 3 4 5 6; do
        b_ids+=("$(submit '{"command":["sleep","0.2"],"name":"b'"$i"'","constraints":{"zone":"b"}}')")
    done
    for i in 1 2 3; do
        a_ids+=("$(submit '{"command":["true"],"name":"a'"$i"'","constraints":{"zone":"a"}}')")
    done
    b2=$(submit '{"command":["true"],"name":"b-ssd","constraints":{"zone":"b","disk":"ssd"}}')
    for id in "${b_ids[@]}" "$b2"; do
        wait_final "$id" 30
        assert_eq "task $id state" succeeded "$(jb .state "$TASK")"
        assert_eq "zone=b task $id ran on" wb "$(jb .worker "$TASK")"
    done
    for id in "${a_ids[@]}"; do
        wait_final "$id" 30
        assert_eq "task $id state" succeeded "$(jb .state "$TASK")"
        assert_eq "zone=a task $id ran on" wa "$(jb .worker "$TASK")"
    done
    log "constraints respected: zone=b -> wb, zone=a -> wa"
}
run_case "constrained tasks land only on matching workers" constraints

# --- 2. unschedulable: stays queued with its reason while others run --------------------------------
unsched_reason_shown()
{
    api GET "/v1/tasks/$BIG"
    [[ "$API_STATUS" == 200 ]] && jq -e '.state == "queued" and
        ((.error // "") | startswith("unschedulable:"))' >/dev/null 2>&1 <<<"$API_BODY"
}
unschedulable()
{
    local other
    BIG=$(submit '{"command":["true"],"name":"big","resources":{"cpu":64}}')
    wait_for "task $BIG to show an unschedulable reason" 20 unsched_reason_shown
    assert_contains "reason names the cpu" "cpu 64" "$(jb .error)"
    other=$(submit '{"command":["echo","still running"],"name":"other"}')
    wait_final "$other" 30
    assert_eq "other task runs past the unschedulable one" succeeded "$(jb .state "$TASK")"
    api GET "/v1/tasks/$BIG"
    assert_jq "big task still queued with its reason" '.state == "queued" and
        (.error | startswith("unschedulable: needs cpu 64"))'
    log "unschedulable: $(jb .error)"
    api POST "/v1/tasks/$BIG/cancel"
    assert_status "cancel the unschedulable task" 200
}
run_case "an unschedulable task stays queued with its reason while others run" unschedulable

# --- 3. priority with one busy slot (wc, --slots 1) --------------------------------------------------
priority()
{
    local release=$T_DIR/release-blocker blocker low high t_high t_low hs hf ls
    # The blocker holds wc's only slot until the test creates $release (bounded: at most ~30 s).
    blocker=$(submit "$(jq -cn --arg f "$release" '{command: ["sh", "-c",
        "i=0; while [ ! -e \"$1\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done", "blocker", $f],
        name: "blocker", constraints: {zone: "c"}}')")
    wait_state "$blocker" running 20
    # Low then high in one batch (stored all or none), so no leader round sees only one of them.
    api POST /v1/tasks/batch '{"tasks":[
        {"command":["sleep","0.3"],"name":"low","priority":0,"constraints":{"zone":"c"}},
        {"command":["sleep","0.3"],"name":"high","priority":10,"constraints":{"zone":"c"}}]}'
    assert_status "batch low+high" 201
    low=$(jb '.tasks[0].id')
    high=$(jb '.tasks[1].id')
    assert_eq "batch order" "low high" "$(jb '[.tasks[].name] | join(" ")')"
    assert_eq "low queued behind the blocker" queued "$(task_state "$low")"
    assert_eq "high queued behind the blocker" queued "$(task_state "$high")"
    assert_eq "blocker still running" running "$(task_state "$blocker")"
    touch "$release"
    wait_final "$blocker" 30
    wait_final "$high" 30
    t_high=$TASK
    wait_final "$low" 30
    t_low=$TASK
    assert_eq "high succeeded" succeeded "$(jb .state "$t_high")"
    assert_eq "low succeeded" succeeded "$(jb .state "$t_low")"
    assert_eq "high ran on wc" wc "$(jb .worker "$t_high")"
    assert_eq "low ran on wc" wc "$(jb .worker "$t_low")"
    hs=$(jb .started_at "$t_high")
    hf=$(jb .finished_at "$t_high")
    ls=$(jb .started_at "$t_low")
    [[ "$hs" < "$ls" ]] || fail "high-priority task started at $hs, not before low-priority at $ls"
    [[ "$hf" < "$ls" || "$hf" == "$ls" ]] || fail "low started at $ls before high finished at $hf (one slot)"
    log "priority: high started $hs, low started $ls"
}
run_case "behind a blocker, a high-priority task starts before a low-priority one" priority

# --- 4. weighted placement: 60 tasks over weights 1, 2, 3 ------------------------------------------
only_weighted_workers()
{
    api GET /v1/workers
    [[ "$API_STATUS" == 200 ]] && jq -e '[.workers[].id] | sort == ["w1","w2","w3"]' \
        >/dev/null 2>&1 <<<"$API_BODY"
}
all_weighted_done()
{
    api GET "/v1/tasks?state=succeeded&limit=1000"
    [[ "$API_STATUS" == 200 ]] || return 1
    local n
    n=$(jq '[.tasks[] | select(.name | startswith("wt-"))] | length' <<<"$API_BODY")
    ((n == 60))
}
weighted()
{
    local w batch w_ids counts pair want got
    # The last case: it replaces the cluster (its own replica and workers).
    for w in wa wb wc; do stop_pid "$w" 10; done
    stop_pid r1 10
    corrald_start r2 --placement weighted --order fifo
    API_URL=${URL_OF[r2]}
    wait_for "r2 to lead" 20 bash -c '[[ "$(curl -s --max-time 2 "$1/v1/leader" | jq -r .id)" == r2 ]]' _ "${URL_OF[r2]}"
    # A longer session (so a longer start lease) for workers that start ~30 tasks at once on a
    # small machine; the placement is judged by each task's first assignment (history[0] if
    # requeued).
    worker_start w1 --weight 1 --slots 64 --cpu 64 --mem-mb 8192 --session-timeout 6000
    worker_start w2 --weight 2 --slots 64 --cpu 64 --mem-mb 8192 --session-timeout 6000
    worker_start w3 --weight 3 --slots 64 --cpu 64 --mem-mb 8192 --session-timeout 6000
    wait_for "exactly w1, w2, w3 registered" 20 only_weighted_workers
    batch=$(jq -cn '{tasks: [range(60) | {command: ["true"], name: "wt-\(.)"}]}')
    api POST /v1/tasks/batch "$batch"
    assert_status "batch of 60" 201
    mapfile -t w_ids < <(jb '.tasks[].id')
    assert_eq "60 ids" 60 "${#w_ids[@]}"
    wait_for "60 weighted tasks to succeed" 60 all_weighted_done
    counts=$(jq -c '[.tasks[] | select(.name | startswith("wt-")) | ((.history // [])[0].worker // .worker)] | group_by(.)
        | map({key: .[0], value: length}) | from_entries' <<<"$API_BODY")
    log "weighted split: $counts"
    for pair in w1:10 w2:20 w3:30; do
        w=${pair%%:*}
        want=${pair#*:}
        got=$(jq -r --arg w "$w" '.[$w] // 0' <<<"$counts")
        ((got >= want - 1 && got <= want + 1)) ||
            fail "weighted: $w ran $got tasks, want $want +-1 (split $counts)"
    done
}
run_case "--placement weighted splits 60 tasks 10/20/30 over weights 1/2/3" weighted

pass
