/* SPDX-License-Identifier: MIT */
/*
 * Task flags -> spec JSON for `corral submit` and `corral run`. Pure (jansson only): the flags
 * come in as data, the spec object goes out. It checks the shape of local input only; the
 * server validates ranges and answers 400 naming the field, so the two can never disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/spec_build.h"
#include "corral/strlist.h"
#include "corral/xalloc.h"

void cli_task_flags_init(struct cli_task_flags *f)
{
    memset(f, 0, sizeof(*f));
    f->priority = CLI_UNSET_INT;
    f->timeout_s = CLI_UNSET_INT;
    f->max_attempts = CLI_UNSET_INT;
    f->cpu_milli = CLI_UNSET_MILLI;
    f->mem_mb = CLI_UNSET_INT;
    f->estimated_ms = CLI_UNSET_INT;
    f->delay_milli = CLI_UNSET_MILLI;
}

int cli_env_lines(const char *text, const char *flag, struct corral_strlist *out,
                  struct corral_error *err)
{
    unsigned line = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : p + n;
        line++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        size_t lead = 0;
        while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
            lead++;
        if (lead == n || p[lead] == '#') {
            p = next;
            continue;
        }
        const char *eq = memchr(p + lead, '=', n - lead);
        if (!eq || eq == p + lead)
            return corral_error_set(err, CORRAL_EUSAGE, flag,
                                    "line %u: expected KEY=VALUE with a non-empty key", line);
        char *entry = corral_xstrndup(p + lead, n - lead);
        corral_strlist_add(out, entry);
        free(entry);
        p = next;
    }
    return CORRAL_OK;
}

json_t *cli_kv_object(const struct corral_strlist *l, const char *flag, struct corral_error *err)
{
    json_t *obj = json_object();
    if (!obj) {
        corral_error_set(err, CORRAL_EINTERNAL, flag, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) {
        const char *item = l->items[i];
        const char *eq = strchr(item, '=');
        if (!eq || eq == item) {
            corral_error_set(err, CORRAL_EUSAGE, flag, "expected KEY=VALUE, got '%s'", item);
            json_decref(obj);
            return NULL;
        }
        size_t klen = (size_t)(eq - item);
        char *key = malloc(klen + 1);
        if (!key) {
            corral_error_set(err, CORRAL_EINTERNAL, flag, "out of memory");
            json_decref(obj);
            return NULL;
        }
        memcpy(key, item, klen);
        key[klen] = '\0';
        /* Non-UTF-8 keys or values make jansson refuse them: report instead of dropping. */
        json_t *val = json_string(eq + 1);
        if (!val || json_object_set_new(obj, key, val) != 0) {
            corral_error_set(err, CORRAL_EUSAGE, flag, "'%s' is not valid UTF-8", item);
            free(key);
            json_decref(obj);
            return NULL;
        }
        free(key);
    }
    return obj;
}

/* Join argv with single spaces (the --shell command line). NULL on overflow or OOM. */
static char *join_args(int argc, char *const *argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        if (len > SIZE_MAX - l)
            return NULL;
        len += l;
    }
    char *line = malloc(len);
    if (!line)
        return NULL;
    char *p = line;
    for (int i = 0; i < argc; i++) {
        if (i > 0)
            *p++ = ' ';
        size_t l = strlen(argv[i]);
        memcpy(p, argv[i], l);
        p += l;
    }
    *p = '\0';
    return line;
}

