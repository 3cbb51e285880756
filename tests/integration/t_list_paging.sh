#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Paging through GET /v1/tasks?state=S&limit=7 (docs/api.md "GET /v1/tasks"): 250 tasks, some
# succeeded, some failed, some queued (no worker has their label), some cancelled while queued
# or while running, a few running. Every state's pages hold each of its tasks exactly once, in
# the documented order, and next is null at the end; so does the listing without a state. A bad
# state, limit or after is 400.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
wait_for "a leader" 20 has_leader
worker_start w1 --slots 6 --cpu 6

# batch N SPEC: submit N copies of SPEC in one batch, append their ids to $T_DIR/<file>.
batch()
{
    local n=$1 spec=$2 file=$3
    api POST /v1/tasks/batch "$(jq -nc --argjson s "$spec" --argjson n "$n" \
        '{tasks: [range($n) | $s]}')"
    assert_status "batch of $n" 201
    jb '.tasks[].id' >>"$T_DIR/$file"
}

# pages STATE URL: page with limit=7 through the listing (STATE "" = any), checking each page;
# prints the ids in listing order.
pages()
{
    local state=$1 url=$2 after="" next q n=0 out
    out=$T_DIR/pages.$state
    : >"$out"
    while :; do
        q="/v1/tasks?limit=7${state:+&state=$state}${after:+&after=$after}"
        api_at "$url" GET "$q"
        assert_status "GET $q" 200
        assert_jq "page shape" '(.tasks | type == "array" and length <= 7) and
            (.next == null or (.next | type == "string"))'
        if [[ -n "$state" ]]; then
            assert_jq "every task of the page is $state" "all(.tasks[]; .state == \"$state\")"
        fi
        jb '.tasks[] | "\(.id) \(.finished_at)"' >>"$out"
        next=$(jb '.next // empty')
        [[ -n "$next" ]] || break
        after=$next
        n=$((n + 1))
        ((n < 200)) || fail "more than 200 pages for state '$state'"
    done
    awk '{ print $1 }' "$out"
}

# check_pages STATE FILE [URL]: the pages of STATE hold exactly the ids of FILE, once each.
check_pages()
{
    local state=$1 file=$2 url=${3:-${URL_OF[r2]}}
    pages "$state" "$url" >"$T_DIR/got.$state"
    local dups
    dups=$(sort "$T_DIR/got.$state" | uniq -d)
    [[ -z "$dups" ]] || fail "state=$state: listed more than once: $dups"
    if ! diff <(sort "$T_DIR/got.$state") <(sort -u "$T_DIR/$file") >"$T_DIR/diff.$state"; then
        fail "state=$state: pages differ from the expected tasks: $(head -20 "$T_DIR/diff.$state")"
    fi
    log "state=${state:-any}: $(wc -l <"$T_DIR/got.$state") tasks, each once"
}

all_final()
{
    local f id
    for f in "$@"; do
        while read -r id; do
            task_is_final "$id" || return 1
        done <"$T_DIR/$f"
    done
}

count_state()
{
    api GET "/v1/tasks?state=$1&limit=1000"
    [[ "$API_STATUS" == 200 ]] && [[ "$(jb '.tasks | length')" == "$2" ]]
}

case_begin "250 tasks in every state"
: >"$T_DIR/queued" && : >"$T_DIR/succeeded" && : >"$T_DIR/failed" && : >"$T_DIR/cancelled"
: >"$T_DIR/running"
batch 120 '{"command":["true"]}' succeeded
batch 30 '{"command":["false"],"max_attempts":1}' failed
batch 80 '{"command":["true"],"constraints":{"zone":"nowhere"}}' queued
# 30 of the queued ones are cancelled while queued.
head -30 "$T_DIR/queued" >"$T_DIR/cancel-queued"
tail -n +31 "$T_DIR/queued" >"$T_DIR/queued.left" && mv "$T_DIR/queued.left" "$T_DIR/queued"
while read -r id; do
    api POST "/v1/tasks/$id/cancel"
    assert_status "cancel of queued $id" 200
    assert_eq "cancel of queued $id" cancelled "$(jb .state)"
    echo "$id" >>"$T_DIR/cancelled"
