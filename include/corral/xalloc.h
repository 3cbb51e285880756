/* SPDX-License-Identifier: MIT */
/*
 * Allocation that aborts on failure. Safe only because every input-driven size is capped first
 * (include/corral/limits.h): running out of memory is never an input path (STYLE.md §4).
 * The core does not log, so these abort() without a message.
 */
#ifndef CORRAL_XALLOC_H
#define CORRAL_XALLOC_H

#include <stddef.h>

/* malloc(size) (at least one byte); never NULL. */
void *corral_xmalloc(size_t size);
/* calloc(n, size) (at least one byte); never NULL. */
void *corral_xcalloc(size_t n, size_t size);
/* realloc(ptr, size) (at least one byte); never NULL. ptr may be NULL. */
void *corral_xrealloc(void *ptr, size_t size);
/* strdup; NULL for NULL, otherwise never NULL. */
char *corral_xstrdup(const char *s);
/* The first at most n bytes of s (stops at a NUL), NUL-terminated; never NULL. */
char *corral_xstrndup(const char *s, size_t n);

#endif
