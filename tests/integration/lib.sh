# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the sourcing test scripts
# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests; sourced by every tests/integration/t_<scenario>.sh
# (and, with LIB_MODE=bench, by bench/failover).
#
# Each test gets its own temp dir, its own ZooKeeper (standalone, tickTime 200 ms, free loopback
# port), its own namespace /corral-test-<pid>, and the real binaries of $CORRAL_BUILD_DIR.
# Every process is recorded by PID and stopped by PID on exit (never by name); every wait has a
# deadline; on failure the last 50 lines of every log are printed.
#
# Main entry points:
#   run_case NAME FUNC [ARGS]     one named case, isolated in a subshell: a failure prints
#                                 FAIL case "NAME": <message> and the script goes on
#   case_begin NAME / case_end    one named case in the script's own shell (what it sets stays
#                                 for later cases); a failure stops the script
#   zk_start                      ZooKeeper; sets ZK=127.0.0.1:PORT
#   corrald_start NAME [args]     a replica named NAME (its --id); URL_OF[NAME]; waits for /readyz
#   worker_start NAME [args]      a worker named NAME; waits until the replicas list it
#                                 (adds --allow-root as root unless --run-as/--allow-root given)
#   stop_pid NAME|PID [secs]      SIGTERM, wait with deadline, then SIGKILL
#   kill9 NAME|PID                SIGKILL and reap
#   stop_all [secs]               stop every process started so far (the EXIT trap does it)
#   at_exit FUNC                  run FUNC on exit, before the processes are stopped
#   wait_for DESC SECS CMD...     poll CMD until it succeeds, fail with DESC at the deadline
#   poll_until SECS CMD...        the same, but return 1 at the deadline
#   api METHOD PATH [JSON|@FILE]  request to $API_URL (default: first live replica);
#                                 sets API_STATUS and API_BODY
#   api_at URL METHOD PATH [...]  same against URL
#   submit JSON [URL]             POST /v1/tasks, expects 201, prints the id
#   task_state ID, task_json ID, wait_state ID STATE SECS, wait_final ID SECS
#   leader_json, leader_id, leader_url, leader_is_not ID (a leader other than ID is named)
#   ms_of TIME                    epoch milliseconds of an RFC 3339 time
#   assert_eq / assert_ne / assert_match / assert_contains / assert_jq / assert_status /
#   assert_error_body / fail / pass
#
# LIB_MODE=bench (set before sourcing; bench/failover): no errexit, no binary check, no traps
# (the caller installs its own EXIT trap and calls stop_all from it, so nothing runs twice),
# messages to fd $LIB_LOG_FD (default 2), and fail exits with status $LIB_FAIL_STATUS (3)
# after an "ERROR: <message>" line.

LIB_MODE=${LIB_MODE:-test}
if [[ "$LIB_MODE" == bench ]]; then
    set -uo pipefail
    LIB_FAIL_STATUS=${LIB_FAIL_STATUS:-3}
else
    # errtrace: the ERR trap (on_err) also fires in functions and case subshells.
    set -eEuo pipefail
    LIB_FAIL_STATUS=1
fi
LIB_LOG_FD=${LIB_LOG_FD:-2}

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
CASE_NAME=            # the case running now ("" outside any case)
CASE_T0=
CASES_PASSED=()
CASES_FAILED=()

if [[ "$LIB_MODE" != bench ]]; then
    for bin in "$CORRALD" "$WORKER" "$CLI"; do
        if [[ ! -x "$bin" ]]; then
            echo "$T_NAME: missing binary $bin (build first: scripts/build)" >&2
            exit 1
        fi
    done
    T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/corral-it-${T_NAME}.XXXXXX")
else
    T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/corral-bench-${T_NAME}.XXXXXX")
fi
FAIL_MARK=$T_DIR/.fail-reported # exists once a FAIL line was printed (in this case)

# ---------------------------------------------------------------------------------------------
# Output and assertions

log()
{
    printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$*" >&"$LIB_LOG_FD"
}