done <"$T_DIR/cancel-queued"
wait_for "succeeded and failed tasks to finish" 120 count_state succeeded 120
wait_for "failed tasks to finish" 60 count_state failed 30
# 20 long tasks: 4 cancelled while running (through the worker), the others stay running.
batch 20 '{"command":["sleep","300"]}' long
wait_for "6 long tasks to run" 30 count_state running 6
api GET "/v1/tasks?state=running&limit=1000"
jb '.tasks[].id' | head -4 >"$T_DIR/cancel-running"
while read -r id; do
    api POST "/v1/tasks/$id/cancel"
    assert_status "cancel of running $id" 200
    echo "$id" >>"$T_DIR/cancelled"
done <"$T_DIR/cancel-running"
all_cancelled()
{
    local id
    while read -r id; do
        [[ "$(task_state "$id")" == cancelled ]] || return 1
    done <"$T_DIR/cancel-running"
}
wait_for "the running tasks to be cancelled" 30 all_cancelled
wait_for "6 long tasks to run again" 30 count_state running 6
api GET "/v1/tasks?state=running&limit=1000"
jb '.tasks[].id' >"$T_DIR/running"
grep -vxFf "$T_DIR/cancel-running" "$T_DIR/long" | grep -vxFf "$T_DIR/running" >>"$T_DIR/queued"
cat "$T_DIR/succeeded" "$T_DIR/failed" "$T_DIR/queued" "$T_DIR/cancelled" "$T_DIR/running" \
    >"$T_DIR/all"
assert_eq "tasks in all" 250 "$(sort -u "$T_DIR/all" | wc -l)"
case_end

run_case "state=queued pages hold every queued task once" check_pages queued queued
run_case "state=succeeded pages hold every succeeded task once" check_pages succeeded succeeded
run_case "state=failed pages hold every failed task once" check_pages failed failed
run_case "state=cancelled pages hold every cancelled task once" check_pages cancelled cancelled
run_case "state=running pages hold every running task once" check_pages running running
run_case "the pages of a replica that took no submit agree" check_pages cancelled cancelled \
    "${URL_OF[r1]}"
run_case "pages without a state hold every task once" check_pages "" all

ordered()
{
    # Queued and unfiltered pages: by id (submission order).
    LC_ALL=C sort -c "$T_DIR/got.queued" || fail "state=queued pages are not in id order"
    LC_ALL=C sort -c "$T_DIR/got." || fail "unfiltered pages are not in id order"
    # Finished states: by finish time, then id.
    local s
    for s in succeeded failed cancelled; do
        awk '{ print $2, $1 }' "$T_DIR/pages.$s" | LC_ALL=C sort -c ||
            fail "state=$s pages are not in finish order"
    done
}
run_case "pages come in the documented order" ordered

empty_states()
{
    api GET "/v1/tasks?state=assigned&limit=7"
    assert_status "state=assigned" 200
    assert_jq "nothing assigned, next null" '(.tasks | length) == 0 and .next == null'
    api GET "/v1/tasks?state=cancelling"
    assert_status "state=cancelling" 200
    assert_jq "nothing cancelling" '(.tasks | length) == 0 and .next == null'
}
run_case "an empty state is an empty page with next null" empty_states

after_gone()
{
    # A cursor whose task was deleted (here: never existed) still continues: from its time.
    api GET "/v1/tasks?state=succeeded&limit=7&after=000000000001-00000000"
    assert_status "after an unknown id" 200
    assert_jq "starts from the oldest" '(.tasks | length) == 7'
}
run_case "a cursor whose task is gone continues from its time" after_gone

bad_requests()
{
    local q
    for q in 'state=bogus' 'state=' 'limit=0' 'limit=1001' 'limit=abc' 'limit=-1' \
        'after=not-an-id' 'after=' 'state=queued&limit=7x'; do
        api GET "/v1/tasks?$q"
        assert_status "GET /v1/tasks?$q" 400
        assert_error_body "GET /v1/tasks?$q"
    done
}
run_case "a bad state, limit or after is 400" bad_requests

pass
