#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# GET /v1/events: the feed of task and worker state changes. A task's life shows in order; a
# long poll returns as soon as a change comes; a reader that moves between replicas and across
# a leader kill -9 with its cursor misses no change and sees none twice; full generations are
# sealed (read across without a gap) and old ones trimmed (410 cursor_expired); bad cursors are
# 400; workers show when they come, are cordoned and go.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
# Small generations so that this test crosses seals; trimming only after a long time here.
CORRAL_TEST_EVENTS_GEN_SIZE=7 corrald_start r1
CORRAL_TEST_EVENTS_GEN_SIZE=7 corrald_start r2
wait_for "a leader" 20 has_leader
worker_start w1 --slots 4

# head URL: the feed's head cursor, as a reader without one starts.
head_at()
{
    api_at "$1" GET /v1/events
    assert_status "GET /v1/events" 200
    assert_jq "no events without a cursor" '.events == [] and (.next | type == "string")' "$API_BODY"
    jb .next
}

# drain_feed URL CURSOR OUT: read from CURSOR until an answer has no event (bounded), appending
# each event as one JSON line to OUT; prints the last cursor.
drain_feed()
{
    local url=$1 cur=$2 out=$3 i n
    for ((i = 0; i < 200; i++)); do
        api_at "$url" GET "/v1/events?after=$cur&limit=50"
        assert_status "GET /v1/events?after=$cur" 200
        n=$(jb '.events | length')
        jq -c '.events[]' <<<"$API_BODY" >>"$out"
        cur=$(jb .next)
        ((n > 0)) || break
    done
    echo "$cur"
}

# states OUT ID: the task's states in the feed, space-separated.
states()
{
    jq -r --arg id "$2" 'select(.kind == "task" and .id == $id) | .state' <"$1" | paste -sd' '
}

life_in_order()
{
    local cur id out=$T_DIR/life.jsonl
    cur=$(head_at "$(first_url)")
    id=$(submit '{"command":["echo","hello"]}')
    wait_final "$id" 30
    cur=$(drain_feed "$(first_url)" "$cur" "$out")
    assert_eq "the task's states in order" "queued assigned running succeeded" "$(states "$out" "$id")"
    assert_jq "assigned, running and succeeded name the worker and attempt 1" \
        '[.[] | select(.id == "'"$id"'" and .state != "queued")] | all(.worker == "w1" and .attempt == 1)' \
        "$(jq -s . "$out")"
    assert_jq "every event has cursor, at, kind, id and state" \
        'all(.[]; (.cursor | type == "string") and (.at | test("Z$")) and .kind == "task" and (.state | type == "string"))' \
        "$(jq -s . "$out")"
    # Read again from the same cursor: the same events (a reader may retry an answer it lost).
    local after_queued
    after_queued=$(jq -r --arg id "$id" 'select(.id == $id and .state == "queued") | .cursor' "$out")
    api_at "$(first_url)" GET "/v1/events?after=$after_queued&limit=1000"
    assert_status "re-read" 200
    assert_jq "re-reading after the first event gives the rest again" \
        '[.events[] | select(.id == "'"$id"'") | .state] == ["assigned", "running", "succeeded"]' "$API_BODY"
}
run_case "a task's life shows in the feed in order" life_in_order

retry_in_feed()
{
    local cur id out=$T_DIR/retry.jsonl
    cur=$(head_at "$(first_url)")
    id=$(submit '{"command":["sh","-c","exit 3"],"max_attempts":2,"retry_backoff_s":0}')
    wait_final "$id" 30
    drain_feed "$(first_url)" "$cur" "$out" >/dev/null
    assert_eq "both attempts in order" "queued assigned running queued assigned running failed" \
        "$(states "$out" "$id")"
    assert_jq "the retry's queued event says how the first attempt ended" \
        '[.[] | select(.id == "'"$id"'" and .state == "queued")] | .[0].outcome == null and .[1].outcome == "failed" and .[1].attempt == 2' \
        "$(jq -s . "$out")"
}
run_case "a retried task shows each attempt, and why it was queued again" retry_in_feed

