/* SPDX-License-Identifier: MIT */
/*
 * The configuration the worker hands a supervisor on stdin (supervisor.h, "fd 0"), read by the
 * supervisor and by an HTTP task (`corral-worker --http-task`), which gets the same object.
 */
#ifndef CORRAL_WORKER_SUP_CONFIG_H
#define CORRAL_WORKER_SUP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "corral/limits.h"
#include "corral/spec.h"
#include "io/log.h"

/* --run-as as the worker resolved it (run_as.h); set is false without --run-as. */
struct sup_run_as {
    bool set;
    bool do_switch; /* change uid in the task process */
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* owned; n_groups */
    size_t n_groups;
    char *user; /* owned */
    char *home; /* owned */
};

struct sup_config {
    char task_id[CORRAL_ID_LEN + 1];
    uint32_t attempt;
    uint64_t epoch;
    struct corral_spec spec;
    pid_t parent;
    enum corral_log_level level;
    bool log_json;                             /* --log-format json */
    char log_worker[CORRAL_WORKER_ID_MAX + 1]; /* the worker's id, for JSON lines */
    char *worker_exe;                          /* owned; NULL when not given */
    struct sup_run_as run_as;
    char *text; /* owned: the object as read, to hand on */
    size_t len;
};

/* Read and check the object from fd (to EOF, at most 256 KiB); 0 or -1. */
int sup_config_read(int fd, struct sup_config *c);
void sup_config_cleanup(struct sup_config *c);

#endif
