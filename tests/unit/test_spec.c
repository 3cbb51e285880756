/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of src/core/spec.c. Most rules are data: every folder under cases/spec/invalid/
 * (input.json + expect = the expected err->field) and cases/spec/valid/ (input.json +
 * expect.json = the rendered spec with defaults) becomes its own cmocka test, so a new rule is a
 * new folder. The hand-written tests below cover what a JSON file cannot express.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/limits.h"
#include "corral/spec.h"

#define MAX_CASES 1024

struct spec_case {
    char dir[700];
    bool valid;
};

static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    n = fread(buf, 1, cap, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static bool is_zeroed(const struct corral_spec *s)
{
    static const struct corral_spec zero;
    return memcmp(s, &zero, sizeof(zero)) == 0;
}

static void run_invalid_case(void **state)
{
    const struct spec_case *c = *state;
    size_t len;
    char *input = read_file(c->dir, "input.json", &len);
    char *expect = read_file(c->dir, "expect", NULL);
    expect[strcspn(expect, "\r\n")] = '\0';

    struct corral_spec spec = {0};
    struct corral_error err = {0};
    int rc = corral_spec_parse(input, len, &spec, &err);
    print_message("      -> field \"%s\": %s\n", err.field, err.msg);
    assert_int_equal(rc, CORRAL_ESPEC);
    assert_int_equal(err.code, CORRAL_ESPEC);
    assert_string_equal(err.field, expect);
    assert_true(err.msg[0] != '\0');
    assert_null(strchr(err.msg, '\n'));
    assert_true(is_zeroed(&spec));
    free(input);
    free(expect);
}

static void run_valid_case(void **state)
{
    const struct spec_case *c = *state;
    size_t len;
    char *input = read_file(c->dir, "input.json", &len);
    char *expect_text = read_file(c->dir, "expect.json", NULL);
    json_error_t jerr;
    json_t *expect = json_loads(expect_text, 0, &jerr);
    if (!expect)
        fail_msg("expect.json: %s", jerr.text);

    struct corral_spec spec = {0};
    struct corral_error err = {0};
    int rc = corral_spec_parse(input, len, &spec, &err);
    if (rc)
        fail_msg("rejected: field \"%s\": %s", err.field, err.msg);
    json_t *got = corral_spec_to_json(&spec);
    if (!json_equal(got, expect)) {
        char *g = json_dumps(got, JSON_COMPACT);
        fail_msg("rendered %s", g);
    }

    /* The rendering is itself a valid spec that renders the same (idempotent). */
    char *text = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);
    struct corral_spec again = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &again, &err), CORRAL_OK);
    assert_true(corral_spec_equal(&spec, &again));

    /* A deep copy is equal and independent of the original. */
    struct corral_spec copy = {0};
    corral_spec_copy(&copy, &spec);
    corral_spec_cleanup(&spec);
    assert_true(corral_spec_equal(&copy, &again));

    corral_spec_cleanup(&copy);
    corral_spec_cleanup(&again);
    corral_spec_cleanup(&again); /* idempotent */
    free(text);
    json_decref(got);
    json_decref(expect);
    free(input);
    free(expect_text);
}

static int cmp_case(const void *a, const void *b)
{
    return strcmp(((const struct spec_case *)a)->dir, ((const struct spec_case *)b)->dir);
}

/* Append one case per sub-folder of CORRAL_CASES_DIR/spec/<kind>. */
static size_t scan(const char *kind, bool valid, struct spec_case *cases, size_t n)
{
    char base[400];
    snprintf(base, sizeof(base), "%s/spec/%s", CORRAL_CASES_DIR, kind);
    DIR *d = opendir(base);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", base);
        exit(1);
    }
    size_t first = n;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || n == MAX_CASES)
            continue;
        snprintf(cases[n].dir, sizeof(cases[n].dir), "%s/%s", base, e->d_name);
        cases[n].valid = valid;
        n++;
    }
    closedir(d);
    qsort(cases + first, n - first, sizeof(*cases), cmp_case);
    return n;
}

