/* SPDX-License-Identifier: MIT */
/* Election decisions (corral/election.h): names, predecessor, lowest, epoch, leader record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "corral/election.h"

#define UUID_A "0123456789abcdef0123456789abcdef"
#define UUID_B "fedcba9876543210fedcba9876543210"

static void names_parse_only_what_corral_makes(void **state)
{
    (void)state;
    uint64_t seq = 0;
    assert_true(corral_election_parse_name("n_" UUID_A "-0000000042", &seq));
    assert_int_equal(seq, 42);
    assert_false(corral_election_parse_name("n_" UUID_A "-42", &seq));          /* short */
    assert_false(corral_election_parse_name("x_" UUID_A "-0000000042", &seq));  /* prefix */
    assert_false(corral_election_parse_name("n_" UUID_A "-00000000x2", &seq));  /* digit */
    assert_false(corral_election_parse_name("n_-0000000042", &seq));            /* no uuid */
    assert_false(corral_election_parse_name("n_" UUID_A "-00000000421", &seq)); /* long */
    assert_false(corral_election_parse_name("", &seq));
    assert_false(corral_election_parse_name(NULL, &seq));
    assert_int_equal(corral_election_epoch(0), 1); /* an epoch is never 0 */
}

static void judge_finds_predecessor_and_ignores_foreign_children(void **state)
{
    (void)state;
    char a0[] = "n_" UUID_B "-0000000007", a1[] = "junk", a2[] = "n_" UUID_A "-0000000003",
         a3[] = "n_" UUID_B "-0000000001", a4[] = "n_" UUID_A "-0000000009";
    char *names[] = {a0, a1, a2, a3, a4};
    struct corral_election_judgement j;
    corral_election_judge(names, 5, "n_" UUID_A "-0000000009", &j);
    assert_true(j.found);
    assert_false(j.lowest);
    assert_int_equal(j.predecessor, 0); /* 7 is the next lower of 9, not the lowest (1) */
    assert_int_equal(j.epoch, 10);
    corral_election_judge(names, 5, "n_" UUID_B "-0000000001", &j);
    assert_true(j.found);
    assert_true(j.lowest);
    assert_int_equal(j.predecessor, -1);
    assert_int_equal(j.epoch, 2);
}

static void judge_of_a_missing_node_is_not_lowest(void **state)
{
    (void)state;
    char a0[] = "n_" UUID_B "-0000000007";
    char *names[] = {a0};
    struct corral_election_judgement j;
    corral_election_judge(names, 1, "n_" UUID_A "-0000000001", &j);
    assert_false(j.found);
    assert_false(j.lowest); /* gone: join again, never lead on a stale name */
    corral_election_judge(names, 1, "not-a-node", &j);
    assert_false(j.found);
    assert_int_equal(j.epoch, 0);
}

static void lowest_and_uuid_lookup(void **state)
{
    (void)state;
    char a0[] = "n_" UUID_B "-0000000007", a1[] = "n_" UUID_A "-0000000005",
         a2[] = "n_zz-0000000001x";
    char *names[] = {a0, a1, a2};
    uint64_t epoch = 0;
    assert_int_equal(corral_election_lowest(names, 3, &epoch), 1);
    assert_int_equal(epoch, 6);
    assert_int_equal(corral_election_lowest(names, 0, &epoch), -1);
    assert_int_equal(epoch, 0);
    assert_int_equal(corral_election_find_uuid(names, 3, UUID_A), 1);
    assert_int_equal(corral_election_find_uuid(names, 3, "0123"), -1); /* a prefix is not it */
    assert_int_equal(corral_election_find_uuid(names, 3, ""), -1);
}

static void leader_record_is_current_only_with_epoch_and_fresh_beat(void **state)
{
    (void)state;
    struct corral_replica_info rec = {.id = "r1", .url = "http://x", .epoch = 6, .at_ms = 10000};
    assert_true(corral_leader_is_current(&rec, 6, 10000 + CORRAL_LEADER_STALE_MS));
    assert_false(corral_leader_is_current(&rec, 6, 10001 + CORRAL_LEADER_STALE_MS)); /* stale */
    assert_false(corral_leader_is_current(&rec, 7, 10000)); /* a newer node is lowest */
    assert_false(corral_leader_is_current(&rec, 0, 10000)); /* nobody in the election */
    assert_true(corral_leader_is_current(&rec, 6, 9000));   /* beat ahead of our clock */
    assert_false(corral_leader_is_current(NULL, 6, 10000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_parse_only_what_corral_makes),
        cmocka_unit_test(judge_finds_predecessor_and_ignores_foreign_children),
        cmocka_unit_test(judge_of_a_missing_node_is_not_lowest),
        cmocka_unit_test(lowest_and_uuid_lookup),
        cmocka_unit_test(leader_record_is_current_only_with_epoch_and_fresh_beat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