static json_t *command_json(bool shell, int argc, char *const *argv, struct corral_error *err)
{
    if (shell) {
        char *line = join_args(argc, argv);
        json_t *s = line ? json_string(line) : NULL;
        free(line);
        if (!s)
            corral_error_set(err, CORRAL_EUSAGE, "command", "command is not valid UTF-8");
        return s;
    }
    json_t *arr = json_array();
    if (!arr) {
        corral_error_set(err, CORRAL_EINTERNAL, "command", "out of memory");
        return NULL;
    }
    for (int i = 0; i < argc; i++) {
        json_t *s = json_string(argv[i]);
        if (!s || json_array_append_new(arr, s) != 0) {
            corral_error_set(err, CORRAL_EUSAGE, "command", "argument %d is not valid UTF-8",
                             i + 1);
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/*
 * Set key to value, stealing it. A NULL value is an error: either one already recorded in err
 * (a malformed K=V) or jansson refusing a string, which for argv text means invalid UTF-8.
 */
static int put(json_t *obj, const char *key, json_t *value, struct corral_error *err)
{
    if (!value) {
        if (err && err->code != CORRAL_OK)
            return err->code;
        return corral_error_set(err, CORRAL_EUSAGE, key, "%s is not valid UTF-8", key);
    }
    if (json_object_set_new(obj, key, value) != 0)
        return corral_error_set(err, CORRAL_EINTERNAL, key, "out of memory");
    return 0;
}

/* resources.cpu or delay_s: an integer when whole, else a real with up to 3 decimals. */
static json_t *cpu_json(uint64_t milli)
{
    if (milli % 1000 == 0)
        return json_integer((json_int_t)(milli / 1000));
    return json_real((double)milli / 1000.0);
}

json_t *cli_spec_build(const struct cli_task_flags *f, int argc, char *const *argv,
                       struct corral_error *err)
{
    if (argc <= 0) {
        corral_error_set(err, CORRAL_EUSAGE, NULL, "missing command (give it after --)");
        return NULL;
    }
    json_t *spec = json_object();
    if (!spec) {
        corral_error_set(err, CORRAL_EINTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (put(spec, "command", command_json(f->shell, argc, argv, err), err) != 0)
        goto fail;
    if (f->shell && put(spec, "shell", json_true(), err) != 0)
        goto fail;
    if (f->name && put(spec, "name", json_string(f->name), err) != 0)
        goto fail;
    if (f->priority != CLI_UNSET_INT && put(spec, "priority", json_integer(f->priority), err) != 0)
        goto fail;
    if (f->timeout_s != CLI_UNSET_INT &&
        put(spec, "timeout_s", json_integer(f->timeout_s), err) != 0)
        goto fail;
    if (f->max_attempts != CLI_UNSET_INT &&
        put(spec, "max_attempts", json_integer(f->max_attempts), err) != 0)
        goto fail;
    if (f->cpu_milli != CLI_UNSET_MILLI || f->mem_mb != CLI_UNSET_INT) {
        json_t *res = json_object();
        if (put(spec, "resources", res, err) != 0)
            goto fail;
        if (f->cpu_milli != CLI_UNSET_MILLI && put(res, "cpu", cpu_json(f->cpu_milli), err) != 0)
            goto fail;
        if (f->mem_mb != CLI_UNSET_INT && put(res, "mem_mb", json_integer(f->mem_mb), err) != 0)
            goto fail;
    }
    if (f->labels.n > 0 &&
        put(spec, "constraints", cli_kv_object(&f->labels, "--label", err), err) != 0)
        goto fail;
    if (f->estimated_ms != CLI_UNSET_INT &&
        put(spec, "estimated_ms", json_integer(f->estimated_ms), err) != 0)
        goto fail;
    if (f->env.n > 0 && put(spec, "env", cli_kv_object(&f->env, "--env", err), err) != 0)
        goto fail;
    if (f->secret_env.n > 0 &&
        put(spec, "secret_env", cli_kv_object(&f->secret_env, "--secret-env-file", err), err) != 0)
        goto fail;
    if (f->idempotency_key &&
        put(spec, "idempotency_key", json_string(f->idempotency_key), err) != 0)
        goto fail;
    if (f->depends_on.n > 0) {
        json_t *deps = json_array();
        if (put(spec, "depends_on", deps, err) != 0)
            goto fail;
        for (size_t i = 0; i < f->depends_on.n; i++)
            if (json_array_append_new(deps, json_string(f->depends_on.items[i])) != 0) {
                corral_error_set(err, CORRAL_EUSAGE, "--depends-on", "not valid UTF-8");
                goto fail;
            }
    }
    if (f->on_dependency_failure &&
        put(spec, "on_dependency_failure", json_string(f->on_dependency_failure), err) != 0)
        goto fail;
    /* Both may be given: the server answers 400 naming delay_s, like for any other conflict. */
    if (f->run_at && put(spec, "run_at", json_string(f->run_at), err) != 0)
        goto fail;
    if (f->delay_milli != CLI_UNSET_MILLI &&
        put(spec, "delay_s", cpu_json(f->delay_milli), err) != 0)
        goto fail;
    return spec;
fail:
    json_decref(spec);
    return NULL;
}
