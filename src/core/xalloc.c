/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "corral/xalloc.h"

void *corral_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

char *corral_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = corral_xcalloc(n, 1);
    memcpy(p, s, n);
    return p;
}
