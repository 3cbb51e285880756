/* SPDX-License-Identifier: MIT */
/*
 * Table-driven flags with environment fallback (CONTRACT "Programs": a flag beats the
 * environment, which beats the default). Pure: argv and envp are arguments, so precedence is a
 * unit test. It checks values by kind only (integer ranges, choices, ...); what a string means
 * is the program's business. --help text is rendered from the same table so it cannot drift.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/opts.h"

#define HELP_COLUMN 26 /* help text starts here: "  --zk HOSTS" padded to this width */

/* ------------------------------------------------------------------------------------------ */
/* Value parsers: strict, no whitespace, no trailing garbage, overflow checked.                */

static bool parse_i64(const char *s, int64_t *out)
{
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s < '0' || *s > '9')
        return false;
    /* Accumulate negatively: INT64_MIN has no positive counterpart. */
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        int d = *s - '0';
        if (v < (INT64_MIN + d) / 10)
            return false;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return false;
        v = -v;
    }
    *out = v;
    return true;
}

static bool parse_milli(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    uint64_t whole = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (whole > ((UINT64_MAX - 999u) / 1000u - d) / 10u)
            return false;
        whole = whole * 10u + d;
    }
    uint64_t frac = 0;
    if (*s == '.') {
        s++;
        unsigned digits = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (++digits > 3)
                return false;
            frac = frac * 10u + (uint64_t)(*s - '0');
        }
        if (digits == 0)
            return false;
        for (; digits < 3; digits++)
            frac *= 10u;
    }
    if (*s)
        return false;
    *out = whole * 1000u + frac;
    return true;
}

static int parse_bool_word(const char *s)
{
    static const char *const yes[] = {"1", "true", "yes"};
    static const char *const no[] = {"0", "false", "no"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* "1500" thousandths -> "1.5" */
static void milli_text(uint64_t v, char *buf, size_t n)
{
    uint64_t frac = v % 1000u;
    if (frac == 0) {
        snprintf(buf, n, "%llu", (unsigned long long)(v / 1000u));
        return;
    }
    unsigned digits = 3;
    while (frac % 10u == 0) {
        frac /= 10u;
        digits--;
    }
    snprintf(buf, n, "%llu.%0*llu", (unsigned long long)(v / 1000u), (int)digits,
             (unsigned long long)frac);
}

/* ------------------------------------------------------------------------------------------ */
/* Storing values                                                                              */

static void *field_ptr(void *out, const struct corral_opt *o)
{
    return (char *)out + o->offset;
}

static void choices_text(const struct corral_opt *o, const char *sep, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const char *const *c = o->choices; c && *c; c++) {
        int w = snprintf(buf + len, n - len, "%s%s", c == o->choices ? "" : sep, *c);
        if (w < 0 || (size_t)w >= n - len)
            return;
        len += (size_t)w;
    }
}

static int list_append(struct corral_strlist *l, const char *s, size_t len)
{
    char **items = realloc(l->items, (l->n + 1) * sizeof(*items));
    if (!items)
        return CORRAL_EINTERNAL;
    l->items = items;
    char *copy = malloc(len + 1);
    if (!copy)
        return CORRAL_EINTERNAL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->items[l->n++] = copy;
    return CORRAL_OK;
}

/* Comma-separated items (env and default of a LIST); blanks around items and empty items are
 * dropped, so "zone=a, gpu=1," gives two labels. */
static int list_split(struct corral_strlist *l, const char *s)
{
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *b = s, *e = s + len;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > b && list_append(l, b, (size_t)(e - b)) != CORRAL_OK)
            return CORRAL_EINTERNAL;
        s += len;
        if (*s == ',')
            s++;
    }
    return CORRAL_OK;
}

/*
 * Check and store one value of o. src is how it arrived: a flag (field "--name"), the
 * environment (field = the variable) or the default. from_env splits LIST values on commas;
 * a LIST value from a flag is one item.
 */
enum source { SRC_FLAG, SRC_ENV, SRC_DEF };

static int store(const struct corral_opt *o, const char *val, enum source src, void *out,
                 struct corral_error *err)
{
    char field[64];
    if (src == SRC_ENV)
        snprintf(field, sizeof field, "%s", o->env);
    else
        snprintf(field, sizeof field, "--%s", o->name);
    void *p = field_ptr(out, o);

