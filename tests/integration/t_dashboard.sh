#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# The dashboard (GET /): its files are served from memory with the security headers, need no
# token, and follow the cross-site rules; then the page end to end in headless Chromium
# (tests/browser/dashboard.test.mjs: Debian's chromium driven by playwright-core), opened on a
# FOLLOWER replica: a token prompt on a replica with a token file (a wrong token is refused);
# a task submitted through the form reaches succeeded in the table; a long task is cancelled
# through the page; a worker is cordoned through the page and the API agrees; the page follows
# the feed of changes (GET /v1/events long polls, the token in a header only), lists the tasks
# at most once in 6 s while nothing happens, and after a 503 and a 410 cursor_expired of the
# feed (answered by the browser test itself) backs off, re-reads everything and follows a new
# head; a task's detail follows its output live (GET /v1/tasks/{id}/output long polls, one at a
# time, the token in a header only: tick-2 shows while the task runs, every tick once at the
# end); then this shell kills the leader with kill -9 while the page stays open and follows a
# running task's output, and the page names the new leader without a reload, shows all of that
# output, still writes and follows the feed again. Handshake with the node script: files in
# $T_DIR.
# Screenshots: $T_DIR/dashboard*.png (kept when the test fails); with
# CORRAL_DASHBOARD_SCREENSHOT=FILE the main one is also copied there (docs/img/dashboard.png).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BROWSER_DIR=$CORRAL_SRC_DIR/tests/browser
CHROMIUM=${CORRAL_CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || fail "no browser at $CHROMIUM: run scripts/bootstrap (Debian's chromium)"
command -v node >/dev/null || fail "no node: run scripts/bootstrap"
[[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ]] ||
    fail "playwright-core is not installed in $BROWSER_DIR: run scripts/bootstrap (npm ci there)"

TOKEN=dash-admin-token-$$-$RANDOM
printf 'admin %s\n' "$TOKEN" >"$T_DIR/tokens"
chmod 600 "$T_DIR/tokens"

zk_start
corrald_start r1
corrald_start r2
corrald_start r3
wait_for "a leader" 20 has_leader
worker_start w1 --slots 2 --cpu 2 --mem-mb 2048 --label zone=a
worker_start w2 --slots 2 --cpu 2 --mem-mb 1024 --label zone=b

# hdr FILE NAME: the value of header NAME in a curl -D dump (case-insensitive, CR stripped).
hdr()
{
    awk -v n="$2" 'BEGIN { n = tolower(n) } { sub(/\r$/, "") }
        index(tolower($0), n ":") == 1 { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$1"
}

# get URL [curl args...]: sets CODE, and the headers and body in $T_DIR/h and $T_DIR/b.
get()
{
    local url=$1
    shift
    CODE=$(curl -sS -o "$T_DIR/b" -D "$T_DIR/h" -w '%{http_code}' --max-time 10 "$@" "$url") || CODE=000
}

files_and_headers()
{
    local u=${URL_OF[r1]} etag csp f ct
    get "$u/"
    assert_eq "GET / status" 200 "$CODE"
    assert_match "an HTML page" '^text/html' "$(hdr "$T_DIR/h" Content-Type)"
    csp=$(hdr "$T_DIR/h" Content-Security-Policy)
    assert_contains "CSP: this origin only" "default-src 'self'" "$csp"
    assert_contains "CSP: no framing" "frame-ancestors 'none'" "$csp"
    assert_not_contains "CSP: no inline script" "unsafe-inline" "$csp"
    assert_eq "nosniff" nosniff "$(hdr "$T_DIR/h" X-Content-Type-Options)"
    assert_eq "X-Frame-Options" DENY "$(hdr "$T_DIR/h" X-Frame-Options)"
    assert_eq "Referrer-Policy" no-referrer "$(hdr "$T_DIR/h" Referrer-Policy)"
    assert_eq "Cache-Control" no-cache "$(hdr "$T_DIR/h" Cache-Control)"
    assert_eq "the replica names itself" r1 "$(hdr "$T_DIR/h" X-Corral-Replica)"
    assert_contains "the page loads its script from a file" '<script src="ui/app.js"' "$(cat "$T_DIR/b")"
    # No inline script, style or event handler: the CSP would block them.
    if grep -Eiq '<script>|<script [^>]*>[^<]|<style|[[:space:]]style=|[[:space:]]on[a-z]+=' "$T_DIR/b"; then
        fail "the page has inline script, style or an event handler attribute"
    fi
    etag=$(hdr "$T_DIR/h" ETag)
    assert_match "an ETag" '^"[0-9a-f]{16}"$' "$etag"
    get "$u/" -H "If-None-Match: $etag"
    assert_eq "unchanged: 304" 304 "$CODE"
    get "$u/" -I
    assert_eq "HEAD /" 200 "$CODE"
    for f in app.js:text/javascript app.css:text/css icon.svg:image/svg+xml; do
        get "$u/ui/${f%%:*}"
        assert_eq "GET /ui/${f%%:*}" 200 "$CODE"
        ct=$(hdr "$T_DIR/h" Content-Type)
        assert_eq "the Content-Type of ${f%%:*}" "${f#*:}" "${ct%%;*}"
        assert_eq "its nosniff" nosniff "$(hdr "$T_DIR/h" X-Content-Type-Options)"
        cmp -s "$T_DIR/b" "$CORRAL_SRC_DIR/src/corrald/ui/${f%%:*}" || fail "/ui/${f%%:*} is not the file"
    done
    # Server text goes in with textContent: the script never parses markup, keeps no token in
    # localStorage, and calls the API with relative URLs only.
    f=$CORRAL_SRC_DIR/src/corrald/ui/app.js
    if grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|localStorage|eval\(|new Function' "$f"; then
        fail "app.js uses innerHTML, document.write, eval or localStorage"
    fi
    if grep -Eq "fetch\\(['\"\`](https?:|/)" "$f"; then
        fail "app.js fetches an absolute URL"
    fi
    get "$u/" -X POST -H 'Content-Type: application/json' --data '{}'
    assert_eq "POST /" 405 "$CODE"
    get "$u/ui/nothing.js"
    assert_eq "an unknown file" 404 "$CODE"
    # The cross-site rules hold for the page too (a loopback replica without a token file).
    get "$u/" -H 'Host: rebind.example:80'
    assert_eq "a non-loopback Host" 403 "$CODE"
}
run_case "the page and its files: from memory, security headers, ETag, cross-site rules" files_and_headers

# A replica of the same cluster with a token file, for the token prompt in the browser.
case_begin "a replica with a token file serves the page without a token"
corrald_start rt --token-file "$T_DIR/tokens"
get "${URL_OF[rt]}/"
assert_eq "GET / without a token" 200 "$CODE"
get "${URL_OF[rt]}/ui/app.js"
assert_eq "GET /ui/app.js without a token" 200 "$CODE"
get "${URL_OF[rt]}/v1/leader"
assert_eq "the API needs one" 401 "$CODE"
case_end

case_begin "the dashboard in headless Chromium, on a follower, across a leader kill -9"
LEADER=$(leader_id)
# The last replica in election order: it stays a follower when the leader dies.
FOLLOWER=
for r in r3 r2 r1; do
    [[ "$r" != "$LEADER" ]] && {
        FOLLOWER=$r
        break
    }
done
[[ -n "$FOLLOWER" ]] || fail "no follower (leader $LEADER)"
log "leader $LEADER; the page is opened on follower $FOLLOWER at ${URL_OF[$FOLLOWER]}"
(
    cd "$BROWSER_DIR"
    exec env DASH_URL="${URL_OF[$FOLLOWER]}" DASH_FOLLOWER="$FOLLOWER" DASH_LEADER="$LEADER" \
        DASH_WORKER=w1 DASH_DIR="$T_DIR" DASH_TOKEN_URL="${URL_OF[rt]}" DASH_TOKEN="$TOKEN" \
        CORRAL_CHROMIUM="$CHROMIUM" timeout -k 5 100 node dashboard.test.mjs
) >"$T_DIR/browser.log" 2>&1 &
proc_record browser $! other

browser_at_failover()
{
    [[ -s "$T_DIR/failover-ready" ]] && return 0
    proc_alive browser || fail "the browser test ended early: $(tail -n 20 "$T_DIR/browser.log")"
    return 1
}
wait_for "the page to be ready for the leader kill" 80 browser_at_failover
assert_eq "the page shows the leader" "$LEADER" "$(tr -d '\n' <"$T_DIR/failover-ready")"
kill9 "$LEADER"
echo "$LEADER" >"$T_DIR/leader-killed"
wait_for "the browser test to end" 60 eval '! proc_alive browser'
stop_pid browser 5
BROWSER_STATUS=$STOP_STATUS
grep -E '^\[[0-9.]+s\] (ok|not ok|PASS|FAIL|#)' "$T_DIR/browser.log" >&2 || true
assert_eq "the browser test's exit status (log: $T_DIR/browser.log)" 0 "$BROWSER_STATUS"
NEW=$(leader_id)
assert_ne "a new leader" "$LEADER" "$NEW"
assert_eq "the page named the leader the API names" "$NEW" "$(tr -d '\n' <"$T_DIR/new-leader")"
api GET /v1/workers
assert_jq "w1 is active again (uncordoned through the page after the failover)" \
    '.workers[] | select(.id == "w1") | .state == "active"'
[[ -s "$T_DIR/dashboard.png" ]] || fail "no screenshot"
if [[ -n "${CORRAL_DASHBOARD_SCREENSHOT:-}" ]]; then
    cp "$T_DIR/dashboard.png" "$CORRAL_DASHBOARD_SCREENSHOT"
    log "screenshot copied to $CORRAL_DASHBOARD_SCREENSHOT"
fi
case_end

pass
