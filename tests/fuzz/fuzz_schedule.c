/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "schedule": schedules/<name> as the leader and every replica read it, and the body
 * of POST /v1/schedules. Input: JSON. Invariants: an accepted znode has a valid name, re-encodes
 * to the same text, and its decision at a few instants (UTC) stays within its bounds; an
 * accepted request encodes to a znode that decodes again.
 */
#include "corral/access.h"
#include "corral/id.h"
#include "corral/schedule.h"
#include "fuzz.h"

static void check_decide(const struct corral_schedule *s)
{
    static const int64_t nows[] = {INT64_C(0), INT64_C(1795510372000), INT64_C(253402300799999)};
    struct corral_fire_decision *d = calloc(1, sizeof *d);
    FUZZ_CHECK(d != NULL);
    for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
        struct corral_error err = {0};
        for (int busy = 0; busy < 2; busy++) {
            if (corral_schedule_decide(s, corral_tz_utc(), nows[i], busy, d, &err) != CORRAL_OK)
                continue;
            FUZZ_CHECK(d->n_fire <= CORRAL_MISFIRE_MAX_FIRES);
            FUZZ_CHECK(d->n_skip <= CORRAL_MISFIRE_MAX_FIRES);
            FUZZ_CHECK(d->record_ms >= s->last_fire_ms);
        }
    }
    free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct corral_schedule s;
    struct corral_error err = {0};
    if (corral_schedule_decode((const char *)data, size, &s, &err) == CORRAL_OK) {
        FUZZ_CHECK(corral_schedule_name_is_valid(s.name));
        for (size_t i = 0; i < s.n_fires; i++)
            FUZZ_CHECK(s.fires[i].task[0] == '\0' || corral_id_is_valid(s.fires[i].task));
        char *text = corral_schedule_encode(&s);
        struct corral_schedule back;
        FUZZ_CHECK(corral_schedule_decode(text, strlen(text), &back, &err) == CORRAL_OK);
        char *again = corral_schedule_encode(&back);
        FUZZ_CHECK(strcmp(text, again) == 0);
        json_t *o = corral_schedule_to_json(&back, -1);
        FUZZ_CHECK(o != NULL);
        json_decref(o);
        check_decide(&back);
        free(again);
        free(text);
        corral_schedule_cleanup(&back);
        corral_schedule_cleanup(&s);
    } else {
        FUZZ_CHECK(err.code != CORRAL_OK);
    }
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (body) {
        struct corral_error rerr = {0};
        if (corral_schedule_from_request(body, INT64_C(1795510372000), &s, &rerr) == CORRAL_OK) {
            char *text = corral_schedule_encode(&s);
            struct corral_schedule back;
            FUZZ_CHECK(corral_schedule_decode(text, strlen(text), &back, &err) == CORRAL_OK);
            corral_schedule_cleanup(&back);
            free(text);
            corral_schedule_cleanup(&s);
        } else {
            FUZZ_CHECK(rerr.code == CORRAL_ESPEC && rerr.msg[0] != '\0');
        }
        json_decref(body);
    }
    return 0;
}
