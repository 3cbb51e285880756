/* SPDX-License-Identifier: MIT */
/*
 * Time zones as pure data (issue 10 "Time and order"; docs/workflows.md): the UTC offsets of one
 * IANA zone, parsed from the bytes of a TZif file (RFC 8536) — the table of transitions plus the
 * POSIX TZ rule of its footer, which gives the offsets after the last transition (Debian's tables
 * end in 2037) — and the two questions cron needs answered: the offset at an instant, and the
 * instant(s) of a local wall-clock time, with gaps and overlaps. No file is read here: the
 * loader is io/tz.c (tz_load). Leap-second zones ("right/...") are refused.
 */
#ifndef CORRAL_TZ_H
#define CORRAL_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

#define CORRAL_TZ_MAX_TRANSITIONS 2000u /* Debian's tzdata 2025b has at most 310 (Asia/Hebron) */
#define CORRAL_TZ_MAX_TYPES       256u
#define CORRAL_TZ_POSIX_MAX       128u     /* bytes of a POSIX TZ string (footer) */
#define CORRAL_TZIF_MAX_BYTES     65536u   /* a TZif file larger than this is refused */
#define CORRAL_TZ_OFFSET_MIN      (-89999) /* s, RFC 8536 3.2 (-24:59:59) */
#define CORRAL_TZ_OFFSET_MAX      93599    /* s, RFC 8536 3.2 (+25:59:59) */

/* One end of a daylight-saving period of a POSIX TZ rule ("M3.5.0/3", "J60", "59/-1"). */
struct corral_tz_when {
    char kind;      /* 'M' (month.week.weekday), 'J' (1-365, no Feb 29), 'n' (0-365) */
    uint16_t day;   /* J: 1-365; n: 0-365 */
    uint8_t month;  /* M: 1-12 */
    uint8_t week;   /* M: 1-5, 5 = the last such weekday of the month */
    uint8_t wday;   /* M: 0-6, 0 = Sunday */
    int32_t time_s; /* local time of day of the change, -167h..167h (RFC 8536 extension) */
};

/* A POSIX TZ rule: standard time all year, or standard and daylight time with two changes. */
struct corral_tz_rule {
    int32_t std_off;             /* UTC offset of standard time, s east of Greenwich */
    bool has_dst;                /* false: std_off all year (the fields below are unused) */
    int32_t dst_off;             /* UTC offset of daylight time, s east */
    struct corral_tz_when start; /* daylight time begins (time_s in standard time) */
    struct corral_tz_when end;   /* daylight time ends (time_s in daylight time) */
};

/*
 * A zone: offsets from the table for instants before its last transition, from the rule at and
 * after it (or the last transition's offset when there is no rule). Caller storage, about 22 KB;
 * no pointers, so it may be copied, and needs no cleanup. Zeroed, it is not a valid zone: fill
 * it with a corral_tz_parse_* function or copy *corral_tz_utc().
 */
struct corral_tz {
    uint32_t n_trans;                              /* transitions, 0..MAX_TRANSITIONS */
    uint32_t n_types;                              /* local time types, 1..MAX_TYPES */
    int64_t trans_s[CORRAL_TZ_MAX_TRANSITIONS];    /* UTC s, strictly increasing */
    uint8_t trans_type[CORRAL_TZ_MAX_TRANSITIONS]; /* type index in effect from trans_s[i] */
    int32_t type_off[CORRAL_TZ_MAX_TYPES];         /* s east; type 0 also before trans_s[0] */
    bool has_rule;                                 /* the footer gave a rule */
    struct corral_tz_rule rule;
};

/* UTC: offset 0 always. Static constant data, valid for the life of the program. */
const struct corral_tz *corral_tz_utc(void);

/*
 * Parse the bytes of a TZif file (versions 1 to 4) into *out. Every count, index, offset and
 * the footer are checked against len and the limits above; input is untrusted (fuzzed).
 * Returns CORRAL_OK, or CORRAL_EINVAL (truncated, bad magic, counts inconsistent, transitions
 * not increasing, offset out of range, leap seconds, bad footer) or CORRAL_ETOOBIG (more than
 * the limits above) with the reason in err. *out is unspecified after a failure.
 */
CORRAL_NODISCARD int corral_tz_parse_tzif(const unsigned char *buf, size_t len,
                                          struct corral_tz *out, struct corral_error *err);

/*
 * Parse a POSIX TZ string as found in a TZif footer ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "UTC0") into *rule. A string that names daylight
 * time must give its rule (the footer always does). CORRAL_EINVAL with the reason otherwise.
 */
CORRAL_NODISCARD int corral_tz_rule_parse(const char *s, size_t len, struct corral_tz_rule *rule,
                                          struct corral_error *err);

/* A zone with no table, only the POSIX TZ rule s (tests, and zones given as a rule). */
CORRAL_NODISCARD int corral_tz_parse_posix(const char *s, size_t len, struct corral_tz *out,
                                           struct corral_error *err);

/* UTC offset (s east) in effect at the UTC instant utc_s. */
int32_t corral_tz_offset_at(const struct corral_tz *tz, int64_t utc_s);

/*
 * The first instant after utc_s at which the offset may change (a transition of the table or of
 * the rule; the offset can be the same on both sides). false when there is none (fixed zone).
 */
bool corral_tz_next_change(const struct corral_tz *tz, int64_t utc_s, int64_t *change_s);

enum corral_tz_local_kind {
    CORRAL_TZ_LOCAL_UNIQUE,  /* the local time occurs once */
    CORRAL_TZ_LOCAL_GAP,     /* skipped by a forward change (spring forward) */
    CORRAL_TZ_LOCAL_OVERLAP, /* occurs twice (fall back) */
};

/* Where a local wall-clock time falls in UTC. */
struct corral_tz_local {
    enum corral_tz_local_kind kind;
    int64_t first_s;  /* UNIQUE: its instant; OVERLAP: the earlier; GAP: the change ending it,
                       * i.e. the first valid instant after the gap */
    int64_t second_s; /* OVERLAP: the later instant; otherwise first_s */
    int64_t change_s; /* GAP, OVERLAP: the instant of the change; otherwise first_s */
};

/*
 * Resolve the local time local_s (seconds since 1970-01-01T00:00:00 on the local wall clock,
 * as if it were UTC) in tz. Offsets are at most a day off UTC, so only the changes within
 * 26 hours of local_s count; a pathological table with more than 64 of them there is cut short
 * (the answer is then some instant near local_s, never a crash).
 */
void corral_tz_resolve(const struct corral_tz *tz, int64_t local_s, struct corral_tz_local *out);

#endif
