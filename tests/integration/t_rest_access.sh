#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# REST access (security issue, point 2): token file roles read < submit < admin against every
# endpoint (401 with WWW-Authenticate without a known token, 403 forbidden without the right);
# a token file that others may read is refused; cross-site requests: a body that is not
# application/json is 415, a foreign Origin 403, and a loopback replica without a token file
# answers only loopback Host names (DNS rebinding); HTTPS with --tls-cert/--tls-key and the
# CLI's --cacert. Whatever is refused stores nothing.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

READ_T=reader-token-0001
SUBMIT_T=submitter-token-02
ADMIN_T=admin-token-000003
LEGACY_T=legacy-admin-token-4
TOKENS=$T_DIR/tokens
{
    echo "# roles of corral's REST API"
    echo "read   $READ_T"
    echo "submit $SUBMIT_T"
    echo "admin  $ADMIN_T"
    echo "$LEGACY_T"
} >"$TOKENS"
chmod 600 "$TOKENS"

zk_start
corrald_start r1 --token-file "$TOKENS"
R1=${URL_OF[r1]}

# call TOKEN METHOD PATH [JSON]: the request to r1 with that bearer token ("-" none); sets
# API_STATUS and API_BODY as api_at does.
call()
{
    local tok=$1 method=$2 path=$3
    local args=(-s -o "$T_DIR/call.body" -w '%{http_code}' --max-time 30 -X "$method")
    [[ "$tok" == - ]] || args+=(-H "Authorization: Bearer $tok")
    (($# < 4)) || args+=(-H 'Content-Type: application/json' --data-binary "$4")
    API_STATUS=$(curl "${args[@]}" "$R1$path" 2>/dev/null) || true
    [[ -n "$API_STATUS" ]] || API_STATUS=000
    API_BODY=$(cat "$T_DIR/call.body" 2>/dev/null || true)
}

# stored_tasks: how many tasks r1 lists (the admin token).
stored_tasks()
{
    call "$ADMIN_T" GET "/v1/tasks?limit=1000"
    assert_status "list tasks" 200
    jq '.tasks | length' <<<"$API_BODY"
}

SPEC='{"command":["true"]}'
# ID is read by every case below (cases run in subshells); no worker runs, so it stays queued.
call "$ADMIN_T" POST /v1/tasks "$SPEC"
assert_status "admin submits" 201
ID=$(jq -r .id <<<"$API_BODY")

roles_against_endpoints()
{
    local tok role reads=(/v1/tasks /v1/workers /v1/leader /metrics "/v1/tasks/$ID")
    for role in none wrong read submit admin legacy; do
        case $role in
            none) tok=- ;;
            wrong) tok=not-a-known-token ;;
            read) tok=$READ_T ;;
            submit) tok=$SUBMIT_T ;;
            admin) tok=$ADMIN_T ;;
            legacy) tok=$LEGACY_T ;;
        esac
        local p want_read want_write
        case $role in
            none | wrong) want_read=401 want_write=401 ;;
            read) want_read=200 want_write=403 ;;
            *) want_read=200 want_write=ok ;;
        esac
        for p in "${reads[@]}"; do
            call "$tok" GET "$p"
            assert_status "$role: GET $p" "$want_read"
        done
        call "$tok" POST /v1/tasks "$SPEC"
        if [[ $want_write == ok ]]; then
            assert_status "$role: POST /v1/tasks" 201
            local mine
            mine=$(jq -r .id <<<"$API_BODY")
            call "$tok" POST "/v1/tasks/$mine/cancel"
            assert_status "$role: cancel" 200
            assert_jq "$role: cancel took" '.state == "cancelled"' "$API_BODY"
            call "$tok" POST /v1/tasks/batch "{\"tasks\":[$SPEC,$SPEC]}"
            assert_status "$role: POST /v1/tasks/batch" 201
        else
            assert_status "$role: POST /v1/tasks" "$want_write"
            assert_error_body "$role: refusal body"
            call "$tok" POST "/v1/tasks/$ID/cancel"
            assert_status "$role: cancel" "$want_write"
            call "$tok" POST /v1/tasks/batch "{\"tasks\":[$SPEC]}"
            assert_status "$role: POST /v1/tasks/batch" "$want_write"
        fi
        # an unknown endpoint or a wrong method is told only to a known token
        call "$tok" GET /v1/nothing-here
        assert_status "$role: unknown endpoint" "$([[ $want_read == 401 ]] && echo 401 || echo 404)"
        call "$tok" DELETE /v1/tasks
        assert_status "$role: wrong method" "$([[ $want_read == 401 ]] && echo 401 || echo 405)"
    done
    # the refusals' bodies and headers
    call "$READ_T" POST /v1/tasks "$SPEC"
    assert_eq "403 error code" forbidden "$(jq -r .error <<<"$API_BODY")"
    assert_contains "403 names the roles" submit "$(jq -r .message <<<"$API_BODY")"
    call - GET /v1/leader
    assert_eq "401 error code" unauthorized "$(jq -r .error <<<"$API_BODY")"
    local hdr
    hdr=$(curl -s -D - -o /dev/null --max-time 10 "$R1/v1/leader" | tr -d '\r' |
        grep -i '^WWW-Authenticate:' || true)
    assert_contains "401 carries WWW-Authenticate: Bearer" Bearer "$hdr"
    call - GET /healthz
    assert_status "healthz needs no token" 200
    call - GET /readyz
    assert_status "readyz needs no token" 200
    # the read token's task is untouched by its refused cancel
    call "$READ_T" GET "/v1/tasks/$ID"
    assert_jq "a refused cancel changes nothing" '.state == "queued"' "$API_BODY"
}
run_case "each role against each endpoint" roles_against_endpoints

