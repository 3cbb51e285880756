#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Fleet control: cordon gives a worker no new work while its running task goes on; the state
# lives in ZooKeeper (it survives the worker's restart and a leader kill -9); drain returns the
# running task after the drain's timeout while the worker process keeps running, shows
# "draining" then "cordoned", and uncordon puts it back; the leader cordons a worker after
# --cordon-after-failures failed attempts in a row, and an uncordon forgives them; bad requests
# are 4xx with a JSON body and change nothing; the CLI's cordon/uncordon/drain and workers.
# w1 carries node=a and w2 node=b, so a task's constraint picks its worker.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1 --cordon-after-failures 3
corrald_start r2 --cordon-after-failures 3
wait_for "a leader" 20 has_leader
worker_start w1 --slots 2 --cpu 2 --label node=a
worker_start w2 --slots 2 --cpu 2 --label node=b

# worker_field ID JQ: a field of worker ID in GET /v1/workers.
worker_field()
{
    api GET /v1/workers
    [[ "$API_STATUS" == 200 ]] || return 1
    jq -r --arg id "$1" ".workers[] | select(.id == \$id) | $2" <<<"$API_BODY"
}

worker_state_is()
{
    [[ "$(worker_field "$1" .state)" == "$2" ]]
}

on_node()
{
    submit "{\"command\":[\"sh\",\"-c\",\"$2\"],\"constraints\":{\"node\":\"$1\"},\"max_attempts\":${3:-1}}"
}

bad_requests()
{
    api POST /v1/workers/nosuch/cordon
    assert_status "cordon of an unknown worker" 404
    assert_error_body "cordon of an unknown worker"
    api POST /v1/workers/nosuch/drain
    assert_status "drain of an unknown worker" 404
    assert_error_body "drain of an unknown worker"
    api POST /v1/workers/nosuch/uncordon
    assert_status "uncordon of an unknown worker" 404
    assert_error_body "uncordon of an unknown worker"
    api POST "/v1/workers/$(printf 'w%.0s' {1..130})/cordon"
    assert_status "an over-long id" 404
    assert_error_body "an over-long id"
    api POST /v1/workers/w1/cordon '{"reason":"x","colour":"red"}'
    assert_status "an unknown field" 400
    assert_error_body "an unknown field"
    assert_jq "the field is named" '.field == "colour" or (.message | test("colour"))' "$API_BODY"
    api POST /v1/workers/w1/drain '{"drain_timeout_s":86401}'
    assert_status "a drain timeout over a day" 400
    assert_error_body "a drain timeout over a day"
    api POST /v1/workers/w1/cordon '{"drain_timeout_s":5}'
    assert_status "drain_timeout_s on a cordon" 400
    assert_error_body "drain_timeout_s on a cordon"
    api POST /v1/workers/w1/cordon '[1'
    assert_status "bad JSON" 400
    assert_error_body "bad JSON"
    api GET /v1/workers/w1/cordon
    assert_status "GET on cordon" 405
    assert_error_body "GET on cordon"
    assert_eq "w1 unchanged" active "$(worker_field w1 .state)"
    assert_eq "w2 unchanged" active "$(worker_field w2 .state)"
}
run_case "bad fleet requests are 4xx with a JSON body and change nothing" bad_requests

cordon_keeps_running_task()
{
    local long queued
    long=$(on_node a "sleep 3; echo done-long")
    wait_state "$long" running 20
    api POST /v1/workers/w1/cordon '{"reason":"disk check"}'
    assert_status "cordon w1" 200
    assert_jq "the answer is the worker" '.id == "w1" and .state == "cordoned" and .fleet.reason == "disk check" and .fleet.by == "operator"' "$API_BODY"
    queued=$(on_node a "echo after-uncordon")
    wait_final "$long" 30
    assert_eq "the running task went on" succeeded "$(jb .state "$TASK")"
    assert_eq "in one attempt" 1 "$(jb .attempt "$TASK")"
    # The queued task waits while w1 is cordoned: w2's task passes it by.
    local other
    other=$(on_node b "echo on-w2")
    wait_final "$other" 30
    assert_eq "w2 works meanwhile" succeeded "$(jb .state "$TASK")"
    assert_eq "the node=a task is still queued" queued "$(task_state "$queued")"
    api POST /v1/workers/w1/uncordon
    assert_status "uncordon w1" 200
    assert_jq "active again" '.state == "active" and (has("fleet") | not)' "$API_BODY"
    wait_final "$queued" 30
    assert_eq "it ran after the uncordon" succeeded "$(jb .state "$TASK")"
    assert_eq "on w1" w1 "$(jb .worker "$TASK")"
}
run_case "cordon: no new work; the running task goes on; uncordon resumes" cordon_keeps_running_task

