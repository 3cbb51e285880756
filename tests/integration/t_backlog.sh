#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# --max-queued: two replicas with a limit of 4 unfinished tasks. Up to the limit submissions are
# stored; past it POST /v1/tasks and /v1/tasks/batch get 429 backlog_full with Retry-After and
# nothing is stored (a batch that would cross the limit is refused whole); the other replica
# counts the same backlog from ZooKeeper; running tasks still count; once the workers finish
# them, submissions are accepted again. Bad values of the flag exit 2.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

MAX=4
zk_start
corrald_start r1 --max-queued "$MAX"
CORRAL_MAX_QUEUED=$MAX corrald_start r2
R1=${URL_OF[r1]}
R2=${URL_OF[r2]}
wait_for "a leader" 20 has_leader

# Tasks that run until $RELEASE exists: the test decides when they finish.
RELEASE=$T_DIR/release
new_marker M
HOLD="{\"command\":[\"sh\",\"-c\",\"while [ ! -e $RELEASE ]; do sleep 0.1 $M; done\"]}"
HDRS=$T_DIR/headers

# stored_tasks: how many tasks the cluster holds (any state).
stored_tasks()
{
    api_at "$R1" GET '/v1/tasks?limit=1000'
    assert_status "list tasks" 200
    jb '.tasks | length'
}

# post_refused URL PATH JSON DESC: the POST gets 429 backlog_full with Retry-After.
post_refused()
{
    local url=$1 path=$2 json=$3 desc=$4 retry
    api_at "$url" POST "$path" "$json" -D "$HDRS"
    assert_status "$desc" 429
    assert_error_body "$desc"
    assert_eq "$desc: error code" backlog_full "$(jb .error)"
    assert_contains "$desc: message names the limit" "--max-queued $MAX" "$(jb .message)"
    retry=$(tr -d '\r' <"$HDRS" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
    assert_match "$desc: Retry-After in seconds" '^[0-9]+$' "$retry"
}

batch_of()
{
    local n=$1
    jq -cn --argjson n "$n" --argjson s "$HOLD" '{tasks: [range($n) | $s]}'
}

case_begin "up to --max-queued tasks are stored; past it 429 with Retry-After and nothing stored"
for i in 1 2 3; do
    submit "$HOLD" "$R1" >/dev/null
    log "submitted $i"
done
assert_eq "3 tasks stored" 3 "$(stored_tasks)"
post_refused "$R1" /v1/tasks/batch "$(batch_of 2)" "batch of 2 on top of 3 (limit 4)"
assert_eq "the refused batch stored nothing" 3 "$(stored_tasks)"
api_at "$R1" POST /v1/tasks/batch "$(batch_of 1)"
assert_status "batch of 1 reaches the limit" 201
assert_eq "4 tasks stored" 4 "$(stored_tasks)"
post_refused "$R1" /v1/tasks "$HOLD" "single submit past the limit"
post_refused "$R1" /v1/tasks/batch "$(batch_of 1)" "batch of 1 past the limit"
assert_eq "the refused submissions stored nothing" 4 "$(stored_tasks)"
case_end

other_replica_counts_from_zookeeper()
{
    post_refused "$R2" /v1/tasks "$HOLD" "single submit through r2"
    post_refused "$R2" /v1/tasks/batch "$(batch_of 1)" "batch through r2"
    assert_eq "nothing stored through r2" 4 "$(stored_tasks)"
}
run_case "the other replica counts the same backlog (from ZooKeeper)" \
    other_replica_counts_from_zookeeper

running_is()
{
    api_at "$R1" GET '/v1/tasks?state=running'
    [[ "$API_STATUS" == 200 && "$(jb '.tasks | length')" == "$1" ]]
}

# The worker started here runs the tasks of the next case too.
case_begin "assigned and running tasks count as unfinished"
worker_start w1 --slots 2
wait_for "2 tasks running" 20 running_is 2
# Past the count's cache period (250 ms): both replicas count again, now 2 queued + 2 running.
sleep 0.5
post_refused "$R1" /v1/tasks "$HOLD" "r1 with 2 queued and 2 running"
post_refused "$R2" /v1/tasks "$HOLD" "r2 with 2 queued and 2 running"
assert_eq "nothing stored while running" 4 "$(stored_tasks)"
case_end

accepted()
{
    api_at "$1" POST /v1/tasks '{"command":["true"]}'
    [[ "$API_STATUS" == 201 ]] && return 0
    [[ "$API_STATUS" == 429 ]] || fail "submit while draining: HTTP $API_STATUS: $API_BODY"
    return 1
}

# batch_accepted URL: a batch of 2 is stored (201), or refused whole while the backlog is
# still full (429: nothing stored, so trying again is fine); anything else fails the test.
batch_accepted()
{
    api_at "$1" POST /v1/tasks/batch "$(jq -cn '{tasks: [range(2) | {command: ["true"]}]}')"
    [[ "$API_STATUS" == 201 ]] && return 0
    [[ "$API_STATUS" == 429 ]] || fail "batch while draining: HTTP $API_STATUS: $API_BODY"
    return 1
}

case_begin "once the workers finish tasks, submissions are accepted again"
touch "$RELEASE"
wait_for "r2 to accept a submission" 30 accepted "$R2"
wait_for "r1 to accept a submission" 30 accepted "$R1"
# The two just accepted may still be unfinished (a loaded machine): the batch of 2 fits once
# at most 2 tasks are, which the workers bring about.
wait_for "r1 to accept a batch within the limit again" 30 batch_accepted "$R1"
assert_eq "4 held + 2 single + 2 in the batch" 8 "$(stored_tasks)"
case_end

bad_values_exit_2()
{
    local v out rc
    for v in 0 -1 x 1.5 ''; do
        rc=0
        out=$("$CORRALD" --zk "$ZK" --max-queued "$v" 2>&1) || rc=$?
        assert_eq "--max-queued '$v' exit status" 2 "$rc"
        assert_eq "--max-queued '$v': one line" 1 "$(grep -c . <<<"$out")"
        assert_contains "--max-queued '$v' names the flag" "--max-queued" "$out"
    done
    rc=0
    out=$(CORRAL_MAX_QUEUED=0 "$CORRALD" --zk "$ZK" 2>&1) || rc=$?
    assert_eq "CORRAL_MAX_QUEUED=0 exit status" 2 "$rc"
    assert_contains "CORRAL_MAX_QUEUED=0 names the variable" CORRAL_MAX_QUEUED "$out"
    "$CORRALD" --help | grep -q -- '--max-queued N' || fail "--help does not list --max-queued"
}
run_case "bad --max-queued values: one line on stderr, exit 2" bad_values_exit_2

pass
