/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "queue_entry": names listed under queue/<bb>/ (corral_queue_key_decode,
 * corral_queue_entry_parse) and the idempotency record's data (corral_idem_decode; the whole
 * input). Invariants: an accepted name carries a valid id, builds its path, and (unless it is
 * the bare-id form) its keys format to a name that decodes to the same keys; both decoders
 * agree on the id.
 */
#include "corral/id.h"
#include "corral/limits.h"
#include "corral/queue_entry.h"
#include "fuzz.h"

static bool same_keys(const struct corral_queue_key *a, const struct corral_queue_key *b)
{
    return strcmp(a->id, b->id) == 0 && a->legacy == b->legacy && a->priority == b->priority &&
           a->submitted_at_ms == b->submitted_at_ms && a->has_estimated == b->has_estimated &&
           (!a->has_estimated || a->estimated_ms == b->estimated_ms) &&
           a->cpu_milli == b->cpu_milli && a->mem_mb == b->mem_mb &&
           a->not_before_ms == b->not_before_ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = fuzz_str(data, size);
    struct corral_queue_key k;
    memset(&k, 0, sizeof k);
    char id[CORRAL_ID_LEN + 1];
    bool parsed = corral_queue_entry_parse(name, id);
    if (corral_queue_key_decode(name, &k)) {
        FUZZ_CHECK(corral_id_is_valid(k.id));
        FUZZ_CHECK(parsed && strcmp(id, k.id) == 0);
        char path[CORRAL_PATH_MAX], listed[CORRAL_QUEUE_NAME_MAX + 1];
        FUZZ_CHECK(corral_queue_entry_path_of_name(path, sizeof path, "/corral", name) ==
                   CORRAL_OK);
        corral_queue_key_name(&k, listed);
        FUZZ_CHECK(strcmp(listed, name) == 0);
        if (!k.legacy) {
            char canon[CORRAL_QUEUE_NAME_MAX + 1];
            struct corral_queue_key back;
            memset(&back, 0, sizeof back);
            corral_queue_key_format(&k, canon);
            FUZZ_CHECK(corral_queue_key_decode(canon, &back) && same_keys(&k, &back));
        }
    } else if (parsed) {
        FUZZ_CHECK(corral_id_is_valid(id));
    }
    struct corral_error err = {0};
    if (corral_idem_decode((const char *)data, size, id, &err) == CORRAL_OK)
        FUZZ_CHECK(corral_id_is_valid(id));
    free(name);
    return 0;
}
