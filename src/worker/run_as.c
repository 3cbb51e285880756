/* SPDX-License-Identifier: MIT */
/* --run-as: the user tasks run as, resolved once at start (run_as.h). */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corral/privilege.h"
#include "corral/xalloc.h"
#include "worker/run_as.h"

#define GROUPS_MAX 65536 /* the kernel's NGROUPS_MAX */

/* The user's supplementary groups (its primary group included, as getgrouplist gives it). */
static int user_groups(const char *name, gid_t gid, struct run_as *out, char *msg, size_t n)
{
    int count = 32;
    for (;;) {
        gid_t *g = corral_xcalloc((size_t)count, sizeof *g);
        int got = count;
        if (getgrouplist(name, gid, g, &got) >= 0) {
            out->groups = g;
            out->n_groups = (size_t)got;
            return 0;
        }
        free(g);
        if (got <= count || got > GROUPS_MAX) {
            snprintf(msg, n, "cannot list the groups of user '%.40s'", name);
            return -1;
        }
        count = got;
    }
}

int run_as_resolve(const char *value, struct run_as *out, char *msg, size_t n)
{
    memset(out, 0, sizeof *out);
    bool numeric = false;
    uint32_t uid = 0;
    struct corral_error err = {0};
    if (corral_run_as_parse(value, &numeric, &uid, &err) != CORRAL_OK) {
        snprintf(msg, n, "%s", err.msg);
        return -1;
    }
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t bufsize = size > 0 ? (size_t)size : 16384;
    char *buf = NULL;
    struct passwd pw, *res = NULL;
    int e;
    for (;;) {
        buf = corral_xrealloc(buf, bufsize);
        e = numeric ? getpwuid_r((uid_t)uid, &pw, buf, bufsize, &res)
                    : getpwnam_r(value, &pw, buf, bufsize, &res);
        if (e != ERANGE || bufsize >= (1u << 20))
            break;
        bufsize *= 2;
    }
    int rc = -1;
    if (!res && (e != 0 || !numeric)) {
        if (e != 0)
            snprintf(msg, n, "cannot look up user '%.40s': %s", value, strerror(e));
        else
            snprintf(msg, n, "unknown user '%.40s'", value);
        goto out;
    }
    out->set = true;
    if (res) {
        out->uid = pw.pw_uid;
        out->gid = pw.pw_gid;
        out->name = corral_xstrdup(pw.pw_name);
        out->home = corral_xstrdup(pw.pw_dir && pw.pw_dir[0] == '/' ? pw.pw_dir : "/");
        if (user_groups(pw.pw_name, pw.pw_gid, out, msg, n) < 0)
            goto out;
    } else {
        /* A uid without passwd entry: its own number as group, nothing else. */
        out->uid = (uid_t)uid;
        out->gid = (gid_t)uid;
        char num[16];
        snprintf(num, sizeof num, "%u", uid);
        out->name = corral_xstrdup(num);
        out->home = corral_xstrdup("/");
    }
    out->do_switch = corral_run_as_needs_switch((uint32_t)geteuid(), true, (uint32_t)out->uid);
    rc = 0;
out:
    free(buf);
    if (rc)
        run_as_cleanup(out);
    return rc;
}

void run_as_cleanup(struct run_as *r)
{
    free(r->groups);
    free(r->name);
    free(r->home);
    memset(r, 0, sizeof *r);
}

bool run_as_may_write(const struct run_as *r, uid_t owner, gid_t group, mode_t mode)
{
    static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits on Linux");
    return corral_user_may_write((uint32_t)r->uid, (uint32_t)r->gid, (const uint32_t *)r->groups,
                                 r->n_groups, (uint32_t)owner, (uint32_t)group,
                                 (uint32_t)(mode & 07777u));
}
