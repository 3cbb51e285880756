/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "done_entry": names listed in the done index done/<hour>/<minute>/<slot>/<name>
 * (corral_done_entry_parse and the folder parsers). Input: one byte choosing the parent hour and
 * minute, then the name. Invariants: an accepted entry has a valid id, a final state and a time
 * in range, its name is canonical (rebuilt, it is the same string: retention deletes by the
 * rebuilt path) and its path fits; an accepted folder name gives a number whose path fits (the
 * leader aborts otherwise: "parsed from a listing: in range").
 */
#include "corral/done_entry.h"
#include "corral/id.h"
#include "corral/limits.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int64_t hour = data[0] & 1u ? 493000 : (int64_t)data[0] * 1000;
    int64_t minute = hour * CORRAL_DONE_MINUTES_PER_HOUR + data[0] % 60u;
    char *name = fuzz_str(data + 1, size - 1);
    char path[CORRAL_PATH_MAX];
    struct corral_done_entry e;
    if (corral_done_entry_parse(name, &e)) {
        FUZZ_CHECK(corral_id_is_valid(e.id) && corral_state_is_final(e.state));
        FUZZ_CHECK(e.finished_ms >= 0 && e.finished_ms <= CORRAL_DONE_MS_MAX);
        char again[CORRAL_DONE_NAME_LEN + 1];
        corral_done_entry_name(&e, again);
        FUZZ_CHECK(strcmp(again, name) == 0);
        FUZZ_CHECK(corral_done_entry_path(path, sizeof path, "/corral", &e) == CORRAL_OK);
        FUZZ_CHECK(corral_done_entry_cmp(&e, e.finished_ms, e.id) == 0);
    }
    int64_t v;
    if (corral_done_hour_parse(name, &v))
        FUZZ_CHECK(v >= 0 && corral_done_hour_path(path, sizeof path, "/corral", v) == CORRAL_OK);
    if (corral_done_minute_parse(name, hour, &v))
        FUZZ_CHECK(corral_done_hour_of(v * CORRAL_DONE_MINUTE_MS) == hour &&
                   corral_done_minute_path(path, sizeof path, "/corral", v) == CORRAL_OK);
    if (corral_done_slot_parse(name, minute, &v))
        FUZZ_CHECK(corral_done_minute_of(v * CORRAL_DONE_SLOT_MS) == minute &&
                   corral_done_slot_path(path, sizeof path, "/corral", v) == CORRAL_OK);
    free(name);
    return 0;
}
