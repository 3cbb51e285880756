/* SPDX-License-Identifier: MIT */
/*
 * Task ids: "<12 lowercase hex ms>-<8 lowercase hex random>" (include/corral/id.h). Pure: the
 * caller supplies the wall-clock ms and the random bits; this file only formats and checks them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "corral/id.h"

#define ID_MS_DIGITS   12u
#define ID_RAND_DIGITS 8u
#define ID_MS_MASK     UINT64_C(0xffffffffffff) /* 48 bits: 12 hex digits, good until year 10889 */

_Static_assert(ID_MS_DIGITS + 1u + ID_RAND_DIGITS == CORRAL_ID_LEN, "id length");

void corral_id_make(char out[CORRAL_ID_LEN + 1], uint64_t wall_ms, uint32_t rand32)
{
    /* The mask keeps the output at exactly CORRAL_ID_LEN characters whatever the input. */
    snprintf(out, CORRAL_ID_LEN + 1, "%012" PRIx64 "-%08" PRIx32, wall_ms & ID_MS_MASK, rand32);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase is not an id: ids must compare and sort byte-wise */
}

bool corral_id_is_valid(const char *s)
{
    if (!s || strlen(s) != CORRAL_ID_LEN)
        return false;
    for (size_t i = 0; i < CORRAL_ID_LEN; i++) {
        if (i == ID_MS_DIGITS) {
            if (s[i] != '-')
                return false;
        } else if (hex_value(s[i]) < 0) {
            return false;
        }
    }
    return true;
}

int64_t corral_id_time_ms(const char *s)
{
    if (!corral_id_is_valid(s))
        return -1;
    uint64_t ms = 0;
    for (size_t i = 0; i < ID_MS_DIGITS; i++)
        ms = ms * 16u + (uint64_t)hex_value(s[i]);
    return (int64_t)ms; /* at most 2^48 - 1 */
}
