# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the sourcing test scripts
# SPDX-License-Identifier: MIT
# Helpers of the fault-injection scenarios (tests/integration/t_fault_*.sh, scripts/soak);
# sourced after lib.sh. docs/testing.md "Fault injection" describes them.
#
#   ens_start [N]                 a ZooKeeper ensemble of N (3) servers zk1..zkN on loopback;
#                                 sets ZK to the connection string of all of them
#   ens_mode I / ens_leader       "leader"/"follower"/"" of server I; index of the ensemble leader
#   ens_kill9 I / ens_stop I / ens_restart I
#   fl_corrald NAME [args]        corrald_start with a session file ($T_DIR/NAME.session) and
#                                 the failpoints in $FL_FP (if any)
#   fl_worker NAME [args]         the same for a worker
#   fl_kill9 NAME / fl_term NAME  kill on purpose (I9 then expects NAME dead until restarted)
#   fl_expire NAME                expire NAME's ZooKeeper session (corral-zk-expire)
#   ledger_spec DUR_MS [JSON]     a task spec whose command writes start/beat/end lines to
#                                 $LEDGER; extra spec fields merged from JSON
#   rec_submit KEY SPEC [URL]     submit with idempotency key KEY, retrying 503/000 with the
#                                 same key; one line per try in $REQ_FILE; prints the id
#   rec_submit_batch PREFIX N SPEC [URL]
#                                 the same for POST /v1/tasks/batch (keys PREFIX-1..N), one
#                                 $REQ_FILE line per task; a lost answer is resolved by GET
#   rec_cancel ID [URL]           cancel, retrying 503/000 on the next replica
#   rec_burst N DUR_MS PREFIX     N submissions round robin across all live replicas, in the
#                                 background (wait with rec_wait)
#   fl_check                      heal wait + I1..I9 (check_invariants.sh); fails the test if
#                                 one does not hold
#   wait_leader_epoch_gt E SECS   until every live replica names a leader with epoch > E

FL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ZK_EXPIRE=$CORRAL_BUILD_DIR/corral-zk-expire
ZK_LS=$CORRAL_BUILD_DIR/corral-zk-ls
REQ_FILE=$T_DIR/requests
LEDGER=$T_DIR/ledger
: >"$REQ_FILE"
: >"$LEDGER"
FL_FP=                   # CORRAL_FAILPOINTS for the next fl_corrald / fl_worker
declare -A FL_DEAD_OK=() # name -> 1: stopped or killed on purpose (I9 does not expect it alive)
FL_BG=()                 # background recorder jobs (PIDs)
FL_CHECKS=0
FL_CHECK_FINAL_S=${FL_CHECK_FINAL_S:-60}
FL_MARK=
new_marker FL_MARK

for bin in "$ZK_EXPIRE" "$ZK_LS"; do
    [[ -x "$bin" ]] || fail "missing test tool $bin (configure with CORRAL_BUILD_TESTS=ON)"
done

# ---------------------------------------------------------------------------------------------
# ZooKeeper ensemble

ENS_N=0
declare -a ENS_CPORT=() ENS_QPORT=() ENS_EPORT=()
ENS_TICK_MS=${ENS_TICK_MS:-200}

ens_launch()
{
    local i=$1
    java -Xms32m -Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$(zk_classpath)" org.apache.zookeeper.server.quorum.QuorumPeerMain \
        "$T_DIR/zk$i/zoo.cfg" >>"$T_DIR/zk$i.log" 2>&1 &
    proc_record "zk$i" $! zk
    unset "FL_DEAD_OK[zk$i]"
}

# ens_mode I: the server's role from `srvr` ("leader", "follower", "standalone") or nothing.
ens_mode()
{
    zk_4lw srvr "${ENS_CPORT[$1]}" | sed -n 's/^Mode: //p' | tr -d '\r'
}

# ens_leader: index of the ensemble leader (nothing when there is none).
ens_leader()
{
    local i
    for ((i = 1; i <= ENS_N; i++)); do
        if [[ "$(ens_mode "$i")" == leader ]]; then
            echo "$i"
            return 0
        fi
    done
    return 0
}

