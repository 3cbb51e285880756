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

log "secret values reach the task and nothing else"
pass
