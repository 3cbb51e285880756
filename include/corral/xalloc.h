/* SPDX-License-Identifier: MIT */
/*
 * Allocation that aborts on failure. Safe only because every input-driven size is capped first
 * (include/corral/limits.h): running out of memory is never an input path (STYLE.md §4).
 */
#ifndef CORRAL_XALLOC_H
#define CORRAL_XALLOC_H

#include <stddef.h>

/* calloc(n, size) (at least one byte); never NULL. */
void *corral_xcalloc(size_t n, size_t size);
/* strdup; NULL for NULL, otherwise never NULL. */
char *corral_xstrdup(const char *s);

#endif
