/* SPDX-License-Identifier: MIT */
/*
 * `corral schedule add` flags -> the POST /v1/schedules body, and the NAME check every schedule
 * command makes before it puts a name into a URL path. Pure (jansson only).
 */
#include <string.h>

#include "cli/schedule_build.h"

void cli_schedule_flags_init(struct cli_schedule_flags *f)
{
    memset(f, 0, sizeof(*f));
    cli_task_flags_init(&f->task);
    f->catchup_window_s = CLI_UNSET_INT;
}

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int cli_schedule_name_check(const char *name, struct corral_error *err)
{
    if (!name || !*name)
        return corral_error_set(err, CORRAL_EUSAGE, "NAME", "the schedule name is empty");
    size_t n = strlen(name);
    if (n > CLI_SCHEDULE_NAME_MAX)
        return corral_error_set(err, CORRAL_EUSAGE, "NAME",
                                "the schedule name is %zu bytes long, at most %d are allowed", n,
                                CLI_SCHEDULE_NAME_MAX);
    if (name[0] == '.')
        return corral_error_set(err, CORRAL_EUSAGE, "NAME",
                                "the schedule name must not start with '.'");
    for (size_t i = 0; i < n; i++) {
        if (!name_char(name[i]))
            return corral_error_set(err, CORRAL_EUSAGE, "NAME",
                                    "the schedule name may only hold A-Z a-z 0-9 . _ - "
                                    "(byte %zu is not one of them)",
                                    i + 1);
    }
    return CORRAL_OK;
}

/* Set obj[key] to a string from the flag; CORRAL_EUSAGE naming flag when it is not UTF-8. */
static int put_string(json_t *obj, const char *key, const char *value, const char *flag,
                      struct corral_error *err)
{
    json_t *s = json_string(value);
    if (!s)
        return corral_error_set(err, CORRAL_EUSAGE, flag, "not valid UTF-8");
    if (json_object_set_new(obj, key, s) != 0)
        return corral_error_set(err, CORRAL_EINTERNAL, flag, "out of memory");
    return CORRAL_OK;
}

static int put_new(json_t *obj, const char *key, json_t *value, struct corral_error *err)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        return corral_error_set(err, CORRAL_EINTERNAL, key, "out of memory");
    return CORRAL_OK;
}

json_t *cli_schedule_body(const char *name, const struct cli_schedule_flags *f, int argc,
                          char *const *argv, struct corral_error *err)
{
    if (cli_schedule_name_check(name, err) != CORRAL_OK)
        return NULL;
    if (!f->cron) {
        corral_error_set(err, CORRAL_EUSAGE, "--cron", "required (a cron expression)");
        return NULL;
    }
    json_t *body = json_object();
    if (!body) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (put_string(body, "name", name, "NAME", err) != CORRAL_OK ||
        put_string(body, "cron", f->cron, "--cron", err) != CORRAL_OK)
        goto fail;
    if (f->timezone && put_string(body, "timezone", f->timezone, "--timezone", err) != CORRAL_OK)
        goto fail;
    json_t *spec = cli_spec_build(&f->task, argc, argv, err);
    if (!spec || json_object_set_new(body, "task", spec) != 0) {
        if (spec)
            corral_error_set(err, CORRAL_EINTERNAL, "task", "out of memory");
        goto fail;
    }
    if (f->misfire && put_string(body, "misfire", f->misfire, "--misfire", err) != CORRAL_OK)
        goto fail;
    if (f->overlap && put_string(body, "overlap", f->overlap, "--overlap", err) != CORRAL_OK)
        goto fail;
    if (f->catchup_window_s != CLI_UNSET_INT &&
        put_new(body, "catchup_window_s", json_integer(f->catchup_window_s), err) != CORRAL_OK)
        goto fail;
    if (f->paused && put_new(body, "paused", json_true(), err) != CORRAL_OK)
        goto fail;
    return body;
fail:
    json_decref(body);
    return NULL;
}
