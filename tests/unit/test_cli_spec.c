/* SPDX-License-Identifier: MIT */
/* The CLI's task flags -> spec JSON, checked against the server's own validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/spec_build.h"
#include "corral/spec.h"
#include "corral/strlist.h"

static json_t *build(struct cli_task_flags *f, int argc, char *const *argv)
{
    struct corral_error err = {0};
    json_t *spec = cli_spec_build(f, argc, argv, &err);
    if (!spec)
        fail_msg("build: %s %s", err.field, err.msg);
    return spec;
}

static void server_accepts(json_t *obj, struct corral_spec *out)
{
    struct corral_error err = {0};
    if (corral_spec_from_json(obj, "", out, &err) != CORRAL_OK)
        fail_msg("server rejects CLI spec: %s: %s", err.field, err.msg);
}

static void cli_spec_with_every_flag_is_valid_for_the_server(void **state)
{
    (void)state;
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    f.priority = 7;
    f.timeout_s = 30;
    f.max_attempts = 2;
    f.cpu_milli = 1500;
    f.mem_mb = 256;
    f.estimated_ms = 900;
    f.name = "nightly";
    f.idempotency_key = "k-1";
    char l0[] = "zone=a", e0[] = "A=1", e1[] = "B=x=y";
    char *labels[] = {l0};
    char *env[] = {e0, e1};
    f.labels = (struct corral_strlist){labels, 1};
    f.env = (struct corral_strlist){env, 2};
    char s1[] = "echo";
    char s2[] = "hi there";
    char *argv[] = {s1, s2};
    json_t *obj = build(&f, 2, argv);
    struct corral_spec s = {0};
    server_accepts(obj, &s);
    assert_int_equal(s.argc, 2);
    assert_string_equal(s.argv[1], "hi there");
    assert_int_equal(s.priority, 7);
    assert_int_equal(s.timeout_s, 30);
    assert_int_equal(s.max_attempts, 2);
    assert_int_equal(s.cpu_milli, 1500);
    assert_int_equal(s.mem_mb, 256);
    assert_int_equal(s.estimated_ms, 900);
    assert_string_equal(corral_kv_get(s.constraints, s.n_constraints, "zone"), "a");
    assert_string_equal(corral_kv_get(s.env, s.n_env, "B"), "x=y"); /* split at the first '=' */
    assert_string_equal(s.idempotency_key, "k-1");
    corral_spec_cleanup(&s);
    json_decref(obj);
}

static void cli_spec_start_flags_reach_the_server_as_run_at_and_delay_s(void **state)
{
    (void)state;
    char s1[] = "true";
    char *argv[] = {s1};
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    f.delay_milli = 2500; /* --delay 2.5 */
    json_t *obj = build(&f, 1, argv);
    struct corral_spec s = {0};
    server_accepts(obj, &s);
    assert_true(s.has_delay);
    assert_int_equal(s.delay_ms, 2500);
    assert_false(s.has_run_at);
    corral_spec_cleanup(&s);
    json_decref(obj);

    cli_task_flags_init(&f);
    f.run_at = "2026-12-24T18:00:00+01:00";
    obj = build(&f, 1, argv);
    server_accepts(obj, &s);
    assert_true(s.has_run_at);
    assert_int_equal(s.run_at_ms, INT64_C(1798131600000));
    corral_spec_cleanup(&s);
    json_decref(obj);
}

static void cli_spec_shell_joins_arguments_into_one_line(void **state)
{
    (void)state;
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    f.shell = true;
    char s3[] = "echo";
    char s4[] = "a";
    char s5[] = "|";
    char s6[] = "wc";
    char s7[] = "-c";
    char *argv[] = {s3, s4, s5, s6, s7};
    json_t *obj = build(&f, 5, argv);
    struct corral_spec s = {0};
    server_accepts(obj, &s);
    assert_true(s.shell);
    assert_int_equal(s.argc, 1);
    assert_string_equal(s.argv[0], "echo a | wc -c");
    corral_spec_cleanup(&s);
    json_decref(obj);
}

