#!/usr/bin/env bash
# shellcheck disable=SC2016  # $VARS in single quotes are expanded by the task's shell
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# REST basics on 3 replicas and 2 workers: a task written through one replica is read at once
# through another, runs to success with its output, env and timestamps; a shell task; leader and
# workers endpoints agree; the list endpoint filters by state and pages with limit/next.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
corrald_start r3
worker_start w1 --slots 2 --label zone=a
worker_start w2 --slots 2 --label zone=b
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
R3=${URL_OF[r3]}
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
wait_for "a leader" 20 has_leader

same_leader_everywhere()
{
    local leader lid u
    api_at "$R1" GET /v1/leader
    assert_status "leader from r1" 200
    leader=$API_BODY
    assert_jq "leader shape" '(.id|type=="string") and (.url|type=="string") and (.epoch|type=="number") and .epoch > 0'
    assert_jq "leader is one of ours" '.id == "r1" or .id == "r2" or .id == "r3"'
    lid=$(jb .id)
    assert_eq "leader url is the leader's advertised URL" "${URL_OF[$lid]}" "$(jb .url)"
    for u in "$R2" "$R3"; do
        api_at "$u" GET /v1/leader
        assert_status "leader from $u" 200
        assert_eq "leader from $u" "$(jq -c '{id,url,epoch}' <<<"$leader")" "$(jq -c '{id,url,epoch}' <<<"$API_BODY")"
    done
}
run_case "every replica names the same leader, with its URL" same_leader_everywhere

workers_listed()
{
    api_at "$R3" GET /v1/workers
    assert_status "workers" 200
    assert_jq "two workers" '.workers | length == 2'
    assert_jq "worker fields" '.workers | all((.id|type=="string") and (.slots==2) and (.running|type=="number")
        and (.capacity.cpu|type=="number") and (.capacity.mem_mb|type=="number")
        and (.used.cpu|type=="number") and (.used.mem_mb|type=="number")
        and (.labels|type=="object") and (.weight|type=="number"))'
    assert_jq "w1 zone a" '.workers[] | select(.id=="w1") | .labels.zone == "a"'
    assert_jq "w2 zone b" '.workers[] | select(.id=="w2") | .labels.zone == "b"'
}
run_case "/v1/workers lists both workers with their fields" workers_listed

# ID, ID2 and ID3 are counted by the list cases: the cases up to those depend on each other.
case_begin "a task submitted through r2 is found through r3 at once and succeeds"
api_at "$R2" POST /v1/tasks '{"command":["echo","hello"],"name":"greeting"}'
assert_status "submit to r2" 201
ID=$(jb .id)
assert_match "id" '^[A-Za-z0-9._-]+$' "$ID"
assert_jq "submitted task" '.name == "greeting" and (.state | IN("queued","assigned","running","succeeded"))'
assert_jq "defaults filled" '.spec.command == ["echo","hello"] and .spec.priority == 0 and .spec.timeout_s == 3600
    and .spec.max_attempts == 3 and .spec.resources.cpu == 1 and .spec.resources.mem_mb == 0'
assert_match "submitted_at" "$ISO" "$(jb .submitted_at)"

api_at "$R3" GET "/v1/tasks/$ID"
assert_status "task written via r2 is found via r3 at once" 200
assert_eq "same id via r3" "$ID" "$(jb .id)"

# Long poll on r1 until finished (max 30 s), then confirm.
api_at "$R1" GET "/v1/tasks/$ID?wait=30"
assert_status "long poll" 200
wait_final "$ID" 30
T=$TASK
assert_eq "state" succeeded "$(jb .state "$T")"
assert_eq "exit code" 0 "$(jb .exit_code "$T")"
assert_contains "output" hello "$(jb .output "$T")"
assert_jq "epoch" '.epoch | type == "number" and . > 0' "$T"
assert_jq "worker" '.worker == "w1" or .worker == "w2"' "$T"
assert_jq "attempt" '.attempt == 1' "$T"
assert_jq "error null" '.error == null' "$T"
assert_jq "no history" '(.history // []) | length == 0' "$T"
for f in submitted_at started_at finished_at; do
    assert_match "$f" "$ISO" "$(jb ".$f" "$T")"
done
assert_jq "timestamps ordered" '.submitted_at <= .started_at and .started_at <= .finished_at' "$T"
case_end

