/* SPDX-License-Identifier: MIT */
/* The live-output record output/<task-id> (output.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/output.h"
#include "corral/xalloc.h"

#define MAGIC "corral-output 1 "

char *corral_output_encode(const struct corral_output *o, size_t *len)
{
    char head[128];
    int h = snprintf(head, sizeof head, MAGIC "%" PRIu32 " %" PRIu64 " %" PRIu64 " %d\n",
                     o->attempt, o->size, o->from, o->final ? 1 : 0);
    size_t hl = (size_t)h;
    char *out = corral_xmalloc(hl + o->len + 1);
    memcpy(out, head, hl);
    if (o->len)
        memcpy(out + hl, o->data, o->len);
    out[hl + o->len] = '\0';
    *len = hl + o->len;
    return out;
}

/* A decimal field of at most 20 digits ending at sep; advances *p past sep. */
static bool field(const char **p, const char *end, char sep, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (digits >= 20 || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || (digits > 1 && **p == '0') || s >= end || *s != sep || v > max)
        return false;
    *p = s + 1;
    *out = v;
    return true;
}

int corral_output_decode(const char *buf, size_t len, struct corral_output *out,
                         struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    size_t ml = strlen(MAGIC);
    if (!buf || len < ml || memcmp(buf, MAGIC, ml) != 0)
        return corral_error_set(err, CORRAL_EINVAL, "", "output record: no header");
    const char *p = buf + ml, *end = buf + len;
    uint64_t attempt, size, from, final;
    if (!field(&p, end, ' ', UINT32_MAX, &attempt) || !field(&p, end, ' ', INT64_MAX, &size) ||
        !field(&p, end, ' ', INT64_MAX, &from) || !field(&p, end, '\n', 1, &final))
        return corral_error_set(err, CORRAL_EINVAL, "", "output record: bad header");
    size_t n = (size_t)(end - p);
    if (from > size || size - from != n || n > CORRAL_OUTPUT_WINDOW || attempt == 0)
        return corral_error_set(err, CORRAL_EINVAL, "", "output record: sizes do not match");
    *out = (struct corral_output){.attempt = (uint32_t)attempt,
                                  .size = size,
                                  .from = from,
                                  .final = final == 1,
                                  .data = p,
                                  .len = n};
    return CORRAL_OK;
}

/* Bytes of the UTF-8 sequence that lead byte c starts (1 for ASCII and for an invalid byte). */
static size_t seq_len(unsigned char c)
{
    return c < 0x80             ? 1
           : (c & 0xE0) == 0xC0 ? 2
           : (c & 0xF0) == 0xE0 ? 3
           : (c & 0xF8) == 0xF0 ? 4
                                : 1;
}

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence that
 * could still complete (an invalid byte counts as a whole character: it is repaired later). */
static size_t utf8_cut(const unsigned char *s, size_t n)
{
    /* Look at most 3 bytes back for the start of the last sequence. */
    size_t i = n;
    for (size_t back = 0; back < 4 && i > 0; back++) {
        unsigned char c = s[i - 1];
        if ((c & 0xC0) != 0x80) { /* a lead byte or ASCII at i - 1 */
            size_t need = c < 0x80             ? 1
                          : (c & 0xE0) == 0xC0 ? 2
                          : (c & 0xF0) == 0xE0 ? 3
                          : (c & 0xF8) == 0xF0 ? 4
                                               : 1;
            size_t have = n - (i - 1);
            return have < need ? i - 1 : n;
        }
        i--;
    }
    return n; /* only continuation bytes: invalid anyway */
}

void corral_output_slice(const struct corral_output *o, uint64_t offset, size_t max,
                         uint64_t *start, size_t *n, uint64_t *skipped)
{
    if (offset > o->size)
        offset = 0;
    *skipped = offset < o->from ? o->from - offset : 0;
    *start = offset < o->from ? o->from : offset;
    size_t avail = (size_t)(o->size - *start);
    size_t take = avail < max ? avail : max;
    const unsigned char *d = (const unsigned char *)o->data + (*start - o->from);
    if (!(o->final && take == avail)) {
        size_t cut = utf8_cut(d, take);
        /* Nothing before the boundary: the first character does not fit in max. Hand out its
         * bytes once it is written whole (or nothing more will be written), else wait. */
        if (cut > 0 || !(o->final || (take > 0 && seq_len(d[0]) <= avail)))
            take = cut;
    }
    *n = take;
}
