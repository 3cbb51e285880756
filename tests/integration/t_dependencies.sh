#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Task dependencies (depends_on): bad references are 400 and store nothing; a three-level DAG
# submitted in one batch runs in dependency order; a failed dependency cancels its dependents
# (with an error naming it, and their own dependents in turn) unless on_dependency_failure is
# "run"; a dependency that already succeeded is met at once; a waiting task survives a leader
# kill -9 and runs after its dependency; a waiting task can be cancelled.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
wait_for "a leader" 20 has_leader
worker_start w1 --slots 4

task_count()
{
    api GET '/v1/tasks?limit=1000'
    jb '.tasks | length'
}

bad_references()
{
    local before body
    before=$(task_count)
    for body in \
        '{"command":["true"],"depends_on":["019a1b2c3d4e-9f8e7d6c"]}' \
        '{"command":["true"],"depends_on":["#0"]}' \
        '{"command":["true"],"depends_on":"019a1b2c3d4e-9f8e7d6c"}' \
        '{"command":["true"],"depends_on":["nope"]}' \
        '{"command":["true"],"depends_on":["#0","#0"]}' \
        '{"command":["true"],"depends_on":["#0"],"delay_s":5}' \
        '{"command":["true"],"on_dependency_failure":"maybe"}'; do
        api POST /v1/tasks "$body"
        assert_status "bad dependencies $body" 400
        assert_error_body "bad dependencies $body"
    done
    api POST /v1/tasks '{"command":["true"],"depends_on":["019a1b2c3d4e-9f8e7d6c"]}'
    assert_jq "an unknown dependency is named" '.message | test("depends_on\\[0\\]") and test("019a1b2c3d4e-9f8e7d6c")'
    api POST /v1/tasks/batch '{"tasks":[{"command":["true"],"depends_on":["#1"]},{"command":["true"]}]}'
    assert_status "a forward reference" 400
    assert_jq "names the entry" '.message | test("tasks\\[0\\].depends_on\\[0\\]")'
    api POST /v1/tasks/batch '{"tasks":[{"command":["true"],"idempotency_key":"k1"},{"command":["true"],"depends_on":["#0"]}]}'
    assert_status "keys with dependencies" 400
    assert_eq "nothing stored" "$before" "$(task_count)"
}
run_case "bad dependencies are 400 naming the field; nothing stored" bad_references

dag_in_one_batch()
{
    local body ids a b1 b2 c
    body='{"tasks":[
        {"command":["sleep","1"],"name":"A"},
        {"command":["sleep","1"],"name":"B1","depends_on":["#0"]},
        {"command":["sleep","1"],"name":"B2","depends_on":["#0"]},
        {"command":["echo","C"],"name":"C","depends_on":["#1","#2"]}]}'
    api POST /v1/tasks/batch "$body"
    assert_status "DAG batch" 201
    # shellcheck disable=SC2016  # $s is jq's variable
    assert_jq "B and C wait" '[.tasks[].state] as $s | $s[1] == "waiting" and $s[2] == "waiting" and $s[3] == "waiting"'
    mapfile -t ids < <(jb '.tasks[].id')
    a=${ids[0]} b1=${ids[1]} b2=${ids[2]} c=${ids[3]}
    assert_jq "C names its dependencies by id" ".tasks[3].spec.depends_on == [\"$b1\", \"$b2\"]"
    TASK=$(task_json "$a")
    assert_jq "A lists its dependents" ".dependents == [\"$b1\", \"$b2\"]" "$TASK"
    api GET '/v1/tasks?state=waiting&limit=1000'
    assert_status "list waiting" 200
    assert_jq "C is listed as waiting" "[.tasks[].id] | index(\"$c\") != null"
    wait_final "$c" 60
    assert_eq "C" succeeded "$(jb .state "$TASK")"
    local c_start a_end b1_end b2_end b1_start b2_start
    c_start=$(ms_of "$(jb .started_at "$TASK")")
    TASK=$(task_json "$a")
    a_end=$(ms_of "$(jb .finished_at "$TASK")")
    TASK=$(task_json "$b1")
    b1_start=$(ms_of "$(jb .started_at "$TASK")")
    b1_end=$(ms_of "$(jb .finished_at "$TASK")")
    TASK=$(task_json "$b2")
    b2_start=$(ms_of "$(jb .started_at "$TASK")")
    b2_end=$(ms_of "$(jb .finished_at "$TASK")")
    ((b1_start >= a_end && b2_start >= a_end)) || fail "a B started before A finished"
    ((c_start >= b1_end && c_start >= b2_end)) || fail "C started before both Bs finished"
    log "A ended $a_end; Bs started +$((b1_start - a_end)) / +$((b2_start - a_end)) ms; C started +$((c_start - (b1_end > b2_end ? b1_end : b2_end))) ms after the last B"
}
run_case "a three-level DAG in one batch runs in dependency order" dag_in_one_batch

