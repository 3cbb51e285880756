#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/cli.md quotes the client's help texts; fail when they drift apart.
source "$(dirname "$0")/lib.sh"

doc=$CORRAL_SRC_DIR/docs/cli.md
for c in "" submit run get wait list cancel workers leader; do
    # shellcheck disable=SC2086  # "" means: the global help
    help=$("$CLI" $c --help)
    if ! grep -qF -- "$(printf '%s\n' "$help" | head -n 1)" "$doc"; then
        fail "docs/cli.md lacks the help of 'corral $c' (regenerate it from 'corral $c --help')"
    fi
    while IFS= read -r line; do
        [[ -z "$line" ]] && continue
        grep -qxF -- "$line" "$doc" || fail "docs/cli.md is out of date for 'corral $c': missing line: $line"
    done <<<"$help"
done
pass "docs/cli.md matches every help text"
