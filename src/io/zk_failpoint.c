/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, test hooks (compiled only with CORRAL_TEST_HOOKS; release builds get the
 * empty inline stubs of zk_internal.h): failpoints around labelled multi commits
 * (CORRAL_FAILPOINTS="label:action[:N],...", see zk_multi_label() in zk.h) and the session
 * dump that lets tests expire a session from outside (CORRAL_TEST_SESSION_FILE).
 */
#ifndef CORRAL_TEST_HOOKS
#error "zk_failpoint.c is built only with CORRAL_TEST_HOOKS"
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/log.h"
#include "io/zk_internal.h"

#define CORRAL_LOG_MODULE "zk"

struct failpoint {
    char label[32];
    enum zk_fp_action action;
    long nth;
    atomic_long seen;
};

static struct failpoint fps[16];
static size_t n_fps;
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static void fp_load(void)
{
    const char *env = getenv("CORRAL_FAILPOINTS");
    if (!env)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", env);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n_fps < 16;
         tok = strtok_r(NULL, ",", &save)) {
        char *a = strchr(tok, ':');
        if (!a)
            continue;
        *a++ = '\0';
        char *nth = strchr(a, ':');
        if (nth)
            *nth++ = '\0';
        struct failpoint *fp = &fps[n_fps];
        snprintf(fp->label, sizeof fp->label, "%s", tok);
        fp->action = strcmp(a, "crash-before") == 0  ? ZK_FP_CRASH_BEFORE
                     : strcmp(a, "crash-after") == 0 ? ZK_FP_CRASH_AFTER
                     : strcmp(a, "lose-reply") == 0  ? ZK_FP_LOSE_REPLY
                                                     : ZK_FP_NONE;
        fp->nth = nth ? strtol(nth, NULL, 10) : 1;
        if (fp->action != ZK_FP_NONE)
            n_fps++;
    }
}

/* The action due for this commit of label (counted per label). */
static enum zk_fp_action fp_check(const char *label)
{
    pthread_once(&fp_once, fp_load);
    for (size_t i = 0; i < n_fps; i++)
        if (strcmp(fps[i].label, label) == 0 && atomic_fetch_add(&fps[i].seen, 1) + 1 == fps[i].nth)
            return fps[i].action;
    return ZK_FP_NONE;
}

static void fp_fire(const char *label, const char *what)
{
    CORRAL_LOG(CORRAL_LOG_WARN, "failpoint %s: %s", label, what);
    raise(SIGKILL);
}

enum zk_fp_action zk_fp_before(const char *label)
{
    enum zk_fp_action fp = label[0] ? fp_check(label) : ZK_FP_NONE;
    if (fp == ZK_FP_CRASH_BEFORE)
        fp_fire(label, "crash before commit");
    return fp;
}

int zk_fp_after(const char *label, enum zk_fp_action fp, int rc)
{
    if (fp == ZK_FP_CRASH_AFTER)
        fp_fire(label, "crash after commit");
    if (fp == ZK_FP_LOSE_REPLY && rc == ZOK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "failpoint %s: reply lost", label);
        rc = ZCONNECTIONLOSS;
    }
    return rc;
}

void zk_fp_dump_session(zhandle_t *zh)
{
    const char *file = getenv("CORRAL_TEST_SESSION_FILE");
    const clientid_t *id = zoo_client_id(zh);
    if (!file || !id)
        return;
    char tmp[600], line[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    int n = snprintf(line, sizeof line, "%llx ", (unsigned long long)id->client_id);
    for (size_t i = 0; i < sizeof id->passwd && n < (int)sizeof line - 3; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%02x", (unsigned char)id->passwd[i]);
    line[n++] = '\n';
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fwrite(line, 1, (size_t)n, f);
    fclose(f);
    rename(tmp, file);
}

int zk_fp_group_hold_ms(void)
{
    const char *env = getenv("CORRAL_TEST_GROUP_HOLD_MS");
    long ms = env ? strtol(env, NULL, 10) : 0;
    return ms > 0 && ms < 10000 ? (int)ms : 0;
}
