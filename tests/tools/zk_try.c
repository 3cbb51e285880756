/* SPDX-License-Identifier: MIT */
/*
 * Test tool: one ZooKeeper request as a given identity, to show what that identity may do (the
 * ACL tests of tests/integration/t_worker_identities.sh play a stolen worker credential with it).
 * Prints the outcome as one word on the first line: ok, noauth, nonode, nodeexists, notempty,
 * or ZooKeeper's message; then, for ls the children and for get the data, one per line.
 * Usage: corral-zk-try [--auth USER:PASS]... [--creator-only] [--hold SECONDS] HOSTS OP PATH [DATA]
 *   OP: ls | get | getacl | stat | create | set | delete
 *   stat prints "<cversion> <numChildren> <version>" after the outcome
 *   --auth USER:PASS  digest identity of the session (repeatable; none: anonymous)
 *   --creator-only    create with the ACL auth::cdrwa (the identities of this session only;
 *                     default: open to everyone), as a hostile client shutting others out would
 *   --hold SECONDS    create makes an ephemeral node and keeps the session SECONDS (or until
 *                     killed) after printing the outcome
 * Exit 0 when ZooKeeper answered (whatever it said), 1 when it could not be reached, 2 usage.
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
    fprintf(stderr, "usage: corral-zk-try [--auth USER:PASS]... [--creator-only] [--hold SECONDS] "
                    "HOSTS ls|get|getacl|stat|create|set|delete PATH [DATA]\n");
    return 2;
}

static const char *word(int rc)
{
    switch (rc) {
        case ZOK:
            return "ok";
        case ZNOAUTH:
            return "noauth";
        case ZNONODE:
            return "nonode";
        case ZNODEEXISTS:
            return "nodeexists";
        case ZNOTEMPTY:
            return "notempty";
        default:
            return zerror(rc);
    }
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    const char *auths[8];
    int n_auth = 0;
    long hold_s = -1;
    bool creator_only = false;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--auth") == 0 && i + 1 < argc && n_auth < 8)
            auths[n_auth++] = argv[++i];
        else if (strcmp(argv[i], "--creator-only") == 0)
            creator_only = true;
        else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
            hold_s = strtol(argv[++i], NULL, 10);
        else
            return usage();
    }
    if (argc - i < 3 || argc - i > 4 || argv[i + 2][0] != '/')
        return usage();
    const char *hosts = argv[i], *op = argv[i + 1], *path = argv[i + 2];
    const char *data = argc - i == 4 ? argv[i + 3] : NULL;
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(hosts, noop, 10000, NULL, NULL, 0);
    if (!zh)
        return 1;
    for (int k = 0; k < 200 && zoo_state(zh) != ZOO_CONNECTED_STATE; k++)
        pause_ms(50);
    if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
        zookeeper_close(zh);
        fprintf(stderr, "corral-zk-try: cannot connect to %s\n", hosts);
        return 1;
    }
    /* A session's requests are served in order: the identities count for what follows. */
    for (int k = 0; k < n_auth; k++)
        if (zoo_add_auth(zh, "digest", auths[k], (int)strlen(auths[k]), NULL, NULL) != ZOK) {
            zookeeper_close(zh);
            return 1;
        }
    int rc;
    int len = data ? (int)strlen(data) : -1;
    if (strcmp(op, "ls") == 0) {
        struct String_vector kids = {0, NULL};
        rc = zoo_get_children(zh, path, 0, &kids);
        printf("%s\n", word(rc));
        for (int k = 0; rc == ZOK && k < kids.count; k++)
            printf("%s\n", kids.data[k]);
        deallocate_String_vector(&kids);
    } else if (strcmp(op, "get") == 0) {
        static char buf[1 << 20];
        int blen = (int)sizeof buf - 1;
        rc = zoo_get(zh, path, 0, buf, &blen, NULL);
        printf("%s\n", word(rc));
        if (rc == ZOK && blen > 0)
            printf("%.*s\n", blen, buf);
    } else if (strcmp(op, "getacl") == 0) {
        struct ACL_vector acl = {0, NULL};
        struct Stat st;
        rc = zoo_get_acl(zh, path, &acl, &st);
        printf("%s\n", word(rc));
        for (int k = 0; rc == ZOK && k < acl.count; k++)
            printf("%s:%s %d\n", acl.data[k].id.scheme, acl.data[k].id.id, acl.data[k].perms);
        deallocate_ACL_vector(&acl);
    } else if (strcmp(op, "stat") == 0) {
        struct Stat st;
        rc = zoo_exists(zh, path, 0, &st);
        printf("%s\n", word(rc));
        if (rc == ZOK)
            printf("%d %d %d\n", st.cversion, st.numChildren, st.version);
    } else if (strcmp(op, "create") == 0) {
        rc = zoo_create(zh, path, data, len,
                        creator_only ? &ZOO_CREATOR_ALL_ACL : &ZOO_OPEN_ACL_UNSAFE,
                        hold_s >= 0 ? ZOO_EPHEMERAL : 0, NULL, 0);
        printf("%s\n", word(rc));
    } else if (strcmp(op, "set") == 0) {
        rc = zoo_set(zh, path, data, len, -1);
        printf("%s\n", word(rc));
    } else if (strcmp(op, "delete") == 0) {
        rc = zoo_delete(zh, path, -1);
        printf("%s\n", word(rc));
    } else {
        zookeeper_close(zh);
        return usage();
    }
    fflush(stdout);
    if (hold_s >= 0 && rc == ZOK)
        for (long k = 0; k < hold_s * 10; k++)
            pause_ms(100);
    zookeeper_close(zh);
    return 0;
}
