/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "output": the live-output record output/<task-id> as a replica serving
 * `corral logs -f` reads it, and the slice a follower gets from it. Input: any bytes, used twice:
 * decoded as a record, and (first byte: flags, the rest: the window's data) as a record to
 * encode. Invariants: an accepted record points into the input and re-encodes to the same bytes;
 * an encoded record decodes to itself; for offsets 0, from, size, size + 1, from - 1, a value
 * from the input and UINT64_MAX, and max 1..5 and 64 KiB, the slice lies in the window, carries
 * at most max bytes, counts as skipped exactly what lies between offset and the window, and
 * (unless it is the final end of the output) never ends inside a UTF-8 character that more
 * bytes could complete; it only drops the unfinished character (at most 3 bytes), and with
 * max >= 4 it only comes back empty at the very end of a running attempt's output.
 */
#include "corral/output.h"
#include "fuzz.h"

/* The range of the byte after lead at position pos (1..3) of a valid UTF-8 character. */
static bool cont_ok(unsigned char lead, size_t pos, unsigned char c)
{
    unsigned char lo = 0x80, hi = 0xBF;
    if (pos == 1) {
        lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
        hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    }
    return c >= lo && c <= hi;
}

/* True when the slice s[0..n) of the avail bytes at s ends inside a UTF-8 character that could
 * still complete: a valid lead byte and fewer continuation bytes than it needs, each in its
 * range, and the bytes after the slice (as far as there are any) going on with it. */
static bool ends_inside_char(const unsigned char *s, size_t n, size_t avail)
{
    size_t k = 0; /* continuation bytes at the end */
    while (k < n && k < 3 && (s[n - 1 - k] & 0xC0) == 0x80)
        k++;
    if (k == n)
        return false; /* no lead byte in the slice */
    unsigned char lead = s[n - 1 - k];
    size_t need = lead >= 0xC2 && lead <= 0xDF   ? 2
                  : lead >= 0xE0 && lead <= 0xEF ? 3
                  : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                 : 0;
    if (need == 0 || k + 1 >= need)
        return false;
    for (size_t pos = 1; pos < need; pos++) {
        size_t at = n - 1 - k + pos;
        if (at >= avail)
            return true; /* not written yet: may still come */
        if (!cont_ok(lead, pos, s[at]))
            return false; /* a byte that ends it: it never completes */
    }
    return true; /* complete right after the slice: cut inside it */
}

static void check_slice(const struct corral_output *o, uint64_t offset, size_t max)
{
    uint64_t start = 1234567, skipped = 7654321;
    size_t n = 999999;
    corral_output_slice(o, offset, max, &start, &n, &skipped);
    FUZZ_CHECK(start >= o->from && start <= o->size);
    FUZZ_CHECK(n <= max && n <= o->size - start);
    if (offset <= o->size) {
        FUZZ_CHECK(skipped == (offset < o->from ? o->from - offset : 0));
        FUZZ_CHECK(start == (offset < o->from ? o->from : offset));
    } else {
        /* Another attempt's offset: this attempt from the start of its window. */
        FUZZ_CHECK(start == o->from && skipped == o->from);
    }
    const unsigned char *d = (const unsigned char *)o->data + (start - o->from);
    uint64_t avail = o->size - start;
    size_t take = avail < max ? (size_t)avail : max;
    bool to_end = n == avail;
    if (n > 0 && !(o->final && to_end))
        FUZZ_CHECK(!ends_inside_char(d, n, (size_t)avail));
    /* Only an unfinished character is held back, and it starts where the slice ends. */
    FUZZ_CHECK(n <= take && n + 3 >= take);
    if (n < take)
        FUZZ_CHECK(d[n] >= 0xC0);
    if (o->final && take == avail)
        FUZZ_CHECK(n == take); /* the end of a finished output: every byte */
    /* No stall: with room for any character, an empty answer only waits for the rest of a
     * character the running attempt is still writing. */
    if (max >= 4 && n == 0 && avail > 0) {
        FUZZ_CHECK(!o->final && avail < 4 && d[0] >= 0xC0);
        for (size_t i = 1; i < avail; i++)
            FUZZ_CHECK((d[i] & 0xC0) == 0x80);
    }
}

static void check_record(const struct corral_output *o, uint64_t v)
{
    const uint64_t offsets[] = {0,
                                o->from,
                                o->size,
                                o->size + 1,
                                o->from ? o->from - 1 : 0,
                                v,
                                o->from + v % (o->len + 1),
                                UINT64_MAX};
    const size_t maxes[] = {1, 2, 3, 4, 5, CORRAL_OUTPUT_ANSWER_MAX};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++)
        for (size_t j = 0; j < sizeof maxes / sizeof maxes[0]; j++)
            check_slice(o, offsets[i], maxes[j]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    /* A value from the input: its last 8 bytes (the data end of a record). */
    uint64_t v = 0;
    for (size_t i = size > 8 ? size - 8 : 0; i < size; i++)
        v = v << 8 | data[i];

    /* 1. The input as a record. */
    struct corral_output o;
    struct corral_error err = {0};
    if (corral_output_decode(text, size, &o, &err) == CORRAL_OK) {
        FUZZ_CHECK(o.attempt >= 1 && o.from <= o.size && o.size <= (uint64_t)INT64_MAX);
        FUZZ_CHECK(o.len == o.size - o.from && o.len <= CORRAL_OUTPUT_WINDOW);
        FUZZ_CHECK(o.data >= text && o.data + o.len == text + size);
        size_t len = 0;
        char *enc = corral_output_encode(&o, &len);
        FUZZ_CHECK(len == size && memcmp(enc, text, size) == 0 && enc[len] == '\0');
        free(enc);
        check_record(&o, v);
    } else {
        FUZZ_CHECK(err.code == CORRAL_EINVAL && err.msg[0] != '\0');
        FUZZ_CHECK(o.data == NULL && o.len == 0 && o.attempt == 0 && o.size == 0);
    }

    /* 2. A record made of the input: flags byte, then the window's bytes. */
    if (size == 0)
        return 0;
    uint8_t f = data[0];
    size_t len = size - 1 > CORRAL_OUTPUT_WINDOW ? CORRAL_OUTPUT_WINDOW : size - 1;
    struct corral_output in = {.attempt = (f & 0xF0) == 0xF0 ? UINT32_MAX : 1u + (f >> 4),
                               .final = (f & 1) != 0,
                               .data = text + 1,
                               .len = len};
    switch ((f >> 1) & 3) {
        case 0:
            in.from = 0;
            break;
        case 1:
            in.from = v % 1000003u;
            break;
        case 2:
            in.from = v & (uint64_t)INT64_MAX;
            break;
        default:
            in.from = (uint64_t)INT64_MAX;
            break;
    }
    if (in.from > (uint64_t)INT64_MAX - len)
        in.from = (uint64_t)INT64_MAX - len;
    in.size = in.from + len;
    size_t elen = 0;
    char *enc = corral_output_encode(&in, &elen);
    struct corral_output back;
    FUZZ_CHECK(corral_output_decode(enc, elen, &back, &err) == CORRAL_OK);
    FUZZ_CHECK(back.attempt == in.attempt && back.size == in.size && back.from == in.from &&
               back.final == in.final && back.len == in.len);
    FUZZ_CHECK(back.data == enc + (elen - len) && memcmp(back.data, in.data, len) == 0);
    size_t elen2 = 0;
    char *enc2 = corral_output_encode(&back, &elen2);
    FUZZ_CHECK(elen2 == elen && memcmp(enc, enc2, elen) == 0);
    free(enc2);
    free(enc);
    check_record(&in, v);
    return 0;
}
