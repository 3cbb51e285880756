/* SPDX-License-Identifier: MIT */
/* Task dependencies: the verdict for a waiting dependent (corral/deps.h). Pure. */
#include <stdio.h>

#include "corral/deps.h"

enum corral_deps_verdict corral_deps_decide(const struct corral_task *dependent, const int *states,
                                            size_t *culprit, char *why, size_t why_len)
{
    bool pending = false;
    for (size_t i = 0; i < dependent->spec.n_depends_on; i++) {
        int st = states[i];
        bool gone = st < 0;
        if (!gone && !corral_state_is_final((enum corral_state)st)) {
            pending = true;
            continue;
        }
        if (gone || st != CORRAL_STATE_SUCCEEDED) {
            if (dependent->spec.dependency_failure_run)
                continue; /* finished: good enough under "run" */
            *culprit = i;
            if (why && why_len > 0)
                snprintf(why, why_len, "dependency %s %s", dependent->spec.depends_on[i],
                         gone ? "no longer exists" : corral_state_name((enum corral_state)st));
            return CORRAL_DEPS_FAILED;
        }
    }
    return pending ? CORRAL_DEPS_PENDING : CORRAL_DEPS_MET;
}
