/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "assignment": assign/<worker>/<name> as the leader and the worker read it. Input:
 * the znode's name, a newline, its data. Invariants: an accepted assignment names a valid task
 * id and registration, attempt >= 1, and re-encodes to the same assignment; a name that is a
 * task id builds the assignment's path.
 */
#include "corral/assignment.h"
#include "corral/id.h"
#include "corral/limits.h"
#include "corral/paths.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *json;
    size_t len;
    char *name = fuzz_split(data, size, &json, &len);
    char path[CORRAL_PATH_MAX];
    if (corral_id_is_valid(name))
        FUZZ_CHECK(corral_path_assign(path, sizeof path, "/corral", "w1", name) == CORRAL_OK);
    struct corral_assignment a;
    struct corral_error err = {0};
    if (corral_assignment_decode((const char *)json, len, &a, &err) == CORRAL_OK) {
        FUZZ_CHECK(corral_id_is_valid(a.task) && corral_reg_is_valid(a.reg) && a.attempt >= 1);
        char *text = corral_assignment_encode(&a);
        struct corral_assignment back;
        FUZZ_CHECK(corral_assignment_decode(text, strlen(text), &back, &err) == CORRAL_OK);
        FUZZ_CHECK(strcmp(back.task, a.task) == 0 && strcmp(back.reg, a.reg) == 0 &&
                   back.attempt == a.attempt && back.epoch == a.epoch && back.cancel == a.cancel);
        free(text);
    } else {
        FUZZ_CHECK(err.code != CORRAL_OK);
    }
    free(name);
    return 0;
}
