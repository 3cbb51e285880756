/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "election": the children of election/ (corral_election_parse_name, judge, lowest,
 * find_uuid) and the data of an election node or the leader record
 * (corral_replica_info_decode). Input: up to 64 child names, one a line; the whole input is
 * also decoded as a record. Invariants: a parsed sequence has 10 digits' range; the judgement
 * is consistent (a predecessor is a valid, lower name; the lowest has none); a decoded record
 * re-encodes to the same record.
 */
#include "corral/election.h"
#include "fuzz.h"

#define MAX_NAMES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *names[MAX_NAMES];
    size_t n = 0;
    const uint8_t *p = data;
    size_t left = size;
    while (n < MAX_NAMES && (left > 0 || n == 0)) {
        const uint8_t *rest;
        size_t rest_len;
        names[n++] = fuzz_split(p, left, &rest, &rest_len);
        if (rest_len == 0 && rest == p + left)
            break;
        p = rest;
        left = rest_len;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = 0;
        if (corral_election_parse_name(names[i], &seq))
            FUZZ_CHECK(seq <= UINT64_C(9999999999));
    }
    struct corral_election_judgement j;
    corral_election_judge(names, n, names[0], &j);
    uint64_t own = 0;
    if (!corral_election_parse_name(names[0], &own)) {
        FUZZ_CHECK(!j.found && !j.lowest && j.predecessor == -1 && j.epoch == 0);
    } else {
        FUZZ_CHECK(j.found && j.epoch == corral_election_epoch(own));
        FUZZ_CHECK(!j.lowest || j.predecessor == -1);
        if (j.predecessor >= 0) {
            uint64_t ps = 0;
            FUZZ_CHECK((size_t)j.predecessor < n &&
                       corral_election_parse_name(names[j.predecessor], &ps) && ps < own);
        }
    }
    uint64_t epoch = 0;
    long lo = corral_election_lowest(names, n, &epoch);
    FUZZ_CHECK(lo < (long)n && (lo < 0) == (epoch == 0));
    if (j.lowest)
        FUZZ_CHECK(lo >= 0 && epoch <= j.epoch);
    long u = corral_election_find_uuid(names, n, "0123456789abcdef0123456789abcdef");
    FUZZ_CHECK(u < (long)n);
    for (size_t i = 0; i < n; i++)
        free(names[i]);

    struct corral_replica_info info, back;
    struct corral_error err = {0};
    if (corral_replica_info_decode((const char *)data, size, &info, &err) == CORRAL_OK) {
        char *text = corral_replica_info_encode(&info);
        FUZZ_CHECK(corral_replica_info_decode(text, strlen(text), &back, &err) == CORRAL_OK);
        FUZZ_CHECK(strcmp(back.id, info.id) == 0 && strcmp(back.url, info.url) == 0);
        FUZZ_CHECK(!info.epoch || (back.epoch == info.epoch && back.at_ms == info.at_ms));
        (void)corral_leader_is_current(&info, info.epoch, info.at_ms);
        free(text);
    }
    return 0;
}
