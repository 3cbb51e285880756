#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# --zk-auth: znodes carry ACLs for corral's identity only, so a replica without the
# credentials can read nothing; --token-file: every request but /healthz and /readyz needs the
# bearer token; a non-loopback --listen without a token is refused.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
printf 'corral:s3cret\n' >"$T_DIR/zk-auth"
chmod 600 "$T_DIR/zk-auth"
corrald_start r1 --zk-auth-file "$T_DIR/zk-auth"
worker_start w1 --zk-auth-file "$T_DIR/zk-auth"

# ID is read again by the cases below: they depend on this one.
case_begin "a task runs through a cluster with --zk-auth"
ID=$(submit '{"command":["sh","-c","echo secured"]}')
wait_state "$ID" succeeded 30
assert_jq "task output through an authenticated cluster" '.output == "secured\n"' "$(task_json "$ID")"
case_end

# The same namespace without credentials: the ACLs keep it out (it cannot even create its
# election node, so it never becomes ready and serves no task data).
intruder_reads_nothing()
{
    local port
    port=$(free_port)
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id intruder \
        --session-timeout "$SESSION_MS" >>"$T_DIR/intruder.log" 2>&1 &
    proc_record intruder $! corrald
    wait_for "intruder log to show the refusal" 20 grep -q "not authorised\|NoAuth\|no_auth\|not authorized" "$T_DIR/intruder.log"
    api_at "http://127.0.0.1:$port" GET "/v1/tasks/$ID"
    assert_ne "intruder must not read a task" 200 "$API_STATUS"
    stop_pid intruder
}
run_case "a replica without the ZooKeeper credentials reads nothing" intruder_reads_nothing

bearer_tokens()
{
    local url code hdr out
    printf 'tok-123-secret\n' >"$T_DIR/token"
    chmod 600 "$T_DIR/token"
    corrald_start r2 --zk-auth corral:s3cret --token-file "$T_DIR/token"
    url=${URL_OF[r2]}
    api_at "$url" GET /healthz
    assert_status "healthz needs no token" 200
    api_at "$url" GET /v1/leader
    assert_status "no token" 401
    assert_error_body "401 body"
    assert_eq "401 error code" unauthorized "$(jq -r .error <<<"$API_BODY")"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$url/v1/leader")
    assert_eq "wrong token" 401 "$code"
    hdr=$(curl -s -D - -o /dev/null "$url/v1/leader" | tr -d '\r' | grep -i '^WWW-Authenticate:' || true)
    assert_contains "401 carries WWW-Authenticate: Bearer" Bearer "$hdr"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok-123-secret' "$url/v1/tasks/$ID")
    assert_eq "right token" 200 "$code"
    out=$("$CLI" --server "$url" --token tok-123-secret get "$ID")
    assert_contains "corral --token" succeeded "$out"
}
run_case "--token-file: every request but /healthz needs the bearer token" bearer_tokens

# No token file and a non-loopback address: refused with exit 2 unless --insecure.
open_listen_refused()
{
    local rc=0
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen 0.0.0.0:0 --id open >"$T_DIR/open.log" 2>&1 || rc=$?
    assert_eq "non-loopback listen without a token is refused" 2 "$rc"
    assert_contains "the refusal names the remedy" "--token-file" "$(cat "$T_DIR/open.log")"
}
run_case "a non-loopback --listen without a token file is refused" open_listen_refused

