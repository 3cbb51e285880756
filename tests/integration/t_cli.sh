#!/usr/bin/env bash
# shellcheck disable=SC2016  # $VARS in single quotes are expanded by the task's shell
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# The corral command-line client against a live cluster: every command, its exit status, --json,
# several --server URLs with a dead one first, and the common flags of all three programs.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# cli ARGS...: run the client (deadline 60 s); sets CLI_OUT, CLI_ERR, CLI_RC.
CLI_OUT=
CLI_ERR=
CLI_RC=
cli()
{
    CLI_RC=0
    timeout 60 "$CLI" "$@" >"$T_DIR/.cli_out" 2>"$T_DIR/.cli_err" </dev/null || CLI_RC=$?
    CLI_OUT=$(cat "$T_DIR/.cli_out")
    CLI_ERR=$(cat "$T_DIR/.cli_err")
}

expect_rc()
{
    local desc=$1 want=$2
    [[ "$CLI_RC" == "$want" ]] ||
        fail "$desc: expected exit $want, got $CLI_RC; stdout: ${CLI_OUT:0:1000}; stderr: ${CLI_ERR:0:1000}"
}

# last_word: the last word of the client's output (submit prints the id last).
last_word()
{
    printf '%s\n' "$CLI_OUT" | awk 'NF {l=$NF} END {print l}'
}

# --- flags common to the three programs (no cluster needed) --------------------------------------
common_flags()
{
    local bin b rc out err
    for bin in "$CORRALD" "$WORKER" "$CLI"; do
        b=$(basename "$bin")
        rc=0
        out=$(timeout 10 "$bin" --version 2>&1 </dev/null) || rc=$?
        assert_eq "$b --version exit" 0 "$rc"
        assert_match "$b --version output" '^corral [0-9]+\.[0-9]+\.[0-9]+' "$out"
        rc=0
        out=$(timeout 10 "$bin" --help 2>&1 </dev/null) || rc=$?
        assert_eq "$b --help exit" 0 "$rc"
        assert_ne "$b --help prints usage" "" "$out"
        rc=0
        err=$(timeout 10 "$bin" --no-such-flag 2>&1 >/dev/null </dev/null) || rc=$?
        assert_eq "$b unknown flag exit" 2 "$rc"
        assert_ne "$b unknown flag message" "" "$err"
        assert_eq "$b unknown flag: one line" 1 "$(printf '%s\n' "$err" | grep -c .)"
    done
}
run_case "--version, --help and an unknown flag of the three programs" common_flags

bad_values()
{
    local rc=0
    timeout 10 "$CORRALD" --session-timeout abc >/dev/null 2>&1 </dev/null || rc=$?
    assert_eq "corrald bad --session-timeout exit" 2 "$rc"
    rc=0
    timeout 10 "$WORKER" --slots abc >/dev/null 2>&1 </dev/null || rc=$?
    assert_eq "corral-worker bad --slots exit" 2 "$rc"
    rc=0
    timeout 10 "$CLI" submit --priority abc -- true >/dev/null 2>&1 </dev/null || rc=$?
    assert_eq "corral bad --priority exit" 2 "$rc"
}
run_case "bad flag values exit 2" bad_values

# --- cluster ---------------------------------------------------------------------------------------
zk_start
corrald_start r1
corrald_start r2
worker_start w1 --slots 2 --label zone=a
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
export CORRAL_SERVER=$R1
wait_for "a leader" 20 has_leader

# ID (a succeeded task) is used by the list, cancel and --server cases.
case_begin "submit prints the id; wait, get and get --json"
cli submit -- echo hi-from-cli
expect_rc "submit" 0
ID=$(last_word)
api GET "/v1/tasks/$ID"
assert_status "submitted id $ID exists" 200
cli wait "$ID" --timeout 30
expect_rc "wait succeeded task" 0
cli get "$ID"
expect_rc "get" 0
assert_contains "get shows id" "$ID" "$CLI_OUT"
assert_contains "get shows state" succeeded "$CLI_OUT"
cli --json get "$ID"
expect_rc "get --json" 0
assert_eq "--json get is the API JSON" succeeded "$(jb .state "$CLI_OUT")"
assert_contains "--json get output" hi-from-cli "$(jb .output "$CLI_OUT")"
case_end

run_prints_output()
{
    cli run -- sh -c 'echo out; exit 3'
    expect_rc "run exit code" 3
    assert_contains "run prints output" out "$CLI_OUT"
    cli run -- echo hello
    expect_rc "run hello" 0
    assert_contains "run hello output" hello "$CLI_OUT"
}
run_case "run prints the output and exits with the task's exit code" run_prints_output

# A task's output (and anything from a server) reaches the terminal without control
# characters: no escape sequence can retitle the window or rewrite what the user sees.
no_escapes_reach_the_terminal()
{
    local id
    cli run -- printf 'a\033]0;pwned\007b\033[2Jc\302\233d\n'
    expect_rc "run with escapes" 0
    assert_contains "the text around the escapes is printed" "a?]0;pwned?b?[2Jc?d" "$CLI_OUT"
    assert_eq "no ESC, BEL or C1 byte is printed" 0 "$(printf '%s' "$CLI_OUT" |
        LC_ALL=C grep -c $'[\x1b\x07]\|\xc2\x9b' || true)"
    id=$(submit '{"command":["printf","x\u001b[31my"],"name":"n\u001bame"}')
    wait_state "$id" succeeded 30
    cli get "$id"
    assert_eq "get: no ESC" 0 "$(printf '%s' "$CLI_OUT" | LC_ALL=C grep -c $'\x1b' || true)"
    cli --json get "$id"
    assert_eq "--json keeps JSON's escapes" x$'\x1b'[31my "$(jb .output "$CLI_OUT")"
}
run_case "control characters from the server are stripped before printing" no_escapes_reach_the_terminal

