#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through wait_for, run_case and traps
# SPDX-License-Identifier: MIT
# Fault: the leader replica cut off from ZooKeeper (a network partition) past its session
# expiry, then healed. The leader runs in a network namespace of its own, joined to the host by
# a veth pair; it reaches the ensemble (on 127.0.0.1) through a DNAT rule on the host side
# (route_localnet on that veth only). The cut is an nftables drop rule inside the namespace.
# While cut off it must answer 503 and make no write; the others elect a new leader once its
# session expired; after healing it rejoins as a follower (new session, no exit); I1..I9 hold.
# Needs root, `ip netns` and `nft`: otherwise prints "SKIP: <reason>" and exits 0.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

skip()
{
    log "SKIP: $*"
    echo "SKIP: $*"
    exit 0
}

NSN=corral-f$$
VH=cfh$$
VN=cfn$$
NFT_HOST=corral_fault_$$
OCT=$(($$ % 200 + 20))
HOST_IP=10.213.$OCT.1
NS_IP=10.213.$OCT.2
NS_MADE=0

netns_teardown()
{
    ((NS_MADE)) || return 0
    if [[ -n "${PID_OF[r1]:-}" ]] && proc_alive r1; then stop_pid r1 5 2>/dev/null; fi
    nft delete table ip "$NFT_HOST" 2>/dev/null
    ip link del "$VH" 2>/dev/null
    ip netns del "$NSN" 2>/dev/null
    NS_MADE=0
}
at_exit netns_teardown

[[ "$(id -u)" == 0 ]] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
command -v nft >/dev/null 2>&1 || skip "nft is not installed (Debian package nftables)"
ip netns add "$NSN" 2>/dev/null || skip "ip netns add failed (no CAP_SYS_ADMIN?)"
NS_MADE=1
{
    ip link add "$VH" type veth peer name "$VN" &&
        ip link set "$VN" netns "$NSN" &&
        ip addr add "$HOST_IP/30" dev "$VH" && ip link set "$VH" up &&
        ip -n "$NSN" addr add "$NS_IP/30" dev "$VN" && ip -n "$NSN" link set "$VN" up &&
        ip -n "$NSN" link set lo up && ip -n "$NSN" route add default via "$HOST_IP" &&
        echo 1 >"/proc/sys/net/ipv4/conf/$VH/route_localnet"
} 2>"$T_DIR/netns.err" || skip "cannot set up a veth pair: $(head -c 200 "$T_DIR/netns.err")"

