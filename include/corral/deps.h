/* SPDX-License-Identifier: MIT */
/*
 * Task dependencies (docs/workflows.md "Task dependencies"): whether a waiting dependent may run,
 * must be cancelled, or waits on. Pure.
 */
#ifndef CORRAL_DEPS_H
#define CORRAL_DEPS_H

#include <stddef.h>

#include "corral/task.h"

enum corral_deps_verdict {
    CORRAL_DEPS_PENDING, /* a dependency has not finished */
    CORRAL_DEPS_MET,     /* every dependency succeeded (or, with "run", finished) */
    CORRAL_DEPS_FAILED,  /* one failed, was cancelled or is gone, and the policy is "cancel" */
};

/*
 * The verdict for dependent from the states of its dependencies: states[i] is the state of
 * dependent->spec.depends_on[i], or -1 when that task no longer exists (retention removed it:
 * its outcome is unknown, so it counts as a failure). On FAILED, *culprit is the index of the
 * first failed one and why gets the sentence for the dependent's error ("dependency X failed").
 * Under "cancel" one failure decides at once (the others need not finish); under "run" the
 * dependent waits until every dependency is final and then runs.
 */
enum corral_deps_verdict corral_deps_decide(const struct corral_task *dependent, const int *states,
                                            size_t *culprit, char *why, size_t why_len);

#endif
