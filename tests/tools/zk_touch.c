/* SPDX-License-Identifier: MIT */
/*
 * Test tool: create one persistent znode, as an operator (or a bug, or an attacker with write
 * access) might, so that tests can check that corral repairs or ignores it: a queue entry
 * without a queued task behind it, a persistent child squatting election/ or workers/<id>, a
 * registration or assignment with garbage data. With --delete, delete one (to leave what an
 * older version wrote, e.g. a bare-id queue entry).
 * Usage: corral-zk-touch [--data STRING] [--set] [--hold SECONDS] [--parent] HOSTS /PATH
 *        corral-zk-touch --delete HOSTS /PATH
 *   --data STRING   the new znode's data (default: empty)
 *   --parent        create PATH's parent (empty) together with it, in one multi, so that
 *                   nobody sees the parent without its child (when the parent exists already,
 *                   PATH alone is created)
 *   --set           when the znode exists already, overwrite its data with STRING
 *   --hold SECONDS  create it ephemeral instead, print "created" once it exists, and keep the
 *                   session (so the node) for SECONDS or until killed (a rogue client)
 *   (exit 0 created or already there / deleted or already gone, 1 otherwise, 2 usage)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

static int usage(void)
{
    fprintf(stderr, "usage: corral-zk-touch [--data STRING] [--set] [--hold SECONDS] [--parent] "
                    "HOSTS /PATH\n"
                    "       corral-zk-touch --delete HOSTS /PATH\n");
    return 2;
}

int main(int argc, char **argv)
{
    bool del = false, set = false, parent = false;
    const char *data = NULL;
    long hold_s = -1;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--delete") == 0)
            del = true;
        else if (strcmp(argv[i], "--set") == 0)
            set = true;
        else if (strcmp(argv[i], "--parent") == 0)
            parent = true;
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
            hold_s = strtol(argv[++i], NULL, 10);
        else
            return usage();
    }
    if (argc - i != 2 || argv[i + 1][0] != '/' || (del && (data || set || hold_s >= 0 || parent)) ||
        (hold_s >= 0 && (set || parent)))
        return usage();
    const char *hosts = argv[i], *path = argv[i + 1];
    int len = data ? (int)strlen(data) : -1;
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(hosts, noop, 10000, NULL, NULL, 0);
    if (!zh)
        return 1;
    for (int k = 0; k < 100 && zoo_state(zh) != ZOO_CONNECTED_STATE; k++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int rc = ZNODEEXISTS;
    char up[1024];
    const char *slash = strrchr(path, '/');
    if (parent && slash > path && (size_t)(slash - path) < sizeof up) {
        memcpy(up, path, (size_t)(slash - path));
        up[slash - path] = '\0';
        zoo_op_t ops[2];
        zoo_op_result_t res[2];
        zoo_create_op_init(&ops[0], up, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        zoo_create_op_init(&ops[1], path, data, len, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        rc = zoo_multi(zh, 2, ops, res);
    }
    if (rc == ZNODEEXISTS) /* without --parent, or the parent is there already */
        rc = del ? zoo_delete(zh, path, -1)
                 : zoo_create(zh, path, data, len, &ZOO_OPEN_ACL_UNSAFE,
                              hold_s >= 0 ? ZOO_EPHEMERAL : 0, NULL, 0);
    if (!del && rc == ZNODEEXISTS && set)
        rc = zoo_set(zh, path, data, len, -1);
    if (hold_s >= 0 && rc == ZOK) {
        printf("created\n");
        fflush(stdout);
        for (long k = 0; k < hold_s * 10; k++) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    zookeeper_close(zh);
    if (rc != ZOK && rc != (del ? ZNONODE : ZNODEEXISTS)) {
        fprintf(stderr, "corral-zk-touch: %s %s: %s\n", del ? "delete" : "create", path,
                zerror(rc));
        return 1;
    }
    return 0;
}