cli_with_roles()
{
    local out rc=0
    out=$("$CLI" --server "$R1" --token "$SUBMIT_T" submit -- true)
    assert_match "corral --token (submit role) prints an id" '^[0-9a-f]{12}-[0-9a-f]{8}$' "$out"
    out=$("$CLI" --server "$R1" --token "$READ_T" submit -- true 2>&1) || rc=$?
    assert_eq "corral with a read token cannot submit" 1 "$rc"
    assert_contains "the CLI says why" forbidden "$out"
    out=$("$CLI" --server "$R1" --token "$READ_T" get "$ID")
    assert_contains "corral get with a read token" queued "$out"
}
run_case "the CLI with a submit and a read token" cli_with_roles

cross_site_requests()
{
    local before code
    before=$(stored_tasks)
    # what a page's fetch(..., {mode: "no-cors"}) sends: text/plain, and its own Origin
    code=$(curl -s -o "$T_DIR/xs.body" -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $ADMIN_T" -H 'Content-Type: text/plain' \
        --data-binary "$SPEC" "$R1/v1/tasks")
    assert_eq "a text/plain body is 415" 415 "$code"
    assert_eq "415 error code" unsupported_media_type "$(jq -r .error "$T_DIR/xs.body")"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $ADMIN_T" --data-binary "$SPEC" "$R1/v1/tasks")
    assert_eq "a form-encoded body (curl -d's default) is 415" 415 "$code"
    code=$(curl -s -o "$T_DIR/xs.body" -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $ADMIN_T" -H 'Content-Type: application/json' \
        -H 'Origin: http://evil.example' --data-binary "$SPEC" "$R1/v1/tasks")
    assert_eq "a foreign Origin is 403" 403 "$code"
    assert_eq "403 error code" forbidden "$(jq -r .error "$T_DIR/xs.body")"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $ADMIN_T" -H 'Origin: null' "$R1/v1/tasks/$ID/cancel")
    assert_eq "Origin: null is 403" 403 "$code"
    assert_eq "refused requests stored nothing" "$before" "$(stored_tasks)"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $ADMIN_T" -H 'Content-Type: application/json; charset=utf-8' \
        -H "Origin: $R1" --data-binary "$SPEC" "$R1/v1/tasks")
    assert_eq "the server's own Origin and a charset parameter are fine" 201 "$code"
}
run_case "cross-site requests: content type and Origin" cross_site_requests

dns_rebinding()
{
    # r2 listens on loopback without a token file: only loopback Host names are served
    corrald_start r2
    local url=${URL_OF[r2]} port code before
    port=${url##*:}
    before=$(stored_tasks)
    code=$(curl -s -o "$T_DIR/rb.body" -w '%{http_code}' --max-time 10 \
        -H "Host: evil.example:$port" "$url/v1/leader")
    assert_eq "a foreign Host on a token-less loopback replica is 403" 403 "$code"
    assert_contains "the refusal says why" loopback "$(jq -r .message "$T_DIR/rb.body")"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H "Host: evil.example:$port" -H "Origin: http://evil.example:$port" \
        -H 'Content-Type: application/json' --data-binary "$SPEC" "$url/v1/tasks")
    assert_eq "a rebound page's POST (its own Host and Origin) is 403" 403 "$code"
    assert_eq "nothing was stored" "$before" "$(stored_tasks)"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -H "Host: localhost:$port" "$url/v1/leader")
    assert_eq "Host localhost is served" 200 "$code"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/v1/leader")
    assert_eq "Host 127.0.0.1 is served" 200 "$code"
    # with a token file the token protects, whatever the Host (a proxy's name)
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -H "Authorization: Bearer $READ_T" -H "Host: corral.example.com" "$R1/v1/leader")
    assert_eq "a token-protected replica serves any Host" 200 "$code"
    stop_pid r2
}
run_case "DNS rebinding: loopback without a token serves loopback Host names only" dns_rebinding

