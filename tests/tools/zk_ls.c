/* SPDX-License-Identifier: MIT */
/*
 * Test tool: list a ZooKeeper subtree, read-only, one znode per line (depth first, sorted):
 *   <path> <ephemeralOwner hex, 0 for persistent> <data length>
 * The root itself is not printed. Used by tests/integration/check_invariants.sh (I7: no
 * leftover znodes). Exit 0 on success (also when PATH does not exist: nothing printed),
 * 1 when ZooKeeper cannot be reached or a read fails for another reason, 2 on bad usage.
 * Usage: corral-zk-ls HOSTS PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

enum { MAX_DEPTH = 8, MAX_NODES = 200000 };

static long n_printed;

static void noop(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)type;
    (void)state;
    (void)path;
    (void)ctx;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print the children of path (not path itself), recursively. 0 ok, -1 on a read error. */
static int walk(zhandle_t *zh, const char *path, int depth)
{
    if (depth > MAX_DEPTH || n_printed > MAX_NODES)
        return 0;
    struct String_vector kids = {0, NULL};
    int rc = zoo_get_children(zh, path, 0, &kids);
    if (rc == ZNONODE)
        return 0;
    if (rc != ZOK) {
        fprintf(stderr, "corral-zk-ls: getChildren %s: %s\n", path, zerror(rc));
        return -1;
    }
    if (kids.count > 1)
        qsort(kids.data, (size_t)kids.count, sizeof *kids.data, cmp_str);
    int out = 0;
    for (int i = 0; i < kids.count && out == 0; i++) {
        char child[4096];
        int n = snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") == 0 ? "" : path,
                         kids.data[i]);
        if (n < 0 || (size_t)n >= sizeof child)
            continue;
        struct Stat st;
        memset(&st, 0, sizeof st);
        rc = zoo_exists(zh, child, 0, &st);
        if (rc == ZNONODE)
            continue; /* deleted meanwhile */
        if (rc != ZOK) {
            fprintf(stderr, "corral-zk-ls: exists %s: %s\n", child, zerror(rc));
            out = -1;
            break;
        }
        printf("%s %llx %d\n", child, (unsigned long long)st.ephemeralOwner, st.dataLength);
        n_printed++;
        if (st.numChildren > 0)
            out = walk(zh, child, depth + 1);
    }
    deallocate_String_vector(&kids);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] != '/') {
        fprintf(stderr, "usage: corral-zk-ls HOSTS PATH\n");
        return 2;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], noop, 10000, NULL, NULL, 0);
    if (!zh)
        return 1;
    for (int i = 0; i < 200 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
        fprintf(stderr, "corral-zk-ls: cannot connect to %s\n", argv[1]);
        zookeeper_close(zh);
        return 1;
    }
    int rc = walk(zh, argv[2], 0);
    zookeeper_close(zh);
    return rc == 0 ? 0 : 1;
}