# report_fail MESSAGE: the FAIL line, naming the case that runs (if any); remembers that a
# failure was reported so that on_err does not report it a second time.
report_fail()
{
    local what=FAIL
    [[ "$LIB_MODE" == bench ]] && what=ERROR
    if [[ -n "${CASE_NAME:-}" ]]; then
        printf '[%s %s] %s case "%s": %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$what" "$CASE_NAME" "$*" \
            >&"$LIB_LOG_FD"
    else
        printf '[%s %s] %s: %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$what" "$*" >&"$LIB_LOG_FD"
    fi
    : >"$FAIL_MARK" 2>/dev/null || true
}

fail()
{
    report_fail "$*"
    exit "$LIB_FAIL_STATUS"
}

# pass: the end of a test: exit 0, or 1 when a case failed (the EXIT trap prints the summary of
# the cases).
pass()
{
    [[ -z "${CASE_NAME:-}" ]] || fail "case \"$CASE_NAME\" has no case_end"
    if ((${#CASES_FAILED[@]} > 0)); then
        log "FAILED: ${#CASES_FAILED[@]} case(s) failed"
        exit 1
    fi
    log "PASS"
    exit 0
}

# now_ms: wall-clock milliseconds, without a fork of date.
now_ms()
{
    local t=$EPOCHREALTIME # seconds.microseconds (the separator follows the locale)
    echo $((10#${t//[!0-9]/} / 1000))
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

# poll_until TIMEOUT_S CMD...: run CMD every $POLL_S (0.15) s until it succeeds (return 0);
# return 1 at the deadline.
poll_until()
{
    local timeout_s=$1
    shift
    local deadline=$(($(now_ms) + timeout_s * 1000)) i
    for ((i = 0; i < timeout_s * 20 + 20; i++)); do
        if "$@"; then
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            break
        fi
        sleep "${POLL_S:-0.15}"
    done
    return 1
}

# wait_for DESC TIMEOUT_S CMD...: poll_until CMD succeeds; fail with DESC after TIMEOUT_S.
wait_for()
{
    local desc=$1 timeout_s=$2
    shift 2
    poll_until "$timeout_s" "$@" || fail "timed out after ${timeout_s}s waiting for: $desc"
}

# ---------------------------------------------------------------------------------------------
# Named cases
#
# Every behaviour a script checks is one named case, so that a failure says what broke:
#
#   run_case NAME FUNC [ARGS...]
#       FUNC runs in a subshell with errexit. A failure in it (fail, a failed assertion, or any
#       command that fails) prints FAIL case "NAME": <message>, the case counts as failed, and
#       the script goes on with the next case. For behaviours that are independent of each
#       other (their own tasks, their own checks): variables FUNC sets are lost when it ends;
#       processes it starts are still stopped on exit.
#   case_begin NAME ... case_end
#       the lines between run in the script's own shell, so the ids, variables and processes
#       they set stay for the cases after it. A failure stops the script there: the cases
#       after it depend on its state, so they are not run.
#
# At exit (the EXIT trap) the script prints one line
#   cases: 5 passed, 1 failed: "cancel of a running task"
# and exits non-zero when a case failed, even if the script went on to `pass`.

case_start()
{
    [[ -z "$CASE_NAME" ]] || fail "case \"$1\" begins inside case \"$CASE_NAME\" (no case_end)"
    CASE_NAME=$1
    CASE_T0=$(now_ms)
    rm -f "$FAIL_MARK"
    log "--- case \"$CASE_NAME\""
}

case_done()
{
    local rc=$1 name=$CASE_NAME
    if ((rc == 0)); then
        CASES_PASSED+=("$name")
        log "case \"$name\" passed ($(($(now_ms) - CASE_T0)) ms)"
    else
        [[ -e "$FAIL_MARK" ]] || report_fail "ended with exit status $rc"
        CASES_FAILED+=("$name")
    fi
    CASE_NAME=
    rm -f "$FAIL_MARK"
}

# case_begin NAME: a case in the script's own shell, until case_end; a failure stops the script.
case_begin()
{
    case_start "$1"
}

case_end()
{
    [[ -n "$CASE_NAME" ]] || fail "case_end without case_begin"
    case_done 0
}

# run_case NAME FUNC [ARGS...]: FUNC ARGS as the case NAME, in a subshell; the script goes on
# whether it passes or fails. Call it as a plain command (not after `if`, `&&` or `||`, which
# would switch errexit off inside FUNC).
run_case()
{
    local name=$1 rc errexit=0
    shift
    case_start "$name"
    [[ "$-" == *e* ]] && errexit=1
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    ((errexit == 0)) || set -e
    case_done "$rc"
}

# on_err STATUS (the ERR trap): a command failed under errexit. Reports it as the failure when
# no FAIL line was printed yet, else only says where the script stopped.
on_err()
{
    local rc=$1 where="" i
    [[ "$-" == *e* ]] || return 0
    # file:line of the failed command, then of its callers (run_case's own frame left out).
    for ((i = 1; i < ${#BASH_SOURCE[@]} && i <= 5; i++)); do
        [[ "${FUNCNAME[i]}" == run_case ]] && continue
        where+="${where:+ < }${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
    done
    if [[ -e "$FAIL_MARK" ]]; then
        log "stopped at $where (status $rc): $BASH_COMMAND"
    else
        report_fail "command failed with status $rc at $where: $BASH_COMMAND"
    fi
}

# case_summary RC STOPPED_IN: the "cases: ..." line (nothing when the script declared no case).
case_summary()
{
    local rc=$1 stopped_in=$2 line n
    ((${#CASES_PASSED[@]} + ${#CASES_FAILED[@]} > 0)) || return 0
    line="cases: ${#CASES_PASSED[@]} passed, ${#CASES_FAILED[@]} failed"
    if ((${#CASES_FAILED[@]} > 0)); then
        line+=":"
        for n in "${CASES_FAILED[@]}"; do line+=" \"$n\","; done
        line=${line%,}
    fi
    if [[ -n "$stopped_in" ]]; then
        line+="; stopped in \"$stopped_in\" (the cases after it depend on its state)"
    elif ((rc != 0 && ${#CASES_FAILED[@]} == 0)); then
        line+="; stopped by a failure outside any case"
    fi
    printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$line" >&"$LIB_LOG_FD"
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
    # Started inside a case's subshell: the script's shell must still stop it on exit.
    if [[ "$BASHPID" != "$$" ]]; then
        printf '%s %s %s\n' "$pid" "$kind" "$name" >>"$T_DIR/.subshell-procs"
    fi
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
    echo "$out" >>"$T_DIR/.markers" # also when made in a case's subshell
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
    ZK=127.0.0.1:$ZK_PORT
    zk_launch
}

# zk_launch: start the ZooKeeper that zk_start configured (again, after stop_pid zk: the same
# port and data) and wait until it answers.
zk_launch()
{
    java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$(zk_classpath)" org.apache.zookeeper.server.ZooKeeperServerMain \
        "$T_DIR/zk/zoo.cfg" >>"$T_DIR/zk.log" 2>&1 &
    proc_record zk $! zk
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

# worker_root_flags [args...]: prints --allow-root when this shell runs as root and the args
# give neither --run-as nor --allow-root (a root worker refuses to run tasks as root otherwise).
worker_root_flags()
{
    [[ "$(id -u)" == 0 ]] || return 0
    has_flag --run-as "$@" || has_flag --allow-root "$@" || echo --allow-root
}

# worker_start NAME [args...]: worker --id NAME; defaults --slots 2 --drain-timeout 2 and a work
# dir in $T_DIR unless given, and --allow-root when running as root without --run-as. Waits
# until a live replica lists it (when a replica runs).
worker_start()
{
    local name=$1
    shift
    local extra=() rf
    rf=$(worker_root_flags "$@")
    [[ -z "$rf" ]] || extra+=("$rf")
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
    # Files of this process only: api_at may run in background jobs at the same time.
    local body=$T_DIR/.api_body.$BASHPID req=$T_DIR/.api_req.$BASHPID
    local args=(-sS -o "$body" -w '%{http_code}' -X "$method" --max-time
        "${API_MAX_TIME:-75}" -H 'Accept: application/json')
    if (($# > 0)); then
        local data=$1
        shift
        if [[ "$data" == @* ]]; then
            args+=(-H 'Content-Type: application/json' --data-binary "$data")
        else
            printf '%s' "$data" >"$req"
            args+=(-H 'Content-Type: application/json' --data-binary "@$req")
        fi
    fi
    args+=("$@")
    rm -f "$body"
    API_STATUS=$(curl "${args[@]}" "$url$path" 2>/dev/null) || true
    [[ -n "$API_STATUS" ]] || API_STATUS=000
    API_BODY=$(cat "$body" 2>/dev/null || true)
    rm -f "$body" "$req"
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

# leader_is_not ID: some replica names a leader, and it is not ID (a new one after a kill).
leader_is_not()
{
    local id
    id=$(leader_id 2>/dev/null) || return 1
    [[ -n "$id" && "$id" != "$1" ]]
}

# ms_of TIME: epoch milliseconds of an RFC 3339 time ("2026-12-06T20:30:00.123Z").
ms_of()
{
    date -u -d "$1" +%s%3N
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

# stop_all [TIMEOUT_S]: stop every process this script started (also those started in a case's
# subshell) by PID: a test's own helpers, then workers (so they return or kill their tasks),
# then replicas, ZooKeeper last; then kill leftover task processes carrying our markers and release the ports.
stop_all()
{
    local secs=${1:-5} kind i pid k name m p
    local -a all=()
    local -A stopped=()
    for name in "${PROC_ORDER[@]}"; do
        all+=("${PID_OF[$name]} ${KIND_OF[$name]} $name")
    done
    if [[ -f "$T_DIR/.subshell-procs" ]]; then
        mapfile -t -O "${#all[@]}" all <"$T_DIR/.subshell-procs"
    fi
    # Helpers of a test (an HTTP echo server, ...) first: every other kind ("other").
    for kind in other worker corrald zk; do
        for ((i = ${#all[@]} - 1; i >= 0; i--)); do
            read -r pid k name <<<"${all[$i]}"
            case "$k" in worker | corrald | zk) ;; *) k=other ;; esac
            [[ "$k" == "$kind" && -z "${stopped[$pid]:-}" ]] || continue
            stopped[$pid]=1
            if pid_alive "$pid"; then
                stop_pid "$pid" "$secs" 2>/dev/null
            else
                reap "$pid"
            fi
        done
    done
    # Task processes a killed worker may have left behind: only those carrying our markers.
    if [[ -f "$T_DIR/.markers" ]]; then
        mapfile -t -O "${#MARKERS[@]}" MARKERS <"$T_DIR/.markers"
    fi
    for m in $(printf '%s\n' "${MARKERS[@]}" | sort -u); do
        for p in $(pids_with "$m"); do
            log "killing leftover task process $p (marker $m)"
            kill -KILL "$p" 2>/dev/null
        done
    done
    release_ports
}

# at_exit FUNC: run FUNC first thing on exit (errexit off), before the processes are stopped;
# e.g. to undo a network change or resume a stopped process. Use it rather than a trap of the
# script's own: lib.sh's EXIT trap must stay in place.
EXIT_HOOKS=()
at_exit()
{
    EXIT_HOOKS+=("$1")
}

cleanup()
{
    local rc=$?
    set +e
    trap - EXIT
    local hook
    for hook in "${EXIT_HOOKS[@]}"; do
        "$hook"
    done
    # A case still open here was stopped by a failure (or a signal).
    local stopped_in=$CASE_NAME
    if [[ -n "$stopped_in" ]]; then
        CASES_FAILED+=("$stopped_in")
        CASE_NAME=
    fi
    ((rc != 0 || ${#CASES_FAILED[@]} == 0)) || rc=1
    stop_all 5
    if ((rc != 0)); then
        dump_logs
        rm -rf "$T_DIR/zk/data"
        log "FAILED (exit $rc); logs kept in $T_DIR"
    else
        rm -rf "$T_DIR"
    fi
    case_summary "$rc" "$stopped_in"
    exit "$rc"
}

if [[ "$LIB_MODE" != bench ]]; then
    # No process this test starts may inherit a descriptor of its caller (such as the lock of
    # `flock /tmp/corral-test.lock ...`, fd 3): one that outlived the test would hold the lock.
    exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'on_err $?' ERR
    log "temp dir $T_DIR, namespace $T_NS, binaries in $CORRAL_BUILD_DIR"
fi
