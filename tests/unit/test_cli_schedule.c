/* SPDX-License-Identifier: MIT */
/*
 * `corral schedule`: the POST /v1/schedules body built from the flags (its task checked against
 * the server's own spec validator), the local NAME check, and the human tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/schedule_build.h"
#include "cli/table.h"
#include "corral/spec.h"
#include "corral/strlist.h"

static json_t *body(const char *name, struct cli_schedule_flags *f, int argc, char *const *argv)
{
    struct corral_error err = {0};
    json_t *b = cli_schedule_body(name, f, argc, argv, &err);
    if (!b)
        fail_msg("body: %s %s", err.field, err.msg);
    return b;
}

static const char *str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void schedule_body_with_every_flag(void **state)
{
    (void)state;
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    f.cron = "0 3 * * MON-FRI";
    f.timezone = "Europe/Berlin";
    f.misfire = "fire_all";
    f.overlap = "queue";
    f.catchup_window_s = 600;
    f.paused = true;
    f.task.priority = 5;
    f.task.name = "backup";
    char e0[] = "MODE=full";
    char *env[] = {e0};
    f.task.env = (struct corral_strlist){env, 1};
    char a0[] = "backup.sh", a1[] = "--all";
    char *argv[] = {a0, a1};
    json_t *b = body("nightly-backup", &f, 2, argv);

    assert_string_equal(str(b, "name"), "nightly-backup");
    assert_string_equal(str(b, "cron"), "0 3 * * MON-FRI");
    assert_string_equal(str(b, "timezone"), "Europe/Berlin");
    assert_string_equal(str(b, "misfire"), "fire_all");
    assert_string_equal(str(b, "overlap"), "queue");
    assert_true(json_is_integer(json_object_get(b, "catchup_window_s")));
    assert_int_equal(json_integer_value(json_object_get(b, "catchup_window_s")), 600);
    assert_true(json_is_true(json_object_get(b, "paused")));
    assert_int_equal(json_object_size(b), 8); /* nothing else */

    /* The task is a spec the server takes as a POST /v1/tasks body would be taken. */
    struct corral_spec s = {0};
    struct corral_error err = {0};
    if (corral_spec_from_json(json_object_get(b, "task"), "task", &s, &err) != CORRAL_OK)
        fail_msg("server rejects the schedule's task: %s: %s", err.field, err.msg);
    assert_int_equal(s.argc, 2);
    assert_string_equal(s.argv[0], "backup.sh");
    assert_string_equal(s.argv[1], "--all");
    assert_int_equal(s.priority, 5);
    assert_string_equal(corral_kv_get(s.env, s.n_env, "MODE"), "full");
    corral_spec_cleanup(&s);
    json_decref(b);
}

static void schedule_body_sends_only_the_given_fields(void **state)
{
    (void)state;
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    f.cron = "@hourly";
    char a0[] = "true";
    char *argv[] = {a0};
    json_t *b = body("hourly", &f, 1, argv);
    assert_int_equal(json_object_size(b), 3);
    assert_string_equal(str(b, "name"), "hourly");
    assert_string_equal(str(b, "cron"), "@hourly");
    json_t *task = json_object_get(b, "task");
    assert_true(json_is_object(task));
    /* Server defaults apply: the CLI sends no timezone, misfire, overlap, window or paused. */
    assert_null(json_object_get(b, "timezone"));
    assert_null(json_object_get(b, "misfire"));
    assert_null(json_object_get(b, "overlap"));
    assert_null(json_object_get(b, "catchup_window_s"));
    assert_null(json_object_get(b, "paused"));
    /* The task is the same spec `corral submit` would send for the same flags and command. */
    struct corral_error err = {0};
    json_t *submit = cli_spec_build(&f.task, 1, argv, &err);
    assert_non_null(submit);
    assert_true(json_equal(task, submit));
    json_decref(submit);
    json_decref(b);
}

static void schedule_shell_task_is_one_line(void **state)
{
    (void)state;
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    f.cron = "*/5 * * * *";
    f.task.shell = true;
    char a0[] = "date", a1[] = ">>", a2[] = "/tmp/log";
    char *argv[] = {a0, a1, a2};
    json_t *b = body("every-5", &f, 3, argv);
    json_t *task = json_object_get(b, "task");
    assert_string_equal(str(task, "command"), "date >> /tmp/log");
    assert_true(json_is_true(json_object_get(task, "shell")));
    json_decref(b);
}