static void cli_spec_without_flags_gets_server_defaults(void **state)
{
    (void)state;
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    char s8[] = "true";
    char *argv[] = {s8};
    json_t *obj = build(&f, 1, argv);
    struct corral_spec s = {0};
    server_accepts(obj, &s);
    assert_int_equal(s.priority, 0);
    assert_int_equal(s.timeout_s, 3600);
    assert_int_equal(s.max_attempts, 3);
    assert_int_equal(s.cpu_milli, 1000);
    corral_spec_cleanup(&s);
    json_decref(obj);
}

static void cli_spec_rejects_label_without_equals(void **state)
{
    (void)state;
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    char s9[] = "zone";
    char *labels[] = {s9};
    f.labels = (struct corral_strlist){labels, 1};
    char s10[] = "true";
    char *argv[] = {s10};
    struct corral_error err = {0};
    assert_null(cli_spec_build(&f, 1, argv, &err));
    assert_int_equal(err.code, CORRAL_EUSAGE);
    assert_string_equal(err.field, "--label");
}

static void cli_spec_rejects_empty_command(void **state)
{
    (void)state;
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    struct corral_error err = {0};
    assert_null(cli_spec_build(&f, 0, NULL, &err));
    assert_int_equal(err.code, CORRAL_EUSAGE);
}

static void cli_env_file_lines_become_secret_env(void **state)
{
    (void)state;
    struct cli_task_flags f;
    cli_task_flags_init(&f);
    struct corral_error err = {0};
    const char *text = "# deploy secrets\r\n\nAPI_KEY=s3cr=t\r\n  # indented comment\n"
                       "EMPTY=\nSPACED= keep spaces \nAPI_KEY=later-wins";
    assert_int_equal(cli_env_lines(text, "--secret-env-file", &f.secret_env, &err), CORRAL_OK);
    assert_int_equal(f.secret_env.n, 4);
    assert_string_equal(f.secret_env.items[0], "API_KEY=s3cr=t");
    assert_string_equal(f.secret_env.items[1], "EMPTY=");
    assert_string_equal(f.secret_env.items[2], "SPACED= keep spaces ");
    char s1[] = "env";
    char *argv[] = {s1};
    json_t *obj = build(&f, 1, argv);
    struct corral_spec spec = {0};
    server_accepts(obj, &spec);
    assert_int_equal(spec.n_secret_env, 3);
    assert_int_equal(spec.n_env, 0);
    json_t *se = json_object_get(obj, "secret_env");
    assert_string_equal(json_string_value(json_object_get(se, "API_KEY")), "later-wins");
    assert_string_equal(json_string_value(json_object_get(se, "SPACED")), " keep spaces ");
    corral_spec_cleanup(&spec);
    json_decref(obj);
    corral_strlist_cleanup(&f.secret_env);
}

static void cli_env_file_rejects_a_line_without_key(void **state)
{
    (void)state;
    const char *bad[] = {"A=1\nno equals sign\n", "=value\n", "A=1\n\n  =x"};
    const unsigned line[] = {2, 1, 3};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct corral_strlist l = {0};
        struct corral_error err = {0};
        assert_int_equal(cli_env_lines(bad[i], "--secret-env-file", &l, &err), CORRAL_EUSAGE);
        assert_string_equal(err.field, "--secret-env-file");
        char want[32];
        snprintf(want, sizeof want, "line %u:", line[i]);
        assert_non_null(strstr(err.msg, want));
        corral_strlist_cleanup(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cli_spec_with_every_flag_is_valid_for_the_server),
        cmocka_unit_test(cli_spec_shell_joins_arguments_into_one_line),
        cmocka_unit_test(cli_spec_start_flags_reach_the_server_as_run_at_and_delay_s),
        cmocka_unit_test(cli_spec_without_flags_gets_server_defaults),
        cmocka_unit_test(cli_spec_rejects_label_without_equals),
        cmocka_unit_test(cli_spec_rejects_empty_command),
        cmocka_unit_test(cli_env_file_lines_become_secret_env),
        cmocka_unit_test(cli_env_file_rejects_a_line_without_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
