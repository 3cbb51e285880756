#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Malformed requests: each gets the contract's status and a JSON {"error","message"} body, nothing
# is written (the task list is unchanged) and every replica stays healthy. Each request is one
# case ("[N] what is wrong with it"), so a failure names the request; the others still run.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
wait_for "a leader" 20 has_leader

# One valid task (no workers: it stays queued) so "unchanged" is not just "empty".
GOOD=$(submit '{"command":["true"],"name":"control"}' "$R1")
api_at "$R1" GET '/v1/tasks?limit=1000'
assert_status "list before" 200
BEFORE=$(jq -c '[.tasks[] | {id, state}]' <<<"$API_BODY")

# Generated bodies.
args1025=$(jq -nc '{command: [range(1025) | "x"]}')
spec_over_64k=$(jq -nc '{command: ["echo", ("y" * 70000)]}')
jq -nc '{command: ["echo", ("z" * 1100000)]}' >"$T_DIR/over1m.json"
deep=$(printf '%.0s[' $(seq 1 5000))
deep_body="{\"command\":[\"true\"],\"env\":$deep"
deep_body+=$(printf '%.0s]' $(seq 1 5000))
deep_body+="}"
key129=$(printf 'k%.0s' $(seq 1 129))
key10k=$(printf 'k%.0s' $(seq 1 10000))
batch1001=$(jq -nc '{tasks: [range(1001) | {command: ["true"]}]}')
printf '{"command":["echo","\xff\xfe"]}' >"$T_DIR/bad-utf8.json"
printf '{"command":["echo"],"name":"\xc3\x28"}' >"$T_DIR/bad-utf8-name.json"

N=0
# request_answered URL STATUS METHOD PATH BODY NEEDLE: the case body of check.
request_answered()
{
    local url=$1 want=$2 method=$3 path=$4 body=$5 needle=$6
    if [[ -n "$body" || "$method" == POST ]]; then
        api_at "$url" "$method" "$path" "$body"
    else
        api_at "$url" "$method" "$path"
    fi
    assert_status "$method $path via $url" "$want"
    assert_error_body "$method $path via $url"
    if [[ -n "$needle" ]]; then
        assert_contains "body names the problem" "$needle" "$API_BODY"
    fi
}

# check DESC STATUS METHOD PATH [BODY|@FILE] [NEEDLE]: one case; the request alternates between
# r1 and r2; NEEDLE must occur in the response body.
check()
{
    local desc=$1 want=$2 method=$3 path=$4 body=${5-} needle=${6-}
    local url=$R1
    ((N % 2)) && url=$R2
    N=$((N + 1))
    run_case "[$N] $desc" request_answered "$url" "$want" "$method" "$path" "$body" "$needle"
}

