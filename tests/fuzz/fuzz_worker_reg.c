/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "worker_reg": the registration workers/<id> as every replica reads it. Input: the
 * znode's name, a newline, its data. Invariants: an accepted registration has a valid id (the
 * worker's own --id rule, so every path built from it fits) and re-encodes to text that
 * decodes to the same registration and the same text.
 */
#include "corral/assignment.h"
#include "corral/limits.h"
#include "corral/paths.h"
#include "corral/worker_reg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *json;
    size_t len;
    char *id = fuzz_split(data, size, &json, &len);
    struct corral_worker_reg w = {0};
    struct corral_error err = {0};
    if (corral_worker_reg_decode(id, (const char *)json, len, &w, &err) == CORRAL_OK) {
        FUZZ_CHECK(corral_path_valid_name(w.id) && strcmp(w.id, id) == 0);
        FUZZ_CHECK(corral_reg_is_valid(w.reg));
        FUZZ_CHECK(w.slots >= 1 && w.weight >= 1);
        char path[CORRAL_PATH_MAX];
        FUZZ_CHECK(corral_path_assign(path, sizeof path, "/corral", w.id,
                                      "019a1b2c3d4e-9f8e7d6c") == CORRAL_OK);
        char *text = corral_worker_reg_encode(&w);
        struct corral_worker_reg back = {0};
        FUZZ_CHECK(corral_worker_reg_decode(id, text, strlen(text), &back, &err) == CORRAL_OK);
        FUZZ_CHECK(back.slots == w.slots && back.cpu_milli == w.cpu_milli &&
                   back.mem_mb == w.mem_mb && back.weight == w.weight &&
                   back.draining == w.draining && back.n_labels == w.n_labels &&
                   strcmp(back.reg, w.reg) == 0);
        char *text2 = corral_worker_reg_encode(&back);
        FUZZ_CHECK(strcmp(text, text2) == 0);
        free(text2);
        free(text);
        corral_worker_reg_cleanup(&back);
    } else {
        FUZZ_CHECK(err.code != CORRAL_OK && w.id == NULL && w.labels == NULL);
    }
    corral_worker_reg_cleanup(&w);
    free(id);
    return 0;
}
