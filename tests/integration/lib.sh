# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the sourcing test scripts
# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests; sourced by every tests/integration/t_<scenario>.sh.
#
# Each test gets its own temp dir, its own ZooKeeper (standalone, tickTime 200 ms, free loopback
# port), its own namespace /corral-test-<pid>, and the real binaries of $CORRAL_BUILD_DIR.
# Every process is recorded by PID and stopped by PID on exit (never by name); every wait has a
# deadline; on failure the last 50 lines of every log are printed.
#
# Main entry points:
#   zk_start                      ZooKeeper; sets ZK=127.0.0.1:PORT
#   corrald_start NAME [args]     a replica named NAME (its --id); URL_OF[NAME]; waits for /readyz
#   worker_start NAME [args]      a worker named NAME; waits until the replicas list it
#   stop_pid NAME|PID [secs]      SIGTERM, wait with deadline, then SIGKILL
#   kill9 NAME|PID                SIGKILL and reap
#   wait_for DESC SECS CMD...     poll CMD until it succeeds, fail with DESC at the deadline
#   api METHOD PATH [JSON|@FILE]  request to $API_URL (default: first live replica);
#                                 sets API_STATUS and API_BODY
#   api_at URL METHOD PATH [...]  same against URL
#   submit JSON [URL]             POST /v1/tasks, expects 201, prints the id
#   task_state ID, task_json ID, wait_state ID STATE SECS, wait_final ID SECS
#   leader_json, leader_id, leader_url
#   assert_eq / assert_ne / assert_match / assert_contains / assert_jq / assert_status /
#   assert_error_body / fail / pass

set -euo pipefail

T_NAME=$(basename "$0" .sh)
CORRAL_SRC_DIR=${CORRAL_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CORRAL_BUILD_DIR=${CORRAL_BUILD_DIR:-$CORRAL_SRC_DIR/build}
CORRALD=$CORRAL_BUILD_DIR/corrald
WORKER=$CORRAL_BUILD_DIR/corral-worker
CLI=$CORRAL_BUILD_DIR/corral
SESSION_MS=${CORRAL_IT_SESSION_MS:-2000}
LOG_LEVEL=${CORRAL_IT_LOG_LEVEL:-info}

T_NS=/corral-test-$$
PORT_LOCK_DIR=${TMPDIR:-/tmp}/corral-it-ports
ZK=
ZK_PORT=
API_STATUS=
API_BODY=
API_URL=

declare -A PID_OF=()  # name -> pid
declare -A URL_OF=()  # replica name -> http://127.0.0.1:PORT
declare -A KIND_OF=() # name -> zk | corrald | worker
PROC_ORDER=()         # names in start order
REPLICAS=()           # replica names in start order
MARKERS=()            # unique strings in task command lines, swept on exit

for bin in "$CORRALD" "$WORKER" "$CLI"; do
    if [[ ! -x "$bin" ]]; then
        echo "$T_NAME: missing binary $bin (build first: scripts/build)" >&2
        exit 1
    fi
done

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/corral-it-${T_NAME}.XXXXXX")

# ---------------------------------------------------------------------------------------------
# Output and assertions

log()
{
    printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$*" >&2
}

fail()
{
    printf '[%s %s] FAIL: %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$*" >&2
    exit 1
}

pass()
{
    log "PASS"
    exit 0
}

now_ms()
{
    date +%s%3N
}

assert_eq()
{
    local desc=$1 expected=$2 actual=$3
    [[ "$expected" == "$actual" ]] || fail "$desc: expected '$expected', got '$actual'"
}

assert_ne()
{
    local desc=$1 unexpected=$2 actual=$3
    [[ "$unexpected" != "$actual" ]] || fail "$desc: did not expect '$actual'"
}

assert_match()
{
    local desc=$1 regex=$2 actual=$3
    [[ "$actual" =~ $regex ]] || fail "$desc: '$actual' does not match /$regex/"
}

assert_contains()
{
    local desc=$1 needle=$2 haystack=$3
    [[ "$haystack" == *"$needle"* ]] || fail "$desc: '$needle' not found in: ${haystack:0:2000}"
}

assert_not_contains()
{
    local desc=$1 needle=$2 haystack=$3
    [[ "$haystack" != *"$needle"* ]] || fail "$desc: '$needle' unexpectedly in: ${haystack:0:2000}"
}

# assert_jq DESC FILTER [JSON]: jq -e FILTER must be true on JSON (default $API_BODY).
assert_jq()
{
    local desc=$1 filter=$2 json=${3-$API_BODY}
    if ! jq -e "$filter" >/dev/null 2>&1 <<<"$json"; then
        fail "$desc: jq '$filter' is not true on: ${json:0:2000}"
    fi
}

# jb FILTER [JSON]: jq -r FILTER on JSON (default $API_BODY).
jb()
{
    local filter=$1 json=${2-$API_BODY}
    jq -r "$filter" <<<"$json"
}

assert_status()
{
    local desc=$1 expected=$2
    [[ "$API_STATUS" == "$expected" ]] ||
        fail "$desc: expected HTTP $expected, got $API_STATUS; body: ${API_BODY:0:2000}"
}

# The contract's error shape: {"error": "<code>", "message": "<sentence>"}.
assert_error_body()
{
    local desc=$1
    if ! jq -e '(type == "object") and (.error | type == "string" and length > 0)
                and (.message | type == "string" and length > 0)' >/dev/null 2>&1 <<<"$API_BODY"; then
        fail "$desc: HTTP $API_STATUS body is not {\"error\",\"message\"}: ${API_BODY:0:2000}"
    fi
}

# wait_for DESC TIMEOUT_S CMD...: run CMD every 0.15 s until it succeeds; fail after TIMEOUT_S.
wait_for()
{
    local desc=$1 timeout_s=$2
    shift 2
    local deadline=$(($(now_ms) + timeout_s * 1000)) i
    for ((i = 0; i < timeout_s * 20 + 20; i++)); do
        if "$@"; then
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            break
        fi
        sleep 0.15
    done
    fail "timed out after ${timeout_s}s waiting for: $desc"
}

# ---------------------------------------------------------------------------------------------
# Ports

port_in_use()
{
    local p=$1
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        return 0
    fi
    if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]]; then
        return 0
    fi
    return 1
}

