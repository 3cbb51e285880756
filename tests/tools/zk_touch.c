/* SPDX-License-Identifier: MIT */
/*
 * Test tool: create one empty persistent znode, as an operator (or a bug) might, so that tests
 * can check that the leader repairs it (a queue entry without a queued task behind it); with
 * --delete, delete one (to leave what an older version wrote, e.g. a bare-id queue entry).
 * Usage: corral-zk-touch [--delete] HOSTS PATH
 *   (exit 0 created or already there / deleted or already gone, 1 otherwise, 2 usage)
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

static void noop(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)type;
    (void)state;
    (void)path;
    (void)ctx;
}

int main(int argc, char **argv)
{
    bool del = argc == 4 && strcmp(argv[1], "--delete") == 0;
    if (del) {
        argv++;
        argc--;
    }
    if (argc != 3 || argv[2][0] != '/') {
        fprintf(stderr, "usage: corral-zk-touch [--delete] HOSTS /PATH\n");
        return 2;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], noop, 10000, NULL, NULL, 0);
    if (!zh)
        return 1;
    for (int i = 0; i < 100 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int rc = del ? zoo_delete(zh, argv[2], -1)
                 : zoo_create(zh, argv[2], NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    zookeeper_close(zh);
    if (rc != ZOK && rc != (del ? ZNONODE : ZNODEEXISTS)) {
        fprintf(stderr, "corral-zk-touch: %s %s: %s\n", del ? "delete" : "create", argv[2],
                zerror(rc));
        return 1;
    }
    return 0;
}
