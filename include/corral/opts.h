/* SPDX-License-Identifier: MIT */
/*
 * Table-driven command-line flags with environment fallback ("a flag beats the environment").
 * Pure: argv and envp come in, values and errors go out. --help and usage text come from the
 * same table, so they cannot drift.
 */
#ifndef CORRAL_OPTS_H
#define CORRAL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/strlist.h" /* LIST fields; kept here until every user includes it itself */

enum corral_opt_kind {
    CORRAL_OPT_STRING, /* field: const char * (borrowed from argv/envp/def) */
    CORRAL_OPT_INT,    /* field: int64_t, range [min, max] */
    CORRAL_OPT_MILLI,  /* field: uint64_t thousandths ("1.5" -> 1500), at most max */
    CORRAL_OPT_BOOL,   /* field: bool; the flag takes no value; env 1/true/yes or 0/false/no */
    CORRAL_OPT_LIST,   /* field: struct corral_strlist; repeatable flag; env comma-separated */
    CORRAL_OPT_CHOICE, /* field: const char *, one of choices */
};

struct corral_opt {
    const char *name; /* long flag without dashes: "zk" gives --zk */
    const char *env;  /* environment variable, or NULL */
    enum corral_opt_kind kind;
    const char *metavar; /* "HOSTS"; ignored for BOOL */
    const char *def;     /* default as text, applied when neither flag nor env; NULL = unset */
    const char *help;    /* one line */
    size_t offset;       /* offsetof(struct <program opts>, field) */
    int64_t min, max;    /* INT range; MILLI uses max only */
    const char *const *choices; /* CHOICE: NULL-terminated list */
};

struct corral_opts_result {
    int next;     /* index of the first argv element not consumed (a positional or "--") */
    bool help;    /* --help was given (parsing stopped there) */
    bool version; /* --version was given (parsing stopped there) */
};

/*
 * Parse flags argv[start..argc-1] into out according to table (n entries). Parsing stops at the
 * first argument that does not start with "--" (or is exactly "--", left in place), at --help or
 * at --version. Accepts "--name value" and "--name=value". Afterwards every option not given as
 * a flag is taken from envp (NULL-terminated "K=V" strings; envp may be NULL), then from def.
 * An option given neither way nor with a def keeps the value the caller put in out; an empty
 * environment value counts as unset; a LIST given as a flag ignores its env and def. "-h" is
 * --help; any other single-dash argument is a positional. An invalid environment value is an
 * error with field = the variable ("CORRAL_SLOTS"). On error, LIST fields are already freed.
 * Errors: CORRAL_EUSAGE with field = "--name" and a message such as
 * "must be an integer in 1..1024, got 'x'" or "unknown flag". Strings are validated only by
 * kind; program-specific checks are the caller's.
 */
CORRAL_NODISCARD int corral_opts_parse(const struct corral_opt *table, size_t n, int argc,
                                       char *const *argv, int start, char *const *envp, void *out,
                                       struct corral_opts_result *res, struct corral_error *err);

/* Free the LIST fields of out (and reset them). */
void corral_opts_cleanup(const struct corral_opt *table, size_t n, void *out);

/*
 * Render the flag table as help text: one line per flag
 * "  --zk HOSTS              ZooKeeper connection string (env CORRAL_ZK, default 127.0.0.1:2181)".
 * Returns a malloc'd string; caller frees.
 */
char *corral_opts_help(const struct corral_opt *table, size_t n);

#endif