# free_port: print a free loopback TCP port in 20000-31999 (below Linux's ephemeral range),
# reserved for this test with a lock directory so parallel tests never pick the same one.
free_port()
{
    mkdir -p "$PORT_LOCK_DIR"
    local i p owner
    for ((i = 0; i < 300; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        if ! mkdir "$PORT_LOCK_DIR/$p" 2>/dev/null; then
            # Reclaim a reservation whose owner is gone.
            owner=$(cat "$PORT_LOCK_DIR/$p/owner" 2>/dev/null || true)
            if [[ -n "$owner" ]] && ! kill -0 "$owner" 2>/dev/null; then
                rm -rf "${PORT_LOCK_DIR:?}/$p"
            fi
            continue
        fi
        echo "$$" >"$PORT_LOCK_DIR/$p/owner"
        if port_in_use "$p"; then
            rm -rf "${PORT_LOCK_DIR:?}/$p"
            continue
        fi
        echo "$p"
        return 0
    done
    fail "no free port found"
}

release_ports()
{
    local d
    for d in "$PORT_LOCK_DIR"/*/; do
        [[ -f "$d/owner" ]] || continue
        if [[ "$(cat "$d/owner" 2>/dev/null)" == "$$" ]]; then
            rm -rf "$d"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# Processes (all started by this shell, recorded by PID, stopped by PID)

pid_of()
{
    local x=$1
    if [[ -n "${PID_OF[$x]:-}" ]]; then
        echo "${PID_OF[$x]}"
    else
        echo "$x"
    fi
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive()
{
    local pid=$1 state
    [[ -r "/proc/$pid/stat" ]] || return 1
    state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo X)
    [[ "$state" != Z && "$state" != X ]]
}

proc_alive()
{
    pid_alive "$(pid_of "$1")"
}

proc_record()
{
    local name=$1 pid=$2 kind=$3
    PID_OF[$name]=$pid
    KIND_OF[$name]=$kind
    PROC_ORDER+=("$name")
    log "started $kind $name pid=$pid"
}

# stop_pid NAME|PID [TIMEOUT_S]: SIGTERM, wait up to TIMEOUT_S (default 10), then SIGKILL.
# Sets STOP_STATUS to the exit status (for children of this shell) or "".
STOP_STATUS=
stop_pid()
{
    local pid i deadline
    pid=$(pid_of "$1")
    local timeout_s=${2:-10}
    STOP_STATUS=
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$(($(now_ms) + timeout_s * 1000))
        for ((i = 0; i < timeout_s * 20 + 20; i++)); do
            pid_alive "$pid" || break
            (($(now_ms) < deadline)) || break
            sleep 0.1
        done
        if pid_alive "$pid"; then
            log "pid $pid ($1) ignored SIGTERM for ${timeout_s}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    reap "$pid"
}

# kill9 NAME|PID: SIGKILL and reap.
kill9()
{
    local pid
    pid=$(pid_of "$1")
    log "kill -9 $1 (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    reap "$pid"
}

reap()
{
    local pid=$1 i
    for ((i = 0; i < 100; i++)); do
        pid_alive "$pid" || break
        sleep 0.05
    done
    STOP_STATUS=
    if wait "$pid" 2>/dev/null; then
        STOP_STATUS=0
    else
        STOP_STATUS=$?
    fi
}

# pids_with MARKER: PIDs of live processes whose command line contains MARKER (digits and dots,
# as made by new_marker). One grep over /proc; its pattern writes the dots as [.], so grep never
# finds itself.
pids_with()
{
    local marker=$1 pat f pid
    pat=${marker//./[.]}
    for f in $(grep -l -a -e "$pat" /proc/[0-9]*/cmdline 2>/dev/null || true); do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        if pid_alive "$pid"; then
            echo "$pid"
        fi
    done
}

no_pids_with()
{
    [[ -z "$(pids_with "$1")" ]]
}

some_pids_with()
{
    [[ -n "$(pids_with "$1")" ]]
}

# new_marker VAR: a unique decimal number (usable as an extra `sleep` argument), swept on exit.
new_marker()
{
    local -n out=$1
    out="0.000$$$RANDOM$RANDOM"
    MARKERS+=("$out")
}

# ---------------------------------------------------------------------------------------------
# ZooKeeper

zk_classpath()
{
    local cp=/usr/share/java/zookeeper.jar # its manifest's Class-Path names its dependencies
    [[ -f "$cp" ]] || fail "ZooKeeper not installed ($cp missing): run scripts/bootstrap"
    if [[ -f /usr/share/java/slf4j-simple.jar ]]; then
        cp+=:/usr/share/java/slf4j-simple.jar
    fi
    echo "$cp"
}

zk_4lw()
{
    local cmd=$1 port=${2:-$ZK_PORT}
    # shellcheck disable=SC2016
    printf '%s' "$cmd" | timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; cat >&3; cat <&3' _ "$port" 2>/dev/null || true
}

zk_ready()
{
    proc_alive zk || fail "ZooKeeper exited during startup; see $T_DIR/zk.log"
    [[ "$(zk_4lw ruok)" == imok ]]
}

# zk_start: a standalone ZooKeeper on a free port with tickTime 200 ms (sessions of 0.4-4 s).
zk_start()
{
    ZK_PORT=$(free_port)
    mkdir -p "$T_DIR/zk/data"
    cat >"$T_DIR/zk/zoo.cfg" <<EOF
tickTime=200
initLimit=10
syncLimit=5
dataDir=$T_DIR/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
EOF
    java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$(zk_classpath)" org.apache.zookeeper.server.ZooKeeperServerMain \
        "$T_DIR/zk/zoo.cfg" >"$T_DIR/zk.log" 2>&1 &
    proc_record zk $! zk
    ZK=127.0.0.1:$ZK_PORT
    wait_for "ZooKeeper on port $ZK_PORT to answer ruok" 30 zk_ready
    log "ZooKeeper ready at $ZK"
}

# ---------------------------------------------------------------------------------------------
# corrald and workers

replica_ready()
{
    local name=$1 code
    proc_alive "$name" || fail "corrald $name exited during startup; see $T_DIR/$name.log"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${URL_OF[$name]}/readyz" || true)
    [[ "$code" == 200 ]]
}

# corrald_start NAME [args...]: replica --id NAME on a free port, namespace $T_NS.
corrald_start()
{
    local name=$1
    shift
    local port
    port=$(free_port)
    URL_OF[$name]=http://127.0.0.1:$port
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id "$name" \
        --session-timeout "$SESSION_MS" --log-level "$LOG_LEVEL" "$@" >>"$T_DIR/$name.log" 2>&1 &
    proc_record "$name" $! corrald
    local seen=0 r
    for r in "${REPLICAS[@]}"; do [[ "$r" == "$name" ]] && seen=1; done
    ((seen)) || REPLICAS+=("$name")
    wait_for "corrald $name /readyz 200 at ${URL_OF[$name]}" 20 replica_ready "$name"
    [[ -n "$API_URL" ]] || API_URL=${URL_OF[$name]}
}

# live_urls: URLs of the replicas still running, in start order.
live_urls()
{
    local r
    for r in "${REPLICAS[@]}"; do
        if proc_alive "$r"; then echo "${URL_OF[$r]}"; fi
    done
}

# first_live_url: URL of the first replica still running, or nothing.
first_live_url()
{
    local r
    for r in "${REPLICAS[@]}"; do
        if proc_alive "$r"; then
            echo "${URL_OF[$r]}"
            return 0
        fi
    done
    return 0
}

first_url()
{
    local u
    u=$(first_live_url)
    [[ -n "$u" ]] || fail "no live corrald replica"
    echo "$u"
}

has_flag()
{
    local flag=$1 a
    shift
    for a in "$@"; do
        [[ "$a" == "$flag" || "$a" == "$flag="* ]] && return 0
    done
    return 1
}

worker_listed()
{
    local name=$1 url=$2
    proc_alive "$name" || fail "worker $name exited during startup; see $T_DIR/$name.log"
    api_at "$url" GET /v1/workers
    [[ "$API_STATUS" == 200 ]] && jq -e --arg id "$name" '.workers | any(.id == $id)' \
        >/dev/null 2>&1 <<<"$API_BODY"
}

# worker_start NAME [args...]: worker --id NAME; defaults --slots 2 --drain-timeout 2 and a work
# dir in $T_DIR unless given. Waits until a live replica lists it (when a replica runs).
worker_start()
{
    local name=$1
    shift
    local extra=()
    has_flag --slots "$@" || extra+=(--slots 2)
    has_flag --drain-timeout "$@" || extra+=(--drain-timeout 2)
    has_flag --work-dir "$@" || {
        mkdir -p "$T_DIR/work-$name"
        extra+=(--work-dir "$T_DIR/work-$name")
    }
    "$WORKER" --zk "$ZK" --namespace "$T_NS" --id "$name" --session-timeout "$SESSION_MS" \
        --log-level "$LOG_LEVEL" "${extra[@]}" "$@" >>"$T_DIR/$name.log" 2>&1 &
    proc_record "$name" $! worker
    local url
    url=$(first_live_url)
    if [[ -n "$url" ]]; then
        wait_for "worker $name to be listed in /v1/workers" 20 worker_listed "$name" "$url"
    fi
}

# ---------------------------------------------------------------------------------------------
# REST

# api_at URL METHOD PATH [JSON|@FILE] [curl args...]: sets API_STATUS (000 when unreachable)
# and API_BODY.
api_at()
{
    local url=$1 method=$2 path=$3
    shift 3
    local args=(-sS -o "$T_DIR/.api_body" -w '%{http_code}' -X "$method" --max-time
        "${API_MAX_TIME:-75}" -H 'Accept: application/json')
    if (($# > 0)); then
        local data=$1
        shift
        if [[ "$data" == @* ]]; then
            args+=(-H 'Content-Type: application/json' --data-binary "$data")
        else
            printf '%s' "$data" >"$T_DIR/.api_req"
            args+=(-H 'Content-Type: application/json' --data-binary "@$T_DIR/.api_req")
        fi
    fi
    args+=("$@")
    rm -f "$T_DIR/.api_body"
    API_STATUS=$(curl "${args[@]}" "$url$path" 2>"$T_DIR/.api_err") || true
    [[ -n "$API_STATUS" ]] || API_STATUS=000
    API_BODY=$(cat "$T_DIR/.api_body" 2>/dev/null || true)
}

api()
{
    local url=${API_URL:-} name
    name=$(name_of_url "$url" || true)
    if [[ -z "$name" ]] || ! proc_alive "$name"; then
        url=$(first_url)
    fi
    api_at "$url" "$@"
}

# submit JSON [URL]: POST /v1/tasks, require 201, print the new id.
submit()
{
    local json=$1 url=${2:-}
    if [[ -n "$url" ]]; then api_at "$url" POST /v1/tasks "$json"; else api POST /v1/tasks "$json"; fi
    assert_status "submit $json" 201
    local id
    id=$(jb '.id // empty')
    [[ -n "$id" ]] || fail "submit: no id in ${API_BODY:0:2000}"
    echo "$id"
}

task_json()
{
    api GET "/v1/tasks/$1"
    assert_status "GET task $1" 200
    echo "$API_BODY"
}

task_state()
{
    api GET "/v1/tasks/$1"
    [[ "$API_STATUS" == 200 ]] || {
        echo "http-$API_STATUS"
        return 0
    }
    jb .state
}

is_final()
{
    [[ "$1" == succeeded || "$1" == failed || "$1" == cancelled ]]
}

task_in_state()
{
    local id=$1 want=$2 s
    s=$(task_state "$id")
    [[ "$s" == "$want" ]] && return 0
    if is_final "$s" && [[ "$want" != "$s" ]]; then
        fail "task $id reached final state $s while waiting for $want: $(task_json "$id")"
    fi
    return 1
}

task_is_final()
{
    is_final "$(task_state "$1")"
}

# wait_state ID STATE TIMEOUT_S: wait for STATE; fail at once on another final state.
wait_state()
{
    wait_for "task $1 to be $2" "$3" task_in_state "$1" "$2"
}

# wait_final ID TIMEOUT_S: wait until the task is succeeded, failed or cancelled; sets TASK.
TASK=
wait_final()
{
    wait_for "task $1 to finish" "$2" task_is_final "$1"
    TASK=$(task_json "$1")
}

leader_json()
{
    api GET /v1/leader
    [[ "$API_STATUS" == 200 ]] || return 1
    echo "$API_BODY"
}

leader_id()
{
    local j
    j=$(leader_json) || return 1
    jb '.id // empty' "$j"
}

leader_url()
{
    local j
    j=$(leader_json) || return 1
    jb '.url // empty' "$j"
}

has_leader()
{
    [[ -n "$(leader_id 2>/dev/null || true)" ]]
}

# name_of_url URL: the replica name whose URL is URL.
name_of_url()
{
    local r
    for r in "${!URL_OF[@]}"; do
        [[ "${URL_OF[$r]}" == "$1" ]] && {
            echo "$r"
            return 0
        }
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# Cleanup

dump_logs()
{
    local f
    for f in "$T_DIR"/*.log; do
        [[ -f "$f" ]] || continue
        echo "----- last 50 lines of $f -----" >&2
        tail -n 50 "$f" >&2
    done
}

cleanup()
{
    local rc=$?
    set +e
    trap - EXIT
    local i name
    # Workers first (so they return or kill their tasks), then replicas, ZooKeeper last.
    for kind in worker corrald zk; do
        for ((i = ${#PROC_ORDER[@]} - 1; i >= 0; i--)); do
            name=${PROC_ORDER[$i]}
            [[ "${KIND_OF[$name]}" == "$kind" ]] || continue
            if proc_alive "$name"; then
                stop_pid "$name" 5 2>/dev/null
            else
                reap "${PID_OF[$name]}"
            fi
        done
    done
    # Task processes a killed worker may have left behind: only those carrying our markers.
    local m p
    for m in "${MARKERS[@]}"; do
        for p in $(pids_with "$m"); do
            log "killing leftover task process $p (marker $m)"
            kill -KILL "$p" 2>/dev/null
        done
    done
    release_ports
    if ((rc != 0)); then
        dump_logs
        rm -rf "$T_DIR/zk/data"
        log "FAILED (exit $rc); logs kept in $T_DIR"
    else
        rm -rf "$T_DIR"
    fi
    exit "$rc"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log "temp dir $T_DIR, namespace $T_NS, binaries in $CORRAL_BUILD_DIR"