# ens_formed: every running server serves, and exactly one of them leads.
ens_formed()
{
    local i m leaders=0
    for ((i = 1; i <= ENS_N; i++)); do
        [[ -n "${FL_DEAD_OK[zk$i]:-}" ]] && continue
        proc_alive "zk$i" || fail "ZooKeeper server $i exited; see $T_DIR/zk$i.log"
        m=$(ens_mode "$i")
        case "$m" in
            leader) leaders=$((leaders + 1)) ;;
            follower) ;;
            *) return 1 ;;
        esac
    done
    ((leaders == 1))
}

# ens_start [N]: N servers (default 3), tickTime $ENS_TICK_MS, each with its own dataDir and myid.
ens_start()
{
    ENS_N=${1:-3}
    local i j cfg servers=""
    for ((i = 1; i <= ENS_N; i++)); do
        ENS_CPORT[i]=$(free_port)
        ENS_QPORT[i]=$(free_port)
        ENS_EPORT[i]=$(free_port)
        servers+="server.$i=127.0.0.1:${ENS_QPORT[i]}:${ENS_EPORT[i]}"$'\n'
    done
    ZK=
    for ((i = 1; i <= ENS_N; i++)); do
        mkdir -p "$T_DIR/zk$i/data"
        echo "$i" >"$T_DIR/zk$i/data/myid"
        cfg="tickTime=$ENS_TICK_MS
initLimit=10
syncLimit=5
dataDir=$T_DIR/zk$i/data
clientPort=${ENS_CPORT[i]}
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
standaloneEnabled=false
forceSync=no
$servers"
        printf '%s' "$cfg" >"$T_DIR/zk$i/zoo.cfg"
        ZK+="${ZK:+,}127.0.0.1:${ENS_CPORT[i]}"
    done
    for ((j = 1; j <= ENS_N; j++)); do ens_launch "$j"; done
    ZK_PORT=${ENS_CPORT[1]}
    local t0
    t0=$(now_ms)
    wait_for "the ZooKeeper ensemble to elect a leader" 60 ens_formed
    log "ZooKeeper ensemble ready in $(($(now_ms) - t0)) ms at $ZK (leader: zk$(ens_leader))"
}

ens_kill9()
{
    FL_DEAD_OK[zk$1]=1
    kill9 "zk$1"
}

ens_stop()
{
    FL_DEAD_OK[zk$1]=1
    stop_pid "zk$1" 10
}

ens_restart()
{
    ens_launch "$1"
}

# ens_quorum_up: the ensemble serves again (a leader and every running server in a role).
ens_quorum_up()
{
    ens_formed
}

# ---------------------------------------------------------------------------------------------
# corral processes with test hooks

fl_corrald()
{
    local name=$1
    shift
    unset "FL_DEAD_OK[$name]"
    CORRAL_TEST_SESSION_FILE=$T_DIR/$name.session CORRAL_FAILPOINTS=$FL_FP corrald_start "$name" "$@"
}

fl_worker()
{
    local name=$1
    shift
    unset "FL_DEAD_OK[$name]"
    CORRAL_TEST_SESSION_FILE=$T_DIR/$name.session CORRAL_FAILPOINTS=$FL_FP worker_start "$name" "$@"
}

fl_kill9()
{
    FL_DEAD_OK[$1]=1
    kill9 "$1"
}

fl_term()
{
    FL_DEAD_OK[$1]=1
    stop_pid "$1" "${2:-10}"
}

# fl_expire NAME: expire the current ZooKeeper session of NAME from outside.
fl_expire()
{
    local f=$T_DIR/$1.session out
    [[ -s "$f" ]] || fail "no session file for $1 ($f): not a CORRAL_TEST_HOOKS build?"
    out=$("$ZK_EXPIRE" "$ZK" "$f" 2>&1) || fail "corral-zk-expire $1: $out"
    log "$1: $out"
}

# session_of NAME: the session id NAME dumped last (hex).
session_of()
{
    awk '{print $1}' "$T_DIR/$1.session" 2>/dev/null || true
}

