/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/strlist.c (set helpers of a string list) and src/core/xalloc.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/strlist.h"
#include "corral/xalloc.h"

static void strlist_add_appends_in_order(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    corral_strlist_add(&l, "a");
    corral_strlist_add(&l, "b");
    corral_strlist_add(&l, "c");
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0], "a");
    assert_string_equal(l.items[1], "b");
    assert_string_equal(l.items[2], "c");
    corral_strlist_cleanup(&l);
}

static void strlist_add_ignores_duplicates(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    corral_strlist_add(&l, "t1");
    corral_strlist_add(&l, "t1");
    corral_strlist_add(&l, "t2");
    corral_strlist_add(&l, "t1");
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0], "t1");
    assert_string_equal(l.items[1], "t2");
    corral_strlist_cleanup(&l);
}

static void strlist_add_copies_the_string(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    char buf[8] = "x";
    corral_strlist_add(&l, buf);
    buf[0] = 'y';
    assert_string_equal(l.items[0], "x");
    assert_true(corral_strlist_has(&l, "x"));
    assert_false(corral_strlist_has(&l, "y"));
    corral_strlist_cleanup(&l);
}

static void strlist_has_on_empty_list_is_false(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    assert_false(corral_strlist_has(&l, ""));
    assert_false(corral_strlist_has(&l, "a"));
}

static void strlist_has_matches_whole_strings_only(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    corral_strlist_add(&l, "abc");
    assert_true(corral_strlist_has(&l, "abc"));
    assert_false(corral_strlist_has(&l, "ab"));
    assert_false(corral_strlist_has(&l, "abcd"));
    corral_strlist_cleanup(&l);
}

static void strlist_remove_drops_one_item_and_keeps_order(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    corral_strlist_add(&l, "a");
    corral_strlist_add(&l, "b");
    corral_strlist_add(&l, "c");
    assert_true(corral_strlist_remove(&l, "b"));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0], "a");
    assert_string_equal(l.items[1], "c");
    assert_false(corral_strlist_remove(&l, "b"));
    assert_false(corral_strlist_remove(&l, "ab"));
    assert_true(corral_strlist_remove(&l, "c"));
    assert_true(corral_strlist_remove(&l, "a"));
    assert_int_equal(l.n, 0);
    assert_false(corral_strlist_remove(&l, "a"));
    corral_strlist_add(&l, "b"); /* usable again after being emptied */
    assert_true(corral_strlist_has(&l, "b"));
    corral_strlist_cleanup(&l);
}

static void strlist_intersect_keeps_common_items_in_order(void **state)
{
    (void)state;
    struct corral_strlist l = {0}, keep = {0};
    corral_strlist_add(&l, "a");
    corral_strlist_add(&l, "b");
    corral_strlist_add(&l, "c");
    corral_strlist_add(&l, "d");
    corral_strlist_add(&keep, "d");
    corral_strlist_add(&keep, "b");
    corral_strlist_add(&keep, "z");
    corral_strlist_intersect(&l, &keep);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0], "b");
    assert_string_equal(l.items[1], "d");
    /* The list stays usable: adding after an intersect works. */
    corral_strlist_add(&l, "e");
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[2], "e");
    corral_strlist_cleanup(&l);
    corral_strlist_cleanup(&keep);
}

static void strlist_intersect_with_empty_keep_empties_the_list(void **state)
{
    (void)state;
    struct corral_strlist l = {0}, keep = {0};
    corral_strlist_add(&l, "a");
    corral_strlist_add(&l, "b");
    corral_strlist_intersect(&l, &keep);
    assert_int_equal(l.n, 0);
    corral_strlist_intersect(&l, &keep); /* empty on both sides */
    assert_int_equal(l.n, 0);
    corral_strlist_cleanup(&l);
}

static void strlist_cleanup_is_idempotent_and_accepts_null(void **state)
{
    (void)state;
    struct corral_strlist l = {0};
    corral_strlist_cleanup(NULL);
    corral_strlist_cleanup(&l);
    corral_strlist_add(&l, "a");
    corral_strlist_cleanup(&l);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
    corral_strlist_cleanup(&l);
}

static void xalloc_zero_sizes_give_a_usable_pointer(void **state)
{
    (void)state;
    void *p = corral_xmalloc(0);
    assert_non_null(p);
    p = corral_xrealloc(p, 0);
    assert_non_null(p);
    p = corral_xrealloc(p, 16);
    memset(p, 1, 16);
    free(p);
    p = corral_xrealloc(NULL, 4);
    assert_non_null(p);
    free(p);
}

static void xalloc_strdup_copies_and_keeps_null(void **state)
{
    (void)state;
    assert_null(corral_xstrdup(NULL));
    char *s = corral_xstrdup("abc");
    assert_string_equal(s, "abc");
    free(s);
}

static void xalloc_strndup_stops_at_n_or_nul(void **state)
{
    (void)state;
    char *s = corral_xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = corral_xstrndup("ab", 10);
    assert_string_equal(s, "ab");
    free(s);
    s = corral_xstrndup("ab", 0);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strlist_add_appends_in_order),
        cmocka_unit_test(strlist_add_ignores_duplicates),
        cmocka_unit_test(strlist_add_copies_the_string),
        cmocka_unit_test(strlist_has_on_empty_list_is_false),
        cmocka_unit_test(strlist_has_matches_whole_strings_only),
        cmocka_unit_test(strlist_remove_drops_one_item_and_keeps_order),
        cmocka_unit_test(strlist_intersect_keeps_common_items_in_order),
        cmocka_unit_test(strlist_intersect_with_empty_keep_empties_the_list),
        cmocka_unit_test(strlist_cleanup_is_idempotent_and_accepts_null),
        cmocka_unit_test(xalloc_zero_sizes_give_a_usable_pointer),
        cmocka_unit_test(xalloc_strdup_copies_and_keeps_null),
        cmocka_unit_test(xalloc_strndup_stops_at_n_or_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