/* ---- rules a data folder cannot express ---- */

static void spec_from_json_prefixes_fields_with_batch_index(void **state)
{
    (void)state;
    json_t *obj = json_pack("{s:[s], s:i}", "command", "a", "priority", 5000);
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_from_json(obj, "tasks[3].", &spec, &err), CORRAL_ESPEC);
    assert_string_equal(err.field, "tasks[3].priority");
    json_decref(obj);

    json_t *arr = json_array();
    corral_error_clear(&err);
    assert_int_equal(corral_spec_from_json(arr, "tasks[7].", &spec, &err), CORRAL_ESPEC);
    assert_string_equal(err.field, "tasks[7]");
    json_decref(arr);
}

static void spec_rejects_nul_inside_string_built_in_memory(void **state)
{
    (void)state;
    json_t *obj = json_pack("{s:[s%]}", "command", "a\0b", (size_t)3);
    assert_non_null(obj);
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_from_json(obj, NULL, &spec, &err), CORRAL_ESPEC);
    assert_string_equal(err.field, "command[0]");
    json_decref(obj);
}

static void spec_secret_values_are_null_in_the_api_view(void **state)
{
    (void)state;
    const char *text = "{\"http\":{\"url\":\"http://h/\",\"secret_headers\":{\"X-Key\":\"k1\"}},"
                       "\"env\":{\"PLAIN\":\"p\"},\"secret_env\":{\"TOKEN\":\"t1\"}}";
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, &err), CORRAL_OK);
    assert_string_equal(corral_kv_get(spec.secret_env, spec.n_secret_env, "TOKEN"), "t1");
    json_t *j = corral_spec_to_json(&spec);
    /* stored as given: the worker needs the values */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "secret_env"), "TOKEN")), "t1");
    corral_spec_redact_json(j);
    assert_true(json_is_null(json_object_get(json_object_get(j, "secret_env"), "TOKEN")));
    json_t *h = json_object_get(j, "http");
    assert_true(json_is_null(json_object_get(json_object_get(h, "secret_headers"), "X-Key")));
    /* the key stays visible, and nothing else changes */
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "env"), "PLAIN")),
                        "p");
    char *dump = json_dumps(j, JSON_COMPACT);
    assert_null(strstr(dump, "t1"));
    assert_null(strstr(dump, "k1"));
    free(dump);
    json_decref(j);
    corral_spec_cleanup(&spec);
    /* a spec without secrets renders without the keys */
    const char *plain = "{\"command\":[\"true\"]}";
    assert_int_equal(corral_spec_parse(plain, strlen(plain), &spec, &err), CORRAL_OK);
    j = corral_spec_to_json(&spec);
    assert_null(json_object_get(j, "secret_env"));
    json_decref(j);
    corral_spec_cleanup(&spec);
}

static void spec_rejects_null_object(void **state)
{
    (void)state;
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_from_json(NULL, NULL, &spec, &err), CORRAL_ESPEC);
    assert_string_equal(err.field, "");
}

static void spec_parse_error_names_line_and_column(void **state)
{
    (void)state;
    const char *text = "{\n  \"command\": [\"a\"],\n  oops\n}";
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, &err), CORRAL_ESPEC);
    assert_string_equal(err.field, "");
    assert_non_null(strstr(err.msg, "line 3"));
}

static void spec_error_message_names_field_and_value(void **state)
{
    (void)state;
    const char *text = "{\"command\": [\"a\"], \"priority\": 1001}";
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, &err), CORRAL_ESPEC);
    assert_non_null(strstr(err.msg, "priority"));
    assert_non_null(strstr(err.msg, "1001"));
}

static void spec_rejects_text_above_body_cap_without_parsing(void **state)
{
    (void)state;
    size_t len = CORRAL_BODY_MAX_BYTES + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, ' ', len);
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, len, &spec, &err), CORRAL_ESPEC);
    assert_string_equal(err.field, "");
    free(text);
}

