#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, at_exit and in the background
# SPDX-License-Identifier: MIT
# Shutdown with long polls: SIGTERM reaches a corrald replica (not the leader) while 30 long
# polls (GET /v1/tasks/{id}?wait=) are held and 20 more are still inside their first ZooKeeper
# read (ZooKeeper is paused with SIGSTOP for half a second around the SIGTERM, so those reads end
# only after the stop began), and while more polls keep arriving. corrald must exit 0 (not abort: libmicrohttpd aborts when
# stopped with a suspended connection) within a few seconds, and every poll must end with an HTTP
# answer (200 or 503) or a closed connection, never hang.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

IN_FLIGHT=30
ARRIVING=20
LOOPS=4
POLL_MAX_S=30 # a poll still open after this long hung

zk_start
# r0 leads, so that r1 (the replica stopped here) has no scheduling round blocked on the paused
# ZooKeeper and handles SIGTERM at once. Sessions of 4 s (the most tickTime 200 allows): a short
# pause of ZooKeeper is no disconnect.
corrald_start r0 --session-timeout 4000
wait_for "r0 to lead" 20 has_leader
corrald_start r1 --session-timeout 4000
R1=${URL_OF[r1]}
PORT=${R1##*:}
CPID=${PID_OF[r1]}
ID=$(submit '{"command":["echo","never"]}' "$R1") # no worker: stays queued
POLLS=$T_DIR/polls
mkdir -p "$POLLS"
BG=()

# Every curl runs in the background with its PID in BG (the loops' curls in $POLLS/.loop*.pid),
# so that the exit hook can stop what is left by PID. A result file holds one line
# "<http code> <curl exit>".

# poll NAME: one long poll in the background.
poll()
{
    curl -s -o /dev/null -w '%{http_code} %{exitcode}\n' --max-time "$POLL_MAX_S" \
        "$R1/v1/tasks/$ID?wait=60" >"$POLLS/$1" 2>/dev/null &
    BG+=($!)
}

# poll_burst NAME N: N long polls at once from one curl in the background (NAME.all: N lines).
poll_burst()
{
    local name=$1 n=$2 args=() i
    for ((i = 0; i < n; i++)); do
        args+=(-o /dev/null "$R1/v1/tasks/$ID?wait=60")
    done
    curl -s -Z --parallel-immediate --parallel-max "$n" --max-time "$POLL_MAX_S" \
        -w '%{http_code} %{exitcode}\n' "${args[@]}" >"$POLLS/$name.all" 2>/dev/null &
    BG+=($!)
}

# poll_loop K: polls one after another until corrald is gone (for at most 30 s).
poll_loop()
{
    local k=$1 i deadline=$(($(now_ms) + 30000))
    for ((i = 0; i < 300; i++)); do
        kill -0 "$CPID" 2>/dev/null || break
        (($(now_ms) < deadline)) || break
        curl -s -o /dev/null -w '%{http_code} %{exitcode}\n' --max-time "$POLL_MAX_S" \
            "$R1/v1/tasks/$ID?wait=60" >"$POLLS/loop$k.$i" 2>/dev/null &
        echo "$!" >"$POLLS/.loop$k.pid"
        wait "$!" || true
    done
}

stop_polls()
{
    local p f
    for p in "${BG[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for f in "$POLLS"/.loop*.pid; do
        [[ -f "$f" ]] && kill -TERM "$(cat "$f")" 2>/dev/null
    done
    return 0
}
at_exit stop_polls

client_conns()
{
    ss -Htn state established "( dport = :$PORT )" 2>/dev/null | wc -l
}

at_least_conns()
{
    (($(client_conns) >= $1))
}

zk_paused=0
resume_zk()
{
    if ((zk_paused)); then
        kill -CONT "${PID_OF[zk]}" 2>/dev/null || true
        zk_paused=0
    fi
}
at_exit resume_zk

case_begin "$IN_FLIGHT long polls held, healthz still answers"
for ((i = 0; i < IN_FLIGHT; i++)); do
    poll "held$i"
done
wait_for "$IN_FLIGHT long polls connected" 20 at_least_conns "$IN_FLIGHT"
api_at "$R1" GET /healthz
assert_status "healthz with $IN_FLIGHT polls held" 200
case_end

case_begin "SIGTERM while polls are held and arriving: exit 0 within 8 s"
# $ARRIVING more polls whose first read waits for the paused ZooKeeper, and polls that go on
# arriving until corrald is gone.
log "SIGSTOP ZooKeeper (pid ${PID_OF[zk]})"
kill -STOP "${PID_OF[zk]}"
zk_paused=1
poll_burst arriving "$ARRIVING"
for ((k = 0; k < LOOPS; k++)); do
    poll_loop "$k" &
    BG+=($!)
done
wait_for "$((IN_FLIGHT + ARRIVING)) long polls connected" 10 at_least_conns $((IN_FLIGHT + ARRIVING))

T0=$(now_ms)
log "SIGTERM corrald r1 (pid $CPID)"
kill -TERM "$CPID"
sleep 0.5 # the paused reads end after the stop began
resume_zk
log "SIGCONT ZooKeeper"

corrald_gone()
{
    ! proc_alive r1
}
wait_for "corrald to exit after SIGTERM" 15 corrald_gone
ELAPSED=$(($(now_ms) - T0))
reap "$CPID"
log "corrald exited with status $STOP_STATUS after ${ELAPSED} ms"
if grep -q "suspended connections" "$T_DIR/r1.log"; then
    fail "libmicrohttpd: $(grep "suspended" "$T_DIR/r1.log" | head -3)"
fi
assert_eq "corrald exit status after SIGTERM (134 = abort)" 0 "$STOP_STATUS"
((ELAPSED <= 8000)) || fail "corrald took ${ELAPSED} ms to exit after SIGTERM (limit 8000)"
case_end

case_begin "every poll ended with an HTTP answer or a closed connection"
bg_done()
{
    local p
    for p in "${BG[@]}"; do
        if kill -0 "$p" 2>/dev/null; then return 1; fi
    done
    return 0
}
wait_for "every poll to end" $((POLL_MAX_S + 10)) bg_done
wait "${BG[@]}" 2>/dev/null || true
i=0
while read -r line; do
    echo "$line" >"$POLLS/arriving.$i"
    i=$((i + 1))
done <"$POLLS/arriving.all"
rm -f "$POLLS/arriving.all"

n=0
for f in "$POLLS"/*; do
    read -r code rc <"$f"
    n=$((n + 1))
    name=$(basename "$f")
    case "$rc" in
        0) [[ "$code" == 200 || "$code" == 503 ]] ||
            fail "poll $name: HTTP $code (expected 200 or 503)" ;;
        7 | 52 | 56) ;; # refused (corrald gone), empty reply or reset: a closed connection
        28) fail "poll $name hung: no answer within ${POLL_MAX_S}s" ;;
        *) fail "poll $name: curl exit $rc (HTTP $code)" ;;
    esac
done
((n >= IN_FLIGHT + ARRIVING)) || fail "only $n poll results"
log "$n polls ended (count, HTTP code, curl exit): $(cat "$POLLS"/* | sort | uniq -c |
    tr -s ' ' | tr '\n' ';')"
case_end
pass
