#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# corral-bench --smoke (docs/benchmarks.md): every scenario (a ceilings, b simulated workers,
# c real workers, d light load, e backlog with a leader kill) runs at tiny sizes in a few
# seconds, exits 0, prints its table, writes JSON with every section and sane numbers, and
# leaves no process behind. The bench starts its own ZooKeeper and replicas (free loopback
# ports, reserved the way lib.sh does), so this test starts nothing itself.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH=$CORRAL_BUILD_DIR/corral-bench
[[ -x "$BENCH" ]] || fail "missing binary $BENCH (build first: scripts/build)"
JSON=$T_DIR/bench.json
OUT=$T_DIR/bench.out
ERR=$T_DIR/bench.err
BENCH_PID=

case_begin "corral-bench --smoke runs every scenario and exits 0"
t0=$(now_ms)
# A hang must fail the test, not the ctest timeout: SIGTERM makes the bench stop its processes.
timeout -s TERM 150 "$BENCH" --smoke --json "$JSON" >"$OUT" 2>"$ERR" &
BENCH_PID=$!
rc=0
wait "$BENCH_PID" || rc=$?
log "corral-bench --smoke: exit $rc after $(($(now_ms) - t0)) ms"
if ((rc != 0)); then
    tail -n 40 "$ERR" >&2
    cat "$OUT" >&2
    fail "corral-bench --smoke exited $rc"
fi
case_end

# The bench's temp dir, from its progress line "temp dir /tmp/corral-bench.XXXXXX (...)".
bench_dir=$(sed -n 's/.*temp dir \([^ ]*\) (logs.*/\1/p' "$ERR" | head -n 1)

leaves_nothing()
{
    [[ -n "$bench_dir" ]] || fail "no 'temp dir' progress line in: $(head -n 5 "$ERR")"
    [[ ! -e "$bench_dir" ]] || fail "temp dir $bench_dir left behind after a successful run"
    # Its ZooKeeper and workers name the temp dir on their command line, its replicas their
    # namespace. The patterns are written so that grep's own command line does not match.
    local prefix pat_dir left
    prefix=$(jq -r '.config.namespace_prefix' "$JSON")
    [[ "$prefix" == /corral-bench-* ]] || fail "no namespace_prefix in the JSON config"
    pat_dir=${bench_dir##*/}
    left=$(grep -l -a -e "${pat_dir//./[.]}" -e "${prefix}[-]" /proc/[0-9]*/cmdline \
        2>/dev/null || true)
    [[ -z "$left" ]] || fail "processes left behind: $left"
}
run_case "no process and no temp dir left behind" leaves_nothing

json_sections()
{
    jq -e . "$JSON" >/dev/null || fail "not JSON: $(head -c 500 "$JSON")"
    assert_jq "run complete, no error" '.complete == true and .error == null and
        .interrupted == false' "$(cat "$JSON")"
    assert_jq "every section" 'has("version") and has("host") and has("config") and
        has("ceilings") and has("scenarios")' "$(cat "$JSON")"
    assert_jq "every scenario" '.scenarios | keys == ["b-batch", "b-single", "c", "d", "e"]' \
        "$(cat "$JSON")"
}
run_case "the JSON has every section and scenario" json_sections

json_ceilings()
{
    assert_jq "ceilings > 0" '.ceilings | .fork_exec_per_s > 0 and .fork_exec_count > 0 and
        .zk_async_creates_per_s > 0 and .zk_async_deletes_per_s > 0 and
        .zk_batched_creates_per_s > 0 and .zk_batched_creates > 0 and
        (.zk_fenced_multi | length == 3 and map(.k) == [1, 10, 100] and
            all(.tasks_per_s > 0 and .multis_per_s > 0 and .tasks > 0)) and
        .zk_fenced_multi_best_tasks_per_s > 0' "$(cat "$JSON")"
}
run_case "the ceilings are numbers above 0" json_ceilings

json_scenarios()
{
    local j
    j=$(cat "$JSON")
    assert_jq "every scenario ran, complete, every task finished" '.scenarios | to_entries |
        all(.value | .ran and .complete and .tasks > 0 and .submitted == .tasks and
            .finished == .tasks and .succeeded == .tasks)' "$j"
    assert_jq "rates > 0" '.scenarios | to_entries |
        all(.value | .submitted_per_s > 0 and .finished_per_s > 0)' "$j"
    assert_jq "latencies: p50 <= p99 <= max, max > 0" '.scenarios | to_entries | all(.value |
        (.submit_to_finish_ms | .p50 >= 0 and .p50 <= .p99 and .p99 <= .max and .max > 0) and
        (.submit_to_start_ms | .p50 >= 0 and .p99 <= .max) and
        .submit_to_start_ms.max <= .submit_to_finish_ms.max)' "$j"
    assert_jq "corrald peak RSS > 0" '.scenarios | to_entries | all(.value.rss_corrald_kib > 0)' "$j"
    assert_jq "real workers' peak RSS > 0" '[.scenarios.c, .scenarios.d] |
        all(.rss_workers_kib > 0 and (.rss_each_worker_kib | length == 2))' "$j"
    assert_jq "ratios against the ceilings" '[.scenarios["b-batch"], .scenarios["b-single"],
        .scenarios.c, .scenarios.e] | all(.submit_ratio > 0 and .finish_ratio > 0)' "$j"
    # shellcheck disable=SC2016  # $n is jq's variable, not the shell's
    assert_jq "CPU: the machine, ZooKeeper and corrald busy; no part above the machine's cores" \
        '.host.cpus as $n | .scenarios | to_entries | all(.value.cpu_cores |
        .window_ms > 0 and .machine > 0 and .machine <= $n + 0.5 and .zookeeper > 0 and
        .corrald > 0 and .bench >= 0 and ([.zookeeper, .corrald, .workers // 0, .bench] |
        all(. <= $n + 0.5)))' "$j"
    assert_jq "CPU: real workers busy in c and d" \
        '[.scenarios.c, .scenarios.d] | all(.cpu_cores.workers > 0)' "$j"
    assert_jq "e: leader killed, new leader's first assignment, drain rate" '.scenarios.e |
        .leader_killed and .failover_first_assignment_ms > 0 and
        .first_assignment_ms >= 0 and .drain_per_s > 0' "$j"
}
run_case "every scenario finished every task with sane numbers" json_scenarios

