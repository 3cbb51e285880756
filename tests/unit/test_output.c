/* SPDX-License-Identifier: MIT */
/* The live-output record output/<task-id> (corral/output.h): its codec (round trips, strict
 * refusals) and the slicing rule a follower of `corral logs -f` relies on (where its answer
 * starts, how many bytes it carries, what was skipped, where a UTF-8 character is cut). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/output.h"

#define EURO "\xE2\x82\xAC"     /* U+20AC, 3 bytes */
#define GRIN "\xF0\x9F\x98\x80" /* U+1F600, 4 bytes */

static struct corral_output rec(uint32_t attempt, uint64_t from, bool final, const char *data,
                                size_t len)
{
    return (struct corral_output){.attempt = attempt,
                                  .size = from + len,
                                  .from = from,
                                  .final = final,
                                  .data = data,
                                  .len = len};
}

/* ---- codec ------------------------------------------------------------------------------ */

/* Encode o, check the text is want_head followed by the data, decode it back and compare. */
static void round_trip(const struct corral_output *o, const char *want_head)
{
    size_t len = 0;
    char *text = corral_output_encode(o, &len);
    assert_non_null(text);
    size_t hl = strlen(want_head);
    assert_int_equal(len, hl + o->len);
    assert_memory_equal(text, want_head, hl);
    if (o->len)
        assert_memory_equal(text + hl, o->data, o->len);
    assert_int_equal(text[len], '\0'); /* NUL-terminated for the caller's convenience */

    struct corral_output back;
    struct corral_error err = {0};
    int rc = corral_output_decode(text, len, &back, &err);
    if (rc != CORRAL_OK)
        fail_msg("decode of own encoding refused: %s", err.msg);
    assert_int_equal(back.attempt, o->attempt);
    assert_true(back.size == o->size);
    assert_true(back.from == o->from);
    assert_int_equal(back.final, o->final);
    assert_int_equal(back.len, o->len);
    assert_ptr_equal(back.data, text + hl); /* borrowed: points into the buffer */
    if (o->len)
        assert_memory_equal(back.data, o->data, o->len);

    /* Encoding what was decoded gives the same bytes. */
    size_t len2 = 0;
    char *again = corral_output_encode(&back, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(again, text, len);
    free(again);
    free(text);
}

static void round_trip_empty(void **state)
{
    (void)state;
    struct corral_output o = rec(1, 0, false, "", 0);
    round_trip(&o, "corral-output 1 1 0 0 0\n");
    o.final = true;
    round_trip(&o, "corral-output 1 1 0 0 1\n");
    o.data = NULL; /* no data: nothing is read */
    round_trip(&o, "corral-output 1 1 0 0 1\n");
    /* Empty window at a high offset: everything before it is gone. */
    o = rec(7, 5000000, false, "", 0);
    round_trip(&o, "corral-output 1 7 5000000 5000000 0\n");
}

static void round_trip_binary(void **state)
{
    (void)state;
    static const char bin[] = "a\0b\0\n\xff\xfe\r\n\0corral-output 1 1 0 0 0\n\x80";
    size_t n = sizeof bin - 1;
    struct corral_output o = rec(3, 1000000, false, bin, n);
    char head[96];
    snprintf(head, sizeof head, "corral-output 1 3 %zu 1000000 0\n", 1000000 + n);
    round_trip(&o, head);
    o.final = true;
    snprintf(head, sizeof head, "corral-output 1 3 %zu 1000000 1\n", 1000000 + n);
    round_trip(&o, head);
    /* The whole output kept (from 0). */
    o = rec(2, 0, true, bin, n);
    snprintf(head, sizeof head, "corral-output 1 2 %zu 0 1\n", n);
    round_trip(&o, head);
}

static void round_trip_limits(void **state)
{
    (void)state;
    /* The largest attempt and size; a window of exactly CORRAL_OUTPUT_WINDOW bytes. */
    char *big = malloc(CORRAL_OUTPUT_WINDOW);
    assert_non_null(big);
    for (size_t i = 0; i < CORRAL_OUTPUT_WINDOW; i++)
        big[i] = (char)(i * 7);
    struct corral_output o = rec(UINT32_MAX, (uint64_t)INT64_MAX - CORRAL_OUTPUT_WINDOW, false, big,
                                 CORRAL_OUTPUT_WINDOW);
    char head[96];
    snprintf(head, sizeof head, "corral-output 1 4294967295 9223372036854775807 %llu 0\n",
             (unsigned long long)INT64_MAX - CORRAL_OUTPUT_WINDOW);
    round_trip(&o, head);
    free(big);
}

/* text (of len bytes) is refused, and out is left empty. */
static void refused_len(const char *text, size_t len)
{
    struct corral_output out;
    memset(&out, 0xA5, sizeof out);
    struct corral_error err = {0};
    int rc = corral_output_decode(text, len, &out, &err);
    if (rc != CORRAL_EINVAL)
        fail_msg("accepted (rc %d): %.*s", rc, (int)(len > 120 ? 120 : len), text);
    assert_int_equal(err.code, CORRAL_EINVAL);
    assert_true(err.msg[0] != '\0');
    assert_null(out.data);
    assert_int_equal(out.len, 0);
    assert_int_equal(out.attempt, 0);
    assert_false(out.final);
}

static void refused(const char *text)
{
    refused_len(text, strlen(text));
}

static void accepted_len(const char *text, size_t len)
{
    struct corral_output out;
    struct corral_error err = {0};
    if (corral_output_decode(text, len, &out, &err) != CORRAL_OK)
        fail_msg("refused: %.*s: %s", (int)(len > 120 ? 120 : len), text, err.msg);
}

static void accepted(const char *text)
{
    accepted_len(text, strlen(text));
}

static void decode_refuses_magic(void **state)
{
    (void)state;
    refused_len(NULL, 0);
    refused("");
    refused("corral-output");
    refused("corral-output 1");
    refused("corral-output 1 ");
    refused("corral-output 2 1 0 0 0\n");
    refused("corral-output 0 1 0 0 0\n");
    refused("corral-output 11 1 0 0 0\n");
    refused("Corral-output 1 1 0 0 0\n");
    refused("corral-outpot 1 1 0 0 0\n");
    refused("corral_output 1 1 0 0 0\n");
    refused(" corral-output 1 1 0 0 0\n");
    refused("corral-output  1 1 0 0 0\n");
    refused("corral-output\t1 1 0 0 0\n");
    refused("{\"attempt\": 1}");
    refused_len("\0orral-output 1 1 0 0 0\n", 24);
    accepted("corral-output 1 1 0 0 0\n"); /* the reference the others differ from */
}

static void decode_refuses_numbers(void **state)
{
    (void)state;
    /* Leading zeros: every number has one spelling (re-encoding gives the same bytes). */
    refused("corral-output 1 01 0 0 0\n");
    refused("corral-output 1 1 05 0 0\nabcde");
    refused("corral-output 1 1 5 00 0\nabcde");
    refused("corral-output 1 1 0 00 0\n");
    refused("corral-output 1 1 00 0 0\n");
    refused("corral-output 1 1 0 0 00\n");
    refused("corral-output 1 1 0 0 01\n");
    refused("corral-output 1 00 0 0 0\n");
    accepted("corral-output 1 10 5 0 0\nabcde");
    /* 21 digits, 20 digits, one over the field's range. */
    refused("corral-output 1 1 100000000000000000000 100000000000000000000 0\n");
    refused("corral-output 1 1 000000000000000000005 0 0\nabcde");
    refused("corral-output 1 100000000000000000001 0 0 0\n");
    refused("corral-output 1 1 18446744073709551615 18446744073709551615 0\n");
    refused("corral-output 1 1 18446744073709551616 18446744073709551616 0\n");
    refused("corral-output 1 1 9223372036854775808 9223372036854775808 0\n");
    accepted("corral-output 1 1 9223372036854775807 9223372036854775807 0\n");
    refused("corral-output 1 4294967296 0 0 0\n");
    accepted("corral-output 1 4294967295 0 0 0\n");
    /* No sign, no blank, no other digit. */
    refused("corral-output 1 +1 0 0 0\n");
    refused("corral-output 1 -1 0 0 0\n");
    refused("corral-output 1 1 -0 0 0\n");
    refused("corral-output 1 1 0 0 -1\n");
    refused("corral-output 1 1 0x5 0 0\nabcde");
    refused("corral-output 1 \xd9\xa1 0 0 0\n"); /* ARABIC-INDIC DIGIT ONE */
    /* attempt 0 is no attempt. */
    refused("corral-output 1 0 0 0 0\n");
    refused("corral-output 1 0 3 0 1\nabc");
    /* final is 0 or 1. */
    refused("corral-output 1 1 0 0 2\n");
    refused("corral-output 1 1 0 0 9\n");
    refused("corral-output 1 1 0 0 10\n");
    refused("corral-output 1 1 0 0 t\n");
    refused("corral-output 1 1 0 0 \n");
}

static void decode_refuses_layout(void **state)
{
    (void)state;
    /* Missing fields, missing newline, trailing garbage in the header. */
    refused("corral-output 1 1\n");
    refused("corral-output 1 1 0\n");
    refused("corral-output 1 1 0 0\n");
    refused("corral-output 1 1 0 0 0");
    refused("corral-output 1 1 0 0 1");
    refused("corral-output 1 1 0 0 0 ");
    refused("corral-output 1 1 0 0 0 \n");
    refused("corral-output 1 1 0 0 0 x\n");
    refused("corral-output 1 1 0 0 0 0\n");
    refused("corral-output 1 1 0 0 0x\n");
    refused("corral-output 1 1 0 0 0\r\n");
    refused("corral-output 1 1 0 0 0\t\n");
    refused("corral-output 1 1  0 0 0\n");
    refused("corral-output 1 1 0  0 0\n");
    refused("corral-output 1 1 0 0  0\n");
    refused("corral-output 1 1\t0 0 0\n");
    refused("corral-output 1 1 0\n0 0\n");
    refused_len("corral-output 1 1 0\0 0 0\n", 25);
    refused_len("corral-output 1 1 0 0 0\0\n", 25);
    /* from > size. */
    refused("corral-output 1 1 3 5 0\n");
    refused("corral-output 1 1 0 1 0\n");
    refused("corral-output 1 1 0 9223372036854775807 0\n");
    /* size - from differs from the data's length (either way; the newline belongs to the
     * header, a second one is data). */
    refused("corral-output 1 1 5 0 0\nabcd");
    refused("corral-output 1 1 5 0 0\nabcdef");
    refused("corral-output 1 1 5 0 0\nabcde\n");
    refused("corral-output 1 1 0 0 0\n\n");
    refused("corral-output 1 1 9 4 1\nabcd");
    refused("corral-output 1 1 9223372036854775807 0 0\nabc");
    accepted("corral-output 1 1 9 4 1\nabcde");
    accepted("corral-output 1 1 1 0 0\n\n");
    /* The data may hold NUL bytes: the length given counts, not strlen. */
    refused_len("corral-output 1 1 3 0 0\na\0b", 26);
    accepted_len("corral-output 1 1 3 0 0\na\0b", 27);
}

static void decode_refuses_over_window(void **state)
{
    (void)state;
    /* A record is at most CORRAL_OUTPUT_WINDOW bytes of data, whatever its header says. */
    size_t hl_max = 96;
    char *buf = malloc(hl_max + CORRAL_OUTPUT_WINDOW + 2);
    assert_non_null(buf);
    for (size_t extra = 0; extra <= 2; extra++) {
        size_t n = CORRAL_OUTPUT_WINDOW + extra;
        int hl = snprintf(buf, hl_max, "corral-output 1 4 %zu 1000 %d\n", (size_t)1000 + n,
                          (int)(extra & 1));
        memset(buf + hl, 'x', n);
        if (extra == 0)
            accepted_len(buf, (size_t)hl + n);
        else
            refused_len(buf, (size_t)hl + n);
    }
    free(buf);
}

/* ---- slicing ---------------------------------------------------------------------------- */

struct sl {
    uint64_t start;
    size_t n;
    uint64_t skipped;
};

static struct sl slice(const struct corral_output *o, uint64_t offset, size_t max)
{
    struct sl s = {.start = 12345, .n = 999999, .skipped = 777};
    corral_output_slice(o, offset, max, &s.start, &s.n, &s.skipped);
    /* What every answer satisfies. */
    assert_true(s.start >= o->from);
    assert_true(s.start <= o->size);
    assert_true(s.n <= max);
    assert_true(s.start + s.n <= o->size);
    return s;
}

static void expect(struct sl s, uint64_t start, size_t n, uint64_t skipped)
{
    if (s.start != start || s.n != n || s.skipped != skipped)
        fail_msg("slice start %llu n %zu skipped %llu, want start %llu n %zu skipped %llu",
                 (unsigned long long)s.start, s.n, (unsigned long long)s.skipped,
                 (unsigned long long)start, n, (unsigned long long)skipped);
}

static void slice_offsets(void **state)
{
    (void)state;
    /* Bytes [100, 111) kept of 111 written. */
    struct corral_output o = rec(2, 100, false, "hello world", 11);
    size_t big = CORRAL_OUTPUT_ANSWER_MAX;
    /* Inside the window: from there to the end. */
    expect(slice(&o, 105, big), 105, 6, 0);
    expect(slice(&o, 100, big), 100, 11, 0);
    expect(slice(&o, 110, big), 110, 1, 0);
    /* Before the window: what was dropped is counted, the answer starts at from. */
    expect(slice(&o, 40, big), 100, 11, 60);
    expect(slice(&o, 0, big), 100, 11, 100);
    expect(slice(&o, 99, big), 100, 11, 1);
    /* Caught up: nothing, nothing skipped. */
    expect(slice(&o, 111, big), 111, 0, 0);
    /* Beyond size (another attempt's offset): the window from its start, as if from offset 0
     * of this attempt, so the bytes before the window count as skipped. */
    expect(slice(&o, 112, big), 100, 11, 100);
    expect(slice(&o, 5000, big), 100, 11, 100);
    expect(slice(&o, UINT64_MAX, big), 100, 11, 100);
    struct corral_output whole = rec(1, 0, false, "abc", 3);
    expect(slice(&whole, 4, big), 0, 3, 0);
    expect(slice(&whole, 3, big), 3, 0, 0);
    /* max smaller than what is there. */
    expect(slice(&o, 100, 5), 100, 5, 0);
    expect(slice(&o, 40, 5), 100, 5, 60);
    expect(slice(&o, 106, 1), 106, 1, 0);
    /* The bytes are the window's. */
    struct sl s = slice(&o, 106, big);
    assert_memory_equal(o.data + (s.start - o.from), "world", s.n);
    /* Final changes nothing for ASCII. */
    o.final = true;
    expect(slice(&o, 105, big), 105, 6, 0);
    expect(slice(&o, 111, big), 111, 0, 0);
    expect(slice(&o, 40, 5), 100, 5, 60);
    /* An empty record. */
    struct corral_output empty = rec(1, 0, false, "", 0);
    expect(slice(&empty, 0, big), 0, 0, 0);
    expect(slice(&empty, 1, big), 0, 0, 0);
}

static void slice_follow_whole_window(void **state)
{
    (void)state;
    /* A follower reading with a small max gets every byte once, in order. */
    static const char text[] = "line 1\nline 2 " EURO " and " GRIN "\nend";
    size_t len = sizeof text - 1;
    for (size_t max = 4; max <= 9; max++) {
        for (int fin = 0; fin <= 1; fin++) {
            struct corral_output o = rec(1, 0, fin, text, len);
            char got[sizeof text];
            size_t have = 0;
            uint64_t off = 0;
            for (int rounds = 0; off < o.size; rounds++) {
                assert_true(rounds < 100);
                struct sl s = slice(&o, off, max);
                assert_true(s.start == off);
                assert_true(s.skipped == 0);
                assert_true(s.n > 0); /* progress */
                memcpy(got + have, text + s.start, s.n);
                have += s.n;
                off = s.start + s.n;
            }
            assert_int_equal(have, len);
            assert_memory_equal(got, text, len);
        }
    }
}

static void slice_utf8_cut(void **state)
{
    (void)state;
    size_t big = CORRAL_OUTPUT_ANSWER_MAX;
    /* A euro sign whose last byte is not written yet: cut before it while the attempt runs. */
    struct corral_output o = rec(1, 0, false, "ab\xE2\x82", 4);
    expect(slice(&o, 0, big), 0, 2, 0);
    expect(slice(&o, 2, big), 2, 0, 0); /* nothing yet, the character may still complete */
    expect(slice(&o, 3, big), 3, 1, 0); /* the follower is already inside it: no stall */
    o = rec(1, 0, false, "ab\xE2", 3);
    expect(slice(&o, 0, big), 0, 2, 0);
    /* The attempt ended there: the truncated character is the end of the output, kept. */
    o = rec(1, 0, true, "ab\xE2\x82", 4);
    expect(slice(&o, 0, big), 0, 4, 0);
    expect(slice(&o, 2, big), 2, 2, 0);
    /* Complete: whole. */
    o = rec(1, 0, false, "ab" EURO, 5);
    expect(slice(&o, 0, big), 0, 5, 0);
    o = rec(1, 0, false, EURO EURO, 6);
    expect(slice(&o, 0, big), 0, 6, 0);
    /* max ends inside a complete character: cut before it, final or not (more follows). */
    for (int fin = 0; fin <= 1; fin++) {
        o = rec(1, 0, fin, "ab" EURO "cd", 7);
        expect(slice(&o, 0, 3), 0, 2, 0);
        expect(slice(&o, 0, 4), 0, 2, 0);
        expect(slice(&o, 0, 5), 0, 5, 0);
        expect(slice(&o, 0, 6), 0, 6, 0);
        expect(slice(&o, 2, 3), 2, 3, 0);
    }
    /* Two- and four-byte characters cut at the end of a running attempt. */
    o = rec(1, 0, false, "x\xC3", 2);
    expect(slice(&o, 0, big), 0, 1, 0);
    o = rec(1, 0, false, "x\xC3\xA9", 3);
    expect(slice(&o, 0, big), 0, 3, 0);
    for (size_t have = 1; have < 4; have++) {
        o = rec(1, 0, false, "xyz" GRIN, 3 + have);
        expect(slice(&o, 0, big), 0, 3, 0);
        o.final = true;
        expect(slice(&o, 0, big), 0, 3 + have, 0);
    }
    o = rec(1, 0, false, "xyz" GRIN, 7);
    expect(slice(&o, 0, big), 0, 7, 0);
    /* The window starts inside a character: its tail is passed on, not held back. */
    o = rec(1, 10, false,
            "\x82\xAC"
            "ab",
            4);
    expect(slice(&o, 0, big), 10, 4, 10);
    o = rec(1, 10, false, "\xAC", 1);
    expect(slice(&o, 0, big), 10, 1, 10);
}

static void slice_invalid_bytes_do_not_stall(void **state)
{
    (void)state;
    size_t big = CORRAL_OUTPUT_ANSWER_MAX;
    /* A lone continuation byte, many of them, bytes that start no character. */
    struct corral_output o = rec(1, 0, false, "\x82", 1);
    expect(slice(&o, 0, big), 0, 1, 0);
    o = rec(1, 0, false, "a\x82\x82\x82\x82\x82", 6);
    expect(slice(&o, 0, big), 0, 6, 0);
    expect(slice(&o, 0, 4), 0, 4, 0);
    o = rec(1, 0, false, "\xFF", 1);
    expect(slice(&o, 0, big), 0, 1, 0);
    o = rec(1, 0, false, "ab\xFE", 3);
    expect(slice(&o, 0, big), 0, 3, 0);
    o = rec(1, 0, false, "\xF8\x80\x80\x80\x80", 5);
    expect(slice(&o, 0, big), 0, 5, 0);
    /* A lead byte followed by something that is no continuation: the character is over. */
    o = rec(1, 0, false,
            "\xE2"
            "a",
            2);
    expect(slice(&o, 0, big), 0, 2, 0);
    o = rec(1, 0, false,
            "\xF0\x9F"
            "a",
            3);
    expect(slice(&o, 0, big), 0, 3, 0);
    o = rec(1, 0, false, "\xC3\xC3", 2);
    expect(slice(&o, 0, big), 0, 1, 0); /* the second may still complete */
    /* Too many continuation bytes after a lead. */
    o = rec(1, 0, false, "\xC3\xA9\xA9\xA9", 4);
    expect(slice(&o, 0, big), 0, 4, 0);
    /* A follower walking through garbage with the largest answer always gets somewhere. */
    static const char junk[] = "\x80\xC0\xFF\xE2\x82\xF5\x80\x80\x80\xED\xA0\x80\xC3\xA9"
                               "\xF4\x90\x80\x80\xFE\xBF z";
    size_t len = sizeof junk - 1;
    for (size_t max = 4; max <= 8; max++) {
        struct corral_output j = rec(1, 0, false, junk, len);
        uint64_t off = 0;
        for (int rounds = 0; off < j.size; rounds++) {
            assert_true(rounds < 100);
            struct sl s = slice(&j, off, rounds % 2 ? max : big);
            assert_true(s.n > 0);
            off = s.start + s.n;
        }
    }
}

static void slice_short_max_holds_incomplete_char(void **state)
{
    (void)state;
    /* While a 4-byte character is still being written (its bytes end the window of a running
     * attempt), an answer of max 2 holds it back: n 0, the follower asks again. */
    struct corral_output o = rec(1, 0, false, "\xF0\x9F", 2);
    expect(slice(&o, 0, 2), 0, 0, 0);
    o = rec(1, 0, false, "\xF0", 1);
    expect(slice(&o, 0, 2), 0, 0, 0);
    o = rec(1, 0, false, "\xF0\x9F\x98", 3);
    expect(slice(&o, 0, 2), 0, 0, 0);
    /* Once it can no longer complete (the attempt ended), the follower gets the bytes. */
    o = rec(1, 0, true, "\xF0\x9F", 2);
    expect(slice(&o, 0, 2), 0, 2, 0);
}

static void slice_short_max_whole_char_not_stalled(void **state)
{
    (void)state;
    struct corral_output o;
    /* A character that is there whole but does not fit in max cannot complete within max:
     * output.h says the answer is then not cut (else a follower asking with that max would
     * get n 0 forever). */
    o = rec(1, 0, false, GRIN "ab", 6);
    expect(slice(&o, 0, 2), 0, 2, 0);
    expect(slice(&o, 0, 3), 0, 3, 0);
    o = rec(1, 0, true, GRIN "ab", 6);
    expect(slice(&o, 0, 2), 0, 2, 0);
    o = rec(1, 0, true, GRIN, 4);
    expect(slice(&o, 0, 3), 0, 3, 0);
    o = rec(1, 0, false, EURO "ab", 5);
    expect(slice(&o, 0, 1), 0, 1, 0);
    expect(slice(&o, 0, 2), 0, 2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_empty),
        cmocka_unit_test(round_trip_binary),
        cmocka_unit_test(round_trip_limits),
        cmocka_unit_test(decode_refuses_magic),
        cmocka_unit_test(decode_refuses_numbers),
        cmocka_unit_test(decode_refuses_layout),
        cmocka_unit_test(decode_refuses_over_window),
        cmocka_unit_test(slice_offsets),
        cmocka_unit_test(slice_follow_whole_window),
        cmocka_unit_test(slice_utf8_cut),
        cmocka_unit_test(slice_invalid_bytes_do_not_stall),
        cmocka_unit_test(slice_short_max_holds_incomplete_char),
        cmocka_unit_test(slice_short_max_whole_char_not_stalled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
