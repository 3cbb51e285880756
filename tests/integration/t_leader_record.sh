#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for and run_case
# SPDX-License-Identifier: MIT
# GET /v1/leader names only the replica that holds the epoch, and /metrics follows leadership:
#  - after kill -9 of the leader, no replica names the dead one for longer than the leader
#    record's staleness bound (1.5 s after its last beat), although its election node lives
#    until its session expires (4 s here); then the new leader is named with a larger epoch;
#  - a leader that loses ZooKeeper stops reporting itself as leader and its epoch at once.
# 4 s sessions (the most tickTime 200 allows) keep the dead leader's node well past the bound.
export CORRAL_IT_SESSION_MS=4000
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
corrald_start r2
wait_for "a leader" 20 has_leader
L1=$(leader_json)
OLD=$(jb .id "$L1")
E1=$(jb .epoch "$L1")
OTHER=r1
[[ "$OLD" == r1 ]] && OTHER=r2
log "leader $OLD epoch $E1"

metric()
{
    curl -s --max-time 2 "${URL_OF[$1]}/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

case_begin "both replicas name the leader that holds the epoch"
for r in r1 r2; do
    api_at "${URL_OF[$r]}" GET /v1/leader
    assert_status "/v1/leader on $r" 200
    assert_eq "$r names the leader" "$OLD" "$(jb .id "$API_BODY")"
    assert_eq "$r names its epoch" "$E1" "$(jb .epoch "$API_BODY")"
done
assert_eq "the leader's corral_is_leader" 1 "$(metric "$OLD" corral_is_leader)"
assert_eq "the leader's corral_leader_epoch" "$E1" "$(metric "$OLD" corral_leader_epoch)"
case_end

names_dead()
{
    api_at "${URL_OF[$OTHER]}" GET /v1/leader
    [[ "$API_STATUS" == 200 && "$(jb .id "$API_BODY")" == "$OLD" ]]
}

case_begin "after kill -9 the dead leader is not named from 2.5 s on (its session lives 4 s)"
killed_at=$(now_ms)
kill9 "$OLD"
# The record's last beat is at most 0.5 s older than the kill and goes stale 1.5 s after it,
# so from 2.5 s on no answer may name the dead replica; its election node lasts until its
# session expires (>= 4 s), so a check of the lowest node alone would still name it.
until (($(now_ms) - killed_at >= 2500)); do sleep 0.1; done
checks=0
while (($(now_ms) - killed_at < 3500)); do
    if names_dead; then
        fail "$OTHER named the dead leader $OLD $(($(now_ms) - killed_at)) ms after the kill"
    fi
    checks=$((checks + 1))
    if [[ "$API_STATUS" == 200 ]]; then
        assert_eq "the only live replica" "$OTHER" "$(jb .id "$API_BODY")"
    else
        assert_status "/v1/leader without a live leader" 503
        assert_eq "error code" no_leader "$(jb .error "$API_BODY")"
    fi
done
log "$checks answers 2.5-3.5 s after the kill, none names $OLD (last: $API_STATUS $API_BODY)"
((checks > 0)) || fail "no answer between 2.5 and 3.5 s after the kill"
case_end

new_leader()
{
    api_at "${URL_OF[$OTHER]}" GET /v1/leader
    [[ "$API_STATUS" == 200 && "$(jb .id "$API_BODY")" == "$OTHER" ]] &&
        (($(jb .epoch "$API_BODY") > E1))
}

case_begin "the survivor is named with a larger epoch once the dead session expired"
wait_for "$OTHER named as leader with epoch > $E1" 20 new_leader
E2=$(jb .epoch "$API_BODY")
assert_eq "the new leader's corral_is_leader" 1 "$(metric "$OTHER" corral_is_leader)"
assert_eq "the new leader's corral_leader_epoch" "$E2" "$(metric "$OTHER" corral_leader_epoch)"
case_end

not_leading()
{
    [[ "$(metric "$OTHER" corral_is_leader)" == 0 ]]
}

case_begin "a leader cut off from ZooKeeper reports neither leadership nor its epoch"
kill -STOP "$(pid_of zk)"
wait_for "$OTHER to notice the lost connection" 15 not_leading
assert_eq "corral_leader_epoch while not leading" 0 "$(metric "$OTHER" corral_leader_epoch)"
assert_eq "corral_zk_connected" 0 "$(metric "$OTHER" corral_zk_connected)"
kill -CONT "$(pid_of zk)"
wait_for "$OTHER leading again" 20 new_leader
case_end
pass