case_begin "a shell task with a pipe sees CORRAL_* and its own env"
SH='echo "id=$CORRAL_TASK_ID attempt=$CORRAL_ATTEMPT epoch=$CORRAL_EPOCH foo=$FOO"; echo piped | tr a-z A-Z'
ID2=$(submit "$(jq -nc --arg c "$SH" '{command:$c, shell:true, env:{FOO:"bar baz"}}')" "$R1")
wait_final "$ID2" 30
T2=$TASK
assert_eq "shell task state" succeeded "$(jb .state "$T2")"
OUT=$(jb .output "$T2")
assert_contains "CORRAL_TASK_ID" "id=$ID2" "$OUT"
assert_contains "CORRAL_ATTEMPT" "attempt=1" "$OUT"
assert_contains "CORRAL_EPOCH" "epoch=$(jb .epoch "$T2")" "$OUT"
assert_contains "custom env" "foo=bar baz" "$OUT"
assert_contains "pipe" "PIPED" "$OUT"
case_end

case_begin "an argv task is not shell-expanded"
ID3=$(submit '{"command":["echo","a|b","$HOME"]}' "$R3")
wait_final "$ID3" 30
assert_contains "argv is not shell-expanded" 'a|b $HOME' "$(jb .output "$TASK")"
case_end

# IDS: the list cases below count exactly these tasks.
case_begin "7 tasks through all replicas succeed"
IDS=("$ID" "$ID2" "$ID3")
for i in 1 2 3 4; do
    IDS+=("$(submit "{\"command\":[\"echo\",\"n$i\"]}" "${URL_OF[r$(((i % 3) + 1))]}")")
done
for id in "${IDS[@]}"; do
    wait_final "$id" 30
    assert_eq "task $id" succeeded "$(jb .state "$TASK")"
done
case_end

list_filter_and_paging()
{
    local seen=() after='' page q got=() id
    api_at "$R2" GET '/v1/tasks?state=succeeded&limit=2'
    assert_status "list limit 2" 200
    assert_jq "list page shape" '(.tasks|type=="array") and (.tasks|length==2) and (.next|type=="string")'
    assert_jq "state filter" '.tasks | all(.state == "succeeded")'

    for ((page = 0; page < 20; page++)); do
        q="/v1/tasks?state=succeeded&limit=2"
        [[ -n "$after" ]] && q+="&after=$after"
        api_at "$R3" GET "$q"
        assert_status "list page $page" 200
        assert_jq "page $page at most 2" '.tasks | length <= 2'
        assert_jq "page $page filtered" '.tasks | all(.state == "succeeded")'
        mapfile -t got < <(jb '.tasks[].id')
        seen+=("${got[@]}")
        after=$(jb '.next // empty')
        [[ -n "$after" ]] || break
    done
    assert_eq "paging ended with next=null" "" "$after"
    assert_eq "paged ids count" "${#IDS[@]}" "${#seen[@]}"
    assert_eq "no duplicates across pages" "${#IDS[@]}" "$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)"
    for id in "${IDS[@]}"; do
        assert_contains "paged ids include $id" " $id " " ${seen[*]} "
    done

    api_at "$R1" GET '/v1/tasks?state=queued'
    assert_status "list queued" 200
    assert_jq "no queued tasks left" '(.tasks | length == 0) and .next == null'

    api_at "$R1" GET /v1/tasks
    assert_status "list all" 200
    assert_jq "all tasks listed" ".tasks | length == ${#IDS[@]}"
}
run_case "the list filters by state and pages with limit/next, each task once" list_filter_and_paging

# Unfinished filters also work: a task no worker can take stays queued.
queued_filter()
{
    local idq
    idq=$(submit '{"command":["true"],"constraints":{"zone":"nowhere"}}' "$R2")
    api_at "$R3" GET '/v1/tasks?state=queued'
    assert_status "list queued" 200
    assert_jq "queued task listed" ".tasks | map(.id) == [\"$idq\"]"
}
run_case "state=queued lists a task no worker can take" queued_filter

health_and_metrics()
{
    local r
    for r in r1 r2 r3; do
        api_at "${URL_OF[$r]}" GET /healthz
        assert_status "$r healthz" 200
    done
    api_at "$R1" GET /metrics
    assert_status "metrics" 200
}
run_case "/healthz on every replica and /metrics" health_and_metrics

pass
