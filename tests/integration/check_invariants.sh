#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_invariants.sh ENV_FILE: check corral's fault-tolerance invariants I1..I9 (issue 3,
# docs/testing.md "Fault injection") after a scenario, once the fault has healed.
#
# ENV_FILE (written by fl_check in fault_lib.sh) sets: URLS (live replica URLs), ZK, NS, ZK_LS
# (corral-zk-ls), REQ_FILE (the recorder's "sent_ms answered_ms status id key url error"
# lines), LEDGER (the tasks' "start|beat|end id attempt epoch ms pid" lines), LOG_DIR (*.log of
# every process), REPLICAS_ALIVE, WORKERS_ALIVE (names), ALIVE ("name:pid" that must be alive),
# PROBE_SPEC and PROBE_KEY (the I8 task), FINAL_WAIT_S.
#
# First waits (bounded) for a leader and for every acknowledged task to be final, submits the
# probe task (I8), then prints one line per invariant ("I<n> ok: ..." or "I<n> FAIL: ...") and
# exits 1 when one fails. Bash, curl, jq and awk only.
set -uo pipefail

[[ $# -eq 1 && -r "$1" ]] || {
    echo "usage: check_invariants.sh ENV_FILE" >&2
    exit 2
}
# shellcheck disable=SC1090
source "$1"
T_START=$(date +%s%3N)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/corral-inv.XXXXXX")
trap 'rm -rf "$W"' EXIT
read -r -a URL_LIST <<<"$URLS"
FAILED=()

now_ms() { date +%s%3N; }

res()
{
    local inv=$1 ok=$2 msg=$3
    [[ -z "${CHECK_PROFILE:-}" ]] || echo "[$(($(date +%s%3N) - T_START)) ms]"
    if ((ok)); then
        printf '%s ok: %s\n' "$inv" "$msg"
    else
        printf '%s FAIL: %s\n' "$inv" "$msg"
        FAILED+=("$inv")
    fi
}

# http URL [curl args]: body to $W/body, prints the status (000 when unreachable).
http()
{
    local url=$1 code
    shift
    code=$(curl -sS -o "$W/body" -w '%{http_code}' --max-time 10 "$@" "$url" 2>/dev/null) || true
    echo "${code:-000}"
}

# ready_url: the first replica that is connected and names a leader.
ready_url()
{
    local u
    for u in "${URL_LIST[@]}"; do
        [[ "$(http "$u/readyz")" == 200 ]] || continue
        [[ "$(http "$u/v1/leader")" == 200 ]] || continue
        echo "$u"
        return 0
    done
    return 1
}

# fetch_all URL OUT: every task (paging through GET /v1/tasks) as one JSON array in OUT.
fetch_all()
{
    local url=$1 out=$2 after="" i next code
    : >"$W/pages"
    for ((i = 0; i < 500; i++)); do
        code=$(http "$url/v1/tasks?limit=1000${after:+&after=$after}")
        [[ "$code" == 200 ]] || return 1
        jq -c '.tasks[]' "$W/body" >>"$W/pages" || return 1
        next=$(jq -r '.next // empty' "$W/body")
        [[ -n "$next" ]] || break
        after=$next
    done
    jq -s '.' "$W/pages" >"$out"
}

acked()
{
    awk '$3 == 200 || $3 == 201 { print $5, $4 }' "$REQ_FILE" | sort -u >"$W/acked"
    awk '{ print $2 }' "$W/acked" | sort -u >"$W/acked_ids"
}

# ---------------------------------------------------------------------------------------------
# Heal: a leader, then every acknowledged task final (bounded).

U=
deadline=$(($(now_ms) + 30000))
for ((i = 0; i < 300; i++)); do
    U=$(ready_url) && break
    (($(now_ms) < deadline)) || break
    sleep 0.2
done
if [[ -z "$U" ]]; then
    res I8 0 "no replica became ready with a leader within 30 s"
    echo "invariants FAILED: ${FAILED[*]}"
    exit 1
fi

acked
echo "requests: $(awk '{ c[$3 ($7 == "-" ? "" : "/" $7)]++; if ($2 - $1 > mx) mx = $2 - $1 }
    END { for (s in c) printf "%s=%d ", s, c[s]; printf "(slowest answer %d ms)", mx }' "$REQ_FILE")"
t0=$(now_ms)
deadline=$((t0 + FINAL_WAIT_S * 1000))
nonfinal=""
for ((i = 0; i < FINAL_WAIT_S * 5 + 5; i++)); do
    if fetch_all "$U" "$W/tasks.json"; then
        jq -r '.[] | select(.state == "succeeded" or .state == "failed" or .state == "cancelled")
               | .id' "$W/tasks.json" | sort -u >"$W/final_ids"
        nonfinal=$(comm -23 "$W/acked_ids" "$W/final_ids" | tr '\n' ' ')
        [[ -z "$nonfinal" ]] && break
    fi
    (($(now_ms) < deadline)) || break
    sleep 0.2
    U=$(ready_url) || U=${URL_LIST[0]}
done
echo "waited $(($(now_ms) - t0)) ms for $(grep -c . "$W/acked_ids") acknowledged tasks to be final"

# ---------------------------------------------------------------------------------------------
# I8: the healed cluster completes new work.

probe_id=
probe_state=
pspec="{\"idempotency_key\":\"$PROBE_KEY\",${PROBE_SPEC#\{}"
pdeadline=$(($(now_ms) + 30000))
for ((i = 0; i < 60; i++)); do
    pu=${URL_LIST[$((i % ${#URL_LIST[@]}))]}
    t1=$(now_ms)
    code=$(http "$pu/v1/tasks" -X POST -H 'Content-Type: application/json' --data-binary "$pspec")
    pid_=$(jq -r '.id // "-"' "$W/body" 2>/dev/null || echo -)
    perr=$(jq -r '.error // "-"' "$W/body" 2>/dev/null || echo -)
    printf '%s %s %s %s %s %s %s\n' "$t1" "$(now_ms)" "$code" "${pid_:--}" "$PROBE_KEY" "$pu" \
        "${perr:--}" >>"$REQ_FILE"
    if [[ "$code" == 200 || "$code" == 201 ]]; then
        probe_id=$pid_
        break
    fi
    (($(now_ms) < pdeadline)) || break
    sleep 0.2
done
if [[ -n "$probe_id" ]]; then
    for ((i = 0; i < 10; i++)); do
        pu=${URL_LIST[$((i % ${#URL_LIST[@]}))]}
        code=$(http "$pu/v1/tasks/$probe_id?wait=5")
        if [[ "$code" == 200 ]]; then
            probe_state=$(jq -r .state "$W/body")
            [[ "$probe_state" =~ ^(succeeded|failed|cancelled)$ ]] && break
        fi
        (($(now_ms) < pdeadline)) || break
    done
fi
if [[ "$probe_state" == succeeded ]]; then
    res I8 1 "probe task $probe_id succeeded $(($(now_ms) - t1)) ms after submission"
else
    res I8 0 "probe task ${probe_id:-(not acknowledged)} is '${probe_state:-unknown}' after 30 s"
fi

# ---------------------------------------------------------------------------------------------
# Snapshot of every replica's view.

acked
views_ok=1
n=0
for u in "${URL_LIST[@]}"; do
    if ! fetch_all "$u" "$W/view.$n.json"; then
        views_ok=0
        echo "cannot list tasks through $u"
    else
        jq -r '.[] | "\(.id) \(.state) \(.attempt)"' "$W/view.$n.json" | sort >"$W/view.$n.txt"
    fi
    n=$((n + 1))
done
cp "$W/view.0.json" "$W/tasks.json" 2>/dev/null || fetch_all "$U" "$W/tasks.json" || echo '[]' >"$W/tasks.json"
jq -r '.[] | "\(.id) \(.state) \(.attempt) \(.worker // "-")"' "$W/tasks.json" | sort >"$W/states"
disagree=""
for ((k = 1; k < n; k++)); do
    [[ -f "$W/view.$k.txt" && -f "$W/view.0.txt" ]] || continue
    cmp -s "$W/view.0.txt" "$W/view.$k.txt" || disagree+="${URL_LIST[0]} vs ${URL_LIST[$k]}: $(
        diff "$W/view.0.txt" "$W/view.$k.txt" | grep '^[<>]' | head -n 5 | tr '\n' ';') "
done

# ---------------------------------------------------------------------------------------------
# I1: every acknowledged task reaches exactly one final state (the same on every replica; one
# id per idempotency key).

dupkeys=$(awk '{ c[$1]++ } END { for (k in c) if (c[k] > 1) print k }' "$W/acked" | tr '\n' ' ')
missing=$(awk 'NR == FNR { s[$1] = $2; next } !($1 in s) { print $1 }' "$W/states" "$W/acked_ids" |
    tr '\n' ' ')
notfinal=$(awk 'NR == FNR { s[$1] = $2; next }
    ($1 in s) && s[$1] != "succeeded" && s[$1] != "failed" && s[$1] != "cancelled" { print $1 "=" s[$1] }' \
    "$W/states" "$W/acked_ids" | tr '\n' ' ')
summary=$(awk 'NR == FNR { a[$1] = 1; next } ($1 in a) { c[$2]++ }
    END { for (s in c) printf "%s=%d ", s, c[s] }' "$W/acked_ids" "$W/states")
msg="$(grep -c . "$W/acked_ids") acknowledged: ${summary:-none}"
ok=1
[[ -z "$dupkeys" ]] || {
    ok=0
    msg+="; keys acknowledged with two ids: $dupkeys"
}
[[ -z "$missing" ]] || {
    ok=0
    msg+="; acknowledged but not listed: $missing"
}
[[ -z "$notfinal" ]] || {
    ok=0
    msg+="; not final after ${FINAL_WAIT_S}s: $notfinal"
}
((views_ok)) || {
    ok=0
    msg+="; a replica could not list the tasks"
}
[[ -z "$disagree" ]] || {
    ok=0
    msg+="; replicas disagree: $disagree"
}
res I1 "$ok" "$msg"

# ---------------------------------------------------------------------------------------------
# I2: no acknowledgement for a task that is not stored: GET /v1/tasks/ID finds every
# acknowledged id, through every replica in turn.

: >"$W/curl.cfg"
k=0
while read -r id; do
    u=${URL_LIST[$((k % ${#URL_LIST[@]}))]}
    printf 'url = "%s/v1/tasks/%s"\noutput = "/dev/null"\n' "$u" "$id" >>"$W/curl.cfg"
    k=$((k + 1))
done <"$W/acked_ids"
notfound=""
if ((k > 0)); then
    notfound=$(curl -s --max-time 60 -K "$W/curl.cfg" -w '%{http_code} %{url_effective}\n' 2>/dev/null |
        awk '$1 != 200 { print $1 ":" $2 }' | tr '\n' ' ')
fi
if [[ -z "$notfound" ]]; then
    res I2 1 "every one of $k acknowledged ids is found by GET"
else
    res I2 0 "acknowledged but GET does not find: $notfound"
fi

# ---------------------------------------------------------------------------------------------
# I3: each succeeded task's final attempt ran to its end exactly once, no attempt started twice
# (except after the worker gave it back: a "returned" history entry, a drain, uses no attempt,
# so that attempt may start once more per return) and nothing ran after the final attempt.

# A task's history keeps only its newest returns (history_omitted counts the dropped ones, of
# any attempt): those count as possible returns of every attempt of that task.
jq -r '.[] | .id as $i | (.history // [])[] | select(.outcome == "returned") | "\($i) \(.attempt)"' \
    "$W/tasks.json" 2>/dev/null | sort | uniq -c | awk '{ print $2, $3, $1 }' >"$W/returned"
jq -r '.[] | select((.history_omitted // 0) > 0) | "\(.id) \(.history_omitted)"' \
    "$W/tasks.json" 2>/dev/null >"$W/omitted" || true
i3=$(awk -v rf="$W/returned" -v of="$W/omitted" 'BEGIN { while ((getline l < rf) > 0) { split(l, p, " "); ret[p[1] " " p[2]] = p[3] }
        while ((getline l < of) > 0) { split(l, p, " "); omit[p[1]] = p[2] } }
    NR == FNR { if ($2 == "succeeded") { fin[$1] = $3 } ; known[$1] = $3; next }
    $1 == "end" { e[$2 " " $3]++ }
    $1 == "start" { s[$2 " " $3]++; if (($2 in known) && $3 + 0 > known[$2] + 0) late[$2] = $3 }
    END {
        for (id in fin) {
            n = e[id " " fin[id]] + 0
            if (n != 1) printf "%s: %d ends of final attempt %s; ", id, n, fin[id]
            checked++
        }
        for (k in s) { split(k, kk, " "); if (s[k] > 1 + ret[k] + omit[kk[1]]) printf "%s started %d times (returned %d times); ", k, s[k], ret[k] }
        for (id in late) printf "%s: attempt %s started after the final attempt %s; ", id, late[id], known[id]
        printf "\n%d\n", checked
    }' "$W/states" "$LEDGER")
i3_bad=$(head -n1 <<<"$i3")
i3_n=$(tail -n1 <<<"$i3")
if [[ -z "$i3_bad" ]]; then
    res I3 1 "$i3_n succeeded tasks each ended once in their final attempt"
else
    res I3 0 "$i3_bad"
fi

# ---------------------------------------------------------------------------------------------
# I4: no two attempts of a task overlap in time: each run (task, attempt, pid) spans its start
# to its last beat/end line; per task, every run starts after all earlier runs' last lines.

awk '{ k = $2 " " $3 " " $6
       if ($1 == "start") st[k] = $5
       if (!(k in last) || $5 + 0 > last[k] + 0) last[k] = $5 }
     END { for (k in st) { split(k, p, " "); printf "%s %.0f %.0f %s %s\n", p[1], st[k], last[k], p[2], p[3] } }' \
    "$LEDGER" | sort -k1,1 -k2,2n >"$W/runs"
i4=$(awk '{ if ($1 == id && $2 + 0 <= maxend + 0) {
              printf "%s: attempt %s (pid %s) started at %s before attempt %s ended at %s; ", $1, $4, $5, $2, mlast, maxend
              bad++ }
            if ($1 == id && $2 - maxend < gap) gap = $2 - maxend
            if ($1 != id) { id = $1; maxend = $3; mlast = $4 }
            else if ($3 + 0 > maxend + 0) { maxend = $3; mlast = $4 }
            runs++ }
     BEGIN { gap = 1e18 }
     END { printf "\n%d %s\n", runs, (gap < 1e18 ? sprintf("%.0f", gap) : "-") }' "$W/runs")
i4_bad=$(head -n1 <<<"$i4")
read -r i4_runs i4_gap <<<"$(tail -n1 <<<"$i4")"
if [[ -z "$i4_bad" ]]; then
    res I4 1 "$i4_runs runs, no overlap (smallest gap between two attempts of a task: ${i4_gap} ms)"
else
    res I4 0 "$i4_bad"
fi

# ---------------------------------------------------------------------------------------------
# I5: no write with an old epoch after a newer leader's first write. (a) corrald logs: no
# assignment logged with epoch e after a leader with epoch > e was established; (b) the
# ledger: a task's later attempts never carry a smaller epoch; (c) the API: history epochs and
# the current epoch never decrease.

for f in "$LOG_DIR"/*.log; do
    [[ -f "$f" ]] || continue
    # shellcheck disable=SC2016  # an awk program
    awk -f "$HERE/iso_ms.awk" -f <(printf '%s\n' '
        / corrald\[[0-9]+\] / && /became leader/ {
            e = $0; sub(/.*epoch=/, "", e); sub(/[^0-9].*/, "", e)
            printf "%.0f L %s %s\n", iso_ms($1), e, FILENAME }
        / corrald\[[0-9]+\] / && /state=queued->assigned/ {
            e = $0; sub(/.*epoch=/, "", e); sub(/[^0-9].*/, "", e)
            printf "%.0f A %s %s\n", iso_ms($1), e, FILENAME }') "$f" >>"$W/events"
done
touch "$W/events"
i5a=$(sort -k1,1n -k2,2r "$W/events" | awk '
    $2 == "L" { if ($3 + 0 > maxe) { maxe = $3 + 0; at = $1; who = $4 }; n = $4; sub(/.*\//, "", n); sub(/\.log$/, "", n); terms = terms " " n "=" $3; nl++ }
    $2 == "A" { na++; if ($3 + 0 < maxe) { bad++; if (bad <= 5) printf "assignment with epoch %s at %s (%s) after epoch %d led at %s (%s); ", $3, $1, $4, maxe, at, who } }
    END { printf "\n%d %d %d%s\n", nl, na, maxe, terms }')
i5a_bad=$(head -n1 <<<"$i5a")
read -r i5_nl i5_na _ i5_terms <<<"$(tail -n1 <<<"$i5a")"
i5b=$(awk '$1 == "start" { print $2, $3, $4 }' "$LEDGER" | sort -k1,1 -k2,2n -k3,3n | awk '
    $1 == id && $3 + 0 < e + 0 { printf "%s attempt %s epoch %s < earlier attempt epoch %s; ", $1, $2, $3, e }
    { id = $1; e = $3 }')
i5c=$(jq -r '.[] | select(.epoch != null) | . as $t
    | ([(.history // [])[] | .epoch | select(. != null)] + [.epoch]) as $e
    | select([range(1; $e | length) | select($e[.] < $e[. - 1])] | length > 0)
    | "\($t.id) epochs \($e | map(tostring) | join(",")); "' "$W/tasks.json" | tr -d '\n')
if [[ -z "$i5a_bad$i5b$i5c" ]]; then
    res I5 1 "$i5_nl leader terms ($i5_terms), $i5_na logged assignments; no old-epoch write after a newer leader; ledger and API epochs never decrease"
else
    res I5 0 "${i5a_bad}${i5b}${i5c}"
fi

# ---------------------------------------------------------------------------------------------
# I6: no stored task without a request: every task's idempotency key was sent.

awk '{ print $5 }' "$REQ_FILE" | sort -u >"$W/sent_keys"
jq -r '.[] | "\(.spec.idempotency_key // "-") \(.id)"' "$W/tasks.json" | sort >"$W/stored_keys"
orphans=$(awk 'NR == FNR { s[$1] = 1; next } !($1 in s) { print $2 "(key " $1 ")" }' \
    "$W/sent_keys" "$W/stored_keys" | tr '\n' ' ')
if [[ -z "$orphans" ]]; then
    res I6 1 "$(grep -c . "$W/stored_keys") stored tasks, each from a recorded request"
else
    res I6 0 "stored without a request: $orphans"
fi

# ---------------------------------------------------------------------------------------------
# I7: no leftover znodes: election and worker nodes only of live processes, no assignment of a
# finished (or another worker's) task, no queue entry of a task that is not queued or scheduled (an entry
# name starts with its task id), no done-index entry of an unfinished task. Waits up to
# 15 s for the leader's reconcile and session expiries to clean up.

n_rep=$(wc -w <<<"$REPLICAS_ALIVE")
want_workers=$(tr ' ' '\n' <<<"$WORKERS_ALIVE" | grep . | sort | tr '\n' ' ')
i7_bad="(not checked)"
t7=$(now_ms)
for ((i = 0; i < 60; i++)); do
    if "$ZK_LS" "$ZK" "$NS" >"$W/zk.txt" 2>"$W/zk.err"; then
        fetch_all "$U" "$W/tasks7.json" 2>/dev/null || cp "$W/tasks.json" "$W/tasks7.json"
        jq -r '.[] | "\(.id) \(.state) \(.worker // "-")"' "$W/tasks7.json" >"$W/states7"
        i7_bad=$(awk -v ns="$NS" -v nrep="$n_rep" -v wantw="$want_workers" '
            NR == FNR { st[$1] = $2; wk[$1] = $3; next }
            { p = substr($1, length(ns) + 2); n = split(p, c, "/") }
            c[1] == "election" && n == 2 { ne++ }
            c[1] == "workers" && n == 2 { w[c[2]] = 1 }
            c[1] == "assign" && n == 3 {
                s = st[c[3]]
                if (s == "" || s == "succeeded" || s == "failed" || s == "cancelled" || wk[c[3]] != c[2])
                    printf "%s (task %s, worker %s); ", $1, (s == "" ? "unknown" : s), wk[c[3]] }
            c[1] == "queue" && n == 3 && (s = st[q = substr(c[3], 1, 21)]) != "queued" && s != "scheduled" {
                printf "%s (task %s); ", $1, (st[q] == "" ? "unknown" : st[q]) }
            c[1] == "done" && n == 5 {
                s = st[d = substr(c[5], 15, 21)]
                if (s != "succeeded" && s != "failed" && s != "cancelled")
                    printf "%s (task %s); ", $1, (s == "" ? "unknown" : s) }
            END {
                if (ne != nrep) printf "%d election nodes for %d live replicas; ", ne, nrep
                m = split(wantw, ww, " ")
                for (j = 1; j <= m; j++) { if (!(ww[j] in w)) printf "live worker %s not registered; ", ww[j]; delete w[ww[j]] }
                for (x in w) printf "workers/%s of a dead worker; ", x
            }' "$W/states7" "$W/zk.txt")
    else
        i7_bad="corral-zk-ls: $(head -c 300 "$W/zk.err")"
    fi
    [[ -z "$i7_bad" ]] && break
    (($(now_ms) - t7 < 15000)) || break
    sleep 0.25
done
if [[ -z "$i7_bad" ]]; then
    res I7 1 "$(grep -c . "$W/zk.txt") znodes, none left over ($n_rep election nodes, workers: ${want_workers:-none})"
else
    res I7 0 "after $(($(now_ms) - t7)) ms: $i7_bad"
fi

# ---------------------------------------------------------------------------------------------
# I9: no corral process crashed: every process not stopped on purpose is alive, and no log shows
# a sanitizer report or a crash.

dead=""
for np in $ALIVE; do
    p=${np##*:}
    st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$p/stat" 2>/dev/null || echo X)
    [[ "$st" == Z || "$st" == X ]] && dead+="$np "
done
crashlog=$(grep -l -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:|Segmentation fault|Assertion .* failed|stack smashing|double free' \
    "$LOG_DIR"/*.log 2>/dev/null | tr '\n' ' ')
if [[ -z "$dead$crashlog" ]]; then
    res I9 1 "$(wc -w <<<"$ALIVE") processes alive as expected, no crash report in the logs"
else
    res I9 0 "${dead:+dead: $dead}${crashlog:+ crash reports in: $crashlog}"
fi

if ((${#FAILED[@]} == 0)); then
    echo "invariants: I1..I9 all hold"
    exit 0
fi
echo "invariants FAILED: ${FAILED[*]}"
exit 1
