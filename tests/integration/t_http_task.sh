#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# HTTP tasks end to end: the worker's supervisor (corral-supervisor, which links no libcurl)
# runs them as `corral-worker --http-task`. Against a small loopback HTTP server: a GET that
# answers 200 succeeds with the status line and body as output and sends the X-Corral-*
# headers; a status outside expect_status fails; an unreachable URL fails with curl's error;
# a POST sends its body.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

zk_start
corrald_start r1
worker_start w1 --slots 4

# The server echoes the request line, the X-Corral-* headers and the body; /teapot answers 418.
HTTP_PORT=$(free_port)
cat >"$T_DIR/echo.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        code = 418 if self.path == "/teapot" else 200
        text = "%s %s\n" % (self.command, self.path)
        for k in ("X-Corral-Task-Id", "X-Corral-Attempt", "X-Corral-Epoch", "X-Test"):
            text += "%s=%s\n" % (k, self.headers.get(k))
        text += "body=" + body + "\n"
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = answer
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
# The interpreter itself, not a launcher (a pyenv shim forks it: $! would be the shim's pid,
# and stopping that left the server running after the test).
PY=$(python3 -c 'import sys; print(sys.executable)')
"$PY" "$T_DIR/echo.py" "$HTTP_PORT" >"$T_DIR/echo.log" 2>&1 &
proc_record echo $! python3
server_up() { curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/"; }
wait_for "the echo server on port $HTTP_PORT" 20 server_up
BASE=http://127.0.0.1:$HTTP_PORT

get_ok()
{
    local id t
    id=$(submit "$(jq -nc --arg u "$BASE/hello" '{http:{method:"GET", url:$u, headers:{"X-Test":"yes"}}}')")
    wait_final "$id" 60
    t=$TASK
    assert_eq "GET state" succeeded "$(jb .state "$t")"
    assert_contains "status line in output" "HTTP 200" "$(jb .output "$t")"
    assert_contains "request seen by the server" "GET /hello" "$(jb .output "$t")"
    assert_contains "task id header" "X-Corral-Task-Id=$id" "$(jb .output "$t")"
    assert_contains "attempt header" "X-Corral-Attempt=1" "$(jb .output "$t")"
    assert_contains "spec header" "X-Test=yes" "$(jb .output "$t")"
}
run_case "a GET answered 200 succeeds with status, body and the X-Corral headers" get_ok

unexpected_status()
{
    local id t
    id=$(submit "$(jq -nc --arg u "$BASE/teapot" '{http:{method:"GET", url:$u}, max_attempts:1}')")
    wait_final "$id" 60
    t=$TASK
    assert_eq "418 state" failed "$(jb .state "$t")"
    assert_contains "error names the status" "418" "$(jb .error "$t")"
}
run_case "a status outside expect_status fails the task" unexpected_status

unreachable()
{
    local id t port
    port=$(free_port)
    id=$(submit "$(jq -nc --arg u "http://127.0.0.1:$port/" '{http:{method:"GET", url:$u}, max_attempts:1}')")
    wait_final "$id" 60
    t=$TASK
    assert_eq "unreachable state" failed "$(jb .state "$t")"
    assert_contains "curl's error" "curl" "$(jb .error "$t")"
}
run_case "an unreachable URL fails with curl's error" unreachable

post_body()
{
    local id t
    id=$(submit "$(jq -nc --arg u "$BASE/p" '{http:{method:"POST", url:$u, body:"ping", expect_status:[200]}}')")
    wait_final "$id" 60
    t=$TASK
    assert_eq "POST state" succeeded "$(jb .state "$t")"
    assert_contains "POST request line" "POST /p" "$(jb .output "$t")"
    assert_contains "POST body" "body=ping" "$(jb .output "$t")"
}
run_case "a POST sends its body" post_body
