#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for and run_case
# SPDX-License-Identifier: MIT
# Hostile ZooKeeper data (issue 9 point 4; CONTRACT "a znode that corral did not write as it
# expects ... is ignored and logged, never fatal"). Znodes written from outside with
# corral-zk-touch, as an operator, a bug or an attacker with write access might:
#   (b) a persistent election child with a sequence below the replicas' (and an odd name);
#   (a) worker registrations with a 480-character id and with garbage JSON, and an assignment
#       folder with a ~460-character worker name holding an assignment;
#   (c) a persistent workers/<id> squat for the id a real worker then tries to use;
#   (d) assignments under a real worker's folder with garbage content and an invalid task id;
#   (e) a task znode of garbage JSON with its queue entry, and an odd queue entry name.
# The cluster must still elect a leader (also after the leader is killed), run normal tasks to
# succeeded on the real worker, keep every replica and the real worker alive, and log each
# skipped znode once.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ZK_TOUCH=$CORRAL_BUILD_DIR/corral-zk-touch
[[ -x "$ZK_TOUCH" ]] || fail "missing $ZK_TOUCH (build first)"

touch_node()
{
    "$ZK_TOUCH" "$@" || fail "corral-zk-touch $* failed"
}

# bucket ID: the two hex digits of corral_path_bucket (FNV-1a 32 bit, mod 256).
bucket()
{
    local s=$1 h=2166136261 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$(((h ^ c) * 16777619 & 0xffffffff))
    done
    printf '%02x' $((h % 256))
}

# count_in LOG TEXT: lines of LOG containing TEXT.
count_in()
{
    grep -cF -- "$2" "$T_DIR/$1.log" || true
}

# hold_node NAME DATA PATH: an ephemeral PATH with DATA, kept by a background corral-zk-touch
# --hold (a rogue client; stopped by PID with the rest).
hold_node()
{
    local name=$1 data=$2 path=$3
    "$ZK_TOUCH" --data "$data" --hold 600 "$ZK" "$path" >"$T_DIR/$name.out" 2>&1 &
    proc_record "$name" $! other
    wait_for "$name to hold $path" 10 grep -qx created "$T_DIR/$name.out"
}

logged()
{
    local name=$1 text=$2
    [[ "$(count_in "$name" "$text")" -ge 1 ]]
}

zk_start

# The namespace's first folders by hand, so that the squatter is there before any replica.
touch_node "$ZK" "$T_NS"
touch_node "$ZK" "$T_NS/election"
SQUAT_EL=n_00000000000000000000000000000000-0000000000
touch_node --data '{"id":"squatter","url":"http://127.0.0.1:1"}' "$ZK" "$T_NS/election/$SQUAT_EL"
touch_node "$ZK" "$T_NS/election/not-a-replica"

corrald_start r1
corrald_start r2

case_begin "(b) a persistent election child below the replicas does not block the election"
wait_for "a leader despite the squatter" 30 has_leader
L1=$(leader_json)
assert_jq "a real replica leads" '.id == "r1" or .id == "r2"' "$L1"
E1=$(jb .epoch "$L1")
assert_jq "its epoch is above the squatter's" '.epoch > 1' "$L1"
wait_for "the squatter logged" 10 logged "$(jb .id "$L1")" "ignoring persistent election child"
wait_for "the odd election name logged" 10 logged "$(jb .id "$L1")" \
    "ignoring election child with an odd name"
case_end

LONG_ID=$(printf 'a%.0s' $(seq 1 480))
case_begin "(a) a 480-character worker id and a garbage registration are skipped"
touch_node --data "{\"id\":\"$LONG_ID\",\"slots\":4,\"cpu\":1,\"mem_mb\":64,\"reg\":\"ab\"}" \
    "$ZK" "$T_NS/workers/$LONG_ID"
touch_node --data '{"slots": [garbage' "$ZK" "$T_NS/workers/w-garbage"
# The same from a live session (ephemeral, as a registration is): a rogue client.
EPH_LONG=$(printf 'c%.0s' $(seq 1 480))
hold_node rogue-long "{\"id\":\"$EPH_LONG\",\"slots\":4,\"cpu\":1,\"mem_mb\":64,\"reg\":\"ab\"}" \
    "$T_NS/workers/$EPH_LONG"
