/* SPDX-License-Identifier: MIT */
/* docs/errors.md must list every error code of the table with its HTTP status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corral/error.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void docs_errors_lists_every_code_with_its_status(void **state)
{
    (void)state;
    const char *doc = slurp(CORRAL_DOCS_DIR "/errors.md");
    for (int code = 1; code < CORRAL_ERR_COUNT; code++) {
        char row[96];
        snprintf(row, sizeof row, "| `%s` | %d |", corral_err_name(code), corral_err_http(code));
        if (!strstr(doc, row))
            fail_msg("docs/errors.md lacks the row starting %s", row);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docs_errors_lists_every_code_with_its_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