# In the script's own shell: the restarted worker and replica are this shell's to stop.
case_begin "the cordon survives the worker's restart and a leader kill -9"
api POST /v1/workers/w1/cordon
assert_status "cordon w1" 200
stop_pid w1 20
worker_start w1 --slots 2 --cpu 2 --label node=a
assert_eq "cordoned after its restart" cordoned "$(worker_field w1 .state)"
OLD=$(leader_id)
kill9 "$OLD"
wait_for "a new leader" 30 leader_is_not "$OLD"
Q=$(on_node a "echo a")
OTHER=$(on_node b "echo b")
wait_final "$OTHER" 30
assert_eq "the new leader assigns to w2" succeeded "$(jb .state "$TASK")"
assert_eq "and not to the cordoned w1" queued "$(task_state "$Q")"
api POST /v1/workers/w1/uncordon
assert_status "uncordon" 200
wait_final "$Q" 30
assert_eq "it ran after the uncordon" succeeded "$(jb .state "$TASK")"
corrald_start "$OLD" --cordon-after-failures 3
case_end

drain_returns_and_keeps_running()
{
    local id pid
    pid=$(pid_of w1)
    # max_attempts 1: a returned attempt is not counted, or the task could not run again.
    id=$(on_node a "sleep 6; echo drained-task" 1)
    wait_state "$id" running 20
    api POST /v1/workers/w1/drain '{"drain_timeout_s":1,"reason":"reboot"}'
    assert_status "drain w1" 200
    assert_jq "draining while its task runs" '.state == "draining" and .fleet.requested == "draining" and .fleet.drain_timeout_s == 1' "$API_BODY"
    wait_state "$id" queued 20
    wait_for "w1 shows cordoned once its tasks are gone" 20 worker_state_is w1 cordoned
    pid_alive "$pid" || fail "the drained worker exited"
    api POST /v1/workers/w1/uncordon
    assert_status "uncordon" 200
    wait_final "$id" 40
    assert_eq "the returned task ran again, to the end" succeeded "$(jb .state "$TASK")"
    assert_contains "its output" drained-task "$(jb .output "$TASK")"
    assert_jq "the returned run is not a failed attempt" '[.history[]? | select(.outcome == "failed" or .outcome == "timed_out")] | length == 0' "$TASK"
}
run_case "drain: the running task is returned after the timeout; the worker keeps running" drain_returns_and_keeps_running

failures_cordon()
{
    local i id ok
    for i in 1 2 3; do
        id=$(on_node b "exit 3")
        wait_final "$id" 30
        assert_eq "failing task $i" failed "$(jb .state "$TASK")"
    done
    wait_for "w2 cordoned by the failure rule" 20 worker_state_is w2 cordoned
    assert_eq "by the rule" auto "$(worker_field w2 .fleet.by)"
    assert_contains "the reason counts them" "3 failed attempts in a row" "$(worker_field w2 .fleet.reason)"
    assert_eq "w1 is not affected" active "$(worker_field w1 .state)"
    # An uncordon forgives the streak: the next task runs there (no instant re-cordon).
    api POST /v1/workers/w2/uncordon
    assert_status "uncordon w2" 200
    ok=$(on_node b "echo healthy")
    wait_final "$ok" 30
    assert_eq "w2 takes work again" succeeded "$(jb .state "$TASK")"
    assert_eq "and stays active" active "$(worker_field w2 .state)"
}
run_case "--cordon-after-failures cordons a failing worker; uncordon forgives" failures_cordon

cli_fleet()
{
    local c=(timeout 30 "$CLI" --server "$(first_live_url)") out rc
    out=$("${c[@]}" cordon w2 --reason "from the cli") || fail "corral cordon: $out"
    assert_eq "cordon prints the state" "w2 cordoned" "$out"
    out=$("${c[@]}" workers) || fail "corral workers: $out"
    assert_match "the table has a STATE column" '^ID +STATE' "$(head -1 <<<"$out")"
    assert_match "w2 is cordoned in it" 'w2 +cordoned' "$out"
    out=$("${c[@]}" --json workers) || fail "corral --json workers"
    assert_jq "the reason is kept" '.workers[] | select(.id == "w2") | .fleet.reason == "from the cli"' "$out"
    out=$("${c[@]}" uncordon w2) || fail "corral uncordon: $out"
    assert_eq "uncordon prints active" "w2 active" "$out"
    out=$("${c[@]}" drain w2 --timeout 5) || fail "corral drain: $out"
    assert_match "drain prints cordoned or draining" '^w2 (cordoned|draining)$' "$out"
    out=$("${c[@]}" uncordon w2) || fail "corral uncordon: $out"
    rc=0
    "${c[@]}" cordon nosuch >/dev/null 2>"$T_DIR/.err" || rc=$?
    assert_eq "an unknown worker exits 1" 1 "$rc"
    assert_contains "and says so" "no live worker" "$(cat "$T_DIR/.err")"
    rc=0
    "${c[@]}" cordon 'bad id!' >/dev/null 2>&1 || rc=$?
    assert_eq "a malformed id is a usage error" 2 "$rc"
    rc=0
    "${c[@]}" drain w2 --timeout -1 >/dev/null 2>&1 || rc=$?
    assert_eq "a bad timeout is a usage error" 2 "$rc"
    assert_eq "nothing changed" active "$(worker_field w2 .state)"
}
run_case "corral cordon / uncordon / drain and the workers table" cli_fleet

pass
