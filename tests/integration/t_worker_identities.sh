#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Separate ZooKeeper identities (docs/security.md "ZooKeeper ACLs"): the replicas have one, the
# workers share another (corrald --zk-worker-auth-file), and each worker process adds its own.
# Tasks run; then a second ZooKeeper client holding the workers' stolen credential tries what an
# attacker on a worker host would: list tasks, read another worker's registration and
# assignments, forge an assignment, delete or rewrite another worker, squat the election, touch
# the leader record, schedules and idempotency keys. Each is refused; a registration that names
# no own identity gets no work; a namespace made without worker identities is brought over.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

TRY=$CORRAL_BUILD_DIR/corral-zk-try

zk_start
printf 'corral:replica-s3cret\n' >"$T_DIR/zk-auth"
printf 'workers:w0rkers-s3cret\n' >"$T_DIR/zk-worker-auth"
chmod 600 "$T_DIR/zk-auth" "$T_DIR/zk-worker-auth"
WORKERS_AUTH=workers:w0rkers-s3cret

# try [--auth USER:PASS]... [--creator-only] OP PATH [DATA]: the first line of corral-zk-try's
# answer.
try()
{
    local args=()
    while [[ "$1" == --* ]]; do
        if [[ "$1" == --auth ]]; then
            args+=("$1" "$2")
            shift 2
        else
            args+=("$1")
            shift
        fi
    done
    "$TRY" "${args[@]}" "$ZK" "$@" | head -n 1
}