static void spec_whitespace_does_not_count_toward_64_kib(void **state)
{
    (void)state;
    /* ~100 KiB of text whose compact form is tiny. */
    size_t pad = 100 * 1024;
    char *text = malloc(pad + 64);
    assert_non_null(text);
    memset(text, ' ', pad);
    strcpy(text + pad, "{\"command\": [\"a\"]}");
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, &err), CORRAL_OK);
    corral_spec_cleanup(&spec);
    free(text);
}

/* {"command":["sh","xxx..."]} (plus head fields) of exactly size bytes. */
static char *spec_of_size(const char *head, size_t size)
{
    const char *open = "\"command\":[\"sh\",\"", *tail = "\"]}";
    size_t fixed = 1 + strlen(head) + strlen(open) + strlen(tail);
    assert_true(size > fixed);
    char *text = malloc(size + 1);
    assert_non_null(text);
    snprintf(text, size + 1, "{%s%s", head, open);
    size_t n = strlen(text);
    memset(text + n, 'x', size - fixed);
    strcpy(text + n + (size - fixed), tail);
    assert_int_equal(strlen(text), size);
    return text;
}

/* A task stores its spec with the defaults filled in and must be able to read it back: a spec
 * just under 64 KiB as submitted, but over it as stored, used to be accepted and its task could
 * then never be parsed again. */
static void spec_accepted_near_the_cap_is_accepted_again_as_stored(void **state)
{
    (void)state;
    static const char *const heads[] = {"", "\"http\":null,\"timeout_s\":null,",
                                        "\"resources\":{\"cpu\":0.125},"};
    size_t accepted = 0;
    for (size_t h = 0; h < sizeof(heads) / sizeof(*heads); h++) {
        for (size_t size = CORRAL_SPEC_MAX_BYTES - 400; size <= CORRAL_SPEC_MAX_BYTES; size++) {
            char *text = spec_of_size(heads[h], size);
            struct corral_spec spec = {0};
            struct corral_error err = {0};
            int rc = corral_spec_parse(text, size, &spec, &err);
            free(text);
            if (rc) {
                assert_string_equal(err.field, "");
                assert_non_null(strstr(err.msg, "bytes"));
                continue;
            }
            accepted++;
            json_t *j = corral_spec_to_json(&spec);
            char *stored = json_dumps(j, CORRAL_JSON_DUMP_FLAGS);
            json_decref(j);
            assert_true(strlen(stored) <= CORRAL_SPEC_MAX_BYTES);
            struct corral_spec again = {0};
            if (corral_spec_parse(stored, strlen(stored), &again, &err))
                fail_msg("stored form of a %zu-byte spec rejected: %s", size, err.msg);
            corral_spec_cleanup(&again);
            corral_spec_cleanup(&spec);
            free(stored);
        }
    }
    assert_true(accepted > 0);
    /* Exactly 64 KiB as given but more with the defaults: refused, saying why. */
    char *text = spec_of_size("", CORRAL_SPEC_MAX_BYTES);
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, &err), CORRAL_ESPEC);
    assert_non_null(strstr(err.msg, "defaults"));
    free(text);
}

