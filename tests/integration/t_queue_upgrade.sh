#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies and conditions are called through run_case and wait_for
# SPDX-License-Identifier: MIT
# Queue entries of an older version: entries used to be named by the bare task id; now the name
# carries the task's order keys (docs/znodes.md "Queue entry names"). The leader rewrites a
# bare-id entry of a queued task into the canonical one (one fenced multi), drops a bare-id
# leftover beside a canonical entry, and either task then runs exactly once.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ZK_LS=$CORRAL_BUILD_DIR/corral-zk-ls
ZK_TOUCH=$CORRAL_BUILD_DIR/corral-zk-touch

zk_start
corrald_start r1

# The queue entries of task $1, one path per line.
entries_of()
{
    "$ZK_LS" "$ZK" "$T_NS/queue" | awk -v id="$1" '{ n = split($1, p, "/"); if (index(p[n], id) == 1) print $1 }'
}

# Only the canonical entry of $1 (id followed by its keys) is there.
only_canonical()
{
    local e
    e=$(entries_of "$1")
    [[ $(grep -c . <<<"$e") == 1 && "$e" == */"$1".* ]]
}

# A queued task (no worker yet) and the bare-id path of its entry, in the same bucket.
AID=$(submit '{"command":["true"]}')
BID=$(submit '{"command":["true"]}')
has_entries() { [[ -n "$(entries_of "$1")" && -n "$(entries_of "$2")" ]]; }
wait_for "the queue entries of both tasks" 20 has_entries "$AID" "$BID"
A_CANON=$(entries_of "$AID")
A_BARE=${A_CANON%/*}/$AID
B_CANON=$(entries_of "$BID")
B_BARE=${B_CANON%/*}/$BID

rewritten()
{
    # As an older version left it: the bare-id entry only (the leader may rewrite it at once).
    "$ZK_TOUCH" --delete "$ZK" "$A_CANON" || fail "could not delete $A_CANON"
    "$ZK_TOUCH" "$ZK" "$A_BARE" || fail "could not write $A_BARE"
    wait_for "the leader to rewrite $A_BARE" 30 only_canonical "$AID"
    assert_eq "the canonical name comes back" "$A_CANON" "$(entries_of "$AID")"
    assert_contains "the rewrite is logged" "queue entry rewritten from name=$AID" "$(cat "$T_DIR/r1.log")"
}
run_case "a bare-id queue entry of a queued task is rewritten into the canonical one" rewritten

leftover()
{
    "$ZK_TOUCH" "$ZK" "$B_BARE" || fail "could not write $B_BARE"
    dropped() { grep -q "removed stale queue entry name=$BID\b" "$T_DIR/r1.log"; }
    wait_for "the leader to drop the leftover $B_BARE" 30 dropped
    wait_for "only the canonical entry of $BID" 10 only_canonical "$BID"
    assert_eq "the canonical entry stays" "$B_CANON" "$(entries_of "$BID")"
}
run_case "a bare-id leftover beside the canonical entry is dropped" leftover

run_once()
{
    local t
    worker_start w1 --slots 2
    wait_final "$AID" 60
    t=$TASK
    assert_eq "A succeeded" succeeded "$(jb .state "$t")"
    assert_jq "A ran once" '.attempt == 1 and ((.history // []) | length == 0)' "$t"
    wait_final "$BID" 60
    t=$TASK
    assert_eq "B succeeded" succeeded "$(jb .state "$t")"
    assert_jq "B ran once" '.attempt == 1 and ((.history // []) | length == 0)' "$t"
    assert_eq "no queue entry left for A" "" "$(entries_of "$AID")"
    assert_eq "no queue entry left for B" "" "$(entries_of "$BID")"
}
run_case "both tasks then run exactly once and leave no entry" run_once
