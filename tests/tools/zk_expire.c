/* SPDX-License-Identifier: MIT */
/*
 * Test tool: expire another process's ZooKeeper session deterministically, without root.
 * Reads "<session id hex> <password hex>" (written by a CORRAL_TEST_HOOKS build to
 * CORRAL_TEST_SESSION_FILE), opens a second handle on that session and closes it, which ends
 * the session for its owner too (NOTES.md: ~130 ms).
 * Usage: corral-zk-expire HOSTS SESSION_FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    if (argc != 3) {
        fprintf(stderr, "usage: corral-zk-expire HOSTS SESSION_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        fprintf(stderr, "corral-zk-expire: cannot open %s\n", argv[2]);
        return 2;
    }
    unsigned long long sid = 0;
    char hex[64] = "";
    int got = fscanf(f, "%llx %63s", &sid, hex);
    fclose(f);
    clientid_t cid;
    memset(&cid, 0, sizeof cid);
    if (got != 2 || strlen(hex) != 2 * sizeof cid.passwd) {
        fprintf(stderr, "corral-zk-expire: malformed session file %s\n", argv[2]);
        return 2;
    }
    cid.client_id = (int64_t)sid;
    for (size_t i = 0; i < sizeof cid.passwd; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 2;
        cid.passwd[i] = (char)v;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], noop, 10000, &cid, NULL, 0);
    if (!zh)
        return 1;
    /* Wait (bounded) until the server accepted us on that session, then close it. */
    for (int i = 0; i < 100 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int connected = zoo_state(zh) == ZOO_CONNECTED_STATE;
    zookeeper_close(zh);
    if (!connected) {
        fprintf(stderr, "corral-zk-expire: could not attach to session 0x%llx\n", sid);
        return 1;
    }
    printf("expired session 0x%llx\n", sid);
    return 0;
}