static void spec_defaults_add_less_than_1_kib(void **state)
{
    (void)state;
    /* spec.c measures the stored size only within 1 KiB of the cap: check that bound. (Long
     * literals are parenthesised: one element each, not a missing comma.) */
    static const char *const minimal[] = {
        "{\"command\":[\"x\"]}",
        "{\"http\":{\"url\":\"http://x\"}}",
        ("{\"command\":[\"x\"],\"shell\":null,\"http\":null,\"name\":null,\"priority\":null,"
         "\"timeout_s\":null,\"max_attempts\":null,\"retry_backoff_s\":null,\"resources\":null,"
         "\"constraints\":null,\"estimated_ms\":null,\"env\":null,\"idempotency_key\":null}"),
        ("{\"http\":{\"url\":\"http://x\",\"method\":null,\"headers\":null,\"body\":null,"
         "\"expect_status\":null},\"resources\":{\"cpu\":null,\"mem_mb\":null}}"),
        "{\"command\":[\"x\"],\"resources\":{\"cpu\":1e-3}}",
    };
    for (size_t i = 0; i < sizeof(minimal) / sizeof(*minimal); i++) {
        struct corral_spec spec = {0};
        struct corral_error err = {0};
        if (corral_spec_parse(minimal[i], strlen(minimal[i]), &spec, &err))
            fail_msg("%s: %s", minimal[i], err.msg);
        json_t *j = corral_spec_to_json(&spec);
        size_t stored = json_dumpb(j, NULL, 0, CORRAL_JSON_DUMP_FLAGS);
        json_decref(j);
        assert_true(stored < strlen(minimal[i]) + 1024);
        corral_spec_cleanup(&spec);
    }
}

/* Field and message of the error for text, parsed with prefix. */
static void spec_error(const char *prefix, const char *text, struct corral_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    if (!obj)
        fail_msg("test JSON: %s", jerr.text);
    struct corral_spec spec = {0};
    memset(err, 0, sizeof(*err));
    assert_int_equal(corral_spec_from_json(obj, prefix, &spec, err), CORRAL_ESPEC);
    json_decref(obj);
    print_message("      -> field \"%s\": %s\n", err->field, err->msg);
    assert_non_null(strstr(err->msg, err->field)); /* the message starts with the field */
}

static void spec_errors_name_a_map_key_in_full_or_say_it_is_too_long(void **state)
{
    (void)state;
    struct corral_error err;
    char key[CORRAL_KEY_MAX + 1], text[1024], want[256];
    /* Short enough: the field is env.KEY in full, also under the longest batch prefix. */
    size_t fits = sizeof(err.field) - 1 - strlen("tasks[999].http.headers.");
    memset(key, 'K', fits);
    key[fits] = '\0';
    snprintf(text, sizeof text, "{\"command\":[\"a\"],\"env\":{\"%s\":1}}", key);
    spec_error(NULL, text, &err);
    snprintf(want, sizeof want, "env.%s", key);
    assert_string_equal(err.field, want);
    snprintf(text, sizeof text, "{\"http\":{\"url\":\"http://x\",\"headers\":{\"%s\":\"a\\nb\"}}}",
             key);
    spec_error("tasks[999].", text, &err);
    snprintf(want, sizeof want, "tasks[999].http.headers.%s", key);
    assert_string_equal(err.field, want);
    assert_int_equal(strlen(err.field), sizeof(err.field) - 1);

    /* One byte longer, or up to the longest valid key: the field is the map, the message says
     * which key and that it is too long to name; never a silently cut field name. */
    for (size_t len = fits + 1; len <= CORRAL_KEY_MAX; len += CORRAL_KEY_MAX - fits - 1) {
        memset(key, 'K', len);
        key[len] = '\0';
        snprintf(text, sizeof text,
                 "{\"http\":{\"url\":\"http://x\",\"headers\":{\"%s\":\"a\\nb\"}}}", key);
        spec_error("tasks[999].", text, &err);
        assert_string_equal(err.field, "tasks[999].http.headers");
        assert_non_null(strstr(err.msg, "too long to name"));
        assert_non_null(strstr(err.msg, "KKKKKKKKKKKKKKKK"));
        snprintf(want, sizeof want, "(%zu bytes", len);
        assert_non_null(strstr(err.msg, want));
        assert_non_null(strstr(err.msg, "CR or LF")); /* and still what is wrong */
        snprintf(text, sizeof text, "{\"command\":[\"a\"],\"constraints\":{\"%s\":5}}", key);
        spec_error("spec.", text, &err);
        if (strlen("spec.constraints.") + len < sizeof(err.field)) {
            snprintf(want, sizeof want, "spec.constraints.%s", key);
            assert_string_equal(err.field, want);
        } else {
            assert_string_equal(err.field, "spec.constraints");
            assert_non_null(strstr(err.msg, "too long to name"));
        }
    }
}

