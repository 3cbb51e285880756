#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Cron schedules through REST on three replicas: bad input is 400/404/409 and stores nothing; a
# schedule firing every 2 s keeps firing exactly once per period while the leader is killed with
# -9 three times (misfire fire_all: the ledger has one fire per 2 s slot, no gap, no duplicate, and one
# task per fire); after a full outage of every replica, skip / fire_once / fire_all give their
# documented counts; overlap skip and cancel_previous with a long task; pause, resume, trigger,
# next_fire in a time zone, the fires ledger and the lateness histogram.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
corrald_start r3
wait_for "a leader" 20 has_leader
worker_start w1 --slots 8 --cpu 8 # CPU for 8 tasks at once (the default is the machine's 2)

# fires NAME: the ledger (newest first) into FIRES.
FIRES=
fires()
{
    api GET "/v1/schedules/$1/fires?limit=1000"
    assert_status "fires of $1" 200
    FIRES=$API_BODY
}

# JQ_MS: a jq definition: ms turns "2026-12-06T20:04:21.092Z" into epoch milliseconds.
JQ_MS='def ms: (.[0:19] + "Z" | fromdate) * 1000 + (.[20:23] | tonumber);'

# assert_one_per_slot DESC: the fires in FIRES are 2 s apart from the first to the last, each
# slot once (no gap, no duplicate); sets SLOTS to their number.
SLOTS=0
assert_one_per_slot()
{
    local times uniq gaps
    times=$(jq -r '.fires[].scheduled_at' <<<"$FIRES" | sort)
    SLOTS=$(wc -l <<<"$times")
    uniq=$(sort -u <<<"$times" | wc -l)
    assert_eq "$1: no duplicate scheduled_at" "$SLOTS" "$uniq"
    gaps=$(while read -r t; do ms_of "$t"; done <<<"$times" |
        awk 'NR > 1 && $1 - p != 2000 {printf "%d after %d; ", $1 - p, p} {p = $1}')
    [[ -z "$gaps" ]] || fail "$1: the ledger has gaps: $gaps"
}

bad_input()
{
    local body
    for body in \
        '{"name":"b1","cron":"61 * * * *","task":{"command":["true"]}}' \
        '{"name":"b2","cron":"* * * * *","timezone":"Mars/Olympus","task":{"command":["true"]}}' \
        '{"name":"b3","cron":"* * * * *"}' \
        '{"name":"b4","cron":"* * * * *","task":{"command":["true"]},"colour":"red"}' \
        '{"name":"b5","cron":"* * * * *","task":{"command":["true"],"idempotency_key":"k"}}' \
        '{"name":"b6","cron":"* * * * *","task":{"command":["true"]},"misfire":"sometimes"}' \
        '{"name":"b7","cron":"* * * * *","task":{"command":["true"]},"overlap":"never"}' \
        '{"name":".b8","cron":"* * * * *","task":{"command":["true"]}}' \
        '{"name":"b9","cron":"0 0 30 2 *","task":{"command":["true"]}}' \
        '{"name":"b10","cron":"* * * * *","task":{"command":["true"],"priority":5000}}' \
        'not json'; do
        api POST /v1/schedules "$body"
        assert_status "bad schedule $body" 400
        assert_error_body "bad schedule $body"
    done
    api POST /v1/schedules '{"name":"b2","cron":"* * * * *","timezone":"Mars/Olympus","task":{"command":["true"]}}'
    assert_jq "an unknown zone is named" '.message | test("timezone")'
    api GET /v1/schedules
    assert_status "list" 200
    assert_jq "nothing stored" '.schedules | length == 0'
    local p
    for p in "GET /v1/schedules/nope" "DELETE /v1/schedules/nope" "POST /v1/schedules/nope/pause" \
        "POST /v1/schedules/nope/trigger" "GET /v1/schedules/nope/fires"; do
        # shellcheck disable=SC2086  # method and path
        api ${p% *} "${p#* }"
        assert_status "$p" 404
        assert_error_body "$p"
    done
}
run_case "bad schedules are 400 and store nothing; unknown names 404" bad_input

