/* SPDX-License-Identifier: MIT */
/*
 * Live output (CONTRACT `corral logs -f`, `corral run`; docs/api.md "Live output"). While
 * someone follows a running task, its worker publishes the newest bytes of the attempt's output
 * in the persistent znode output/<task-id>:
 *
 *     "corral-output 1 <attempt> <size> <from> <final>\n" then the raw bytes [from, size)
 *
 * size is how many bytes the attempt has written so far, from where the window kept here
 * starts (at most CORRAL_OUTPUT_WINDOW bytes: a follower that falls further behind skips), and
 * final is 1 once the attempt ended (nothing follows). A follower asks for its offset and gets
 * the bytes from there, cut at a UTF-8 character boundary. Someone follows a task while the
 * follow_until_ms of its assignment (corral/assignment.h) lies ahead: a replica serving a
 * follower moves it on, the worker watches it. This file is the record's only encoder and
 * decoder and holds the slicing rule. Pure.
 */
#ifndef CORRAL_OUTPUT_H
#define CORRAL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

/* Bytes of output the znode keeps (the newest), and bytes one answer carries at most. */
#define CORRAL_OUTPUT_WINDOW     (128u * 1024u)
#define CORRAL_OUTPUT_ANSWER_MAX (64u * 1024u)
/* A follow request keeps the worker publishing this long; a replica renews it when less than
 * CORRAL_FOLLOW_RENEW_MS is left. The worker publishes at most every CORRAL_OUTPUT_PUBLISH_MS. */
#define CORRAL_FOLLOW_MS         60000
#define CORRAL_FOLLOW_RENEW_MS   40000
#define CORRAL_OUTPUT_PUBLISH_MS 500

struct corral_output {
    uint32_t attempt;
    uint64_t size;    /* bytes the attempt wrote so far */
    uint64_t from;    /* offset of data[0] */
    bool final;       /* the attempt ended: size is its whole output */
    const char *data; /* size - from bytes (borrowed) */
    size_t len;
};

/* The znode data for o (malloc'd, *len set). Never NULL. */
char *corral_output_encode(const struct corral_output *o, size_t *len);
/* Decode znode data; data then points into buf. CORRAL_EINVAL on anything else. */
CORRAL_NODISCARD int corral_output_decode(const char *buf, size_t len, struct corral_output *out,
                                          struct corral_error *err);

/*
 * What a follower at offset gets from o: the bytes [*start, *start + *n), at most max, ending
 * at a UTF-8 character boundary unless o is final (or the character cannot complete within
 * max); *skipped is how many bytes after offset are no longer kept. offset beyond o->size
 * (another attempt's, or a client's mistake) reads from the start of the window.
 */
void corral_output_slice(const struct corral_output *o, uint64_t offset, size_t max,
                         uint64_t *start, size_t *n, uint64_t *skipped);

#endif
