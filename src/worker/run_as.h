/* SPDX-License-Identifier: MIT */
/*
 * --run-as (CONTRACT "corral-worker"): the user tasks run as, looked up once when the worker
 * starts (passwd and group databases through NSS, which the static supervisor cannot use) and
 * handed to every supervisor as numbers (sup_config.h). The rules on which identities may run
 * tasks are pure (corral/privilege.h).
 */
#ifndef CORRAL_WORKER_RUN_AS_H
#define CORRAL_WORKER_RUN_AS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct run_as {
    bool set;       /* --run-as was given */
    bool do_switch; /* the task process changes uid (a root worker, another user) */
    uid_t uid;      /* valid when set */
    gid_t gid;      /* the user's primary group (a uid without passwd entry: the same number) */
    gid_t *groups;  /* owned; the user's supplementary groups (getgrouplist), n_groups */
    size_t n_groups;
    char *name; /* owned; the user name, or the uid in decimal without passwd entry */
    char *home; /* owned; the passwd home directory, or "/" */
};

/*
 * Resolve value (a user name or a numeric uid, checked by corral_run_as_parse). A name must
 * exist; a number need not (containers run arbitrary uids): it then gets gid = uid, no
 * supplementary group and home "/". Returns 0, or -1 with a one-line reason in msg.
 */
int run_as_resolve(const char *value, struct run_as *out, char *msg, size_t n);

void run_as_cleanup(struct run_as *r);

/* Whether the user r names may write into a directory with this owner, group and mode: owner,
 * a group it belongs to with group write, or others with write. */
bool run_as_may_write(const struct run_as *r, uid_t owner, gid_t group, mode_t mode);

#endif
