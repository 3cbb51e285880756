/* SPDX-License-Identifier: MIT */
/*
 * Test tool: create one empty persistent znode, as an operator (or a bug) might, so that tests
 * can check that the leader repairs it (a queue entry without a queued task behind it).
 * Usage: corral-zk-touch HOSTS PATH   (exit 0 created or already there, 1 otherwise, 2 usage)
 */
#include <stdio.h>
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
    if (argc != 3 || argv[2][0] != '/') {
        fprintf(stderr, "usage: corral-zk-touch HOSTS /PATH\n");
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
    int rc = zoo_create(zh, argv[2], NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    zookeeper_close(zh);
    if (rc != ZOK && rc != ZNODEEXISTS) {
        fprintf(stderr, "corral-zk-touch: create %s: %s\n", argv[2], zerror(rc));
        return 1;
    }
    return 0;
}
