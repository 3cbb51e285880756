/* SPDX-License-Identifier: MIT */
/*
 * Shared by every fuzz target tests/fuzz/fuzz_<name>.c (docs/fuzzing.md). A target defines
 * LLVMFuzzerTestOneInput: libFuzzer drives it in the clang build (CORRAL_FUZZ=ON), and
 * replay_main.c drives it over the checked-in corpus in every regular build (ctest
 * fuzz_corpus_<name>), so a crash once found stays fixed.
 */
#ifndef CORRAL_FUZZ_H
#define CORRAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: its failure is a finding (abort: libFuzzer keeps the
 * input as crash-<sha1>, the replay test fails). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a NUL-terminated string (cut at its first NUL byte, as a znode name or a C
 * string reader would see it); free() it. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Split the input at its first newline: *head (NUL-terminated, free() it) and the rest
 * (*tail, *tail_len: a view into data). No newline: head is everything, the tail empty. */
static inline char *fuzz_split(const uint8_t *data, size_t size, const uint8_t **tail,
                               size_t *tail_len)
{
    const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;
    size_t n = nl ? (size_t)(nl - data) : size;
    *tail = nl ? nl + 1 : data + size;
    *tail_len = nl ? size - n - 1 : 0;
    return fuzz_str(data, n);
}

#endif
