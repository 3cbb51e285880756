/* SPDX-License-Identifier: MIT */
/*
 * corral-supervisor: the per-task supervisor (src/worker/supervisor.h), started only by
 * corral-worker. A program of its own so that starting it loads neither the ZooKeeper client
 * nor libcurl: per task, the worker pays for this small program and the task itself. With
 * --zygote it is the supervisors' fork server (zygote.h), started once per worker process.
 */
#include <stdio.h>
#include <string.h>

#include "worker/supervisor.h"
#include "worker/zygote.h"

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "--version") == 0)) {
        if (strcmp(argv[1], "--version") == 0)
            printf("corral %s\n", CORRAL_VERSION);
        else
            printf("usage: corral-supervisor (started by corral-worker with its task on stdin;\n"
                   "       not meant to be run by hand)\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--zygote") == 0)
        return zygote_main(argv[1], "");
    if (argc > 1) {
        fprintf(stderr, "corral-supervisor: unexpected argument '%s' (started by corral-worker)\n",
                argv[1]);
        return 2;
    }
    return supervisor_main();
}