static void spec_unknown_field_of_any_length_is_named_or_described(void **state)
{
    (void)state;
    struct corral_error err;
    spec_error("tasks[2].", "{\"command\":[\"a\"],\"resources\":{\"gpus\":1}}", &err);
    assert_string_equal(err.field, "tasks[2].resources.gpus");
    spec_error(NULL, "{\"command\":[\"a\"],\"colour\":1}", &err);
    assert_string_equal(err.field, "colour");
    spec_error("tasks[2].", "{\"command\":[\"a\"],\"colour\":1}", &err);
    assert_string_equal(err.field, "tasks[2].colour");
    /* A 5000-byte unknown key (with a multi-byte character at the cut) at the top level. */
    size_t len = 5000;
    char *text = malloc(len + 64);
    assert_non_null(text);
    strcpy(text, "{\"command\":[\"a\"],\"");
    size_t n = strlen(text);
    memset(text + n, 'u', len);
    memcpy(text + n + 31, "\xc3\xa9", 2); /* bytes 31-32 of the key: split by a 32-byte cut */
    strcpy(text + n + len, "\":1}");
    spec_error(NULL, text, &err);
    assert_string_equal(err.field, "");
    assert_non_null(strstr(err.msg, "unknown field"));
    assert_non_null(strstr(err.msg, "(5000 bytes"));
    assert_null(strstr(err.msg, "\xc3\"")); /* not cut inside the character */
    assert_null(strstr(err.msg, "\xc3..."));
    spec_error("tasks[9].", text, &err);
    assert_string_equal(err.field, "tasks[9]");
    assert_non_null(strstr(err.msg, "too long to name"));
    free(text);
}

static void spec_fields_hold_parsed_values(void **state)
{
    (void)state;
    const char *text = "{\"command\": [\"sh\", \"-c\", \"x\"], \"priority\": -3, \"resources\": "
                       "{\"cpu\": 0.25, \"mem_mb\": 64}, \"env\": {\"A\": \"1\"}, "
                       "\"constraints\": {\"zone\": \"b\"}, \"estimated_ms\": 5}";
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, &err), CORRAL_OK);
    assert_int_equal(spec.argc, 3);
    assert_string_equal(spec.argv[2], "x");
    assert_false(spec.has_http);
    assert_int_equal(spec.priority, -3);
    assert_int_equal(spec.cpu_milli, 250);
    assert_int_equal(spec.mem_mb, 64);
    assert_int_equal(spec.timeout_s, 3600);
    assert_int_equal(spec.max_attempts, 3);
    assert_true(spec.has_estimated);
    assert_int_equal(spec.estimated_ms, 5);
    assert_string_equal(corral_kv_get(spec.env, spec.n_env, "A"), "1");
    assert_string_equal(corral_kv_get(spec.constraints, spec.n_constraints, "zone"), "b");
    assert_null(corral_kv_get(spec.env, spec.n_env, "B"));
    corral_spec_cleanup(&spec);
}

static void spec_cpu_renders_integer_when_whole_and_real_otherwise(void **state)
{
    (void)state;
    struct corral_spec spec = {0};
    spec.cpu_milli = 2000;
    json_t *j = corral_spec_to_json(&spec);
    assert_true(json_is_integer(json_object_get(json_object_get(j, "resources"), "cpu")));
    json_decref(j);
    spec.cpu_milli = 500;
    j = corral_spec_to_json(&spec);
    json_t *cpu = json_object_get(json_object_get(j, "resources"), "cpu");
    assert_true(json_is_real(cpu));
    assert_true(json_real_value(cpu) == 0.5);
    json_decref(j);
}

