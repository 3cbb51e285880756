/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/opts.c: flag syntax, precedence flag > env > default, every kind's
 * validation, where parsing stops, and the help text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/opts.h"

struct t_opts {
    const char *zk;
    int64_t slots;
    uint64_t cpu_milli;
    bool insecure;
    struct corral_strlist labels;
    const char *placement;
    const char *id;
};

static const char *const placements[] = {"least-loaded", "round-robin", "random", NULL};

static const struct corral_opt table[] = {
    {"zk", "CORRAL_ZK", CORRAL_OPT_STRING, "HOSTS", "127.0.0.1:2181", "ZooKeeper connection string",
     offsetof(struct t_opts, zk), 0, 0, NULL},
    {"slots", "CORRAL_SLOTS", CORRAL_OPT_INT, "N", "4", "tasks run at once",
     offsetof(struct t_opts, slots), 1, 1024, NULL},
    {"cpu", "CORRAL_CPU", CORRAL_OPT_MILLI, "N", "1", "CPU capacity",
     offsetof(struct t_opts, cpu_milli), 0, 1024000, NULL},
    {"insecure", "CORRAL_INSECURE", CORRAL_OPT_BOOL, NULL, NULL, "allow non-loopback listen",
     offsetof(struct t_opts, insecure), 0, 0, NULL},
    {"label", "CORRAL_LABELS", CORRAL_OPT_LIST, "K=V", NULL, "worker label",
     offsetof(struct t_opts, labels), 0, 0, NULL},
    {"placement", "CORRAL_PLACEMENT", CORRAL_OPT_CHOICE, "P", "least-loaded", "placement policy",
     offsetof(struct t_opts, placement), 0, 0, placements},
    {"id", "CORRAL_ID", CORRAL_OPT_STRING, "NAME", NULL, "replica name",
     offsetof(struct t_opts, id), 0, 0, NULL},
};
#define N_TABLE (sizeof(table) / sizeof(table[0]))

struct run {
    int rc;
    struct t_opts o;
    struct corral_opts_result res;
    struct corral_error err;
};

/* main() gets char **; tests write literals: drop the const without a qualifier-cast warning. */
static char *S(const char *s)
{
    return (char *)(uintptr_t)s;
}

/* argv and envp are NULL-terminated lists; argv[0] is the program name. */
static struct run parse(const char *const *cargv, const char *const *cenvp)
{
    char *argv[16], *envp[16];
    int argc = 0;
    for (; cargv[argc]; argc++)
        argv[argc] = S(cargv[argc]);
    argv[argc] = NULL;
    size_t ne = 0;
    for (; cenvp && cenvp[ne]; ne++)
        envp[ne] = S(cenvp[ne]);
    envp[ne] = NULL;
    struct run r;
    memset(&r, 0, sizeof r);
    r.rc =
        corral_opts_parse(table, N_TABLE, argc, argv, 1, cenvp ? envp : NULL, &r.o, &r.res, &r.err);
    return r;
}

static void done(struct run *r)
{
    corral_opts_cleanup(table, N_TABLE, &r->o);
    assert_null(r->o.labels.items);
}

#define ARGV(...) ((const char *const[]){"prog", __VA_ARGS__, NULL})
#define ENVP(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS    ((const char *const[]){"prog", NULL})

static void expect_usage(struct run *r, const char *field, const char *msg_part)
{
    assert_int_equal(r->rc, CORRAL_EUSAGE);
    assert_int_equal(r->err.code, CORRAL_EUSAGE);
    assert_string_equal(r->err.field, field);
    if (!strstr(r->err.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", r->err.msg, msg_part);
    done(r);
}

static void defaults_apply_when_no_flag_and_no_env(void **state)
{
    (void)state;
    struct run r = parse(NOARGS, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.zk, "127.0.0.1:2181");
    assert_int_equal(r.o.slots, 4);
    assert_int_equal(r.o.cpu_milli, 1000);
    assert_false(r.o.insecure);
    assert_int_equal(r.o.labels.n, 0);
    assert_string_equal(r.o.placement, "least-loaded");
    assert_null(r.o.id); /* no default: left as the caller initialised it */
    assert_int_equal(r.res.next, 1);
    done(&r);
}

static void option_without_default_keeps_caller_value(void **state)
{
    (void)state;
    struct t_opts o = {.id = "host-1"};
    struct corral_opts_result res;
    char *argv[] = {S("prog"), NULL};
    assert_int_equal(corral_opts_parse(table, N_TABLE, 1, argv, 1, NULL, &o, &res, NULL), 0);
    assert_string_equal(o.id, "host-1");
    corral_opts_cleanup(table, N_TABLE, &o);
}

static void flag_with_space_and_with_equals(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--zk", "zk1:2181", "--slots=8"), NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.zk, "zk1:2181");
    assert_int_equal(r.o.slots, 8);
    assert_int_equal(r.res.next, 4);
    done(&r);
}

static void env_beats_default(void **state)
{
    (void)state;
    struct run r = parse(NOARGS, ENVP("CORRAL_ZK=zk9:2181", "CORRAL_SLOTS=16", "OTHER=1"));
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.zk, "zk9:2181");
    assert_int_equal(r.o.slots, 16);
    done(&r);
}

static void flag_beats_env(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--slots", "2", "--label", "zone=b"),
                         ENVP("CORRAL_SLOTS=16", "CORRAL_LABELS=zone=a,gpu=1"));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.o.slots, 2);
    assert_int_equal(r.o.labels.n, 1);
    assert_string_equal(r.o.labels.items[0], "zone=b");
    done(&r);
}

