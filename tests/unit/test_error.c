/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/error.c: the code table and the first-error-wins recorder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "corral/error.h"

static void err_names_and_statuses_come_from_the_table(void **state)
{
    (void)state;
    assert_string_equal(corral_err_name(CORRAL_OK), "ok");
    assert_string_equal(corral_err_name(CORRAL_ESPEC), "invalid_spec");
    assert_int_equal(corral_err_http(CORRAL_ESPEC), 400);
    assert_string_equal(corral_err_name(CORRAL_EUNKNOWN), "outcome_unknown");
    assert_int_equal(corral_err_http(CORRAL_EUNKNOWN), 503);
    assert_int_equal(corral_err_http(CORRAL_EIDEMPOTENCY), 422);
    assert_int_equal(corral_err_http(CORRAL_EFULL), 429);
    assert_int_equal(corral_err_http(CORRAL_ETOOBIG), 413);
    assert_int_equal(corral_err_http(CORRAL_ESTATE), 409);
}

static void err_out_of_range_code_is_internal_500(void **state)
{
    (void)state;
    assert_string_equal(corral_err_name(-1), "internal");
    assert_string_equal(corral_err_name(CORRAL_ERR_COUNT), "internal");
    assert_int_equal(corral_err_http(-1), 500);
    assert_int_equal(corral_err_http(CORRAL_ERR_COUNT + 7), 500);
}

static void err_every_code_has_a_distinct_name(void **state)
{
    (void)state;
    for (int i = 0; i < CORRAL_ERR_COUNT; i++) {
        for (int j = i + 1; j < CORRAL_ERR_COUNT; j++)
            assert_string_not_equal(corral_err_name(i), corral_err_name(j));
        int http = corral_err_http(i);
        assert_true(http >= 200 && http <= 599);
    }
}

static void err_set_records_code_field_and_message(void **state)
{
    (void)state;
    struct corral_error err = {0};
    int rc = corral_error_set(&err, CORRAL_ESPEC, "priority", "must be %d..%d", -1000, 1000);
    assert_int_equal(rc, CORRAL_ESPEC);
    assert_int_equal(err.code, CORRAL_ESPEC);
    assert_string_equal(err.field, "priority");
    assert_string_equal(err.msg, "must be -1000..1000");
}

static void err_set_keeps_the_first_error(void **state)
{
    (void)state;
    struct corral_error err = {0};
    (void)corral_error_set(&err, CORRAL_ESPEC, "a", "first");
    int rc = corral_error_set(&err, CORRAL_EUNAVAIL, "b", "second");
    assert_int_equal(rc, CORRAL_ESPEC);
    assert_string_equal(err.field, "a");
    assert_string_equal(err.msg, "first");
}

static void err_set_accepts_null_err_and_null_field(void **state)
{
    (void)state;
    assert_int_equal(corral_error_set(NULL, CORRAL_EINVAL, "x", "y"), CORRAL_EINVAL);
    struct corral_error err = {0};
    (void)corral_error_set(&err, CORRAL_EINVAL, NULL, "no field");
    assert_string_equal(err.field, "");
}

static void err_set_truncates_long_message_and_field(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct corral_error err = {0};
    (void)corral_error_set(&err, CORRAL_EINVAL, big, "%s", big);
    assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
}

static void err_set_flattens_newlines(void **state)
{
    (void)state;
    struct corral_error err = {0};
    (void)corral_error_set(&err, CORRAL_EINVAL, "f", "a\nb\rc");
    assert_string_equal(err.msg, "a b c");
}

static void err_clear_resets_to_ok(void **state)
{
    (void)state;
    struct corral_error err = {0};
    (void)corral_error_set(&err, CORRAL_EINVAL, "f", "m");
    corral_error_clear(&err);
    assert_int_equal(err.code, CORRAL_OK);
    assert_string_equal(err.field, "");
    assert_string_equal(err.msg, "");
    corral_error_clear(NULL);
    assert_int_equal(corral_error_set(&err, CORRAL_ENOTFOUND, "g", "again"), CORRAL_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(err_names_and_statuses_come_from_the_table),
        cmocka_unit_test(err_out_of_range_code_is_internal_500),
        cmocka_unit_test(err_every_code_has_a_distinct_name),
        cmocka_unit_test(err_set_records_code_field_and_message),
        cmocka_unit_test(err_set_keeps_the_first_error),
        cmocka_unit_test(err_set_accepts_null_err_and_null_field),
        cmocka_unit_test(err_set_truncates_long_message_and_field),
        cmocka_unit_test(err_set_flattens_newlines),
        cmocka_unit_test(err_clear_resets_to_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
