/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "corral/jsonx.h"
#include "corral/text.h"

json_t *corral_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (!v) {
        char *fixed = corral_utf8_repair(s, strlen(s));
        v = json_string(fixed);
        free(fixed);
    }
    return v;
}
