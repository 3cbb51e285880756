#!/usr/bin/env bash
# shellcheck disable=SC2016  # $VARS in single quotes are expanded by the task's shell
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

# --- flags common to the three programs (no cluster needed) --------------------------------------
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
rc=0
timeout 10 "$CORRALD" --session-timeout abc >/dev/null 2>&1 </dev/null || rc=$?
assert_eq "corrald bad --session-timeout exit" 2 "$rc"
rc=0
timeout 10 "$WORKER" --slots abc >/dev/null 2>&1 </dev/null || rc=$?
assert_eq "corral-worker bad --slots exit" 2 "$rc"
rc=0
timeout 10 "$CLI" submit --priority abc -- true >/dev/null 2>&1 </dev/null || rc=$?
assert_eq "corral bad --priority exit" 2 "$rc"

# --- cluster ---------------------------------------------------------------------------------------
zk_start
corrald_start r1
corrald_start r2
worker_start w1 --slots 2 --label zone=a
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
export CORRAL_SERVER=$R1
wait_for "a leader" 20 has_leader

# submit prints the id; wait; get; --json get
cli submit -- echo hi-from-cli
expect_rc "submit" 0
ID=$(printf '%s\n' "$CLI_OUT" | awk 'NF {l=$NF} END {print l}')
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

# run: prints output, exits with the task's exit code
cli run -- sh -c 'echo out; exit 3'
expect_rc "run exit code" 3
assert_contains "run prints output" out "$CLI_OUT"
cli run -- echo hello
expect_rc "run hello" 0
assert_contains "run hello output" hello "$CLI_OUT"

# task flags reach the spec
cli --json submit --priority 5 --timeout 20 --max-attempts 2 --cpu 0.5 --mem-mb 16 --label zone=a \
    --estimated-ms 100 --idempotency-key cli-key-$$ --env GREETING=hey --name flagged --shell \
    -- 'echo "$GREETING" | tr a-z A-Z'
expect_rc "submit with flags" 0
FID=$(jb .id "$CLI_OUT")
assert_jq "spec from flags" '.spec.priority == 5 and .spec.timeout_s == 20 and .spec.max_attempts == 2
    and .spec.resources.cpu == 0.5 and .spec.resources.mem_mb == 16 and .spec.constraints.zone == "a"
    and .spec.estimated_ms == 100 and .spec.env.GREETING == "hey" and .name == "flagged"
    and .spec.shell == true' "$CLI_OUT"
assert_jq "idempotency key kept" ".spec.idempotency_key == \"cli-key-$$\"" "$CLI_OUT"
cli submit --idempotency-key "cli-key-$$" --priority 5 --timeout 20 --max-attempts 2 --cpu 0.5 \
    --mem-mb 16 --label zone=a --estimated-ms 100 --env GREETING=hey --name flagged --shell \
    -- 'echo "$GREETING" | tr a-z A-Z'
expect_rc "resubmit same key" 0
assert_contains "same key, same id" "$FID" "$CLI_OUT"
cli wait "$FID" --timeout 30
expect_rc "wait flagged" 0
assert_contains "shell + env" HEY "$(jb .output "$(task_json "$FID")")"

# wait on a failing task exits 1
cli submit --max-attempts 1 -- false
expect_rc "submit false" 0
BAD=$(printf '%s\n' "$CLI_OUT" | awk 'NF {l=$NF} END {print l}')
cli wait "$BAD" --timeout 30
expect_rc "wait failed task" 1

# list
cli list
expect_rc "list" 0
assert_contains "list shows a task" "$ID" "$CLI_OUT"
cli --json list --state succeeded --limit 1
expect_rc "list --json --state --limit" 0
assert_jq "list --limit 1" '(.tasks | length == 1) and (.tasks[0].state == "succeeded")' "$CLI_OUT"
cli list --state bogus
assert_ne "list with a bad state fails" 0 "$CLI_RC"

# workers, leader
cli workers
expect_rc "workers" 0
assert_contains "workers lists w1" w1 "$CLI_OUT"
cli --json workers
expect_rc "workers --json" 0
assert_jq "workers --json" '.workers | map(.id) == ["w1"]' "$CLI_OUT"
LID=$(leader_id)
cli leader
expect_rc "leader" 0
assert_contains "leader shows id" "$LID" "$CLI_OUT"
cli --json leader
expect_rc "leader --json" 0
assert_eq "leader --json id" "$LID" "$(jb .id "$CLI_OUT")"

# cancel: running task, then finished and unknown ones
new_marker M
cli submit --max-attempts 1 -- sleep 300 "$M"
expect_rc "submit long" 0
LONG=$(printf '%s\n' "$CLI_OUT" | awk 'NF {l=$NF} END {print l}')
wait_state "$LONG" running 20
cli cancel "$LONG"
expect_rc "cancel running" 0
wait_state "$LONG" cancelled 20
wait_for "cancelled task's process gone" 10 no_pids_with "$M"
cli cancel "$ID"
expect_rc "cancel finished" 1
cli cancel 000000000000-00000000
expect_rc "cancel unknown" 1
cli get 000000000000-00000000
expect_rc "get unknown" 1

# --server: a dead URL first, then a live one; the flag beats CORRAL_SERVER
DEAD=http://127.0.0.1:$(free_port)
cli --server "$DEAD,$R2" leader
expect_rc "dead server first" 0
assert_contains "leader via second server" "$LID" "$CLI_OUT"
CORRAL_SERVER=$DEAD cli --server "$R2" --json get "$ID"
expect_rc "--server beats CORRAL_SERVER" 0
CORRAL_SERVER="$DEAD" cli leader
expect_rc "only a dead server" 1

# bad flag / bad command exit 2
cli --no-such-flag leader
expect_rc "bad global flag" 2
cli submit --no-such-flag -- true
expect_rc "bad task flag" 2
cli no-such-command
expect_rc "unknown command" 2

pass
