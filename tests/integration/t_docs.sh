#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# docs/cli.md quotes the client's help texts; fail when they drift apart. One case per command.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

doc=$CORRAL_SRC_DIR/docs/cli.md

# help_quoted COMMAND: docs/cli.md holds every line of 'corral COMMAND --help' ("": the global
# help).
help_quoted()
{
    local c=$1 help line
    # shellcheck disable=SC2086  # "" means: the global help
    help=$("$CLI" $c --help)
    if ! grep -qF -- "$(printf '%s\n' "$help" | head -n 1)" "$doc"; then
        fail "docs/cli.md lacks the help of 'corral $c' (regenerate it from 'corral $c --help')"
    fi
    while IFS= read -r line; do
        [[ -z "$line" ]] && continue
        grep -qxF -- "$line" "$doc" || fail "docs/cli.md is out of date for 'corral $c': missing line: $line"
    done <<<"$help"
}

for c in "" submit run get wait logs list cancel workers cordon uncordon drain leader schedule "schedule add" "schedule list" \
    "schedule get" "schedule rm" "schedule pause" "schedule resume" "schedule trigger" \
    "schedule fires"; do
    run_case "docs/cli.md quotes 'corral${c:+ $c} --help'" help_quoted "$c"
done
log "docs/cli.md matches every help text"
pass
