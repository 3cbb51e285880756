/* SPDX-License-Identifier: MIT */
/* Small jansson helpers shared by the core's renderers. */
#ifndef CORRAL_JSONX_H
#define CORRAL_JSONX_H

#include <jansson.h>

/* JSON string of s, or null for NULL. json_string() refuses invalid UTF-8; this repairs it
 * (U+FFFD) instead, so it never returns NULL. */
json_t *corral_json_str(const char *s);

#endif