static void flag_beats_invalid_env(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--slots", "2"), ENVP("CORRAL_SLOTS=lots"));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.o.slots, 2);
    done(&r);
}

static void env_name_must_match_exactly(void **state)
{
    (void)state;
    struct run r = parse(NOARGS, ENVP("CORRAL_ZKX=bad", "CORRAL_Z=bad"));
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.zk, "127.0.0.1:2181");
    done(&r);
}

static void empty_env_value_counts_as_unset(void **state)
{
    (void)state;
    struct run r = parse(NOARGS, ENVP("CORRAL_SLOTS="));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.o.slots, 4);
    done(&r);
}

static void invalid_env_is_error_naming_the_variable(void **state)
{
    (void)state;
    struct run r = parse(NOARGS, ENVP("CORRAL_SLOTS=12x"));
    expect_usage(&r, "CORRAL_SLOTS", "must be an integer in 1..1024, got '12x'");
    r = parse(NOARGS, ENVP("CORRAL_PLACEMENT=fastest"));
    expect_usage(&r, "CORRAL_PLACEMENT", "least-loaded, round-robin, random");
    r = parse(NOARGS, ENVP("CORRAL_INSECURE=maybe"));
    expect_usage(&r, "CORRAL_INSECURE", "got 'maybe'");
}

static void flag_given_twice_last_wins(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--zk", "a:1", "--zk=b:2"), NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.zk, "b:2");
    done(&r);
}

static void unknown_flag_is_usage_error(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--foo"), NULL);
    expect_usage(&r, "--foo", "unknown flag");
    r = parse(ARGV("--foo=bar"), NULL);
    expect_usage(&r, "--foo", "unknown flag");
}

static void missing_value_at_end_is_error(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--zk"), NULL);
    expect_usage(&r, "--zk", "needs a value");
}

static void flag_as_value_is_missing_value(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--zk", "--slots", "3"), NULL);
    expect_usage(&r, "--zk", "needs a value");
}

static void bool_takes_no_value(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--insecure", "--zk", "h:1"), NULL);
    assert_int_equal(r.rc, 0);
    assert_true(r.o.insecure);
    assert_string_equal(r.o.zk, "h:1");
    done(&r);
    r = parse(ARGV("--insecure=x"), NULL);
    expect_usage(&r, "--insecure", "takes no value");
}

static void bool_env_accepts_words(void **state)
{
    (void)state;
    static const char *const yes[] = {"CORRAL_INSECURE=1", "CORRAL_INSECURE=true",
                                      "CORRAL_INSECURE=yes"};
    static const char *const no[] = {"CORRAL_INSECURE=0", "CORRAL_INSECURE=false",
                                     "CORRAL_INSECURE=no"};
    for (size_t i = 0; i < 3; i++) {
        const char *envp[] = {yes[i], NULL};
        struct run r = parse(NOARGS, envp);
        assert_int_equal(r.rc, 0);
        assert_true(r.o.insecure);
        done(&r);
        envp[0] = no[i];
        r = parse(NOARGS, envp);
        assert_int_equal(r.rc, 0);
        assert_false(r.o.insecure);
        done(&r);
    }
}

static void int_rejects_garbage_blank_space_and_overflow(void **state)
{
    (void)state;
    static const char *const bad[] = {"12x",
                                      "",
                                      " 1",
                                      "1 ",
                                      "+1",
                                      "-",
                                      "0x10",
                                      "1.0",
                                      "99999999999999999999",
                                      "-99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *argv[] = {"prog", "--slots", bad[i], NULL};
        struct run r = parse(argv, NULL);
        expect_usage(&r, "--slots", "must be an integer in 1..1024");
    }
}