# live_replicas / live_workers: names of the running corrald / worker processes.
live_replicas()
{
    local n
    for n in "${REPLICAS[@]}"; do
        if proc_alive "$n"; then echo "$n"; fi
    done
}

live_workers()
{
    local n
    for n in "${PROC_ORDER[@]}"; do
        [[ "${KIND_OF[$n]}" == worker ]] || continue
        if proc_alive "$n"; then echo "$n"; fi
    done | sort -u
}

# leader_everywhere_gt E: every live replica names a leader with epoch > E; sets LEADER_NOW
# and EPOCH_NOW.
LEADER_NOW=
EPOCH_NOW=
leader_everywhere_gt()
{
    local min=$1 u ids=""
    for u in $(live_urls); do
        api_at "$u" GET /v1/leader
        [[ "$API_STATUS" == 200 ]] || return 1
        jq -e --argjson e "$min" '.epoch > $e' >/dev/null 2>&1 <<<"$API_BODY" || return 1
        ids+="$(jq -r '"\(.id) \(.epoch)"' <<<"$API_BODY")"$'\n'
    done
    [[ "$(sort -u <<<"$ids" | grep -c .)" == 1 ]] || return 1
    LEADER_NOW=$(head -n1 <<<"$ids" | awk '{print $1}')
    EPOCH_NOW=$(head -n1 <<<"$ids" | awk '{print $2}')
}

wait_leader_epoch_gt()
{
    wait_for "every live replica to name one leader with epoch > $1" "$2" leader_everywhere_gt "$1"
}