    switch (o->kind) {
        case CORRAL_OPT_STRING:
            *(const char **)p = val;
            return CORRAL_OK;
        case CORRAL_OPT_INT: {
            int64_t v;
            if (!parse_i64(val, &v) || v < o->min || v > o->max)
                return corral_error_set(err, CORRAL_EUSAGE, field,
                                        "must be an integer in %lld..%lld, got '%s'",
                                        (long long)o->min, (long long)o->max, val);
            *(int64_t *)p = v;
            return CORRAL_OK;
        }
        case CORRAL_OPT_MILLI: {
            uint64_t v, max = o->max > 0 ? (uint64_t)o->max : UINT64_MAX;
            if (!parse_milli(val, &v) || v > max) {
                char maxbuf[32];
                milli_text(max, maxbuf, sizeof maxbuf);
                return corral_error_set(err, CORRAL_EUSAGE, field,
                                        "must be a number in 0..%s with at most 3 decimals, "
                                        "got '%s'",
                                        maxbuf, val);
            }
            *(uint64_t *)p = v;
            return CORRAL_OK;
        }
        case CORRAL_OPT_BOOL: {
            int b = parse_bool_word(val);
            if (b < 0)
                return corral_error_set(err, CORRAL_EUSAGE, field,
                                        "must be 1, true, yes or 0, false, no, got '%s'", val);
            *(bool *)p = b == 1;
            return CORRAL_OK;
        }
        case CORRAL_OPT_LIST: {
            struct corral_strlist *l = p;
            int rc = src == SRC_FLAG ? list_append(l, val, strlen(val)) : list_split(l, val);
            if (rc != CORRAL_OK)
                return corral_error_set(err, CORRAL_EINTERNAL, field, "out of memory");
            return CORRAL_OK;
        }
        case CORRAL_OPT_CHOICE:
            for (const char *const *c = o->choices; c && *c; c++) {
                if (strcmp(val, *c) == 0) {
                    *(const char **)p = *c;
                    return CORRAL_OK;
                }
            }
            char list[160];
            choices_text(o, ", ", list, sizeof list);
            return corral_error_set(err, CORRAL_EUSAGE, field, "must be one of %s, got '%s'", list,
                                    val);
    }
    return corral_error_set(err, CORRAL_EINTERNAL, field, "unknown option kind");
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                     */

/* Value of K in envp, NULL when absent. An empty value counts as absent ("CORRAL_ZK=" in a unit
 * file or compose file means "not configured"). */
static const char *env_lookup(char *const *envp, const char *key)
{
    if (!envp || !key)
        return NULL;
    size_t klen = strlen(key);
    for (char *const *e = envp; *e; e++) {
        if (strncmp(*e, key, klen) == 0 && (*e)[klen] == '=')
            return (*e)[klen + 1] ? *e + klen + 1 : NULL;
    }
    return NULL;
}

static const struct corral_opt *find_opt(const struct corral_opt *table, size_t n, const char *name,
                                         size_t len, size_t *index)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0) {
            *index = i;
            return &table[i];
        }
    }
    return NULL;
}

static int parse_flags(const struct corral_opt *table, size_t n, int argc, char *const *argv,
                       int start, void *out, bool *given, struct corral_opts_result *res,
                       struct corral_error *err)
{
    int i = start;
    while (i < argc) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            res->help = true;
            res->next = i + 1;
            return CORRAL_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            res->version = true;
            res->next = i + 1;
            return CORRAL_OK;
        }
        /* "--" ends the flags; anything not "--name" (including "-x") is a positional. */
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            break;

        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        char field[64];
        snprintf(field, sizeof field, "--%.*s", (int)(name_len > 60 ? 60 : name_len), name);

        size_t idx;
        const struct corral_opt *o = find_opt(table, n, name, name_len, &idx);
        if (!o)
            return corral_error_set(err, CORRAL_EUSAGE, field, "unknown flag");

        if (o->kind == CORRAL_OPT_BOOL) {
            if (eq)
                return corral_error_set(err, CORRAL_EUSAGE, field, "takes no value");
            *(bool *)field_ptr(out, o) = true;
            given[idx] = true;
            i++;
            continue;
        }

        const char *val;
        if (eq) {
            val = eq + 1;
            i++;
        } else {
            /* "--zk --namespace x" is a forgotten value, not a ZooKeeper host named
             * "--namespace"; a value that really starts with "--" can use "--zk=--x". */
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                return corral_error_set(err, CORRAL_EUSAGE, field, "needs a value (%s)",
                                        o->metavar ? o->metavar : "VALUE");
            val = argv[i + 1];
            i += 2;
        }
        /* A LIST given as a flag replaces its env and default: start it afresh once. */
        if (o->kind == CORRAL_OPT_LIST && !given[idx])
            corral_strlist_cleanup(field_ptr(out, o));
        int rc = store(o, val, SRC_FLAG, out, err);
        if (rc != CORRAL_OK)
            return rc;
        given[idx] = true;
    }
    res->next = i;
    return CORRAL_OK;
}

