/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "spec": the task spec parser and validator (corral_spec_parse) and the batch
 * body {"tasks":[spec, ...]} (corral_spec_from_json per element, as POST /v1/tasks/batch).
 * Invariants: an accepted spec renders (corral_spec_to_json) to text that is accepted again
 * and equal (a spec stored in a task reads back), and a refusal names an error code.
 */
#include <jansson.h>

#include "corral/jsonx.h"
#include "corral/limits.h"
#include "corral/spec.h"
#include "fuzz.h"

static void check_round_trip(const struct corral_spec *s)
{
    json_t *j = corral_spec_to_json(s);
    char *text = json_dumps(j, CORRAL_JSON_DUMP_FLAGS);
    json_decref(j);
    FUZZ_CHECK(text != NULL);
    struct corral_spec again = {0};
    struct corral_error err = {0};
    FUZZ_CHECK(corral_spec_parse(text, strlen(text), &again, &err) == CORRAL_OK);
    FUZZ_CHECK(corral_spec_equal(s, &again));
    struct corral_spec copy = {0};
    corral_spec_copy(&copy, s);
    FUZZ_CHECK(corral_spec_equal(s, &copy));
    corral_spec_cleanup(&copy);
    corral_spec_cleanup(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct corral_spec s = {0};
    struct corral_error err = {0};
    if (corral_spec_parse((const char *)data, size, &s, &err) == CORRAL_OK)
        check_round_trip(&s);
    else
        FUZZ_CHECK(err.code != CORRAL_OK);
    corral_spec_cleanup(&s);

    /* The batch form. */
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    json_t *arr = json_is_object(doc) ? json_object_get(doc, "tasks") : NULL;
    for (size_t i = 0; json_is_array(arr) && i < json_array_size(arr) && i < CORRAL_BATCH_MAX;
         i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "tasks[%zu].", i);
        struct corral_spec b = {0};
        struct corral_error berr = {0};
        if (corral_spec_from_json(json_array_get(arr, i), prefix, &b, &berr) == CORRAL_OK)
            check_round_trip(&b);
        else
            FUZZ_CHECK(berr.code != CORRAL_OK && strncmp(berr.field, "tasks[", 6) == 0);
        corral_spec_cleanup(&b);
    }
    json_decref(doc);
    return 0;
}
