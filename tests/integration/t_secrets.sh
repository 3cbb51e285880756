#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Secret values of a spec (security issue, point 5): secret_env reaches the task like env, but
# the API shows its values as null (a task, a listing) and no replica or worker log holds them,
# even at debug level.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

LOG_LEVEL=debug
zk_start
corrald_start r1
worker_start w1

SECRET=s3cr3t-$RANDOM-value
case_begin "secret_env is given to the task and never shown"
ID=$(submit "{\"command\":[\"sh\",\"-c\",\"printf 'len=%s' \${#TOKEN}\"],\"env\":{\"PLAIN\":\"visible\"},\"secret_env\":{\"TOKEN\":\"$SECRET\"}}")
wait_state "$ID" succeeded 30
T=$(task_json "$ID")
assert_jq "the task got the value (its length)" ".output == \"len=${#SECRET}\"" "$T"
assert_jq "GET shows the key with a null value" '.spec.secret_env == {"TOKEN": null}' "$T"
assert_jq "plain env is shown" '.spec.env.PLAIN == "visible"' "$T"
api GET "/v1/tasks?limit=100"
assert_status "list" 200
assert_not_contains "the listing does not hold the value" "$SECRET" "$API_BODY"
assert_not_contains "GET does not hold the value" "$SECRET" "$T"
for f in "$T_DIR"/r1.log "$T_DIR"/w1.log; do
    assert_not_contains "no log holds the value ($(basename "$f"))" "$SECRET" "$(cat "$f")"
done
case_end

case_begin "corral submit --secret-env-file: from a private file, refused from a readable one"
ENVF=$T_DIR/secrets.env
SECRET2=file-s3cr3t-$RANDOM
umask 077
printf '# for the task\nTOKEN=%s\n' "$SECRET2" >"$ENVF"
umask 022
rc=0
# shellcheck disable=SC2016 # ${#TOKEN} is for the task's shell, not this one
out=$(CORRAL_SERVER=${URL_OF[r1]} timeout 60 "$CLI" submit --secret-env-file "$ENVF" -- \
    sh -c 'printf "len=%s" ${#TOKEN}' 2>"$T_DIR/cli.err" </dev/null) || rc=$?
assert_eq "submit exit status" 0 "$rc"
ID2=${out##* }
wait_state "$ID2" succeeded 30
T=$(task_json "$ID2")
assert_jq "the task got the value from the file (its length)" ".output == \"len=${#SECRET2}\"" "$T"
assert_jq "GET shows the key with a null value" '.spec.secret_env == {"TOKEN": null}' "$T"
api GET "/v1/tasks?limit=100"
N_BEFORE=$(jq '.tasks | length' <<<"$API_BODY")
chmod 0644 "$ENVF"
rc=0
CORRAL_SERVER=${URL_OF[r1]} timeout 60 "$CLI" submit --secret-env-file "$ENVF" -- true \
    >/dev/null 2>"$T_DIR/cli.err" </dev/null || rc=$?
assert_eq "a group/other-readable file: exit status" 2 "$rc"
assert_eq "one stderr line" 1 "$(wc -l <"$T_DIR/cli.err")"
assert_contains "it names the flag" "--secret-env-file" "$(cat "$T_DIR/cli.err")"
chmod 0600 "$ENVF"
printf 'no-equals-here\n' >"$ENVF"
rc=0
CORRAL_SERVER=${URL_OF[r1]} timeout 60 "$CLI" submit --secret-env-file "$ENVF" -- true \
    >/dev/null 2>"$T_DIR/cli.err" </dev/null || rc=$?
assert_eq "a malformed line: exit status" 2 "$rc"
assert_contains "it names the line" "line 1:" "$(cat "$T_DIR/cli.err")"
api GET "/v1/tasks?limit=100"
assert_eq "nothing was submitted by the refused calls" "$N_BEFORE" "$(jq '.tasks | length' <<<"$API_BODY")"
for f in "$T_DIR"/r1.log "$T_DIR"/w1.log; do
    assert_not_contains "no log holds the file's value ($(basename "$f"))" "$SECRET2" "$(cat "$f")"
done
case_end

log "secret values reach the task and nothing else"
pass