ens_start 3
C=${ENS_CPORT[1]},${ENS_CPORT[2]},${ENS_CPORT[3]}
cat >"$T_DIR/host.nft" <<EOF
table ip $NFT_HOST {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "$VH" ip daddr $HOST_IP tcp dport { $C } dnat to 127.0.0.1
    }
}
EOF
nft -f "$T_DIR/host.nft" 2>"$T_DIR/nft.err" || skip "nft failed: $(head -c 200 "$T_DIR/nft.err")"
# shellcheck disable=SC2016
probe=$(ip netns exec "$NSN" timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf ruok >&3 && cat <&3' \
    _ "$HOST_IP" "${ENS_CPORT[1]}" 2>/dev/null || true)
[[ "$probe" == imok ]] || skip "ZooKeeper is not reachable from the namespace through DNAT (got '$probe')"
log "namespace $NSN reaches ZooKeeper at $HOST_IP via DNAT"

# r1 in the namespace, started first so that it leads. E1 and ID0 are used by later cases.
case_begin "the replica in the network namespace leads"
port=$(free_port)
URL_OF[r1]=http://$NS_IP:$port
CORRAL_TEST_SESSION_FILE=$T_DIR/r1.session ip netns exec "$NSN" "$CORRALD" \
    --zk "$HOST_IP:${ENS_CPORT[1]},$HOST_IP:${ENS_CPORT[2]},$HOST_IP:${ENS_CPORT[3]}" \
    --namespace "$T_NS" --listen "$NS_IP:$port" --insecure --id r1 \
    --session-timeout "$SESSION_MS" --log-level "$LOG_LEVEL" >>"$T_DIR/r1.log" 2>&1 &
proc_record r1 $! corrald
REPLICAS+=(r1)
wait_for "corrald r1 in the namespace to be ready" 20 replica_ready r1
API_URL=${URL_OF[r1]}
wait_for "a leader" 20 has_leader
fl_corrald r2
fl_corrald r3
fl_worker w1 --slots 3
fl_worker w2 --slots 3
L1=$(leader_json)
assert_eq "the namespaced replica leads" r1 "$(jb .id "$L1")"
E1=$(jb .epoch "$L1")
ID0=$(submit_ledger pre-1 200)
wait_for "task $ID0 to finish" 20 task_is_final "$ID0"
for i in $(seq 2 5); do submit_ledger "pre-$i" 2500 >/dev/null; done
case_end

cut_line=$(log_lines r1)
cat >"$T_DIR/cut.nft" <<EOF
table inet cut {
    chain out {
        type filter hook output priority 0; policy accept;
        ip daddr $HOST_IP tcp dport { $C } drop
    }
    chain in {
        type filter hook input priority 0; policy accept;
        ip saddr $HOST_IP tcp sport { $C } drop
    }
}
EOF
cut_at=$(now_ms)
ip netns exec "$NSN" nft -f "$T_DIR/cut.nft" || fail "cannot install the cut"
log "r1 cut off from ZooKeeper"
rec_burst 8 300 during
r1_503()
{
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${URL_OF[r1]}/readyz" || true)
    [[ "$code" == 503 ]] || return 1
    api_at "${URL_OF[r1]}" GET "/v1/tasks/$ID0"
    [[ "$API_STATUS" == 503 ]]
}
cut_off_answers_503()
{
    wait_for "r1 to answer 503 while cut off" $((SESSION_MS * 2 / 1000 + 2)) r1_503
    log "r1 answers 503 $(($(now_ms) - cut_at)) ms after the cut"
}
run_case "the cut-off leader answers 503" cut_off_answers_503

others_lead()
{
    local r
    for r in r2 r3; do
        api_at "${URL_OF[$r]}" GET /v1/leader
        [[ "$API_STATUS" == 200 ]] || return 1
        jq -e --argjson e "$E1" '.id != "r1" and .epoch > $e' >/dev/null 2>&1 <<<"$API_BODY" || return 1
    done
}
others_elect()
{
    wait_for "r2 and r3 to elect a new leader" 20 others_lead
    log "new leader $(jb .id) epoch $(jb .epoch) $(($(now_ms) - cut_at)) ms after the cut"
}
run_case "r2 and r3 elect a new leader with a larger epoch" others_elect

# Stay cut off past the expiry: 2·T in all.
rest=$((2 * SESSION_MS - ($(now_ms) - cut_at)))
((rest > 0)) && sleep "$((rest / 1000)).$(printf '%03d' $((rest % 1000)))"
still_503()
{
    r1_503 || fail "r1 answered $API_STATUS while cut off from ZooKeeper"
}
run_case "r1 still answers 503 at the end of the cut (2·T)" still_503

ip netns exec "$NSN" nft delete table inet cut || fail "cannot heal the cut"
healed_at=$(now_ms)
log "healed after $((healed_at - cut_at)) ms"

no_late_assignment()
{
    local late
    late=$(awk -v from="$cut_line" 'NR > from && /state=queued->assigned/' "$T_DIR/r1.log")
    [[ -z "$late" ]] || fail "r1 assigned tasks after it was cut off: $late"
}
run_case "the cut-off leader made no assignment after the cut" no_late_assignment

r1_follows()
{
    replica_ready r1 || return 1
    api_at "${URL_OF[r1]}" GET /v1/leader
    [[ "$API_STATUS" == 200 ]] && jq -e '.id != "r1"' >/dev/null 2>&1 <<<"$API_BODY"
}
rejoins_as_follower()
{
    wait_for "r1 to rejoin as a follower" 20 r1_follows
    log "r1 follows again $(($(now_ms) - healed_at)) ms after healing"
    assert_contains "r1 saw its session expire" "session expired" "$(cat "$T_DIR/r1.log")"
}
run_case "after healing r1 rejoins as a follower with a new session" rejoins_as_follower
rec_wait 60
run_case "I1..I9 hold after the partition of the leader" fl_check "partition of the leader"
pass
