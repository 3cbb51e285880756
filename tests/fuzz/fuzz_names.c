/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "names": the validators every id read from ZooKeeper or a flag goes through
 * (corral_path_valid_name for worker and replica ids, corral_path_valid_namespace,
 * corral_id_is_valid, corral_reg_is_valid) and the path builders fed with them. Invariant: a
 * name the validators accept fits every path built from it, even under the longest namespace
 * (a 480-character worker id once made the leader abort on a path that did not fit).
 */
#include "corral/assignment.h"
#include "corral/id.h"
#include "corral/limits.h"
#include "corral/paths.h"
#include "fuzz.h"

/* The longest valid namespace: 200 bytes. */
static const char *long_ns(void)
{
    static char ns[201];
    if (!ns[0]) {
        memset(ns, 'n', 200);
        ns[0] = '/';
        ns[200] = '\0';
    }
    return ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    const char *ns = long_ns();
    FUZZ_CHECK(corral_path_valid_namespace(ns));
    char path[CORRAL_PATH_MAX];
    if (corral_path_valid_name(s)) {
        FUZZ_CHECK(strlen(s) <= CORRAL_WORKER_ID_MAX && !strchr(s, '/'));
        FUZZ_CHECK(corral_path_worker(path, sizeof path, ns, s) == CORRAL_OK);
        FUZZ_CHECK(corral_path_assign_dir(path, sizeof path, ns, s) == CORRAL_OK);
        FUZZ_CHECK(corral_path_assign(path, sizeof path, ns, s, "019a1b2c3d4e-9f8e7d6c") ==
                   CORRAL_OK);
    }
    if (corral_path_valid_namespace(s)) {
        FUZZ_CHECK(s[0] == '/' && strlen(s) <= 200);
        for (int d = 0; d < CORRAL_DIR_COUNT; d++)
            FUZZ_CHECK(corral_path_dir(path, sizeof path, s, (enum corral_dir)d) == CORRAL_OK);
        FUZZ_CHECK(corral_path_assign(path, sizeof path, s, "w", "019a1b2c3d4e-9f8e7d6c") ==
                   CORRAL_OK);
    }
    if (corral_id_is_valid(s)) {
        FUZZ_CHECK(strlen(s) == CORRAL_ID_LEN && corral_id_time_ms(s) >= 0);
        FUZZ_CHECK(corral_path_task(path, sizeof path, ns, s) == CORRAL_OK);
        FUZZ_CHECK(corral_path_queue_entry(path, sizeof path, ns, s) == CORRAL_OK);
    } else {
        FUZZ_CHECK(corral_id_time_ms(s) == -1);
    }
    if (corral_reg_is_valid(s))
        FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= CORRAL_REG_MAX);
    if (s[0] && strlen(s) <= CORRAL_IDEM_KEY_MAX)
        FUZZ_CHECK(corral_path_idem(path, sizeof path, ns, s) == CORRAL_OK);
    if (s[0] && !strchr(s, '/') && strlen(s) < 300)
        FUZZ_CHECK(corral_path_child(path, sizeof path, ns, s) == CORRAL_OK);
    FUZZ_CHECK(corral_path_bucket(s) < CORRAL_BUCKETS);
    free(s);
    return 0;
}
