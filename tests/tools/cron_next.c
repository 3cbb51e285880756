/* SPDX-License-Identifier: MIT */
/*
 * Test tool for the differential test tests/unit/cron_diff.py: reads lines
 * "<expr>\t<zone>\t<after_ms>" on stdin and prints, per line, the next fire in ms
 * (corral_cron_next) or "error <message>". Zones are loaded once each through io/tz.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/cron.h"
#include "io/tz.h"

static struct corral_tz cache_tz[8];
static char cache_name[8][TZ_NAME_MAX + 1];
static int cache_n;

static const struct corral_tz *zone(const char *name, struct corral_error *err)
{
    for (int i = 0; i < cache_n; i++) {
        if (strcmp(cache_name[i], name) == 0)
            return &cache_tz[i];
    }
    if (cache_n == 8 || tz_load(name, &cache_tz[cache_n], err) != CORRAL_OK)
        return NULL;
    snprintf(cache_name[cache_n], sizeof cache_name[0], "%s", name);
    return &cache_tz[cache_n++];
}

int main(void)
{
    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) {
            printf("error bad input line\n");
            continue;
        }
        *t1 = *t2 = '\0';
        struct corral_error err = {0};
        struct corral_cron c;
        int64_t next = 0;
        const struct corral_tz *tz = zone(t1 + 1, &err);
        if (tz && corral_cron_parse(line, strlen(line), &c, &err) == CORRAL_OK &&
            corral_cron_next(&c, tz, strtoll(t2 + 1, NULL, 10), &next, &err) == CORRAL_OK)
            printf("%lld\n", (long long)next);
        else
            printf("error %s\n", err.msg);
    }
    return 0;
}
