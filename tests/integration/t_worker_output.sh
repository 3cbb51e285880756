#!/usr/bin/env bash
# shellcheck disable=SC2317  # the helpers below are called through wait_for
# SPDX-License-Identifier: MIT
# Task output on the worker's disk stays bounded and is deleted: a task that prints 200 MB
# succeeds with the end of its output in the API while the work dir never holds more than the
# supervisor's cap, and a long output's tail is its last lines in order; tasks that write without end are still timed out and cancelled on time; and
# once results are stored no output file is left in the work dir.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# The cap on one task's output file (SUP_OUTPUT_MAX_BYTES in src/worker/supervisor.h).
CAP_KIB=$(sed -nE 's/^#define SUP_OUTPUT_MAX_BYTES +\(([0-9]+)u \* 1024u\).*/\1/p' \
    "$CORRAL_SRC_DIR/src/worker/supervisor.h")
[[ -n "$CAP_KIB" ]] || fail "cannot read SUP_OUTPUT_MAX_BYTES from src/worker/supervisor.h"
CAP=$((CAP_KIB * 1024))
SLACK=4096

zk_start
corrald_start r1
WD=$T_DIR/work-w1
mkdir -p "$WD"
worker_start w1 --slots 2 --work-dir "$WD"

# Bytes in the work dir's files (a file may vanish while find runs).
work_bytes()
{
    find "$WD" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

output_files()
{
    find "$WD" -type f -name '*.out' 2>/dev/null
}

no_output_files()
{
    [[ -z "$(output_files)" ]]
}

# sample_until_final ID LIMIT: fails at once when the work dir holds more than LIMIT bytes;
# succeeds when the task is final. MAX_SEEN keeps the largest size seen.
MAX_SEEN=0
sample_until_final()
{
    local id=$1 limit=$2 b
    b=$(work_bytes)
    ((b <= MAX_SEEN)) || MAX_SEEN=$b
    ((b <= limit)) || fail "work dir holds $b bytes, more than $limit: $(ls -l "$WD")"
    task_is_final "$id"
}

# --- (a) 200 MB of output: the task succeeds, the file stays within the cap ---------------------
BIG='head -c 200000000 /dev/zero | tr "\0" x; echo END'
started=$(now_ms)
ID=$(submit "$(jq -nc --arg c "$BIG" '{command:$c, shell:true, timeout_s:300, max_attempts:1}')")
wait_for "task $ID (200 MB of output) to finish" 240 sample_until_final "$ID" $((CAP + SLACK))
log "200 MB task took $(($(now_ms) - started)) ms; work dir peaked at $MAX_SEEN bytes"
T=$(task_json "$ID")
assert_eq "big output task state" succeeded "$(jb .state "$T")"
assert_eq "big output task exit code" 0 "$(jb .exit_code "$T")"
assert_jq "the API output is the last bytes, in order, ending with END" \
    '(.output | test("^x+END\n$")) and (.output | length) > 1000' "$T"
assert_jq "the API output is at most the 4 KiB tail" '(.output | length) <= 4096' "$T"
wait_for "the big task's output file to be deleted" 20 no_output_files

# Numbered lines through many compactions of the file: the tail is whole lines, in order.
ID=$(submit '{"command":["seq","1","3000000"],"max_attempts":1}')
MAX_SEEN=0
wait_for "task $ID (numbered lines) to finish" 120 sample_until_final "$ID" $((CAP + SLACK))
T=$(task_json "$ID")
assert_eq "numbered lines task state" succeeded "$(jb .state "$T")"
# Drop the first (cut) line; the rest must count up by one to the last number.
jb .output "$T" | tail -n +2 | awk 'NF == 0 { next } n++ == 0 { p = $1; next }
    $1 != p + 1 { bad = 1 } { p = $1 } END { exit !(!bad && n > 100 && p == 3000000) }' ||
    fail "the output tail is not the last lines in order: $(jb .output "$T" | head -c 300)"
wait_for "the numbered lines' output file to be deleted" 20 no_output_files

# --- (b) many short tasks: no output file remains once their results are stored -----------------
IDS=()
for i in $(seq 1 20); do
    IDS+=("$(submit "{\"command\":[\"echo\",\"short-$i\"],\"max_attempts\":1}")")
done
for i in $(seq 1 20); do
    id=${IDS[$((i - 1))]}
    wait_final "$id" 60
    assert_eq "short task $i state" succeeded "$(jb .state "$TASK")"
    assert_contains "short task $i output" "short-$i" "$(jb .output "$TASK")"
done
wait_for "no output file left after 20 short tasks" 20 no_output_files

# --- (c) writers without end: timeout and cancel still act on time -----------------------------
new_marker MT
new_marker MC
started=$(now_ms)
TID=$(submit "{\"command\":[\"yes\",\"timeout-$MT\"],\"timeout_s\":2,\"max_attempts\":1}")
CID=$(submit "{\"command\":[\"yes\",\"cancel-$MC\"],\"timeout_s\":300,\"max_attempts\":1}")
wait_state "$CID" running 20
wait_for "the endless writer to write" 10 some_pids_with "$MC"
api POST "/v1/tasks/$CID/cancel"
assert_status "cancel the endless writer" 200
MAX_SEEN=0
wait_for "the endless writer with timeout_s 2 to end" 30 \
    sample_until_final "$TID" $((2 * CAP + SLACK))
elapsed=$(($(now_ms) - started))
T=$(task_json "$TID")
assert_eq "endless writer with a timeout" failed "$(jb .state "$T")"
assert_match "its error names the timeout" '[Tt]ime(d)?[ _-]?out' "$(jb '.error // ""' "$T")"
assert_contains "its output is the latest lines" "timeout-$MT" "$(jb .output "$T")"
((elapsed < 20000)) || fail "timeout of 2 s took ${elapsed} ms for a task that writes without end"
wait_for "the cancelled endless writer to finish" 30 sample_until_final "$CID" $((2 * CAP + SLACK))
assert_eq "endless writer cancelled" cancelled "$(jb .state "$(task_json "$CID")")"
log "endless writers: work dir peaked at $MAX_SEEN bytes"
wait_for "no process of the endless writers survives" 10 no_pids_with "$MT"
wait_for "no process of the cancelled writer survives" 10 no_pids_with "$MC"
wait_for "no output file left after the endless writers" 20 no_output_files

pass
