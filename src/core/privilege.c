/* SPDX-License-Identifier: MIT */
/* Least privilege for tasks, the pure part (corral/privilege.h). */
#include <string.h>

#include "corral/privilege.h"

#define UID_MAX_VALID 4294967294ull /* (uid_t)-1 means "no change" to setuid and friends */

int corral_run_as_parse(const char *s, bool *numeric, uint32_t *uid, struct corral_error *err)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0)
        return corral_error_set(err, CORRAL_EUSAGE, "--run-as", "must not be empty");
    bool digits = true;
    for (size_t i = 0; i < len; i++)
        digits = digits && s[i] >= '0' && s[i] <= '9';
    if (digits) {
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++) {
            v = v * 10u + (uint64_t)(s[i] - '0');
            if (v > UID_MAX_VALID)
                return corral_error_set(err, CORRAL_EUSAGE, "--run-as",
                                        "uid must be 0..4294967294, got '%.40s'", s);
        }
        *numeric = true;
        *uid = (uint32_t)v;
        return CORRAL_OK;
    }
    bool ok = len <= CORRAL_USER_NAME_MAX && s[0] != '-';
    for (size_t i = 0; ok && i < len; i++) {
        char c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-' || (c == '$' && i == len - 1);
    }
    if (!ok)
        return corral_error_set(err, CORRAL_EUSAGE, "--run-as",
                                "must be a user name (1..32 of [A-Za-z0-9._-], not starting "
                                "with '-') or a numeric uid, got '%.40s'",
                                s);
    *numeric = false;
    *uid = 0;
    return CORRAL_OK;
}

int corral_worker_identity_check(uint32_t euid, bool has_run_as, uint32_t run_as_uid,
                                 bool allow_root, struct corral_error *err)
{
    if (has_run_as && run_as_uid == 0 && !allow_root)
        return corral_error_set(err, CORRAL_EUSAGE, "--run-as",
                                "names root (uid 0); tasks would run as root: give --allow-root "
                                "(CORRAL_ALLOW_ROOT=1) if that is really meant");
    if (has_run_as && euid != 0 && run_as_uid != euid)
        return corral_error_set(err, CORRAL_EUSAGE, "--run-as",
                                "switching tasks to uid %u needs corral-worker to run as root "
                                "(it runs as uid %u)",
                                run_as_uid, euid);
    if (!has_run_as && euid == 0 && !allow_root)
        return corral_error_set(err, CORRAL_EUSAGE, "",
                                "refusing to run tasks as root: give --run-as USER "
                                "(CORRAL_RUN_AS) to run them as an unprivileged user, or "
                                "--allow-root (CORRAL_ALLOW_ROOT=1) to run them as root");
    return CORRAL_OK;
}

bool corral_run_as_needs_switch(uint32_t euid, bool has_run_as, uint32_t run_as_uid)
{
    return has_run_as && run_as_uid != euid;
}

bool corral_user_may_write(uint32_t uid, uint32_t gid, const uint32_t *groups, size_t n_groups,
                           uint32_t owner, uint32_t group, uint32_t mode)
{
    if (owner == uid || (mode & 02u))
        return true;
    if (!(mode & 020u))
        return false;
    if (group == gid)
        return true;
    for (size_t i = 0; i < n_groups; i++)
        if (groups[i] == group)
            return true;
    return false;
}

/* (mem_mb x factor + slack) MiB in bytes, or CORRAL_RLIM_NONE when that does not fit in 63 bits. */
static uint64_t as_bytes(uint64_t mem_mb)
{
    const uint64_t max_mb = (UINT64_MAX >> 21) / CORRAL_TASK_AS_FACTOR; /* room for << 20 */
    if (mem_mb > max_mb - CORRAL_TASK_AS_SLACK_MB)
        return CORRAL_RLIM_NONE;
    return (mem_mb * CORRAL_TASK_AS_FACTOR + CORRAL_TASK_AS_SLACK_MB) << 20;
}

void corral_task_limits_compute(uint64_t mem_mb, bool dedicated_uid, struct corral_task_limits *out)
{
    out->as_bytes = mem_mb > 0 ? as_bytes(mem_mb) : CORRAL_RLIM_NONE;
    out->fsize_bytes = CORRAL_TASK_FSIZE_BYTES;
    out->nproc = dedicated_uid ? CORRAL_TASK_NPROC : CORRAL_RLIM_NONE;
}

uint64_t corral_rlim_lower(uint64_t cur, uint64_t want)
{
    return want < cur ? want : cur;
}