token_file_checks()
{
    local rc=0 port
    port=$(free_port)
    printf 'admin %s\n' "$ADMIN_T" >"$T_DIR/open-tokens"
    chmod 644 "$T_DIR/open-tokens"
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id bad-tokens \
        --token-file "$T_DIR/open-tokens" >"$T_DIR/bad-tokens.log" 2>&1 || rc=$?
    assert_eq "a token file others may read is refused" 2 "$rc"
    assert_contains "the refusal says what to do" "chmod 600" "$(cat "$T_DIR/bad-tokens.log")"
    assert_eq "one stderr line" 1 "$(wc -l <"$T_DIR/bad-tokens.log")"
    printf 'root %s\n' "$ADMIN_T" >"$T_DIR/bad-role"
    chmod 600 "$T_DIR/bad-role"
    rc=0
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id bad-role \
        --token-file "$T_DIR/bad-role" >"$T_DIR/bad-role.log" 2>&1 || rc=$?
    assert_eq "an unknown role is refused" 2 "$rc"
    assert_contains "the refusal names the line" "line 1" "$(cat "$T_DIR/bad-role.log")"
    release_ports
}
run_case "token files: private, and every line well-formed" token_file_checks

# HTTPS: a certificate made here for 127.0.0.1, served by r3; the CLI trusts it with --cacert.
https_with_the_cli()
{
    local port url out rc=0 code
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$T_DIR/tls.key" -out "$T_DIR/tls.crt" >"$T_DIR/openssl.log" 2>&1 ||
        fail "openssl could not make a certificate: $(cat "$T_DIR/openssl.log")"
    chmod 600 "$T_DIR/tls.key"
    port=$(free_port)
    url=https://127.0.0.1:$port
    "$CORRALD" --zk "$ZK" --namespace "$T_NS" --listen "127.0.0.1:$port" --id r3 \
        --session-timeout "$SESSION_MS" --token-file "$TOKENS" \
        --tls-cert "$T_DIR/tls.crt" --tls-key "$T_DIR/tls.key" >>"$T_DIR/r3.log" 2>&1 &
    proc_record r3 $! corrald
    tls_ready()
    {
        proc_alive r3 || fail "corrald r3 exited; see $T_DIR/r3.log"
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$T_DIR/tls.crt" \
            "$url/readyz" || true)" == 200 ]]
    }
    wait_for "r3 to serve HTTPS" 20 tls_ready
    out=$("$CLI" --server "$url" --cacert "$T_DIR/tls.crt" --token "$SUBMIT_T" submit -- true)
    assert_match "corral --cacert submits over HTTPS" '^[0-9a-f]{12}-[0-9a-f]{8}$' "$out"
    local id=$out
    out=$(CORRAL_CACERT=$T_DIR/tls.crt "$CLI" --server "$url" --token "$READ_T" --json get "$id")
    assert_eq "CORRAL_CACERT works too" "$id" "$(jq -r .id <<<"$out")"
    out=$("$CLI" --server "$url" --token "$READ_T" leader 2>&1) || rc=$?
    assert_eq "without --cacert the certificate is not trusted" 1 "$rc"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/readyz" ||
        true)
    assert_ne "plain HTTP to the HTTPS port gets no answer" 200 "$code"
    rc=0
    "$CLI" --server "$url" --cacert "$T_DIR/no-such.pem" leader >/dev/null 2>&1 || rc=$?
    assert_eq "an unreadable --cacert is a usage error" 2 "$rc"
    stop_pid r3
}
run_case "HTTPS with --tls-cert/--tls-key, the CLI with --cacert" https_with_the_cli

log "roles, cross-site checks, token file checks and HTTPS work"
pass
