/* SPDX-License-Identifier: MIT */
/*
 * A growable list of owned strings (flag lists, znode children, a worker's ignored tasks),
 * with the few set operations several programs need. Lists are small (capped by their
 * producers), so lookups are linear. A zeroed struct is an empty list.
 */
#ifndef CORRAL_STRLIST_H
#define CORRAL_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* A list of owned strings; free with corral_strlist_cleanup(). */
struct corral_strlist {
    char **items; /* n owned strings */
    size_t n;
};

/* Free every item and the array, and reset l to empty. NULL and an empty list are fine. */
void corral_strlist_cleanup(struct corral_strlist *l);
/* True if some item equals s. */
bool corral_strlist_has(const struct corral_strlist *l, const char *s);
/* Append a copy of s unless an equal item is already there (set semantics). Aborts on out of
 * memory (xalloc.h). */
void corral_strlist_add(struct corral_strlist *l, const char *s);
/* Remove the item equal to s, if any (order of the others is kept); true if one was there. */
bool corral_strlist_remove(struct corral_strlist *l, const char *s);
/* Keep only the items that are also in keep (freeing the others); order is kept. */
void corral_strlist_intersect(struct corral_strlist *l, const struct corral_strlist *keep);

#endif