T=/v1/tasks
# --- not a task spec at all
check "not JSON" 400 POST $T 'this is not json'
check "empty body" 400 POST $T ''
check "JSON array" 400 POST $T '[]'
check "JSON string" 400 POST $T '"task"'
check "JSON null" 400 POST $T 'null'
check "truncated JSON" 400 POST $T '{"command":["true"'
check "trailing garbage" 400 POST $T '{"command":["true"]} x'
check "duplicate key" 400 POST $T '{"command":["true"],"command":["false"]}'
check "deep nesting" 400 POST $T "$deep_body"
check "invalid UTF-8 in an argument" 400 POST $T "@$T_DIR/bad-utf8.json"
check "invalid UTF-8 in name" 400 POST $T "@$T_DIR/bad-utf8-name.json"
# --- command / http
check "neither command nor http" 400 POST $T '{}'
check "command is a string without shell" 400 POST $T '{"command":"echo hi"}' command
check "empty command" 400 POST $T '{"command":[]}' command
check "command of numbers" 400 POST $T '{"command":[1,2]}' command
check "command is an object" 400 POST $T '{"command":{"a":1}}' command
check "both command and http" 400 POST $T '{"command":["true"],"http":{"method":"GET","url":"http://127.0.0.1:1/"}}'
check "shell with an array of two" 400 POST $T '{"command":["echo","hi"],"shell":true}'
check "shell not a boolean" 400 POST $T '{"command":["true"],"shell":"yes"}' shell
check "1025 arguments" 400 POST $T "$args1025" command
check "spec over 64 KiB" 400 POST $T "$spec_over_64k"
check "http without url" 400 POST $T '{"http":{"method":"GET"}}'
check "http is a string" 400 POST $T '{"http":"http://127.0.0.1/"}' http
# --- fields
check "unknown field" 400 POST $T '{"command":["true"],"bogus":1}' bogus
check "priority 1001" 400 POST $T '{"command":["true"],"priority":1001}' priority
check "priority -1001" 400 POST $T '{"command":["true"],"priority":-1001}' priority
check "priority a string" 400 POST $T '{"command":["true"],"priority":"5"}' priority
check "priority fractional" 400 POST $T '{"command":["true"],"priority":1.5}' priority
check "priority 1e400" 400 POST $T '{"command":["true"],"priority":1e400}'
check "timeout_s negative" 400 POST $T '{"command":["true"],"timeout_s":-1}' timeout_s
check "timeout_s a string" 400 POST $T '{"command":["true"],"timeout_s":"10"}' timeout_s
check "max_attempts 0" 400 POST $T '{"command":["true"],"max_attempts":0}' max_attempts
check "max_attempts negative" 400 POST $T '{"command":["true"],"max_attempts":-3}' max_attempts
check "cpu negative" 400 POST $T '{"command":["true"],"resources":{"cpu":-1}}' cpu
check "mem_mb a string" 400 POST $T '{"command":["true"],"resources":{"mem_mb":"x"}}' mem_mb
check "unknown resource" 400 POST $T '{"command":["true"],"resources":{"gpu":1}}' gpu
check "env value a number" 400 POST $T '{"command":["true"],"env":{"K":1}}' env
check "env an array" 400 POST $T '{"command":["true"],"env":["K=V"]}' env
check "constraints an array" 400 POST $T '{"command":["true"],"constraints":[1]}' constraints
check "estimated_ms negative" 400 POST $T '{"command":["true"],"estimated_ms":-5}' estimated_ms
check "name a number" 400 POST $T '{"command":["true"],"name":5}' name
check "idempotency_key 129 chars" 400 POST $T "{\"command\":[\"true\"],\"idempotency_key\":\"$key129\"}" idempotency_key
check "idempotency_key 10000 chars" 400 POST $T "{\"command\":[\"true\"],\"idempotency_key\":\"$key10k\"}" idempotency_key
check "idempotency_key a number" 400 POST $T '{"command":["true"],"idempotency_key":7}' idempotency_key
# --- size
check "body over 1 MiB" 413 POST $T "@$T_DIR/over1m.json"
# --- batch
check "batch: bad JSON" 400 POST $T/batch '{"tasks":['
check "batch: tasks not an array" 400 POST $T/batch '{"tasks":{}}'
check "batch: no tasks field" 400 POST $T/batch '{"command":["true"]}'
check "batch: bad element names its index" 400 POST $T/batch \
    '{"tasks":[{"command":["true"]},{"command":["true"]},{"command":["true"],"priority":5000}]}' 'tasks[2].priority'
check "batch: element not an object" 400 POST $T/batch '{"tasks":[{"command":["true"]},7]}' 'tasks[1]'
check "batch: 1001 specs" 400 POST $T/batch "$batch1001"
check "batch: unknown top-level field" 400 POST $T/batch '{"tasks":[{"command":["true"]}],"x":1}'
# --- list parameters
check "limit not a number" 400 GET "$T?limit=abc" '' limit
check "limit negative" 400 GET "$T?limit=-1" '' limit
check "limit fractional" 400 GET "$T?limit=1.5" '' limit
check "unknown state filter" 400 GET "$T?state=bogus" '' state
# --- unknown things
check "unknown task id" 404 GET "$T/000000000000-00000000"
check "unknown task id (odd)" 404 GET "$T/no-such-task"
check "cancel unknown task" 404 POST "$T/000000000000-00000000/cancel"
check "unknown path" 404 GET /v1/nope
check "unknown root-level path" 404 GET /nope
check "unknown dashboard file" 404 GET /ui/nope.js
check "unknown version" 404 GET /v2/tasks
# --- wrong methods
check "DELETE /v1/tasks" 405 DELETE $T
check "PUT /v1/leader" 405 PUT /v1/leader '{}'
check "POST /v1/workers" 405 POST /v1/workers '{}'
check "GET on cancel" 405 GET "$T/$GOOD/cancel"
check "DELETE a task" 405 DELETE "$T/$GOOD"
log "$N malformed requests answered as the contract says"
((N >= 30)) || fail "only $N cases"

# --- nothing was written; every replica is healthy --------------------------------------------------------
unchanged_and_healthy()
{
    local u
    for u in "$R1" "$R2"; do
        api_at "$u" GET '/v1/tasks?limit=1000'
        assert_status "list after via $u" 200
        assert_eq "task list unchanged via $u" "$BEFORE" "$(jq -c '[.tasks[] | {id, state}]' <<<"$API_BODY")"
        api_at "$u" GET /healthz
        assert_status "healthz $u" 200
        api_at "$u" GET /readyz
        assert_status "readyz $u" 200
    done
    proc_alive r1 || fail "r1 died"
    proc_alive r2 || fail "r2 died"
}
run_case "nothing was written and every replica is healthy" unchanged_and_healthy

pass
