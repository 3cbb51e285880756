/* SPDX-License-Identifier: MIT */
/* Small pure text helpers: UTF-8 repair, RFC 3339 times, bounded numbers. */
#ifndef CORRAL_TEXT_H
#define CORRAL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

/*
 * Copy len bytes of in as valid UTF-8 into a new NUL-terminated buffer, replacing every invalid
 * sequence (and NUL bytes) with U+FFFD. Returns a malloc'd string (caller frees); never NULL.
 */
char *corral_utf8_repair(const char *in, size_t len);

/*
 * Make text safe to print on a terminal, in place: every C0 control character but tab (and
 * newline when keep_newlines), DEL, and every C1 control (U+0080..U+009F, as UTF-8) becomes '?',
 * so that no escape sequence from a server or a task reaches the terminal. Returns the new length
 * (a C1 control shrinks from 2 bytes to 1); s is NUL-terminated at it.
 */
size_t corral_text_strip_controls(char *s, size_t len, bool keep_newlines);

/* Format wall-clock ms as "2026-11-24T08:52:52.123Z" into out (at least 25 bytes). */
void corral_time_format(int64_t wall_ms, char out[25]);
/* Parse that format back; returns 0 and sets *wall_ms, or CORRAL_EINVAL. */
CORRAL_NODISCARD int corral_time_parse(const char *s, int64_t *wall_ms);
/* Parse any RFC 3339 date-time: "2026-12-06T21:30:00+01:00", "…T20:30:00.5Z", "…t20:30:00z"
 * (fractions past milliseconds are truncated; a leap second is refused); 0 or CORRAL_EINVAL. */
CORRAL_NODISCARD int corral_time_parse_rfc3339(const char *s, int64_t *wall_ms);

/* Parse a base-10 integer with no trailing garbage into [min, max]; 0 or CORRAL_EINVAL. */
CORRAL_NODISCARD int corral_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parse a non-negative decimal with at most 3 fractional digits into thousandths
 * ("0.5" -> 500); 0 or CORRAL_EINVAL when malformed or above max_milli. */
CORRAL_NODISCARD int corral_parse_milli(const char *s, uint64_t max_milli, uint64_t *out);

#endif