static void int_range_is_checked(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--slots", "0"), NULL);
    expect_usage(&r, "--slots", "must be an integer in 1..1024, got '0'");
    r = parse(ARGV("--slots", "1025"), NULL);
    expect_usage(&r, "--slots", "got '1025'");
    r = parse(ARGV("--slots", "-3"), NULL);
    expect_usage(&r, "--slots", "got '-3'");
    r = parse(ARGV("--slots", "1024"), NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.o.slots, 1024);
    done(&r);
}

static void int_accepts_full_int64_range(void **state)
{
    (void)state;
    static const struct corral_opt wide[] = {
        {"n", NULL, CORRAL_OPT_INT, "N", NULL, "n", 0, INT64_MIN, INT64_MAX, NULL},
    };
    int64_t v = 0;
    char *argv1[] = {S("p"), S("--n"), S("-9223372036854775808"), NULL};
    assert_int_equal(corral_opts_parse(wide, 1, 3, argv1, 1, NULL, &v, NULL, NULL), 0);
    assert_true(v == INT64_MIN);
    char *argv2[] = {S("p"), S("--n"), S("9223372036854775807"), NULL};
    assert_int_equal(corral_opts_parse(wide, 1, 3, argv2, 1, NULL, &v, NULL, NULL), 0);
    assert_true(v == INT64_MAX);
    char *argv3[] = {S("p"), S("--n"), S("9223372036854775808"), NULL};
    assert_int_equal(corral_opts_parse(wide, 1, 3, argv3, 1, NULL, &v, NULL, NULL), CORRAL_EUSAGE);
}

static void milli_accepts_up_to_three_decimals(void **state)
{
    (void)state;
    struct {
        const char *in;
        uint64_t milli;
    } ok[] = {{"2", 2000}, {"0.5", 500},      {"1.25", 1250},   {"0.001", 1},
              {"0", 0},    {"1024", 1024000}, {"007.100", 7100}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *argv[] = {"prog", "--cpu", ok[i].in, NULL};
        struct run r = parse(argv, NULL);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.o.cpu_milli, ok[i].milli);
        done(&r);
    }
}

static void milli_rejects_bad_numbers_and_above_max(void **state)
{
    (void)state;
    static const char *const bad[] = {"1.2345", "",    ".5", "5.",       "-1",
                                      "1e3",    "1,5", " 1", "1024.001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *argv[] = {"prog", "--cpu", bad[i], NULL};
        struct run r = parse(argv, NULL);
        expect_usage(&r, "--cpu", "0..1024");
    }
}

static void choice_must_be_in_list_and_message_lists_choices(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--placement", "round-robin"), NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.o.placement, "round-robin");
    done(&r);
    r = parse(ARGV("--placement", "best"), NULL);
    expect_usage(&r, "--placement", "must be one of least-loaded, round-robin, random, got 'best'");
}

static void list_flag_is_repeatable_and_items_owned(void **state)
{
    (void)state;
    char a[] = "zone=a", b[] = "gpu=1";
    const char *argv[] = {"prog", "--label", a, "--label=x=y", "--label", b, NULL};
    struct run r = parse(argv, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.o.labels.n, 3);
    a[0] = 'X'; /* the parser copied the strings */
    assert_string_equal(r.o.labels.items[0], "zone=a");
    assert_string_equal(r.o.labels.items[1], "x=y");
    assert_string_equal(r.o.labels.items[2], "gpu=1");
    done(&r);
}

static void list_env_is_comma_separated(void **state)
{
    (void)state;
    struct run r = parse(NOARGS, ENVP("CORRAL_LABELS=zone=a, gpu=1,,rack=r7"));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.o.labels.n, 3);
    assert_string_equal(r.o.labels.items[0], "zone=a");
    assert_string_equal(r.o.labels.items[1], "gpu=1");
    assert_string_equal(r.o.labels.items[2], "rack=r7");
    done(&r);
}

static void stops_at_first_positional(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--zk", "h:1", "submit", "--slots", "x"), NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.next, 3);
    assert_int_equal(r.o.slots, 4);
    done(&r);
}

static void stops_at_double_dash_and_leaves_it(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--slots", "3", "--", "--zk", "x"), NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.next, 3);
    assert_int_equal(r.o.slots, 3);
    assert_string_equal(r.o.zk, "127.0.0.1:2181");
    done(&r);
}

static void single_dash_arg_is_positional(void **state)
{
    (void)state;
    struct run r = parse(ARGV("-x", "--zk", "h"), NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.next, 1);
    done(&r);
    r = parse(ARGV("-"), NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.next, 1);
    done(&r);
}

