/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/id.c: id shape, validation and the encoded timestamp. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "corral/id.h"

static void id_make_is_12_hex_ms_dash_8_hex_random(void **state)
{
    (void)state;
    char id[CORRAL_ID_LEN + 1];
    corral_id_make(id, UINT64_C(0x019a1b2c3d4e), 0x9f8e7d6cu);
    assert_string_equal(id, "019a1b2c3d4e-9f8e7d6c");
    assert_int_equal(strlen(id), CORRAL_ID_LEN);
}

static void id_make_zero_pads_both_parts(void **state)
{
    (void)state;
    char id[CORRAL_ID_LEN + 1];
    corral_id_make(id, 1, 2);
    assert_string_equal(id, "000000000001-00000002");
}

static void id_make_keeps_length_for_huge_time(void **state)
{
    (void)state;
    char id[CORRAL_ID_LEN + 1];
    corral_id_make(id, UINT64_MAX, UINT32_MAX);
    assert_int_equal(strlen(id), CORRAL_ID_LEN);
    assert_string_equal(id, "ffffffffffff-ffffffff");
}

static void id_strings_sort_by_time(void **state)
{
    (void)state;
    char a[CORRAL_ID_LEN + 1], b[CORRAL_ID_LEN + 1];
    corral_id_make(a, 1795510372123u, 0xffffffffu);
    corral_id_make(b, 1795510372124u, 0);
    assert_true(strcmp(a, b) < 0);
}

static void id_is_valid_accepts_made_ids(void **state)
{
    (void)state;
    char id[CORRAL_ID_LEN + 1];
    corral_id_make(id, 1795510372123u, 0xdeadbeefu);
    assert_true(corral_id_is_valid(id));
}

static void id_is_valid_rejects_wrong_shapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "019a1b2c3d4e-9f8e7d6",   /* short */
        "019a1b2c3d4e-9f8e7d6c0", /* long */
        "019A1B2C3D4E-9F8E7D6C",  /* uppercase */
        "019a1b2c3d4e_9f8e7d6c",  /* separator */
        "019a1b2c3d4-e9f8e7d6c",  /* dash misplaced */
        "019a1b2c3d4g-9f8e7d6c",  /* not hex */
        "../../../etc-passwd0000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(corral_id_is_valid(bad[i]));
    assert_false(corral_id_is_valid(NULL));
}

static void id_time_ms_round_trips(void **state)
{
    (void)state;
    char id[CORRAL_ID_LEN + 1];
    corral_id_make(id, 1795510372123u, 7);
    assert_int_equal(corral_id_time_ms(id), 1795510372123);
}

static void id_time_ms_is_minus_one_for_invalid(void **state)
{
    (void)state;
    assert_int_equal(corral_id_time_ms("nope"), -1);
    assert_int_equal(corral_id_time_ms(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_make_is_12_hex_ms_dash_8_hex_random),
        cmocka_unit_test(id_make_zero_pads_both_parts),
        cmocka_unit_test(id_make_keeps_length_for_huge_time),
        cmocka_unit_test(id_strings_sort_by_time),
        cmocka_unit_test(id_is_valid_accepts_made_ids),
        cmocka_unit_test(id_is_valid_rejects_wrong_shapes),
        cmocka_unit_test(id_time_ms_round_trips),
        cmocka_unit_test(id_time_ms_is_minus_one_for_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