static void schedule_body_needs_cron_and_command(void **state)
{
    (void)state;
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    char a0[] = "true";
    char *argv[] = {a0};
    struct corral_error err = {0};
    assert_null(cli_schedule_body("x", &f, 1, argv, &err));
    assert_int_equal(err.code, CORRAL_EUSAGE);
    assert_string_equal(err.field, "--cron");

    f.cron = "@daily";
    corral_error_clear(&err);
    assert_null(cli_schedule_body("x", &f, 0, argv, &err));
    assert_int_equal(err.code, CORRAL_EUSAGE);
    assert_non_null(strstr(err.msg, "command"));
}

static void schedule_body_reports_bad_task_flags(void **state)
{
    (void)state;
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    f.cron = "@daily";
    char l0[] = "zone";
    char *labels[] = {l0};
    f.task.labels = (struct corral_strlist){labels, 1};
    char a0[] = "true";
    char *argv[] = {a0};
    struct corral_error err = {0};
    assert_null(cli_schedule_body("x", &f, 1, argv, &err));
    assert_int_equal(err.code, CORRAL_EUSAGE);
    assert_string_equal(err.field, "--label");

    cli_schedule_flags_init(&f);
    f.cron = "@daily";
    f.timezone = "Europe/\xff";
    corral_error_clear(&err);
    assert_null(cli_schedule_body("x", &f, 1, argv, &err));
    assert_int_equal(err.code, CORRAL_EUSAGE);
    assert_string_equal(err.field, "--timezone");
}

static bool name_ok(const char *name)
{
    struct corral_error err = {0};
    int rc = cli_schedule_name_check(name, &err);
    if (rc != CORRAL_OK) {
        assert_int_equal(rc, CORRAL_EUSAGE);
        assert_string_equal(err.field, "NAME");
        assert_true(err.msg[0] != '\0');
    }
    return rc == CORRAL_OK;
}

static void schedule_names_are_url_path_safe(void **state)
{
    (void)state;
    char longest[CLI_SCHEDULE_NAME_MAX + 2];
    memset(longest, 'a', CLI_SCHEDULE_NAME_MAX);
    longest[CLI_SCHEDULE_NAME_MAX] = '\0';
    assert_true(name_ok("nightly-backup_v1.2"));
    assert_true(name_ok("a"));
    assert_true(name_ok("A.B-c_9"));
    assert_true(name_ok(longest));
    longest[CLI_SCHEDULE_NAME_MAX] = 'a';
    longest[CLI_SCHEDULE_NAME_MAX + 1] = '\0';
    assert_false(name_ok(longest)); /* 65 bytes */
    assert_false(name_ok(""));
    assert_false(name_ok(NULL));
    assert_false(name_ok(".hidden"));
    assert_false(name_ok("."));
    assert_false(name_ok(".."));
    assert_false(name_ok("a/b"));
    assert_false(name_ok("../etc"));
    assert_false(name_ok("a b"));
    assert_false(name_ok("a%2Fb"));
    assert_false(name_ok("a?limit=1"));
    assert_false(name_ok("a\nb"));
    assert_false(name_ok("\x1b[31m"));
    assert_false(name_ok("caf\xc3\xa9"));

    /* The body refuses a bad name too, before anything else. */
    struct cli_schedule_flags f;
    cli_schedule_flags_init(&f);
    char a0[] = "true";
    char *argv[] = {a0};
    struct corral_error err = {0};
    assert_null(cli_schedule_body("a/b", &f, 1, argv, &err));
    assert_string_equal(err.field, "NAME");
}

/* Render with fn into a string (caller frees). */
static char *render(void (*fn)(FILE *, json_t *), json_t *v)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    fn(out, v);
    fclose(out);
    return text;
}

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    if (!v)
        fail_msg("bad test JSON: %s", jerr.text);
    return v;
}

