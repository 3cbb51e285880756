/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "corral/xalloc.h"

void *corral_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        abort();
    return p;
}

void *corral_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

void *corral_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        abort();
    return p;
}

char *corral_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = corral_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

char *corral_xstrndup(const char *s, size_t n)
{
    size_t len = 0;
    while (len < n && s[len])
        len++;
    char *p = corral_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