hold_node rogue-garbage '{"slots": [garbage' "$T_NS/workers/w-rogue"
hold_node rogue-noreg '{"id":"w-noreg","slots":4,"cpu":1,"mem_mb":64}' "$T_NS/workers/w-noreg"
# An assignment folder of a ~460-character worker name with an assignment in it, sized so that
# the assignment's path still fits corral's 512-byte paths.
long_dir=$T_NS/assign/
dir_len=$((511 - ${#long_dir} - 22))
ASSIGN_LONG=$(printf 'b%.0s' $(seq 1 "$dir_len"))
touch_node "$ZK" "$T_NS/assign"
# Folder and assignment in one multi: the leader removes an empty folder of a gone worker as soon
# as its watch on assign/ fires.
touch_node --parent --data '{"task":"019a1b2c3d4e-9f8e7d6c","reg":"ab","attempt":1,"epoch":1}' \
    "$ZK" "$T_NS/assign/$ASSIGN_LONG/019a1b2c3d4e-9f8e7d6c"
api GET /v1/workers
assert_status "workers listing" 200
assert_jq "no hostile worker listed" \
    '[.workers[].id] | all(. != "w-garbage" and . != "w-rogue" and . != "w-noreg" and (length < 129))' \
    "$API_BODY"
case_end

case_begin "(c) a persistent workers/<id> squat: not a live worker; the worker using that id gives up"
touch_node --data '{"id":"w-squat","slots":4,"cpu":4,"mem_mb":4096,"reg":"00ff"}' \
    "$ZK" "$T_NS/workers/w-squat"
mkdir -p "$T_DIR/work-w-squat"
read -r -a ROOT_FLAGS <<<"$(worker_root_flags)"
"$WORKER" --zk "$ZK" --namespace "$T_NS" --id w-squat --session-timeout "$SESSION_MS" \
    --log-level "$LOG_LEVEL" --slots 2 --work-dir "$T_DIR/work-w-squat" "${ROOT_FLAGS[@]}" \
    >>"$T_DIR/w-squat.log" 2>&1 &
proc_record w-squat $! worker
worker_start w1 --slots 2
api GET /v1/workers
assert_jq "the squatted id is not a live worker" '[.workers[].id] == ["w1"]' "$API_BODY"
squat_gone()
{
    ! proc_alive w-squat
}
wait_for "the worker whose id is squatted to give up" 40 squat_gone
stop_pid w-squat 1
assert_eq "its exit status" 1 "$STOP_STATUS"
assert_contains "its log" "is held by a persistent znode $T_NS/workers/w-squat (not a live worker; delete it to free the id)" "$(cat "$T_DIR/w-squat.log")"
case_end

case_begin "(d) garbage assignments under a real worker's folder are dropped"
touch_node --data 'not json at all' "$ZK" "$T_NS/assign/w1/019a1b2c3d4e-00000001"
touch_node --data '{"task":"../../x","reg":"zz"}' "$ZK" "$T_NS/assign/w1/not-a-task-id"
dropped()
{
    local ls
    ls=$("$CORRAL_BUILD_DIR/corral-zk-ls" "$ZK" "$T_NS/assign/w1" 2>/dev/null || true)
    [[ "$ls" != *019a1b2c3d4e-00000001* && "$ls" != *not-a-task-id* ]]
}
wait_for "the leader to drop both" 20 dropped
case_end

GARBAGE_ID=019a00000000-0badf00d
case_begin "(e) a garbage task znode in the queue and an odd queue entry are skipped"
b=$(bucket "$GARBAGE_ID")
touch_node --data '{"id":"019a00000000-0badf00d","state":' "$ZK" "$T_NS/tasks/$b/$GARBAGE_ID"
touch_node "$ZK" "$T_NS/queue/$b/$GARBAGE_ID"
touch_node "$ZK" "$T_NS/queue/$b/zz..not.an.entry"
case_end

run_normal_tasks()
{
    local ids=() i id
    for i in 1 2 3; do
        ids+=("$(submit "{\"command\":[\"echo\",\"normal-$i\"]}")")
    done
    for id in "${ids[@]}"; do
        wait_final "$id" 60
        assert_eq "task $id" succeeded "$(jb .state "$TASK")"
        assert_eq "task $id ran on" w1 "$(jb .worker "$TASK")"
    done
}
run_case "normal tasks still run to succeeded on the real worker" run_normal_tasks

everyone_alive()
{
    local p
    for p in r1 r2 w1; do
        proc_alive "$p" || fail "$p died; see $T_DIR/$p.log"
    done
    has_leader || fail "no leader"
}
run_case "replicas and the real worker are alive, a leader is named" everyone_alive

leader_logs()
{
    local l
    l=$(leader_id)
    logged "$l" "ignoring worker znode with an invalid name" || fail "480-char id not logged"
    logged "$l" "ignoring persistent worker znode" || fail "persistent registration not logged"
    logged "$l" "ignoring worker znode with an invalid name name=cccccccc" ||
        fail "ephemeral 480-char id not logged"
    logged "$l" "ignoring malformed worker znode worker=w-rogue" ||
        fail "ephemeral garbage registration not logged"
    logged "$l" "ignoring malformed worker znode worker=w-noreg: reg" ||
        fail "registration without reg not logged"
    logged "$l" "ignoring persistent worker znode (not a live registration; delete it to free the id) worker=w-squat" ||
        fail "w-squat squat not logged"
    logged "$l" "malformed assignment path=$T_NS/assign/w1/019a1b2c3d4e-00000001" ||
        fail "garbage assignment not logged"
    logged "$l" "corrupt task znode path=$T_NS/tasks/$b/$GARBAGE_ID" ||
        fail "garbage task not logged"
    logged "$l" "ignoring odd queue entry name=zz..not.an.entry" || fail "odd queue name not logged"
    logged w1 "ignoring odd assignment name=not-a-task-id" || fail "worker: odd name not logged"
}
run_case "the logs name each skipped znode" leader_logs

once_each()
{
    local r n
    sleep 3 # a few more rounds of the leader
    for r in r1 r2; do
        for text in "corrupt task znode path=$T_NS/tasks/$b/$GARBAGE_ID" \
            "ignoring persistent election child" \
            "ignoring worker znode with an invalid name name=aaaaaaaa" \
            "ignoring worker znode with an invalid name name=cccccccc" \
            "ignoring odd queue entry name=zz..not.an.entry" \
            "ignoring malformed worker znode worker=w-rogue"; do
            n=$(count_in "$r" "$text")
            ((n <= 1)) || fail "$r logged '$text' $n times"
        done
    done
}
run_case "each skipped znode is logged at most once per replica" once_each

case_begin "kill -9 of the leader: the other replica leads despite the squatter"
OLD=$(leader_id)
kill9 "$OLD"
new_leader()
{
    local j
    j=$(leader_json 2>/dev/null) || return 1
    jq -e --arg old "$OLD" --argjson e "$E1" '.id != $old and .epoch > $e' >/dev/null 2>&1 <<<"$j"
}
wait_for "a new leader" 30 new_leader
id=$(submit '{"command":["echo","after-failover"]}')
wait_final "$id" 60
assert_eq "task after failover" succeeded "$(jb .state "$TASK")"
case_end

pass