static void help_and_version_stop_parsing(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--slots", "2", "--help", "--bogus"), NULL);
    assert_int_equal(r.rc, 0);
    assert_true(r.res.help);
    assert_false(r.res.version);
    done(&r);
    r = parse(ARGV("--version", "--bogus"), NULL);
    assert_int_equal(r.rc, 0);
    assert_true(r.res.version);
    done(&r);
    r = parse(ARGV("-h"), NULL);
    assert_int_equal(r.rc, 0);
    assert_true(r.res.help);
    done(&r);
}

static void help_wins_over_invalid_env(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--help"), ENVP("CORRAL_SLOTS=nope"));
    assert_int_equal(r.rc, 0);
    assert_true(r.res.help);
    done(&r);
}

static void parsing_starts_at_start_index(void **state)
{
    (void)state;
    char *argv[] = {S("corral"), S("submit"), S("--slots"), S("5"), NULL};
    struct t_opts o = {0};
    struct corral_opts_result res;
    assert_int_equal(corral_opts_parse(table, N_TABLE, 4, argv, 2, NULL, &o, &res, NULL), 0);
    assert_int_equal(o.slots, 5);
    assert_int_equal(res.next, 4);
    corral_opts_cleanup(table, N_TABLE, &o);
}

static void error_frees_lists(void **state)
{
    (void)state;
    struct run r = parse(ARGV("--label", "a=b", "--slots", "x"), NULL);
    assert_int_equal(r.rc, CORRAL_EUSAGE);
    assert_null(r.o.labels.items);
    assert_int_equal(r.o.labels.n, 0);
}

static void help_text_lists_every_flag_with_env_and_default(void **state)
{
    (void)state;
    char *help = corral_opts_help(table, N_TABLE);
    assert_non_null(help);
    for (size_t i = 0; i < N_TABLE; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "  --%s", table[i].name);
        if (!strstr(help, flag))
            fail_msg("help lacks %s:\n%s", flag, help);
        if (table[i].env && !strstr(help, table[i].env))
            fail_msg("help lacks %s", table[i].env);
    }
    assert_non_null(strstr(help, "  --zk HOSTS              ZooKeeper connection string (env "
                                 "CORRAL_ZK, default 127.0.0.1:2181)\n"));
    assert_non_null(strstr(help, "  --insecure              allow non-loopback listen"));
    assert_non_null(strstr(help, "  --placement P           placement policy (one of "
                                 "least-loaded|round-robin|random, env CORRAL_PLACEMENT, "
                                 "default least-loaded)\n"));
    assert_non_null(strstr(help, "  --label K=V             worker label (repeatable, env "
                                 "CORRAL_LABELS comma-separated)\n"));
    assert_non_null(strstr(help, "  --help"));
    assert_non_null(strstr(help, "  --version"));
    free(help);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_apply_when_no_flag_and_no_env),
        cmocka_unit_test(option_without_default_keeps_caller_value),
        cmocka_unit_test(flag_with_space_and_with_equals),
        cmocka_unit_test(env_beats_default),
        cmocka_unit_test(flag_beats_env),
        cmocka_unit_test(flag_beats_invalid_env),
        cmocka_unit_test(env_name_must_match_exactly),
        cmocka_unit_test(empty_env_value_counts_as_unset),
        cmocka_unit_test(invalid_env_is_error_naming_the_variable),
        cmocka_unit_test(flag_given_twice_last_wins),
        cmocka_unit_test(unknown_flag_is_usage_error),
        cmocka_unit_test(missing_value_at_end_is_error),
        cmocka_unit_test(flag_as_value_is_missing_value),
        cmocka_unit_test(bool_takes_no_value),
        cmocka_unit_test(bool_env_accepts_words),
        cmocka_unit_test(int_rejects_garbage_blank_space_and_overflow),
        cmocka_unit_test(int_range_is_checked),
        cmocka_unit_test(int_accepts_full_int64_range),
        cmocka_unit_test(milli_accepts_up_to_three_decimals),
        cmocka_unit_test(milli_rejects_bad_numbers_and_above_max),
        cmocka_unit_test(choice_must_be_in_list_and_message_lists_choices),
        cmocka_unit_test(list_flag_is_repeatable_and_items_owned),
        cmocka_unit_test(list_env_is_comma_separated),
        cmocka_unit_test(stops_at_first_positional),
        cmocka_unit_test(stops_at_double_dash_and_leaves_it),
        cmocka_unit_test(single_dash_arg_is_positional),
        cmocka_unit_test(help_and_version_stop_parsing),
        cmocka_unit_test(help_wins_over_invalid_env),
        cmocka_unit_test(parsing_starts_at_start_index),
        cmocka_unit_test(error_frees_lists),
        cmocka_unit_test(help_text_lists_every_flag_with_env_and_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