# corrald reads ZooKeeper credentials only from a private file, warns about --zk-auth, and
# without ZooKeeper auth refuses a ZooKeeper that is not on loopback.
zk_auth_flags()
{
    local rc=0 port
    port=$(free_port)
    printf 'corral:s3cret\n' >"$T_DIR/zk-auth-open"
    chmod 644 "$T_DIR/zk-auth-open"
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id bad-auth \
        --zk-auth-file "$T_DIR/zk-auth-open" >"$T_DIR/bad-auth.log" 2>&1 || rc=$?
    assert_eq "a credentials file others may read is refused" 2 "$rc"
    assert_contains "the refusal says what to do" "chmod 600" "$(cat "$T_DIR/bad-auth.log")"
    rc=0
    "$CORRALD" --zk 10.255.255.1:2181 --namespace "$T_NS" --listen "127.0.0.1:$port" \
        --id far-zk >"$T_DIR/far-zk.log" 2>&1 || rc=$?
    assert_eq "a non-loopback ZooKeeper without auth is refused" 2 "$rc"
    assert_contains "the refusal names the remedies" "--insecure" "$(cat "$T_DIR/far-zk.log")"
    rc=0
    "$WORKER" --zk 10.255.255.1:2181 --namespace "$T_NS" --id far-worker --allow-root \
        >"$T_DIR/far-worker.log" 2>&1 || rc=$?
    assert_eq "a worker refuses a non-loopback ZooKeeper without auth too" 2 "$rc"
    assert_contains "the worker names the remedies" "--zk-auth-file" "$(cat "$T_DIR/far-worker.log")"
    rc=0
    "$WORKER" --zk "$ZK" --namespace "$T_NS" --id open-file-worker --allow-root \
        --zk-auth-file "$T_DIR/zk-auth-open" >"$T_DIR/open-file-worker.log" 2>&1 || rc=$?
    assert_eq "a worker refuses a credentials file others may read" 2 "$rc"
    rc=0
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen 0.0.0.0:0 --id warned \
        --zk-auth corral:s3cret >"$T_DIR/warned.log" 2>&1 || rc=$?
    assert_eq "(stopped by the listen guard)" 2 "$rc"
    assert_contains "--zk-auth warns and names the file flag" "use --zk-auth-file" \
        "$(cat "$T_DIR/warned.log")"
    release_ports
}
run_case "credentials file, --zk-auth warning, non-loopback ZooKeeper guard" zk_auth_flags

# A namespace made without ZooKeeper auth is open to everyone: an authenticated replica
# refuses it (exit 2, naming the path) unless --insecure.
open_namespace_refused()
{
    local ns=$T_NS-open rc=0 port
    corrald_start open1 --namespace "$ns"
    stop_pid open1
    port=$(free_port)
    "$CORRALD" --zk "$ZK" --namespace "$ns" --listen "127.0.0.1:$port" --id strict \
        --session-timeout "$SESSION_MS" --zk-auth-file "$T_DIR/zk-auth" >"$T_DIR/strict.log" 2>&1 &
    proc_record strict $! corrald
    strict_gone() { ! proc_alive strict; }
    wait_for "the authenticated replica to refuse the open namespace" 20 strict_gone
    stop_pid strict
    assert_eq "it exits 2" 2 "$STOP_STATUS"
    assert_contains "it names the open path" "$ns is open to everyone" "$(cat "$T_DIR/strict.log")"
    corrald_start lax --namespace "$ns" --zk-auth-file "$T_DIR/zk-auth" --insecure
    stop_pid lax
}
run_case "an open namespace is refused under ZooKeeper auth unless --insecure" open_namespace_refused

# A replica with ZooKeeper auth started while ZooKeeper does not listen waits for it (the
# client refuses to register a credential between two connection attempts: that must not end
# the replica), and is ready once ZooKeeper is back. Last: it stops the test's ZooKeeper.
replica_with_auth_waits_for_zookeeper()
{
    local port
    stop_pid zk
    port=$(free_port)
    URL_OF[late]=http://127.0.0.1:$port
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id late \
        --session-timeout "$SESSION_MS" --log-level "$LOG_LEVEL" \
        --zk-auth-file "$T_DIR/zk-auth" >>"$T_DIR/late.log" 2>&1 &
    proc_record late $! corrald
    wait_for "late's API to answer while ZooKeeper is down" 20 curl -s -o /dev/null \
        "${URL_OF[late]}/healthz"
    sleep 3 # not a wait for a condition: how long ZooKeeper stays down
    proc_alive late || fail "corrald exited while ZooKeeper was down: $(tail -n 3 "$T_DIR/late.log")"
    zk_launch
    wait_for "late to be ready once ZooKeeper is back" 30 replica_ready late
    stop_pid late
}
run_case "a replica with ZooKeeper auth waits for a ZooKeeper that is not up yet" \
    replica_with_auth_waits_for_zookeeper

log "zk-auth ACLs, bearer tokens and the listen guard work"
pass
