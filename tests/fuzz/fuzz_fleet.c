/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "fleet": the fleet-control record fleet/<id> as the leader, every replica and the
 * worker read it, and the body of POST /v1/workers/{id}/cordon and /drain. Input: one mode byte
 * ('r' record, 'c' cordon body, 'd' drain body), then the data. Invariants: an accepted record
 * re-encodes to text that decodes to the same record and the same text; an accepted request
 * asks for the state of its endpoint, within the limits; a worker that takes work shows as
 * active, and one that does not never does.
 */
#include "corral/fleet.h"
#include "fuzz.h"

static void check_decisions(const struct corral_fleet_rec *rec)
{
    struct corral_worker_reg g = {.slots = 1, .weight = 1, .fail_streak = 7, .ok_count = 2};
    memcpy(g.reg, "ab", 3);
    for (uint32_t running = 0; running < 2; running++) {
        enum corral_fleet_state shown = corral_fleet_shown(rec, &g, running);
        FUZZ_CHECK(corral_fleet_takes_work(rec, &g) == (shown == CORRAL_FLEET_ACTIVE));
    }
    if (corral_fleet_should_cordon(rec, &g, 1))
        FUZZ_CHECK(corral_fleet_takes_work(rec, &g));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct corral_fleet_rec rec, back;
    struct corral_error err = {0};
    if (data[0] == 'c' || data[0] == 'd') {
        enum corral_fleet_state want =
            data[0] == 'd' ? CORRAL_FLEET_DRAINING : CORRAL_FLEET_CORDONED;
        if (corral_fleet_request_parse(text, len, want, 1, &rec, &err) == CORRAL_OK) {
            FUZZ_CHECK(rec.state == want && rec.at_ms == 1);
            FUZZ_CHECK(strlen(rec.reason) <= CORRAL_FLEET_REASON_MAX);
            FUZZ_CHECK(!rec.has_drain_timeout || (want == CORRAL_FLEET_DRAINING &&
                                                  rec.drain_timeout_s <= CORRAL_FLEET_DRAIN_MAX_S));
            check_decisions(&rec);
        } else {
            FUZZ_CHECK(err.code == CORRAL_EINVAL && rec.reason[0] == '\0');
        }
        return 0;
    }
    if (corral_fleet_decode(text, len, &rec, &err) != CORRAL_OK) {
        FUZZ_CHECK(err.code != CORRAL_OK && rec.state == CORRAL_FLEET_ACTIVE);
        return 0;
    }
    check_decisions(&rec);
    char *enc = corral_fleet_encode(&rec);
    FUZZ_CHECK(corral_fleet_decode(enc, strlen(enc), &back, &err) == CORRAL_OK);
    FUZZ_CHECK(back.state == rec.state && back.automatic == rec.automatic &&
               back.at_ms == rec.at_ms && back.has_drain_timeout == rec.has_drain_timeout &&
               back.drain_timeout_s == rec.drain_timeout_s &&
               strcmp(back.reason, rec.reason) == 0 &&
               strcmp(back.forgive_reg, rec.forgive_reg) == 0 &&
               back.forgive_oks == rec.forgive_oks && back.forgive_streak == rec.forgive_streak);
    char *enc2 = corral_fleet_encode(&back);
    FUZZ_CHECK(strcmp(enc, enc2) == 0);
    free(enc2);
    free(enc);
    return 0;
}