long_poll_wakes()
{
    local cur id t0 t1 out=$T_DIR/poll.json
    cur=$(head_at "$(first_url)")
    t0=$(now_ms)
    (
        api_at "$(first_url)" GET "/v1/events?after=$cur&wait=30"
        printf '%s\n%s\n' "$API_STATUS" "$API_BODY" >"$out.tmp"
        mv "$out.tmp" "$out"
    ) &
    local poller=$!
    id=$(submit '{"command":["true"]}')
    wait_for "the long poll to answer" 35 test -s "$out"
    wait "$poller" || true
    t1=$(now_ms)
    assert_eq "the long poll answered 200" 200 "$(head -1 "$out")"
    assert_jq "with the new task's first event" \
        '.events | length >= 1 and .[0].id == "'"$id"'" and .[0].state == "queued"' "$(tail -n +2 "$out")"
    ((t1 - t0 < 25000)) || fail "the long poll held until its deadline ($((t1 - t0)) ms): no wake-up"
    # Nothing new: a short poll answers empty at its deadline, with the same cursor.
    local next
    next=$(tail -n +2 "$out" | jq -r .next)
    wait_final "$id" 30
    next=$(drain_feed "$(first_url)" "$next" "$T_DIR/poll-rest.jsonl")
    api_at "$(first_url)" GET "/v1/events?after=$next&wait=1"
    assert_status "an idle poll" 200
    # (The cursor may move on to the next generation when the leader sealed this one.)
    assert_jq "an idle poll answers no event and a cursor" '.events == [] and (.next | test("^[0-9]+-[0-9]+-[0-9]+$"))' "$API_BODY"
}
run_case "a long poll returns when a change comes" long_poll_wakes

# Every task of ids: exactly queued, assigned, running, succeeded, once each, in that order.
each_life_once()
{
    local out=$1 id bad=0
    shift
    for id in "$@"; do
        local s
        s=$(states "$out" "$id")
        if [[ "$s" != "queued assigned running succeeded" ]]; then
            log "task $id: feed states \"$s\""
            bad=$((bad + 1))
        fi
    done
    ((bad == 0)) || fail "$bad of $# tasks have a wrong, missing or doubled state in the feed"
}

across_replicas_and_kill()
{
    local out=$T_DIR/follow.jsonl cur ids=() i old url n=0
    cur=$(head_at "${URL_OF[r2]}")
    for ((i = 0; i < 12; i++)); do
        ids+=("$(submit '{"command":["sleep","0.2"]}')")
        # Alternate replicas with the same cursor, a page of at most 5 at a time.
        url=${URL_OF[r1]}
        ((i % 2)) && url=${URL_OF[r2]}
        proc_alive r1 || url=${URL_OF[r2]}
        proc_alive r2 || url=${URL_OF[r1]}
        api_at "$url" GET "/v1/events?after=$cur&limit=5"
        assert_status "follow via $url" 200
        jq -c '.events[]' <<<"$API_BODY" >>"$out"
        cur=$(jb .next)
        if ((i == 5)); then
            old=$(leader_id)
            kill9 "$old"
            wait_for "a new leader" 30 leader_is_not "$old"
            log "killed leader $old"
        fi
    done
    for id in "${ids[@]}"; do wait_final "$id" 60; done
    cur=$(drain_feed "$(first_url)" "$cur" "$out")
    each_life_once "$out" "${ids[@]}"
    n=$(jq -s 'map(.cursor) | length' "$out")
    assert_eq "no cursor twice" "$n" "$(jq -r .cursor "$out" | sort -u | wc -l)"
    # The feed crossed sealed generations (7 event znodes each): a cursor's generation moved.
    assert_jq "the reader crossed generations" \
        'map(.cursor | split("-")[0] | tonumber) | unique | length >= 2' "$(jq -s . "$out")"
    # Restart the killed replica for the cases after this one (this case runs in the script's
    # own shell, so that the new process is the one later cases stop).
    CORRAL_TEST_EVENTS_GEN_SIZE=7 corrald_start "$old"
    wait_for "a leader" 20 has_leader
}
case_begin "a reader moving between replicas across a leader kill misses nothing, doubles nothing"
across_replicas_and_kill
case_end