static void schedule_list_table(void **state)
{
    (void)state;
    json_t *list =
        load("[{\"name\":\"nightly\",\"cron\":\"0 3 * * *\",\"timezone\":\"Europe/Berlin\","
             "\"paused\":false,\"last_fire\":\"2026-11-24T02:00:00.000Z\","
             "\"next_fire\":\"2026-11-25T02:00:00.000Z\"},"
             "{\"name\":\"held\",\"cron\":\"@hourly\",\"timezone\":\"UTC\","
             "\"paused\":true,\"last_fire\":null,\"next_fire\":null}]");
    char *text = render(table_print_schedules, list);
    assert_string_equal(text,
                        "NAME     CRON       TZ             PAUSED  LAST_FIRE                 "
                        "NEXT_FIRE\n"
                        "nightly  0 3 * * *  Europe/Berlin  no      2026-11-24T02:00:00.000Z  "
                        "2026-11-25T02:00:00.000Z\n"
                        "held     @hourly    UTC            yes     -                         "
                        "-\n");
    free(text);
    json_decref(list);

    json_t *empty = json_array();
    text = render(table_print_schedules, empty);
    assert_string_equal(text, "NAME  CRON  TZ  PAUSED  LAST_FIRE  NEXT_FIRE\n");
    free(text);
    json_decref(empty);
}

static void schedule_fires_table(void **state)
{
    (void)state;
    json_t *fires = load("[{\"scheduled_at\":\"2026-11-24T03:00:00Z\",\"fired_at\":"
                         "\"2026-11-24T03:00:00.012Z\",\"task\":\"01a2-87be\",\"state\":"
                         "\"running\"},"
                         "{\"scheduled_at\":\"2026-11-24T02:00:00Z\",\"fired_at\":"
                         "\"2026-11-24T02:00:00.009Z\",\"task\":null,\"state\":\"skipped\"}]");
    char *text = render(table_print_fires, fires);
    assert_string_equal(text,
                        "SCHEDULED_AT          FIRED_AT                  TASK       STATE\n"
                        "2026-11-24T03:00:00Z  2026-11-24T03:00:00.012Z  01a2-87be  running\n"
                        "2026-11-24T02:00:00Z  2026-11-24T02:00:00.009Z  -          skipped\n");
    free(text);
    json_decref(fires);
}

static void schedule_block_shows_name_cron_timezone_next_fire(void **state)
{
    (void)state;
    json_t *s = load("{\"name\":\"nightly\",\"cron\":\"0 3 * * *\",\"timezone\":\"UTC\","
                     "\"task\":{\"command\":[\"backup.sh\",\"--all\"]},\"misfire\":\"fire_once\","
                     "\"overlap\":\"skip\",\"catchup_window_s\":3600,\"paused\":false,"
                     "\"last_fire\":null,\"next_fire\":\"2026-11-25T03:00:00Z\"}");
    char *text = render(table_print_schedule, s);
    assert_string_equal(text, "name:       nightly\n"
                              "cron:       0 3 * * *\n"
                              "timezone:   UTC\n"
                              "paused:     no\n"
                              "misfire:    fire_once\n"
                              "overlap:    skip\n"
                              "catchup:    3600\n"
                              "last_fire:  -\n"
                              "next_fire:  2026-11-25T03:00:00Z\n"
                              "command:    backup.sh --all\n");
    free(text);
    json_decref(s);

    /* A server that sends less (or junk) still prints, with "-" for what is missing. */
    s = load("{\"name\":\"x\",\"task\":7}");
    text = render(table_print_schedule, s);
    assert_non_null(strstr(text, "name:       x\n"));
    assert_non_null(strstr(text, "next_fire:  -\n"));
    assert_non_null(strstr(text, "command:    -\n"));
    free(text);
    json_decref(s);
}

static void schedule_table_cells_cannot_hold_control_characters(void **state)
{
    (void)state;
    json_t *list = load("[{\"name\":\"a\\u001b[2Jb\",\"cron\":\"@daily\\nrm\",\"timezone\":\"UTC\","
                        "\"paused\":false,\"last_fire\":null,\"next_fire\":null}]");
    char *text = render(table_print_schedules, list);
    assert_null(strchr(text, '\x1b'));
    assert_non_null(strstr(text, "a?[2Jb"));
    assert_non_null(strstr(text, "@daily?rm"));
    free(text);
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_body_with_every_flag),
        cmocka_unit_test(schedule_body_sends_only_the_given_fields),
        cmocka_unit_test(schedule_shell_task_is_one_line),
        cmocka_unit_test(schedule_body_needs_cron_and_command),
        cmocka_unit_test(schedule_body_reports_bad_task_flags),
        cmocka_unit_test(schedule_names_are_url_path_safe),
        cmocka_unit_test(schedule_list_table),
        cmocka_unit_test(schedule_fires_table),
        cmocka_unit_test(schedule_block_shows_name_cron_timezone_next_fire),
        cmocka_unit_test(schedule_table_cells_cannot_hold_control_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