task_flags()
{
    local fid
    cli --json submit --priority 5 --timeout 20 --max-attempts 2 --cpu 0.5 --mem-mb 16 --label zone=a \
        --estimated-ms 100 --idempotency-key cli-key-$$ --env GREETING=hey --name flagged --shell \
        -- 'echo "$GREETING" | tr a-z A-Z'
    expect_rc "submit with flags" 0
    fid=$(jb .id "$CLI_OUT")
    assert_jq "spec from flags" '.spec.priority == 5 and .spec.timeout_s == 20 and .spec.max_attempts == 2
        and .spec.resources.cpu == 0.5 and .spec.resources.mem_mb == 16 and .spec.constraints.zone == "a"
        and .spec.estimated_ms == 100 and .spec.env.GREETING == "hey" and .name == "flagged"
        and .spec.shell == true' "$CLI_OUT"
    assert_jq "idempotency key kept" ".spec.idempotency_key == \"cli-key-$$\"" "$CLI_OUT"
    cli submit --idempotency-key "cli-key-$$" --priority 5 --timeout 20 --max-attempts 2 --cpu 0.5 \
        --mem-mb 16 --label zone=a --estimated-ms 100 --env GREETING=hey --name flagged --shell \
        -- 'echo "$GREETING" | tr a-z A-Z'
    expect_rc "resubmit same key" 0
    assert_contains "same key, same id" "$fid" "$CLI_OUT"
    cli wait "$fid" --timeout 30
    expect_rc "wait flagged" 0
    assert_contains "shell + env" HEY "$(jb .output "$(task_json "$fid")")"
}
run_case "every task flag reaches the spec; the same --idempotency-key gives the same id" task_flags

wait_on_failure()
{
    local bad
    cli submit --max-attempts 1 -- false
    expect_rc "submit false" 0
    bad=$(last_word)
    cli wait "$bad" --timeout 30
    expect_rc "wait failed task" 1
}
run_case "wait on a failed task exits 1" wait_on_failure

list_cmd()
{
    cli list
    expect_rc "list" 0
    assert_contains "list shows a task" "$ID" "$CLI_OUT"
    cli --json list --state succeeded --limit 1
    expect_rc "list --json --state --limit" 0
    assert_jq "list --limit 1" '(.tasks | length == 1) and (.tasks[0].state == "succeeded")' "$CLI_OUT"
    cli list --state bogus
    assert_ne "list with a bad state fails" 0 "$CLI_RC"
}
run_case "list, with --json, --state and --limit" list_cmd

workers_cmd()
{
    cli workers
    expect_rc "workers" 0
    assert_contains "workers lists w1" w1 "$CLI_OUT"
    cli --json workers
    expect_rc "workers --json" 0
    assert_jq "workers --json" '.workers | map(.id) == ["w1"]' "$CLI_OUT"
}
run_case "workers, with --json" workers_cmd

leader_cmd()
{
    local lid
    lid=$(leader_id)
    cli leader
    expect_rc "leader" 0
    assert_contains "leader shows id" "$lid" "$CLI_OUT"
    cli --json leader
    expect_rc "leader --json" 0
    assert_eq "leader --json id" "$lid" "$(jb .id "$CLI_OUT")"
}
run_case "leader, with --json" leader_cmd

# cancel: running task, then finished and unknown ones
cancel_cmd()
{
    local m long
    new_marker m
    cli submit --max-attempts 1 -- sleep 300 "$m"
    expect_rc "submit long" 0
    long=$(last_word)
    wait_state "$long" running 20
    cli cancel "$long"
    expect_rc "cancel running" 0
    wait_state "$long" cancelled 20
    wait_for "cancelled task's process gone" 10 no_pids_with "$m"
    cli cancel "$ID"
    expect_rc "cancel finished" 1
    cli cancel 000000000000-00000000
    expect_rc "cancel unknown" 1
    cli get 000000000000-00000000
    expect_rc "get unknown" 1
}
run_case "cancel of a running task (0), of a finished or unknown one (1)" cancel_cmd

# --server: a dead URL first, then a live one; the flag beats CORRAL_SERVER
server_flag()
{
    local dead lid
    lid=$(leader_id)
    dead=http://127.0.0.1:$(free_port)
    cli --server "$dead,$R2" leader
    expect_rc "dead server first" 0
    assert_contains "leader via second server" "$lid" "$CLI_OUT"
    CORRAL_SERVER=$dead cli --server "$R2" --json get "$ID"
    expect_rc "--server beats CORRAL_SERVER" 0
    CORRAL_SERVER="$dead" cli leader
    expect_rc "only a dead server" 1
}
run_case "--server with a dead URL first; the flag beats CORRAL_SERVER" server_flag

bad_usage()
{
    cli --no-such-flag leader
    expect_rc "bad global flag" 2
    cli submit --no-such-flag -- true
    expect_rc "bad task flag" 2
    cli no-such-command
    expect_rc "unknown command" 2
}
run_case "a bad flag or command exits 2" bad_usage

pass