zone_and_pause()
{
    api POST /v1/schedules '{"name":"berlin9","cron":"0 9 * * *","timezone":"Europe/Berlin","task":{"command":["true"]}}'
    assert_status "create" 201
    assert_jq "defaults" '.misfire == "fire_once" and .overlap == "skip" and .catchup_window_s == 3600 and .paused == false and .last_fire == null'
    # 09:00 in Berlin is 08:00Z in winter (CET) and 07:00Z in summer (CEST).
    assert_jq "next_fire is 09:00 Berlin time" '.next_fire | test("T0[78]:00:00.000Z$")'
    local m
    m=$(date -u +%m)
    if ((10#$m >= 11 || 10#$m <= 2)); then
        assert_jq "winter: 08:00Z" '.next_fire | endswith("T08:00:00.000Z")'
    fi
    api POST /v1/schedules '{"name":"berlin9","cron":"0 10 * * *","task":{"command":["true"]}}'
    assert_status "the same name again" 409
    api POST /v1/schedules/berlin9/pause
    assert_status "pause" 200
    assert_jq "paused: next_fire null" '.paused == true and .next_fire == null'
    api POST /v1/schedules/berlin9/resume
    assert_status "resume" 200
    assert_jq "resumed" '.paused == false and .next_fire != null'
    api_at "${URL_OF[r2]}" GET /v1/schedules
    assert_jq "listed on another replica" '[.schedules[].name] | index("berlin9") != null'
    api DELETE /v1/schedules/berlin9
    assert_status "delete" 200
    api GET /v1/schedules/berlin9
    assert_status "gone" 404
}
run_case "next_fire in Europe/Berlin, 409 on a taken name, pause/resume, delete" zone_and_pause

# ---- exactly once across leader kills ------------------------------------------------------

case_begin "a schedule every 2 s (fire_all) while the leader is killed -9 three times"
api POST /v1/schedules '{"name":"tick","cron":"*/2 * * * * *","misfire":"fire_all","overlap":"allow","catchup_window_s":600,"task":{"command":["true"],"name":"tick"}}'
assert_status "create tick" 201
T0=$(now_ms)
at_least_fires()
{
    fires tick
    [[ "$(jb '.fires | length' "$FIRES")" -ge "$1" ]]
}
wait_for "3 fires" 20 at_least_fires 3
for k in 1 2 3; do
    OLD=$(leader_id)
    kill9 "$OLD"
    wait_for "a leader other than $OLD" 20 leader_is_not "$OLD"
    corrald_start "$OLD"
    n=$(jb '.fires | length' "$FIRES")
    wait_for "fires after kill $k" 20 at_least_fires $((n + 3))
done
api POST /v1/schedules/tick/pause
assert_status "pause tick" 200
log "tick ran $((($(now_ms) - T0) / 1000)) s"
case_end

ledger_exact()
{
    fires tick
    assert_one_per_slot tick
    local n=$SLOTS
    assert_jq "every fire made a task" 'all(.fires[]; .task != null)' "$FIRES"
    assert_eq "one task per fire, no two fires with one task" "$n" "$(jq -r '.fires[].task' <<<"$FIRES" | sort -u | wc -l)"
    api GET '/v1/tasks?limit=1000'
    assert_eq "exactly one task named tick per fire" "$n" "$(jb '[.tasks[] | select(.name == "tick")] | length')"
    log "ledger: $n fires; lateness (fired_at - scheduled_at) ms: $(jq -r "$JQ_MS"'[.fires[] | (.fired_at | ms) - (.scheduled_at | ms)] | sort | "min \(.[0]) median \(.[length / 2 | floor]) max \(.[-1])"' <<<"$FIRES")"
}
run_case "the ledger: one fire per 2 s slot, no gap, no duplicate, one task each" ledger_exact

# ---- misfire after a full outage ----------------------------------------------------------

case_begin "three schedules (skip, fire_once, fire_all); every replica stopped for 7 s"
for p in skip fire_once fire_all; do
    api POST /v1/schedules "{\"name\":\"m-$p\",\"cron\":\"*/2 * * * * *\",\"misfire\":\"$p\",\"overlap\":\"allow\",\"task\":{\"command\":[\"true\"]}}"
    assert_status "create m-$p" 201
done
for p in skip fire_once fire_all; do
    wait_for "m-$p fires twice" 20 bash -c "curl -s '$(first_live_url)/v1/schedules/m-$p/fires' | jq -e '.fires | length >= 2' >/dev/null"
done
for r in r1 r2 r3; do proc_alive "$r" && stop_pid "$r" 10; done
DOWN_AT=$(now_ms)
poll_until 10 bash -c "(( \$(date +%s%3N) > $DOWN_AT + 7000 ))" || true
corrald_start r1
corrald_start r2
corrald_start r3
UP_AT=$(now_ms)
wait_for "a leader after the outage" 20 has_leader
case_end

# outage_view NAME: for the fires after DOWN_AT: F (the first fired_at after it, ms), "first"
# (the fires decided then) and "inside" (fires whose time lies in the outage before F - 2.5 s).
outage_view()
{
    fires "$1"
    jq -c --argjson down "$DOWN_AT" "$JQ_MS"'
        [.fires[] | {s: (.scheduled_at | ms), f: (.fired_at | ms)}] as $all
        | ([$all[] | select(.f > $down) | .f] | min) as $F
        | {F: $F, first: [$all[] | select(.f == $F)],
           inside: [$all[] | select(.s > $down + 500 and .s < $F - 2500)]}' <<<"$FIRES"
}

after_at_least()
{
    fires "$1"
    jq -e --argjson up "$UP_AT" --argjson n "$2" "$JQ_MS"'[.fires[] | select((.scheduled_at | ms) >= $up)] | length >= $n' >/dev/null <<<"$FIRES"
}

misfire_counts()
{
    local p v
    for p in skip fire_once fire_all; do
        wait_for "m-$p fires again after the outage" 20 after_at_least "m-$p" 2
    done
    v=$(outage_view m-skip)
    log "skip: $v"
    assert_jq "skip: nothing for the missed times; at most the on-time one (late <= 2 s)" \
        '(.inside | length == 0) and (.first | length <= 1) and all(.first[]; .f - .s <= 2000)' "$v"
    v=$(outage_view m-fire_once)
    log "fire_once: $v"
    assert_jq "fire_once: one fire for all the missed times" '(.first | length == 1) and (.inside | length <= 1)' "$v"
    v=$(outage_view m-fire_all)
    log "fire_all: $v"
    assert_jq "fire_all: every missed 2 s slot at once (7 s outage: 3 or more)" '.first | length >= 3' "$v"
    fires m-fire_all
    assert_one_per_slot m-fire_all
    for p in skip fire_once fire_all; do
        api POST "/v1/schedules/m-$p/pause"
    done
}
run_case "after the outage: skip 0, fire_once 1, fire_all every missed slot" misfire_counts

# ---- overlap ----------------------------------------------------------------------------------

overlap_skip_and_cancel()
{
    api POST /v1/schedules '{"name":"o-skip","cron":"*/2 * * * * *","overlap":"skip","task":{"command":["sleep","5"]}}'
    assert_status "create o-skip" 201
    api POST /v1/schedules '{"name":"o-cancel","cron":"*/2 * * * * *","overlap":"cancel_previous","task":{"command":["sleep","30"]}}'
    assert_status "create o-cancel" 201
    wait_for "o-skip has skipped a fire" 30 bash -c "curl -s '$(first_live_url)/v1/schedules/o-skip/fires?limit=1000' | jq -e '[.fires[] | select(.state == \"skipped\")] | length >= 2' >/dev/null"
    wait_for "o-cancel has cancelled one" 30 bash -c "curl -s '$(first_live_url)/v1/schedules/o-cancel/fires?limit=1000' | jq -e '[.fires[] | select(.state == \"cancelled\")] | length >= 1' >/dev/null"
    api POST /v1/schedules/o-skip/pause
    api POST /v1/schedules/o-cancel/pause
    fires o-skip
    assert_jq "skip: skipped fires have no task" 'all(.fires[] | select(.state == "skipped"); .task == null)' "$FIRES"
    fires o-cancel
    assert_jq "cancel_previous: every fire made a task" 'all(.fires[]; .task != null)' "$FIRES"
    # Never two unfinished at once: all but the newest are final.
    wait_for "o-cancel: at most one unfinished" 20 bash -c "curl -s '$(first_live_url)/v1/schedules/o-cancel/fires?limit=1000' | jq -e '[.fires[] | select(.state != \"cancelled\" and .state != \"succeeded\" and .state != \"failed\")] | length <= 1' >/dev/null"
}
run_case "overlap skip records skipped fires; cancel_previous cancels the previous task" overlap_skip_and_cancel

# Under overlap "allow" a fire runs beside the unfinished task before it.
two_running()
{
    fires o-allow
    local ids id n=0
    ids=$(jq -r '.fires[] | select(.task != null) | .task' <<<"$FIRES")
    for id in $ids; do
        [[ "$(task_state "$id")" == running ]] && n=$((n + 1))
    done
    ((n >= 2))
}
overlap_allow()
{
    api POST /v1/schedules '{"name":"o-allow","cron":"*/2 * * * * *","overlap":"allow","task":{"command":["sleep","5"]}}'
    assert_status "create o-allow" 201
    wait_for "two o-allow tasks running at once" 30 two_running
    api POST /v1/schedules/o-allow/pause
    fires o-allow
    assert_jq "allow: no fire skipped" 'all(.fires[]; .task != null)' "$FIRES"
}
run_case "overlap allow runs a fire beside the unfinished one" overlap_allow

# Under overlap "queue" a fire waits (at most one) for the task ahead: the tasks never overlap
# and each starts after the one before it finished. A task lasts 5 s and fires come every 2 s,
# so while one runs, the first fire after its start waits and the second (a second before it
# ends) is skipped; the wait below asks for both, so it does not hinge on which event the
# leader handles first when a task's end and a fire coincide.
overlap_queue()
{
    api POST /v1/schedules '{"name":"o-queue","cron":"*/2 * * * * *","overlap":"queue","task":{"command":["sleep","5"],"name":"o-queue"}}'
    assert_status "create o-queue" 201
    local ids
    wait_for "o-queue made 3 tasks and skipped a fire" 60 bash -c "curl -s '$(first_live_url)/v1/schedules/o-queue/fires?limit=1000' | jq -e '([.fires[] | select(.task != null)] | length >= 3) and ([.fires[] | select(.state == \"skipped\")] | length >= 1)' >/dev/null"
    api POST /v1/schedules/o-queue/pause
    assert_status "pause o-queue" 200
    fires o-queue
    ids=$(jq -r '[.fires[] | select(.task != null) | .task] | reverse | .[0:3][]' <<<"$FIRES")
    local prev_end=0 id st en
    for id in $ids; do
        wait_final "$id" 30
        assert_eq "o-queue task $id" succeeded "$(jb .state "$TASK")"
        st=$(ms_of "$(jb .started_at "$TASK")")
        en=$(ms_of "$(jb .finished_at "$TASK")")
        ((st >= prev_end)) || fail "task $id started $((prev_end - st)) ms before the one ahead of it finished"
        prev_end=$en
    done
    assert_jq "some fires were dropped while one waited" '[.fires[] | select(.state == "skipped")] | length >= 1' "$FIRES"
}
run_case "overlap queue: one fire waits for the task ahead; tasks never overlap" overlap_queue

trigger_once()
{
    api POST /v1/schedules '{"name":"manual","cron":"0 0 1 1 *","task":{"command":["echo","by-hand"]}}'
    assert_status "create manual" 201
    api POST /v1/schedules/manual/trigger
    assert_status "trigger" 201
    local id
    id=$(jb .id)
    wait_final "$id" 30
    assert_eq "triggered task" succeeded "$(jb .state "$TASK")"
    fires manual
    assert_jq "the ledger has the trigger" ".fires[0].task == \"$id\" and .fires[0].state == \"succeeded\"" "$FIRES"
}
run_case "trigger fires once now, recorded in the ledger" trigger_once

cli_schedules()
{
    local c=(timeout 30 "$CLI" --server "$(first_live_url)") out rc id
    out=$("${c[@]}" schedule add cli-sched --cron '*/2 * * * * *' --timezone America/New_York \
        --misfire skip --overlap allow --name from-cli -- echo cli-fire) || fail "schedule add: $out"
    assert_contains "add prints the schedule" cli-sched "$out"
    out=$("${c[@]}" --json schedule get cli-sched) || fail "schedule get: $out"
    assert_jq "get --json" '.name == "cli-sched" and .timezone == "America/New_York" and .misfire == "skip" and .task.name == "from-cli"' "$out"
    out=$("${c[@]}" schedule list) || fail "schedule list: $out"
    assert_contains "list shows it" cli-sched "$out"
    wait_for "cli-sched fires" 20 bash -c "'$CLI' --server '$(first_live_url)' --json schedule fires cli-sched | jq -e '.fires | length >= 1' >/dev/null"
    out=$("${c[@]}" schedule fires cli-sched --limit 1) || fail "schedule fires: $out"
    assert_contains "fires table" "SCHEDULED_AT" "$out"
    out=$("${c[@]}" schedule pause cli-sched) || fail "schedule pause: $out"
    out=$("${c[@]}" schedule trigger cli-sched) || fail "schedule trigger: $out"
    id=$(awk 'NF {l=$NF} END {print l}' <<<"$out")
    wait_final "$id" 30
    assert_contains "triggered by the CLI" cli-fire "$(jb .output "$TASK")"
    out=$("${c[@]}" schedule rm cli-sched) || fail "schedule rm: $out"
    rc=0
    "${c[@]}" schedule get cli-sched >/dev/null 2>&1 || rc=$?
    assert_eq "get after rm exits 1" 1 "$rc"
    rc=0
    "${c[@]}" schedule add 'bad name' --cron '@daily' -- true >/dev/null 2>&1 || rc=$?
    assert_eq "a bad name is a usage error" 2 "$rc"
    rc=0
    "${c[@]}" schedule add cli-bad --cron '99 * * * *' -- true >/dev/null 2>"$T_DIR/.err" || rc=$?
    assert_eq "a bad cron is refused by the server: exit 1" 1 "$rc"
    assert_contains "the error names cron" cron "$(cat "$T_DIR/.err")"
}
run_case "corral schedule add/get/list/fires/pause/trigger/rm" cli_schedules

lateness_metric()
{
    api_at "${URL_OF[$(leader_id)]}" GET /metrics
    assert_status "metrics" 200
    local c
    c=$(awk '$1 == "corral_schedule_fire_lateness_seconds_count" {print $2}' <<<"$API_BODY")
    ((c > 0)) || fail "no fire lateness observed on the leader: '$c'"
    assert_contains "buckets" 'corral_schedule_fire_lateness_seconds_bucket{le="0.5"}' "$API_BODY"
}
run_case "fire lateness is a histogram in /metrics" lateness_metric

pass
