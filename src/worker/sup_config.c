/* SPDX-License-Identifier: MIT */
/* A supervisor's configuration (sup_config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "corral/xalloc.h"
#include "corral/paths.h"
#include "worker/sup_config.h"

#define CONFIG_MAX_BYTES (256u * 1024u)

/* All of fd up to EOF, at most max bytes (NULL past it). The buffer grows as needed: a config
 * is usually a few hundred bytes, and a supervisor should not map and touch 256 KiB for it. */
static char *read_all(int fd, size_t max, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = corral_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap == max) {
                free(buf);
                return NULL;
            }
            cap = cap * 4 < max ? cap * 4 : max;
            buf = corral_xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

#define GROUPS_MAX 65536

/* The "run_as" object: absent is fine (no --run-as), malformed is an error. */
static int read_run_as(const json_t *o, struct sup_run_as *r)
{
    if (!o)
        return 0;
    const json_t *uid = json_object_get(o, "uid"), *gid = json_object_get(o, "gid");
    const json_t *groups = json_object_get(o, "groups");
    const char *user = json_string_value(json_object_get(o, "user"));
    const char *home = json_string_value(json_object_get(o, "home"));
    if (!json_is_integer(uid) || !json_is_integer(gid) || json_integer_value(uid) < 0 ||
        json_integer_value(uid) > 4294967294 || json_integer_value(gid) < 0 ||
        json_integer_value(gid) > 4294967294 || !json_is_array(groups) ||
        json_array_size(groups) > GROUPS_MAX || !user || !home || home[0] != '/')
        return -1;
    r->set = true;
    r->do_switch = json_is_true(json_object_get(o, "switch"));
    r->uid = (uid_t)json_integer_value(uid);
    r->gid = (gid_t)json_integer_value(gid);
    r->n_groups = json_array_size(groups);
    r->groups = corral_xcalloc(r->n_groups ? r->n_groups : 1, sizeof *r->groups);
    for (size_t i = 0; i < r->n_groups; i++) {
        const json_t *g = json_array_get(groups, i);
        if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 4294967294)
            return -1;
        r->groups[i] = (gid_t)json_integer_value(g);
    }
    r->user = corral_xstrdup(user);
    r->home = corral_xstrdup(home);
    return 0;
}

int sup_config_read(int fd, struct sup_config *c)
{
    memset(c, 0, sizeof *c);
    c->text = read_all(fd, CONFIG_MAX_BYTES, &c->len);
    if (!c->text)
        return -1;
    json_error_t jerr;
    json_t *o = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &jerr);
    const char *id = json_string_value(json_object_get(o, "task_id"));
    const char *lv = json_string_value(json_object_get(o, "log_level"));
    const char *exe = json_string_value(json_object_get(o, "worker_exe"));
    struct corral_error err = {0};
    int rc = -1;
    if (!id || strlen(id) > CORRAL_ID_LEN)
        goto out;
    snprintf(c->task_id, sizeof c->task_id, "%s", id);
    c->attempt = (uint32_t)json_integer_value(json_object_get(o, "attempt"));
    c->epoch = (uint64_t)json_integer_value(json_object_get(o, "epoch"));
    c->parent = (pid_t)json_integer_value(json_object_get(o, "parent"));
    int l = lv ? corral_log_level_parse(lv) : -1;
    c->level = l < 0 ? CORRAL_LOG_INFO : (enum corral_log_level)l;
    if (exe && *exe)
        c->worker_exe = corral_xstrdup(exe);
    c->log_json = json_is_true(json_object_get(o, "log_json"));
    const char *lw = json_string_value(json_object_get(o, "log_worker"));
    if (lw && corral_path_valid_name(lw))
        snprintf(c->log_worker, sizeof c->log_worker, "%s", lw);
    if (corral_spec_from_json(json_object_get(o, "spec"), NULL, &c->spec, &err) != CORRAL_OK)
        goto out;
    if (read_run_as(json_object_get(o, "run_as"), &c->run_as) < 0)
        goto out;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

void sup_config_cleanup(struct sup_config *c)
{
    corral_spec_cleanup(&c->spec);
    free(c->worker_exe);
    free(c->run_as.groups);
    free(c->run_as.user);
    free(c->run_as.home);
    free(c->text);
    memset(c, 0, sizeof *c);
}
