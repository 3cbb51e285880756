/* SPDX-License-Identifier: MIT */
/* The string list of strlist.h: cleanup and the set helpers (has, add, remove, intersect). */
#include <stdlib.h>
#include <string.h>

#include "corral/strlist.h"
#include "corral/xalloc.h"

void corral_strlist_cleanup(struct corral_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool corral_strlist_has(const struct corral_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

void corral_strlist_add(struct corral_strlist *l, const char *s)
{
    if (corral_strlist_has(l, s))
        return;
    l->items = corral_xrealloc(l->items, (l->n + 1) * sizeof *l->items);
    l->items[l->n++] = corral_xstrdup(s);
}

bool corral_strlist_remove(struct corral_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            free(l->items[i]);
            memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof *l->items);
            l->n--;
            return true;
        }
    }
    return false;
}

void corral_strlist_intersect(struct corral_strlist *l, const struct corral_strlist *keep)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (corral_strlist_has(keep, l->items[i]))
            l->items[j++] = l->items[i];
        else
            free(l->items[i]);
    }
    l->n = j;
}
