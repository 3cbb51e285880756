/* SPDX-License-Identifier: MIT */
/*
 * The assignment znode assign/<worker>/<task> (docs/znodes.md): written by the leader when it
 * assigns, flagged with "cancel" or "follow_until_ms" by any replica, read by the worker it names
 * and by the leader (for its reg). This file is the format's only encoder and decoder. Decoding is
 * strict about the fields it knows (type, range, length) and ignores fields it does not know, so
 * that a newer writer can add one during a rolling upgrade.
 */
#ifndef CORRAL_ASSIGNMENT_H
#define CORRAL_ASSIGNMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/limits.h"

#define CORRAL_REG_MAX        32u   /* a worker registration id: 1..32 of [0-9a-f] */
#define CORRAL_ZNODE_JSON_MAX 4096u /* assignment, worker, election, leader znodes */

struct corral_assignment {
    char task[CORRAL_ID_LEN + 1];
    char reg[CORRAL_REG_MAX + 1]; /* the worker incarnation it was made for */
    uint32_t attempt;             /* >= 1 */
    uint64_t epoch;               /* of the leader that made it */
    bool cancel;                  /* the user cancelled: the worker stops the task */
    /* Someone follows the task's output (corral/output.h): until this wall-clock time the
     * worker publishes it in output/<task>. 0: nobody does. */
    int64_t follow_until_ms;
};

/* Compact JSON text; caller frees. Never NULL. */
char *corral_assignment_encode(const struct corral_assignment *a);
/* Decode; CORRAL_EINVAL with the field named on any malformed input (out then zeroed). */
CORRAL_NODISCARD int corral_assignment_decode(const char *buf, size_t len,
                                              struct corral_assignment *out,
                                              struct corral_error *err);
/* True when s is a registration id (1..CORRAL_REG_MAX lowercase hex digits). */
bool corral_reg_is_valid(const char *s);

#endif