workers_in_feed()
{
    local cur out=$T_DIR/workers.jsonl
    cur=$(head_at "$(first_url)")
    worker_start w2 --slots 1
    api POST /v1/workers/w2/cordon '{"reason":"disk"}'
    assert_status "cordon w2" 200
    stop_pid w2
    wait_for "w2 to leave /v1/workers" 30 bash -c "! curl -s '$(first_url)/v1/workers' | jq -e '.workers | any(.id == \"w2\")' >/dev/null"
    wait_for "the feed to show w2 gone" 20 bash -c "curl -s '$(first_url)/v1/events?after=$cur&limit=1000' | jq -e '.events | any(.kind == \"worker\" and .id == \"w2\" and .state == \"gone\")' >/dev/null"
    drain_feed "$(first_url)" "$cur" "$out" >/dev/null
    assert_eq "w2's states in order" "active cordoned gone" \
        "$(jq -r 'select(.kind == "worker" and .id == "w2") | .state' "$out" | paste -sd' ')"
    assert_jq "worker events carry no attempt" 'all(.[]; .kind != "worker" or (has("attempt") | not))' "$(jq -s . "$out")"
}
run_case "workers show in the feed when they come, are cordoned and go" workers_in_feed

bad_cursors()
{
    local c
    for c in 'x' '1-2' '0-0-0' '01-2-3' '1-2-3-4' '99999999999999999-1-1'; do
        api GET "/v1/events?after=$c"
        assert_status "after=$c" 400
        assert_error_body "after=$c"
        assert_jq "after=$c: invalid_request naming after" '.error == "invalid_request" and (.message | test("after"))' "$API_BODY"
    done
    api GET "/v1/events?after=9999-0-0"
    assert_status "a cursor of a generation that never was" 410
    assert_jq "410 says cursor_expired" '.error == "cursor_expired"' "$API_BODY"
    api GET "/v1/events?limit=0"
    assert_status "limit=0" 400
    api GET "/v1/events?wait=61"
    assert_status "wait=61" 400
}
run_case "bad cursors and parameters are 400; an unknown generation is 410" bad_cursors

trimmed_is_gone()
{
    local cur old
    cur=$(head_at "$(first_url)")
    # A leader that keeps sealed generations for 1 s: restart both replicas with it.
    old=$(leader_id)
    for r in r1 r2; do stop_pid "$r"; done
    CORRAL_TEST_EVENTS_GEN_SIZE=7 CORRAL_TEST_EVENTS_KEEP_MS=1000 corrald_start r1
    wait_for "a leader" 20 has_leader
    local ids=() i
    for ((i = 0; i < 10; i++)); do ids+=("$(submit '{"command":["true"]}')"); done
    for id in "${ids[@]}"; do wait_final "$id" 60; done
    wait_for "the old cursor to be answered 410" 30 bash -c \
        "[[ \$(curl -s -o /dev/null -w '%{http_code}' '$(first_url)/v1/events?after=$cur') == 410 ]]"
    api GET "/v1/events?after=$cur"
    assert_jq "410 cursor_expired with a message" '.error == "cursor_expired" and (.message | test("afresh"))' "$API_BODY"
    # A new head works.
    cur=$(head_at "$(first_url)")
    api GET "/v1/events?after=$cur"
    assert_status "the new head" 200
    log "was leader: $old"
}
run_case "a cursor in a trimmed generation is 410 cursor_expired" trimmed_is_gone

pass