# log_ms NAME REGEX: the wall-clock ms of the first line of NAME's log matching REGEX after
# line FROM (default 0), or nothing. Log lines start with an ISO-8601 UTC timestamp.
log_ms()
{
    local name=$1 re=$2 from=${3:-0}
    # shellcheck disable=SC2016  # an awk program
    awk -v re="$re" -v from="$from" -f "$FL_HERE/iso_ms.awk" -f <(printf '%s\n' '
        NR > from && $0 ~ re { printf "%.0f\n", iso_ms($1); exit }') "$T_DIR/$name.log" 2>/dev/null || true
}

log_lines()
{
    wc -l <"$T_DIR/$1.log" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------------------------------------
# Ledger tasks and the request recorder

# ledger_spec DUR_MS [JSON]: a shell task that appends "start|beat|end <id> <attempt> <epoch>
# <ms> <pid>" lines to $LEDGER: start, a beat every 100 ms for DUR_MS, end. Retries without
# backoff, up to 10 attempts; JSON (an object) is merged into the spec.
ledger_spec()
{
    local dur=$1 extra=${2:-'{}'} cmd
    # shellcheck disable=SC2016  # expanded by the task's shell, not here
    cmd='l='"$LEDGER"'; m="$CORRAL_TASK_ID $CORRAL_ATTEMPT $CORRAL_EPOCH"; t=$(date +%s%3N); echo "start $m $t $$" >>"$l"; e=$((t + '"$dur"')); n=0; while [ "$(date +%s%3N)" -lt "$e" ] && [ "$n" -lt 3000 ]; do echo "beat $m $(date +%s%3N) $$" >>"$l"; sleep 0.1 '"$FL_MARK"'; n=$((n + 1)); done; echo "end $m $(date +%s%3N) $$" >>"$l"'
    jq -cn --arg c "$cmd" --argjson x "$extra" \
        '{command: $c, shell: true, max_attempts: 10, retry_backoff_s: 0} + $x'
}

REC_RR=0
# rec_urls: live replica URLs (or the given ones).
# rec_submit KEY SPEC [URL]: POST SPEC with idempotency_key KEY to URL (default: the replicas
# in turn); on 503, 429 or no answer retry with the same key on the next replica, bounded
# (REC_TRIES tries, REC_DEADLINE_S seconds). Each try appends
# "sent_ms answered_ms status id key url error" to $REQ_FILE. Prints the id when acknowledged;
# returns 1 otherwise. Safe to run in background subshells (own temp files).
REC_TRIES=${REC_TRIES:-40}
REC_DEADLINE_S=${REC_DEADLINE_S:-40}
rec_submit()
{
    local key=$1 spec=$2 url=${3:-} body="$T_DIR/.rec.$BASHPID" urls t0 t1 code id err i deadline
    spec="{\"idempotency_key\":\"$key\",${spec#\{}"
    deadline=$(($(now_ms) + REC_DEADLINE_S * 1000))
    for ((i = 0; i < REC_TRIES; i++)); do
        if [[ -z "$url" || $i -gt 0 ]]; then
            mapfile -t urls < <(live_urls)
            ((${#urls[@]} > 0)) || return 1
            url=${urls[$((REC_RR % ${#urls[@]}))]}
            REC_RR=$((REC_RR + 1))
        fi
        t0=$(now_ms)
        code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 -X POST \
            -H 'Content-Type: application/json' --data-binary "$spec" "$url/v1/tasks" 2>/dev/null) ||
            true
        [[ -n "$code" ]] || code=000
        t1=$(now_ms)
        id=-
        err=-
        if [[ -s "$body" ]]; then
            id=$(jq -r '.id // "-"' "$body" 2>/dev/null || echo -)
            err=$(jq -r '.error // "-"' "$body" 2>/dev/null || echo -)
        fi
        printf '%s %s %s %s %s %s %s\n' "$t0" "$t1" "$code" "$id" "$key" "$url" "$err" >>"$REQ_FILE"
        rm -f "$body"
        case "$code" in
            200 | 201)
                echo "$id"
                return 0
                ;;
            000 | 429 | 500 | 502 | 503 | 504) ;;
            *) return 1 ;;
        esac
        (($(now_ms) < deadline)) || return 1
        sleep 0.1
    done
    return 1
}

# rec_next_url: the next live replica URL (round robin); nothing when none is alive.
rec_next_url()
{
    local urls
    mapfile -t urls < <(live_urls)
    ((${#urls[@]} > 0)) || return 1
    echo "${urls[$((REC_RR % ${#urls[@]}))]}"
}

# rec_find_keys URL REQ: "key id" of every stored task whose idempotency key is one of the
# batch request REQ's (paging through GET /v1/tasks at URL). Returns 1 if URL cannot list.
rec_find_keys()
{
    local url=$1 req=$2 after="" i code page="$T_DIR/.recf.$BASHPID"
    for ((i = 0; i < 100; i++)); do
        code=$(curl -sS -o "$page" -w '%{http_code}' --max-time 10 \
            "$url/v1/tasks?limit=1000${after:+&after=$after}" 2>/dev/null) || true
        [[ "$code" == 200 ]] || {
            rm -f "$page"
            return 1
        }
        jq -r --slurpfile r "$req" '($r[0].tasks | map(.idempotency_key)) as $k
            | .tasks[] | select(.spec.idempotency_key as $x | $k | index($x)) | "\(.spec.idempotency_key) \(.id)"' \
            "$page"
        after=$(jq -r '.next // empty' "$page")
        [[ -n "$after" ]] || break
    done
    rm -f "$page"
}

# rec_submit_batch PREFIX N SPEC [URL]: POST /v1/tasks/batch with N copies of SPEC, keys
# PREFIX-1..N, to URL (default: the replicas in turn); on 503, 429 or no answer retry the same
# batch (same keys) on the next replica, bounded like rec_submit. Every try appends one
# $REQ_FILE line per task (key, and the id when the answer names it). A retry answered 422
# after a try whose outcome is unknown (the keys are in use: the lost try was stored) looks the
# keys up by GET /v1/tasks instead: found keys are recorded as acknowledged (status 200, error
# "resolved_by_list"); the batch is atomic, so finding only some of them fails (return 2), and
# finding none of them within REC_DEADLINE_S fails too (return 1). Prints the ids in key order.
rec_submit_batch()
{
    local prefix=$1 n=$2 spec=$3 url=${4:-} body="$T_DIR/.recb.$BASHPID" req="$T_DIR/.recb-req.$BASHPID"
    local t0 t1 code err i k deadline unknown=0 found nfound
    jq -cn --arg p "$prefix" --argjson n "$n" --argjson s "$spec" \
        '{tasks: [range(1; $n + 1) | $s + {idempotency_key: "\($p)-\(.)"}]}' >"$req"
    deadline=$(($(now_ms) + REC_DEADLINE_S * 1000))
    for ((i = 0; i < REC_TRIES; i++)); do
        if [[ -z "$url" || $i -gt 0 ]]; then
            url=$(rec_next_url) || break
            REC_RR=$((REC_RR + 1))
        fi
        t0=$(now_ms)
        code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 -X POST \
            -H 'Content-Type: application/json' --data-binary "@$req" "$url/v1/tasks/batch" 2>/dev/null) ||
            true
        [[ -n "$code" ]] || code=000
        t1=$(now_ms)
        err=-
        [[ -s "$body" ]] && err=$(jq -r '.error // "-"' "$body" 2>/dev/null || echo -)
        if [[ "$code" == 201 || "$code" == 200 ]]; then
            jq -r --arg t0 "$t0" --arg t1 "$t1" --arg c "$code" --arg u "$url" \
                '.tasks[] | "\($t0) \($t1) \($c) \(.id) \(.spec.idempotency_key) \($u) -"' "$body" >>"$REQ_FILE"
            jq -r '.tasks[].id' "$body"
            rm -f "$body" "$req"
            return 0
        fi
        for ((k = 1; k <= n; k++)); do
            printf '%s %s %s - %s %s %s\n' "$t0" "$t1" "$code" "$prefix-$k" "$url" "$err" >>"$REQ_FILE"
        done
        rm -f "$body"
        case "$code" in
            000 | 429 | 500 | 502 | 503 | 504) unknown=1 ;;
            422)
                ((unknown)) || break
                # The keys are in use: an earlier try whose answer was lost was stored.
                while (($(now_ms) < deadline)); do
                    url=$(rec_next_url) || break
                    REC_RR=$((REC_RR + 1))
                    found=$(rec_find_keys "$url" "$req") || found=
                    nfound=$(grep -c . <<<"$found" || true)
                    if ((nfound == n)); then
                        t1=$(now_ms)
                        awk -v t0="$t0" -v t1="$t1" -v u="$url" \
                            '{ print t0, t1, 200, $2, $1, u, "resolved_by_list" }' <<<"$found" >>"$REQ_FILE"
                        for ((k = 1; k <= n; k++)); do
                            awk -v key="$prefix-$k" '$1 == key { print $2 }' <<<"$found"
                        done
                        rm -f "$req"
                        return 0
                    fi
                    if ((nfound > 0)); then
                        log "batch $prefix: only $nfound of $n keys stored: $found"
                        rm -f "$req"
                        return 2
                    fi
                    sleep 0.2
                done
                log "batch $prefix: answered 422 after an unknown outcome, but no key is listed"
                break
                ;;
            *) break ;;
        esac
        (($(now_ms) < deadline)) || break
        sleep 0.1
    done
    rm -f "$req"
    return 1
}

# rec_cancel ID [URL]: POST /v1/tasks/ID/cancel to URL (default: the replicas in turn), retrying
# 503, 429 and no answer on the next replica (bounded). 200 and 409 (already final, e.g. after
# a try whose answer was lost) count as done. Each try appends "sent_ms answered_ms status id
# url error" to $T_DIR/cancels. Returns 1 when never done.
rec_cancel()
{
    local id=$1 url=${2:-} i t0 code err deadline
    deadline=$(($(now_ms) + REC_DEADLINE_S * 1000))
    for ((i = 0; i < REC_TRIES; i++)); do
        if [[ -z "$url" || $i -gt 0 ]]; then
            url=$(rec_next_url) || return 1
            REC_RR=$((REC_RR + 1))
        fi
        t0=$(now_ms)
        API_MAX_TIME=5 api_at "$url" POST "/v1/tasks/$id/cancel"
        code=$API_STATUS
        err=$(jq -r '.error // "-"' <<<"$API_BODY" 2>/dev/null || echo -)
        printf '%s %s %s %s %s %s\n' "$t0" "$(now_ms)" "$code" "$id" "$url" "${err:--}" >>"$T_DIR/cancels"
        case "$code" in
            200 | 409) return 0 ;;
            000 | 429 | 500 | 502 | 503 | 504) ;;
            *) return 1 ;;
        esac
        (($(now_ms) < deadline)) || return 1
        sleep 0.1
    done
    return 1
}

# rec_burst N DUR_MS PREFIX: N ledger tasks of DUR_MS, keys PREFIX-1..N, spread round robin
# over the live replicas, submitted by a background job (one request at a time).
rec_burst()
{
    local n=$1 dur=$2 prefix=$3 spec
    spec=$(ledger_spec "$dur")
    (
        set +e
        for ((k = 1; k <= n; k++)); do
            rec_submit "$prefix-$k" "$spec" >/dev/null
        done
        exit 0
    ) &
    FL_BG+=($!)
}

# rec_wait [SECS]: wait for every background recorder job (deadline, then kill it).
rec_wait()
{
    local secs=${1:-90} p i
    for p in "${FL_BG[@]}"; do
        for ((i = 0; i < secs * 10; i++)); do
            pid_alive "$p" || break
            sleep 0.1
        done
        if pid_alive "$p"; then
            log "recorder job $p still running after ${secs}s: killing it"
            kill -KILL "$p" 2>/dev/null || true
        fi
        wait "$p" 2>/dev/null || true
    done
    FL_BG=()
}

# acked_count: how many distinct keys have been acknowledged so far.
acked_count()
{
    awk '$3 == 200 || $3 == 201 { k[$5] = 1 } END { n = 0; for (x in k) n++; print n }' "$REQ_FILE"
}

# acked_ge N: at least N distinct keys have been acknowledged.
acked_ge()
{
    (($(acked_count) >= $1))
}

# submit_ledger KEY DUR_MS [JSON]: rec_submit a ledger task, fail the test if not acknowledged.
submit_ledger()
{
    local id
    id=$(rec_submit "$1" "$(ledger_spec "$2" "${3:-}")") || fail "submit $1 was not acknowledged"
    echo "$id"
}

# ledger_running ID: the ledger shows a start of ID that has no end yet.
ledger_running()
{
    awk -v id="$1" '$2 == id && $1 == "start" { s[$3] = 1 } $2 == id && $1 == "end" { delete s[$3] }
        END { for (a in s) exit 0; exit 1 }' "$LEDGER"
}

# ---------------------------------------------------------------------------------------------
# Invariants

# fl_check [LABEL]: wait for every acknowledged task to be final, run I1..I9 through
# check_invariants.sh and fail the test when one does not hold.
fl_check()
{
    local label=${1:-} env=$T_DIR/cluster.env n
    FL_CHECKS=$((FL_CHECKS + 1))
    {
        printf 'URLS=%q\n' "$(live_urls | tr '\n' ' ')"
        printf 'ZK=%q\nNS=%q\nZK_LS=%q\nREQ_FILE=%q\nLEDGER=%q\nLOG_DIR=%q\n' \
            "$ZK" "$T_NS" "$ZK_LS" "$REQ_FILE" "$LEDGER" "$T_DIR"
        printf 'REPLICAS_ALIVE=%q\n' "$(live_replicas | tr '\n' ' ')"
        printf 'WORKERS_ALIVE=%q\n' "$(live_workers | tr '\n' ' ')"
        printf 'PROBE_SPEC=%q\n' "$(ledger_spec 200)"
        printf 'PROBE_KEY=%q\n' "probe-$FL_CHECKS-$(now_ms)"
        printf 'FINAL_WAIT_S=%q\n' "$FL_CHECK_FINAL_S"
        printf 'ALIVE=%q\n' "$(for n in "${!PID_OF[@]}"; do
            [[ -n "${FL_DEAD_OK[$n]:-}" ]] || echo "$n:${PID_OF[$n]}"
        done | sort | tr '\n' ' ')"
    } >"$env"
    log "checking invariants${label:+ after $label}"
    if ! bash "$FL_HERE/check_invariants.sh" "$env" >&2; then
        fail "invariants do not hold${label:+ after $label}"
    fi
}
