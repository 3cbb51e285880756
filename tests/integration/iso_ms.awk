# SPDX-License-Identifier: MIT
# iso_ms(ts): "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, corral's log timestamps) -> epoch milliseconds.
# mawk has no mktime: days from civil (H. Hinnant). Print the result with "%.0f" (mawk's %d is
# 32-bit). Used with a second -f by fault_lib.sh and check_invariants.sh.
function iso_ms(s,   y, mo, d, era, yoe, mp, doy, doe) {
    y = substr(s, 1, 4) + 0; mo = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
    if (mo <= 2) y--
    era = int(y / 400); yoe = y - era * 400; mp = (mo + 9) % 12
    doy = int((153 * mp + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return (era * 146097 + doe - 719468) * 86400000 + substr(s, 12, 2) * 3600000 \
        + substr(s, 15, 2) * 60000 + substr(s, 18, 2) * 1000 + substr(s, 21, 3)
}
