#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through poll_until, at_exit and in the background
# SPDX-License-Identifier: MIT
# Long polls do not pile up ZooKeeper watches: two clients poll an unschedulable task (it asks
# for 1000 cpus, the only worker has 1) with GET /v1/tasks/{id}?wait=3, one poll after another,
# for 15 s. Each poll is held about 3 s (so it is re-checked once in the middle) and answers the
# queued task. Meanwhile the gauge corral_zk_callback_watches of /metrics (callback watches set
# and not yet fired) must stay within the polls in flight plus a small constant, instead of
# growing by one or two with every poll, and no long poll is held once they are done.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

CLIENTS=2
WAIT_S=3
RUN_S=15
SLACK=3 # watches allowed beyond one per poll in flight (and beyond the count before)

zk_start
corrald_start r1
R1=${URL_OF[r1]}
worker_start w1 --cpu 1 --slots 1
ID=$(submit '{"command":["echo","never"],"resources":{"cpu":1000}}' "$R1")
POLLS=$T_DIR/polls
mkdir -p "$POLLS"
LOOPS=()

# metric NAME: its value in r1's /metrics, or nothing.
metric()
{
    curl -s --max-time 2 "$R1/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# poll_loop K: long polls one after another for RUN_S seconds; one line per poll in $POLLS/K:
# "<ms held> <http code> <state>".
poll_loop()
{
    local k=$1 deadline=$(($(now_ms) + RUN_S * 1000)) i=0 t0 code state
    while (($(now_ms) < deadline)); do
        t0=$(now_ms)
        curl -s -o "$POLLS/body$k" -w '%{http_code}' --max-time $((WAIT_S + 10)) \
            "$R1/v1/tasks/$ID?wait=$WAIT_S" >"$POLLS/code$k" 2>/dev/null &
        echo "$!" >"$POLLS/.curl$k.pid"
        wait "$!" || true
        code=$(cat "$POLLS/code$k" 2>/dev/null || true)
        state=$(jq -r '.state // "none"' "$POLLS/body$k" 2>/dev/null || echo none)
        echo "$(($(now_ms) - t0)) ${code:-000} $state" >>"$POLLS/$k"
        i=$((i + 1))
    done
}

stop_loops()
{
    local p f
    for p in "${LOOPS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for f in "$POLLS"/.curl*.pid; do
        [[ -f "$f" ]] && kill -TERM "$(cat "$f")" 2>/dev/null
    done
    return 0
}
at_exit stop_loops

case_begin "/metrics exports corral_zk_callback_watches and corral_api_long_polls"
BASE=$(metric corral_zk_callback_watches)
assert_match "corral_zk_callback_watches before any poll" '^[0-9]+$' "$BASE"
assert_match "corral_api_long_polls before any poll" '^[0-9]+$' "$(metric corral_api_long_polls)"
case_end

case_begin "sequential long polls on an unschedulable task keep the watch gauge bounded"
for ((k = 0; k < CLIENTS; k++)); do
    poll_loop "$k" &
    LOOPS+=($!)
done
LIMIT=$((BASE + CLIENTS + SLACK))
MAX=0
SAMPLES=()
# sample_until_done: record the gauge; succeed once every client loop has ended.
sample_until_done()
{
    local v p
    v=$(metric corral_zk_callback_watches)
    if [[ "$v" =~ ^[0-9]+$ ]]; then
        SAMPLES+=("$v")
        ((v <= MAX)) || MAX=$v
    fi
    for p in "${LOOPS[@]}"; do
        kill -0 "$p" 2>/dev/null && return 1
    done
    return 0
}
POLL_S=0.5 poll_until $((RUN_S + WAIT_S + 15)) sample_until_done ||
    fail "the polling clients did not end within $((RUN_S + WAIT_S + 15))s"
wait "${LOOPS[@]}" 2>/dev/null || true
log "corral_zk_callback_watches samples: ${SAMPLES[*]} (limit $LIMIT)"
((${#SAMPLES[@]} >= 10)) || fail "only ${#SAMPLES[@]} samples of the gauge"
((MAX <= LIMIT)) ||
    fail "corral_zk_callback_watches reached $MAX (limit $LIMIT = $BASE before + $CLIENTS polls in flight + $SLACK)"
END=$(metric corral_zk_callback_watches)
((END <= LIMIT)) || fail "corral_zk_callback_watches is $END after the polls (limit $LIMIT)"
case_end

case_begin "every poll was held about ${WAIT_S}s and answered the queued task"
n=0
for ((k = 0; k < CLIENTS; k++)); do
    while read -r ms code state; do
        n=$((n + 1))
        assert_eq "HTTP status of poll $n" 200 "$code"
        assert_eq "state of poll $n" queued "$state"
        ((ms >= WAIT_S * 1000 - 300)) || fail "poll $n answered after ${ms} ms (a poll of ${WAIT_S}s)"
    done <"$POLLS/$k"
done
((n >= CLIENTS * (RUN_S / WAIT_S) - 1)) || fail "only $n polls completed in ${RUN_S}s"
log "$n polls"
case_end

case_begin "no long poll is held afterwards"
no_polls_held()
{
    [[ "$(metric corral_api_long_polls)" == 0 ]]
}
wait_for "corral_api_long_polls to be 0" 5 no_polls_held
case_end

case_begin "corrald exits 0 on SIGTERM (a sanitizer finding at exit would not)"
stop_pid r1 10
assert_eq "corrald exit status" 0 "$STOP_STATUS"
case_end
pass
