/* SPDX-License-Identifier: MIT */
/* A supervisor's configuration (sup_config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "corral/xalloc.h"
#include "worker/sup_config.h"

#define CONFIG_MAX_BYTES (256u * 1024u)

static char *read_all(int fd, size_t max, size_t *len)
{
    char *buf = corral_xmalloc(max + 1);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == max) {
            free(buf);
            return NULL;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
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
    if (corral_spec_from_json(json_object_get(o, "spec"), NULL, &c->spec, &err) != CORRAL_OK)
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
    free(c->text);
    memset(c, 0, sizeof *c);
}
