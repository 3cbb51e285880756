/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "acl": what a worker reads back from ZooKeeper to build its ACLs, the data of
 * workers/ (the replicas' digest ids), and what the rules make of any path. Input: one mode
 * byte ('d' the workers/ data, 'p' a path under the namespace "/ns", 'u' a user:pass), then
 * the data. Invariants: accepted data holds 1..4 well-formed ids and re-encodes to data that
 * decodes to the same ids; a rule never gives the workers' identity admin, never names a worker
 * that is no valid worker id, and gives nothing outside the namespace; a digest id is
 * "user:" + 28 base64 characters.
 */
#include "corral/acl.h"
#include "corral/paths.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] == 'd') {
        char ids[CORRAL_ACL_REPLICAS_MAX][CORRAL_DIGEST_ID_MAX + 1];
        size_t n = 0;
        struct corral_error err = {0};
        if (corral_acl_replicas_decode(text, len, ids, CORRAL_ACL_REPLICAS_MAX, &n, &err) !=
            CORRAL_OK) {
            FUZZ_CHECK(n == 0 && err.code == CORRAL_EINVAL);
            return 0;
        }
        FUZZ_CHECK(n >= 1 && n <= CORRAL_ACL_REPLICAS_MAX);
        const char *ptrs[CORRAL_ACL_REPLICAS_MAX];
        for (size_t i = 0; i < n; i++) {
            const char *colon = strchr(ids[i], ':');
            FUZZ_CHECK(colon && colon > ids[i] && strlen(colon + 1) == 28);
            ptrs[i] = ids[i];
        }
        char *again = corral_acl_replicas_encode(ptrs, n);
        char back[CORRAL_ACL_REPLICAS_MAX][CORRAL_DIGEST_ID_MAX + 1];
        size_t m = 0;
        FUZZ_CHECK(corral_acl_replicas_decode(again, strlen(again), back, CORRAL_ACL_REPLICAS_MAX,
                                              &m, &err) == CORRAL_OK);
        FUZZ_CHECK(m == n);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(strcmp(back[i], ids[i]) == 0);
        free(again);
    } else if (data[0] == 'p') {
        char *path = fuzz_str(data + 1, len);
        struct corral_acl_rule r;
        corral_acl_rule_of("/ns", path, &r);
        FUZZ_CHECK((r.workers & CORRAL_PERM_ADMIN) == 0);
        FUZZ_CHECK((r.owner & CORRAL_PERM_ADMIN) == 0);
        FUZZ_CHECK((r.assignee & CORRAL_PERM_ADMIN) == 0);
        FUZZ_CHECK(r.owner == 0 || corral_path_valid_name(r.owner_id));
        FUZZ_CHECK(r.owner != 0 || r.owner_id[0] == '\0');
        if (strncmp(path, "/ns/", 4) != 0)
            FUZZ_CHECK((r.workers | r.owner | r.creator | r.assignee) == 0);
        free(path);
    } else if (data[0] == 'u') {
        char *up = fuzz_str(data + 1, len);
        char id[CORRAL_DIGEST_ID_MAX + 1];
        if (corral_digest_id(up, id, sizeof id)) {
            const char *colon = strchr(id, ':');
            FUZZ_CHECK(colon && strlen(colon + 1) == 28 && colon[28] == '=');
            FUZZ_CHECK(strncmp(id, up, (size_t)(colon - id) + 1) == 0);
        } else {
            FUZZ_CHECK(id[0] == '\0');
        }
        free(up);
    }
    return 0;
}