failure_cancels_or_runs()
{
    local f d1 d2 d3
    f=$(submit '{"command":["sh","-c","sleep 1; exit 3"],"max_attempts":1,"name":"F"}')
    d1=$(submit "{\"command\":[\"echo\",\"never\"],\"depends_on\":[\"$f\"]}")
    d2=$(submit "{\"command\":[\"echo\",\"anyway\"],\"depends_on\":[\"$f\"],\"on_dependency_failure\":\"run\"}")
    d3=$(submit "{\"command\":[\"echo\",\"never\"],\"depends_on\":[\"$d1\"]}")
    wait_final "$d1" 60
    assert_jq "d1 cancelled naming F" ".state == \"cancelled\" and (.error | test(\"$f\")) and .started_at == null" "$TASK"
    wait_final "$d3" 60
    assert_jq "d3 (depends on d1) cancelled in turn" ".state == \"cancelled\" and (.error | test(\"$d1\"))" "$TASK"
    wait_final "$d2" 60
    assert_jq "d2 runs anyway" '.state == "succeeded" and (.output | test("anyway"))' "$TASK"
}
run_case "a failed dependency cancels its dependents (in cascade); \"run\" runs them" failure_cancels_or_runs

met_at_once()
{
    local a b
    a=$(submit '{"command":["true"]}')
    wait_final "$a" 30
    b=$(submit "{\"command\":[\"echo\",\"after\"],\"depends_on\":[\"$a\"]}")
    assert_jq "queued at once (its dependency succeeded already)" '.state != "waiting"' "$(task_json "$b")"
    wait_final "$b" 30
    assert_eq "b" succeeded "$(jb .state "$TASK")"
}
run_case "a dependency that already succeeded is met at once" met_at_once

survives_leader_kill()
{
    local x y old x_end y_start
    x=$(submit '{"command":["sleep","4"],"name":"X"}')
    y=$(submit "{\"command\":[\"echo\",\"Y\"],\"depends_on\":[\"$x\"]}")
    assert_eq "Y waits" waiting "$(task_state "$y")"
    old=$(leader_id)
    kill9 "$old"
    wait_for "a leader other than $old" 20 leader_is_not "$old"
    wait_final "$y" 60
    assert_eq "Y after the failover" succeeded "$(jb .state "$TASK")"
    y_start=$(ms_of "$(jb .started_at "$TASK")")
    x_end=$(ms_of "$(jb .finished_at "$(task_json "$x")")")
    ((y_start >= x_end)) || fail "Y started before X finished"
    corrald_start "$old"
}
run_case "a waiting task survives a leader kill -9 and runs after its dependency" survives_leader_kill

cancel_waiting()
{
    local x y
    x=$(submit '{"command":["sleep","2"]}')
    y=$(submit "{\"command\":[\"echo\",\"never\"],\"depends_on\":[\"$x\"]}")
    api POST "/v1/tasks/$y/cancel"
    assert_status "cancel a waiting task" 200
    assert_eq "cancelled at once" cancelled "$(jb .state)"
    wait_final "$x" 30
    # The dependency's success must not revive it (its edge is only dropped).
    local until=$(($(now_ms) + 1500))
    wait_for "a moment" 5 bash -c "(( \$(date +%s%3N) > $until ))"
    assert_jq "still cancelled, never started" '.state == "cancelled" and .started_at == null' "$(task_json "$y")"
}
run_case "a waiting task can be cancelled and stays so" cancel_waiting

pass