static void spec_equal_detects_any_difference(void **state)
{
    (void)state;
    const char *a = "{\"command\": [\"a\"], \"priority\": 1}";
    const char *b = "{\"priority\": 1, \"command\": [\"a\"], \"timeout_s\": 3600}";
    const char *c = "{\"command\": [\"a\"], \"priority\": 2}";
    struct corral_spec sa = {0}, sb = {0}, sc = {0};
    assert_int_equal(corral_spec_parse(a, strlen(a), &sa, NULL), CORRAL_OK);
    assert_int_equal(corral_spec_parse(b, strlen(b), &sb, NULL), CORRAL_OK);
    assert_int_equal(corral_spec_parse(c, strlen(c), &sc, NULL), CORRAL_OK);
    assert_true(corral_spec_equal(&sa, &sb));
    assert_false(corral_spec_equal(&sa, &sc));
    corral_spec_cleanup(&sa);
    corral_spec_cleanup(&sb);
    corral_spec_cleanup(&sc);
}

static void spec_cleanup_works_on_zeroed_struct(void **state)
{
    (void)state;
    struct corral_spec spec = {0};
    corral_spec_cleanup(&spec);
    corral_spec_cleanup(NULL);
    assert_true(is_zeroed(&spec));
}

static const struct CMUnitTest fixed_tests[] = {
    cmocka_unit_test(spec_from_json_prefixes_fields_with_batch_index),
    cmocka_unit_test(spec_rejects_nul_inside_string_built_in_memory),
    cmocka_unit_test(spec_rejects_null_object),
    cmocka_unit_test(spec_secret_values_are_null_in_the_api_view),
    cmocka_unit_test(spec_parse_error_names_line_and_column),
    cmocka_unit_test(spec_error_message_names_field_and_value),
    cmocka_unit_test(spec_rejects_text_above_body_cap_without_parsing),
    cmocka_unit_test(spec_whitespace_does_not_count_toward_64_kib),
    cmocka_unit_test(spec_accepted_near_the_cap_is_accepted_again_as_stored),
    cmocka_unit_test(spec_defaults_add_less_than_1_kib),
    cmocka_unit_test(spec_errors_name_a_map_key_in_full_or_say_it_is_too_long),
    cmocka_unit_test(spec_unknown_field_of_any_length_is_named_or_described),
    cmocka_unit_test(spec_fields_hold_parsed_values),
    cmocka_unit_test(spec_cpu_renders_integer_when_whole_and_real_otherwise),
    cmocka_unit_test(spec_equal_detects_any_difference),
    cmocka_unit_test(spec_cleanup_works_on_zeroed_struct),
};

int main(void)
{
    static struct spec_case cases[MAX_CASES];
    size_t n = scan("invalid", false, cases, 0);
    size_t n_invalid = n;
    n = scan("valid", true, cases, n);
    if (n_invalid == 0 || n == n_invalid) {
        fprintf(stderr, "no spec cases found under %s\n", CORRAL_CASES_DIR);
        return 1;
    }

    size_t n_fixed = sizeof(fixed_tests) / sizeof(*fixed_tests);
    struct CMUnitTest *tests = calloc(n + n_fixed, sizeof(*tests));
    static char names[MAX_CASES][160];
    for (size_t i = 0; i < n; i++) {
        const char *leaf = strrchr(cases[i].dir, '/') + 1;
        snprintf(names[i], sizeof(names[i]), "spec_%s_%s", cases[i].valid ? "accepts" : "rejects",
                 leaf);
        tests[i] = (struct CMUnitTest){
            .name = names[i],
            .test_func = cases[i].valid ? run_valid_case : run_invalid_case,
            .initial_state = &cases[i],
        };
    }
    memcpy(tests + n, fixed_tests, sizeof(fixed_tests));
    int failed = _cmocka_run_group_tests("spec", tests, n + n_fixed, NULL, NULL);
    free(tests);
    return failed;
}