table()
{
    local s
    assert_contains "ceilings heading" "Ceilings of this machine" "$(cat "$OUT")"
    for s in b-batch b-single c d e; do
        grep -qE "^$s +[0-9]+/[0-9]+ .* ok$" "$OUT" || fail "no complete row for $s in: $(cat "$OUT")"
    done
    grep -q '^\[corral-bench .*s\] ' "$ERR" || fail "no progress lines on stderr"
}
run_case "the table has a complete row per scenario and progress went to stderr" table

usage()
{
    local out rc=0
    out=$("$BENCH" --version)
    assert_match "--version" '^corral [0-9]+\.[0-9]+\.[0-9]+$' "$out"
    out=$("$BENCH" --no-such-flag 2>&1 >/dev/null) || rc=$?
    assert_eq "unknown flag exit status" 2 "$rc"
    assert_eq "one stderr line" 1 "$(wc -l <<<"$out")"
    rc=0
    "$BENCH" --scenarios a,z >/dev/null 2>&1 || rc=$?
    assert_eq "bad scenario exit status" 2 "$rc"
    "$BENCH" --help | grep -q -- '--smoke' || fail "--help lacks --smoke"
}
run_case "--version, --help and usage errors" usage

# docs/benchmarks.md quotes every flag line of --help: fail when they drift apart.
help_quoted()
{
    local doc=$CORRAL_SRC_DIR/docs/benchmarks.md line
    while IFS= read -r line; do
        grep -qxF -- "$line" "$doc" || fail "docs/benchmarks.md lacks the --help line: $line"
    done < <("$BENCH" --help | grep '^  --')
}
run_case "docs/benchmarks.md quotes every flag of --help" help_quoted

pass
