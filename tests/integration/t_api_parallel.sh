#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through run_case
# SPDX-License-Identifier: MIT
# Every request gets its answer when many clients talk to one replica at once. Regression:
# a job that finished before its handler returned had its answer taken and dropped, and the
# request hung until the client gave up (6 of 900 GETs, 6 parallel clients).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
ID=$(submit '{"command":["true"]}')

client()
{
    local out=$1 i code
    for ((i = 0; i < 150; i++)); do
        code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "${URL_OF[r1]}/v1/tasks/$ID") ||
            true
        [[ "$code" == 200 ]] || echo "GET $i: HTTP $code" >>"$out"
    done
}

parallel_gets()
{
    local pids=() p
    for p in 1 2 3 4 5 6; do
        : >"$T_DIR/client$p"
        client "$T_DIR/client$p" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    local bad
    bad=$(cat "$T_DIR"/client*)
    [[ -z "$bad" ]] || fail "$(wc -l <<<"$bad") of 900 GETs got no answer or not 200: $(head -3 <<<"$bad")"
    log "900 GETs from 6 parallel clients, all 200"
}

run_case "900 GETs from 6 parallel clients each get their answer" parallel_gets
pass