int corral_opts_parse(const struct corral_opt *table, size_t n, int argc, char *const *argv,
                      int start, char *const *envp, void *out, struct corral_opts_result *res,
                      struct corral_error *err)
{
    struct corral_opts_result dummy;
    if (!res)
        res = &dummy;
    res->next = start;
    res->help = false;
    res->version = false;
    if (start < 0 || start > argc || (n > 0 && (!table || !out)))
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "bad arguments to opts parser");

    bool stack_given[64] = {false};
    bool *given = stack_given;
    if (n > sizeof(stack_given) / sizeof(stack_given[0])) {
        given = calloc(n, sizeof(*given));
        if (!given)
            return corral_error_set(err, CORRAL_EINTERNAL, NULL, "out of memory");
    }

    int rc = parse_flags(table, n, argc, argv, start, out, given, res, err);
    /* --help and --version win even over a broken environment. */
    if (rc != CORRAL_OK || res->help || res->version)
        goto out;

    for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
        if (given[i])
            continue;
        const struct corral_opt *o = &table[i];
        const char *ev = env_lookup(envp, o->env);
        if (ev)
            rc = store(o, ev, SRC_ENV, out, err);
        else if (o->def)
            rc = store(o, o->def, SRC_DEF, out, err);
        /* Neither: the field keeps whatever the caller initialised it to. */
    }

out:
    if (rc != CORRAL_OK)
        corral_opts_cleanup(table, n, out);
    if (given != stack_given)
        free(given);
    return rc;
}

void corral_opts_cleanup(const struct corral_opt *table, size_t n, void *out)
{
    if (!table || !out)
        return;
    for (size_t i = 0; i < n; i++) {
        if (table[i].kind == CORRAL_OPT_LIST)
            corral_strlist_cleanup(field_ptr(out, &table[i]));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Help text                                                                                   */

struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) CORRAL_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->failed = true;
            return;
        }
        if (b->p && (size_t)w < b->cap - b->len) {
            b->len += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= (size_t)w)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void help_line(struct sbuf *b, const char *flag, const char *metavar, const char *help,
                      const char *notes)
{
    size_t start = b->len;
    sb_printf(b, "  --%s%s%s", flag, metavar ? " " : "", metavar ? metavar : "");
    size_t width = b->failed ? 0 : b->len - start;
    int pad = width + 2 <= HELP_COLUMN ? (int)(HELP_COLUMN - width) : 2;
    sb_printf(b, "%*s%s%s\n", pad, "", help ? help : "", notes);
}

char *corral_opts_help(const struct corral_opt *table, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        const struct corral_opt *o = &table[i];
        char notes[512] = "";
        size_t len = 0;
        const char *sep = " (";
#define NOTE(...)                                                                                  \
    do {                                                                                           \
        int w_ = snprintf(notes + len, sizeof notes - len, __VA_ARGS__);                           \
        if (w_ > 0 && (size_t)w_ < sizeof notes - len)                                             \
            len += (size_t)w_;                                                                     \
        sep = ", ";                                                                                \
    } while (0)
        if (o->kind == CORRAL_OPT_CHOICE) {
            char list[256];
            choices_text(o, "|", list, sizeof list);
            NOTE("%sone of %s", sep, list);
        }
        if (o->kind == CORRAL_OPT_LIST)
            NOTE("%srepeatable", sep);
        if (o->env)
            NOTE("%senv %s%s", sep, o->env, o->kind == CORRAL_OPT_LIST ? " comma-separated" : "");
        if (o->def)
            NOTE("%sdefault %s", sep, o->def);
        if (len > 0)
            NOTE(")");
#undef NOTE
        help_line(&b, o->name, o->kind == CORRAL_OPT_BOOL ? NULL : o->metavar, o->help, notes);
    }
    help_line(&b, "help", NULL, "print this help and exit", "");
    help_line(&b, "version", NULL, "print the version and exit", "");
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