# task_path ID: the task's znode (bucket: FNV-1a of the id modulo 256, as core/paths.c).
task_path()
{
    local id=$1 h=2166136261 i c
    for ((i = 0; i < ${#id}; i++)); do
        printf -v c '%d' "'${id:i:1}"
        h=$(((h ^ c) * 16777619 & 0xffffffff))
    done
    printf '%s/tasks/%02x/%s\n' "$T_NS" $((h % 256)) "$id"
}

# as_worker OP PATH [DATA]: as the workers' shared identity.
as_worker() { try --auth "$WORKERS_AUTH" "$@"; }

# The namespace is made first without worker identities (one identity for everything), with a
# task in it; the start with --zk-worker-auth-file brings it over (store_acl.c).
corrald_start r0 --zk-auth-file "$T_DIR/zk-auth"
OLD_ID=$(submit '{"command":["sh","-c","echo from-before"]}')
stop_pid r0

corrald_start r1 --zk-auth-file "$T_DIR/zk-auth" --zk-worker-auth-file "$T_DIR/zk-worker-auth"
worker_start w1 --zk-auth-file "$T_DIR/zk-worker-auth"
worker_start w2 --zk-auth-file "$T_DIR/zk-worker-auth"

case_begin "tasks run with separate identities, also one queued before the switch"
ID=$(submit '{"command":["sh","-c","echo separated"]}')
wait_state "$ID" succeeded 30
assert_jq "output" '.output == "separated\n"' "$(task_json "$ID")"
wait_state "$OLD_ID" succeeded 30
assert_jq "the task from before the switch ran" '.output == "from-before\n"' "$(task_json "$OLD_ID")"
# Both workers take work: each reads its own assignments.
ids=()
for _ in 1 2 3 4 5 6; do ids+=("$(submit '{"command":["sleep","0.3"]}')"); done
for t in "${ids[@]}"; do wait_state "$t" succeeded 30; done
workers_used=$(for t in "${ids[@]}"; do task_json "$t" | jq -r .worker; done | sort -u | wc -l)
assert_eq "both workers ran tasks" 2 "$workers_used"
case_end

case_begin "the workers' identity cannot list or read what is not its own"
assert_eq "list tasks/" noauth "$(as_worker ls "$T_NS/tasks")"
for b in 00 7f ff; do
    assert_eq "list a task bucket ($b)" noauth "$(as_worker ls "$T_NS/tasks/$b")"
done
assert_eq "the replicas read the task (the path is right)" ok \
    "$(try --auth corral:replica-s3cret get "$(task_path "$ID")")"
assert_eq "read a task by its id" noauth "$(as_worker get "$(task_path "$ID")")"
assert_eq "rewrite a task by its id" noauth "$(as_worker set "$(task_path "$ID")" '{}')"
assert_eq "read a task from before the switch" noauth "$(as_worker get "$(task_path "$OLD_ID")")"
assert_eq "list the queue" noauth "$(as_worker ls "$T_NS/queue/00")"
assert_eq "list idempotency keys" noauth "$(as_worker ls "$T_NS/idem/00")"
assert_eq "read another worker's registration" noauth "$(as_worker get "$T_NS/workers/w1")"
assert_eq "list another worker's assignments" noauth "$(as_worker ls "$T_NS/assign/w1")"
assert_eq "list every worker's assignments" noauth "$(as_worker ls "$T_NS/assign")"
assert_eq "read the leader record" noauth "$(as_worker get "$T_NS/leader")"
assert_eq "list the election" noauth "$(as_worker ls "$T_NS/election")"
assert_eq "list the done index" noauth "$(as_worker ls "$T_NS/done")"
assert_eq "list live output" noauth "$(as_worker ls "$T_NS/output")"
case_end

case_begin "the workers' identity cannot forge, delete or squat"
assert_eq "forge an assignment for w1" noauth "$(as_worker create "$T_NS/assign/w1/0000018c2b3f4a5b-0a1b2c3d" '{}')"
assert_eq "make an assignment folder" noauth "$(as_worker create "$T_NS/assign/w9")"
assert_eq "delete w1's registration" noauth "$(as_worker delete "$T_NS/workers/w1")"
assert_eq "rewrite w1's registration" noauth "$(as_worker set "$T_NS/workers/w1" '{}')"
assert_eq "squat an election child" noauth "$(as_worker create "$T_NS/election/n_0000000000")"
assert_eq "rewrite the leader record" noauth "$(as_worker set "$T_NS/leader" '{}')"
assert_eq "create a schedule" noauth "$(as_worker create "$T_NS/schedules/evil" '{}')"
assert_eq "create a task" noauth "$(as_worker create "$T_NS/tasks/00/0000018c2b3f4a5b-0a1b2c3d" '{}')"
assert_eq "create an idempotency key" noauth "$(as_worker create "$T_NS/idem/00/6b6579" '{}')"
assert_eq "write a fleet record" noauth "$(as_worker create "$T_NS/fleet/w1" '{}')"
assert_eq "delete a namespace folder" noauth "$(as_worker delete "$T_NS/output")"
# Anonymous: not even the workers' rights.
assert_eq "anonymous: enrol a worker" noauth "$(try create "$T_NS/workers/anon")"
assert_eq "anonymous: list a task bucket" noauth "$(try ls "$T_NS/tasks/00")"
case_end

# A registration made with the stolen credential but without an own identity: the leader
# gives it nothing, and scheduling goes on for the others.
no_identity_no_work()
{
    local reg pid t
    reg='{"id":"evil","slots":64,"cpu":2,"mem_mb":1024,"labels":{},"weight":1000,"reg":"00000000000000aa","draining":false}'
    "$TRY" --auth "$WORKERS_AUTH" --hold 60 "$ZK" create "$T_NS/workers/evil" "$reg" >"$T_DIR/evil.out" &
    pid=$!
    proc_record evil "$pid" corral-zk-try
    wait_for "the rogue registration" 10 grep -q '^ok' "$T_DIR/evil.out"
    wait_for "the leader to refuse the rogue registration" 20 \
        grep -q 'worker=evil gets no work' "$T_DIR/r1.log"
    for _ in 1 2 3 4; do
        t=$(submit '{"command":["true"]}')
        wait_state "$t" succeeded 30
        assert_ne "no task goes to the rogue registration" evil "$(task_json "$t" | jq -r .worker)"
    done
    stop_pid evil
}
run_case "a registration without its own identity gets no work" no_identity_no_work

# Nodes made with the stolen credential and an ACL that shuts the replicas out: a
# registration the leader cannot read, and an event znode under the name the feed's next
# write needs (ZooKeeper names a sequential node from the folder's child count). Neither stops
# anything: the registration is skipped, the squatted generation is sealed by the first replica
# write that meets it.
shut_out_nodes()
{
    local gen cv name t ids=()
    "$TRY" --auth "$WORKERS_AUTH" --creator-only --hold 60 "$ZK" create "$T_NS/workers/hidden" \
        '{"id":"hidden","slots":64,"cpu":2,"mem_mb":1024,"labels":{},"weight":1000,"reg":"00000000000000bb","draining":false}' \
        >"$T_DIR/hidden.out" &
    proc_record hidden $! corral-zk-try
    wait_for "the hidden registration" 10 grep -q '^ok' "$T_DIR/hidden.out"
    gen=$("$TRY" --auth "$WORKERS_AUTH" "$ZK" ls "$T_NS/events" | tail -n +2 | sort | tail -n 1)
    [[ -n "$gen" ]] || fail "no feed generation visible to the workers' identity"
    cv=$("$TRY" --auth "$WORKERS_AUTH" "$ZK" stat "$T_NS/events/$gen" | sed -n 2p | cut -d' ' -f1)
    printf -v name 'e-%010d' $((cv + 3))
    assert_eq "squat the feed's next name but two" ok \
        "$(as_worker --creator-only create "$T_NS/events/$gen/$name" x)"
    for _ in 1 2 3 4 5 6; do ids+=("$(submit '{"command":["true"]}')"); done
    for t in "${ids[@]}"; do wait_state "$t" succeeded 30; done
    wait_for "a replica to seal the squatted generation" 10 \
        grep -q "holds a node under a name its writers need" "$T_DIR/r1.log"
    wait_for "the leader to skip the hidden registration" 10 \
        grep -q "ignoring worker znode the replicas may not read worker=hidden" "$T_DIR/r1.log"
    stop_pid hidden
}
run_case "nodes that shut the replicas out stop nothing" shut_out_nodes

# task_closed ID: the task's ACL names no worker's own identity.
task_closed()
{
    ! "$TRY" --auth corral:replica-s3cret "$ZK" getacl "$(task_path "$1")" | grep -q 'digest:w\.'
}

# The ACLs as stored: a worker's registration names its own identity; its assignment folder
# grants that identity and nobody else of the workers.
acls_as_stored()
{
    local acl
    acl=$("$TRY" --auth corral:replica-s3cret "$ZK" getacl "$T_NS/workers/w1")
    assert_contains "w1's registration names its own identity" "digest:w.w1:" "$acl"
    assert_not_contains "the registration is closed to the world" "world:anyone" "$acl"
    acl=$("$TRY" --auth corral:replica-s3cret "$ZK" getacl "$T_NS/assign/w1")
    assert_contains "assign/w1 grants w1 (read, delete)" "digest:w.w1:" "$acl"
    assert_not_contains "assign/w1 does not grant w2" "digest:w.w2:" "$acl"
    assert_not_contains "assign/w1 does not grant the shared identity" "digest:workers:" "$acl"
    # A task is opened to the worker it is assigned to, and to no other; closed again once
    # it finished.
    local t w other
    t=$(submit '{"command":["sleep","3"]}')
    wait_state "$t" running 30
    w=$(task_json "$t" | jq -r .worker)
    other=w1
    [[ "$w" != w1 ]] || other=w2
    acl=$("$TRY" --auth corral:replica-s3cret "$ZK" getacl "$(task_path "$t")")
    assert_contains "the running task grants its worker $w" "digest:w.$w:" "$acl"
    assert_not_contains "the task does not grant $other" "digest:w.$other:" "$acl"
    assert_not_contains "the task does not grant the shared identity" "digest:workers:" "$acl"
    wait_state "$t" succeeded 30
    wait_for "the finished task to be closed to $w" 15 task_closed "$t"
}
run_case "registrations, assignment folders and tasks carry the workers' own identities" acls_as_stored

# registration_gone ID: workers/ID no longer exists.
registration_gone()
{
    [[ "$(try --auth corral:replica-s3cret get "$T_NS/workers/$1")" == nonode ]]
}

# A new leader binds the identities afresh; a worker restarted under the same id comes back
# with a new identity of its own, and its folder follows it (the old one is shut out).
failover_and_restart()
{
    local old_acl new_acl old_hash new_hash t ids=() w1_ran=0
    corrald_start r2 --zk-auth-file "$T_DIR/zk-auth" --zk-worker-auth-file "$T_DIR/zk-worker-auth"
    kill9 r1
    wait_for "r2 to lead" 30 leader_is_not r1
    old_acl=$("$TRY" --auth corral:replica-s3cret "$ZK" getacl "$T_NS/workers/w1")
    old_hash=$(grep -o 'digest:w\.w1:[^ ]*' <<<"$old_acl")
    [[ -n "$old_hash" ]] || fail "no own identity in w1's registration: $old_acl"
    kill9 w1
    # The old session must end before the id can be registered again.
    wait_for "w1's old registration to expire" 30 registration_gone w1
    worker_start w1 --zk-auth-file "$T_DIR/zk-worker-auth"
    new_acl=$("$TRY" --auth corral:replica-s3cret "$ZK" getacl "$T_NS/workers/w1")
    new_hash=$(grep -o 'digest:w\.w1:[^ ]*' <<<"$new_acl")
    [[ -n "$new_hash" ]] || fail "no own identity in the restarted w1's registration: $new_acl"
    assert_ne "the restarted worker has a new identity" "$old_hash" "$new_hash"
    for _ in 1 2 3 4 5 6 7 8; do ids+=("$(submit '{"command":["sleep","0.2"]}')"); done
    for t in "${ids[@]}"; do
        wait_state "$t" succeeded 60
        [[ "$(task_json "$t" | jq -r .worker)" != w1 ]] || w1_ran=1
    done
    assert_eq "the restarted w1 runs tasks under the new leader" 1 "$w1_ran"
    new_acl=$("$TRY" --auth corral:replica-s3cret "$ZK" getacl "$T_NS/assign/w1")
    assert_contains "assign/w1 grants the new identity" "$new_hash" "$new_acl"
    assert_not_contains "assign/w1 no longer grants the old one" "$old_hash" "$new_acl"
}
run_case "a leader kill and a worker restart: identities bound afresh" failover_and_restart

# corrald refuses to name the same identity twice, and needs the replicas' own.
bad_flags()
{
    local rc=0
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen 127.0.0.1:0 --id bad \
        --zk-auth-file "$T_DIR/zk-auth" --zk-worker-auth-file "$T_DIR/zk-auth" \
        >"$T_DIR/bad.log" 2>&1 || rc=$?
    assert_eq "same identity for workers and replicas: exit 2" 2 "$rc"
    assert_contains "the refusal says why" "must differ" "$(cat "$T_DIR/bad.log")"
    rc=0
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen 127.0.0.1:0 --id bad \
        --zk-worker-auth-file "$T_DIR/zk-worker-auth" >"$T_DIR/bad2.log" 2>&1 || rc=$?
    assert_eq "worker identity without the replicas' own: exit 2" 2 "$rc"
    printf 'corral:another-password\n' >"$T_DIR/zk-same-user"
    chmod 600 "$T_DIR/zk-same-user"
    rc=0
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen 127.0.0.1:0 --id bad \
        --zk-auth-file "$T_DIR/zk-auth" --zk-worker-auth-file "$T_DIR/zk-same-user" \
        >"$T_DIR/bad3.log" 2>&1 || rc=$?
    assert_eq "the replicas' user with another password: exit 2" 2 "$rc"
}
run_case "bad identity flags are refused" bad_flags


log "separate worker identities: each refusal holds, tasks run"
pass
