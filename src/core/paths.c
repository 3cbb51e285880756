/* SPDX-License-Identifier: MIT */
/*
 * Znode path builders and name validation (CONTRACT "ZooKeeper layout", docs/znodes.md). Pure
 * string work: every builder writes into caller storage and fails with CORRAL_ETOOBIG instead of
 * truncating, so a too-long path can never address the wrong znode.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "corral/event.h"
#include "corral/id.h"
#include "corral/limits.h"
#include "corral/paths.h"

#define NAMESPACE_MAX 200u

unsigned corral_path_bucket(const char *s)
{
    /* FNV-1a, 32 bit: cheap, well spread over short ids, and stable across platforms. */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return (unsigned)(h % CORRAL_BUCKETS);
}

static int fail(char *buf, size_t n, int code)
{
    if (n > 0)
        buf[0] = '\0';
    return code;
}

static int build(char *buf, size_t n, const char *fmt, ...) CORRAL_PRINTF(3, 4);
static int build(char *buf, size_t n, const char *fmt, ...)
{
    if (n == 0)
        return CORRAL_ETOOBIG;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= n)
        return fail(buf, n, CORRAL_ETOOBIG);
    return CORRAL_OK;
}

/* An empty component would address the parent ("<ns>/tasks/bb/"), never what was meant. */
static bool empty(const char *s)
{
    return !s || !*s;
}

static const struct {
    const char *name;
    bool bucketed;
} dirs[] = {
#define CORRAL_X_ROW(e, name, bucketed) [e] = {name, bucketed},
    CORRAL_DIRS(CORRAL_X_ROW)
#undef CORRAL_X_ROW
};
_Static_assert(sizeof dirs / sizeof dirs[0] == CORRAL_DIR_COUNT, "one row per folder");

static const char *dir_name(enum corral_dir d)
{
    return (unsigned)d < CORRAL_DIR_COUNT ? dirs[d].name : NULL;
}

bool corral_dir_is_bucketed(enum corral_dir d)
{
    return (unsigned)d < CORRAL_DIR_COUNT && dirs[d].bucketed;
}

int corral_path_dir(char *buf, size_t n, const char *ns, enum corral_dir d)
{
    if (!ns || !dir_name(d))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s", ns, dir_name(d));
}

int corral_path_bucket_dir(char *buf, size_t n, const char *ns, enum corral_dir d, unsigned b)
{
    if (!ns || !corral_dir_is_bucketed(d) || b >= CORRAL_BUCKETS)
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%02x", ns, dir_name(d), b);
}

void corral_path_bucket_name(char out[3], unsigned b)
{
    static const char hex[] = "0123456789abcdef";
    out[0] = hex[(b >> 4) & 0xfu];
    out[1] = hex[b & 0xfu];
    out[2] = '\0';
}

static bool lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool corral_path_is_bucket_name(const char *name)
{
    return name && lower_hex(name[0]) && lower_hex(name[1]) && name[2] == '\0';
}

int corral_path_child(char *buf, size_t n, const char *dir, const char *name)
{
    if (!dir || empty(name) || strchr(name, '/'))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s", dir, name);
}

int corral_path_queue_signal(char *buf, size_t n, const char *ns)
{
    return corral_path_dir(buf, n, ns, CORRAL_DIR_QUEUE);
}

int corral_path_leader(char *buf, size_t n, const char *ns)
{
    if (!ns)
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/leader", ns);
}

int corral_path_election_prefix(char *buf, size_t n, const char *ns, const char *uuid)
{
    if (!ns || empty(uuid) || strchr(uuid, '/'))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/n_%s-", ns, dir_name(CORRAL_DIR_ELECTION), uuid);
}

int corral_path_task(char *buf, size_t n, const char *ns, const char *id)
{
    if (!ns || empty(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%02x/%s", ns, dir_name(CORRAL_DIR_TASKS), corral_path_bucket(id),
                 id);
}

int corral_path_task_bucket(char *buf, size_t n, const char *ns, unsigned b)
{
    return corral_path_bucket_dir(buf, n, ns, CORRAL_DIR_TASKS, b);
}

int corral_path_queue_entry(char *buf, size_t n, const char *ns, const char *id)
{
    if (!ns || empty(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%02x/%s", ns, dir_name(CORRAL_DIR_QUEUE), corral_path_bucket(id),
                 id);
}

int corral_path_queue_bucket(char *buf, size_t n, const char *ns, unsigned b)
{
    return corral_path_bucket_dir(buf, n, ns, CORRAL_DIR_QUEUE, b);
}

int corral_path_worker(char *buf, size_t n, const char *ns, const char *worker)
{
    if (!ns || empty(worker))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_WORKERS), worker);
}

int corral_path_fleet(char *buf, size_t n, const char *ns, const char *worker)
{
    if (!ns || empty(worker) || strchr(worker, '/'))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_FLEET), worker);
}

int corral_path_events_gen(char *buf, size_t n, const char *ns, int64_t gen)
{
    if (!ns || gen < 1 || gen > CORRAL_EVENTS_GEN_MAX)
        return fail(buf, n, CORRAL_EINVAL);
    char g[17];
    corral_event_gen_name(g, gen);
    return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_EVENTS), g);
}

int corral_path_event(char *buf, size_t n, const char *ns, int64_t gen, int32_t seq)
{
    if (!ns || gen < 1 || gen > CORRAL_EVENTS_GEN_MAX || seq < 0)
        return fail(buf, n, CORRAL_EINVAL);
    char g[17];
    corral_event_gen_name(g, gen);
    return build(buf, n, "%s/%s/%s/e-%010d", ns, dir_name(CORRAL_DIR_EVENTS), g, (int)seq);
}

int corral_path_event_prefix(char *buf, size_t n, const char *ns, int64_t gen)
{
    if (!ns || gen < 1 || gen > CORRAL_EVENTS_GEN_MAX)
        return fail(buf, n, CORRAL_EINVAL);
    char g[17];
    corral_event_gen_name(g, gen);
    return build(buf, n, "%s/%s/%s/e-", ns, dir_name(CORRAL_DIR_EVENTS), g);
}

int corral_path_output(char *buf, size_t n, const char *ns, const char *id)
{
    if (!ns || !corral_id_is_valid(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_OUTPUT), id);
}

int corral_path_dep_edge(char *buf, size_t n, const char *ns, const char *dep,
                         const char *dependent)
{
    if (!ns || !corral_id_is_valid(dep) || !corral_id_is_valid(dependent))
        return fail(buf, n, CORRAL_EINVAL);
    char bb[3];
    corral_path_bucket_name(bb, corral_path_bucket(dep));
    return build(buf, n, "%s/%s/%s/%s.%s", ns, dir_name(CORRAL_DIR_DEPS), bb, dep, dependent);
}

bool corral_dep_edge_parse(const char *name, char dep[22], char dependent[22])
{
    if (!name || strlen(name) != 2 * CORRAL_ID_LEN + 1 || name[CORRAL_ID_LEN] != '.')
        return false;
    memcpy(dep, name, CORRAL_ID_LEN);
    dep[CORRAL_ID_LEN] = '\0';
    memcpy(dependent, name + CORRAL_ID_LEN + 1, CORRAL_ID_LEN);
    dependent[CORRAL_ID_LEN] = '\0';
    return corral_id_is_valid(dep) && corral_id_is_valid(dependent);
}

int corral_path_schedule(char *buf, size_t n, const char *ns, const char *name)
{
    if (!ns || empty(name) || strchr(name, '/'))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_SCHEDULES), name);
}

int corral_path_assign_dir(char *buf, size_t n, const char *ns, const char *worker)
{
    if (!ns || empty(worker))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_ASSIGN), worker);
}

int corral_path_assign(char *buf, size_t n, const char *ns, const char *worker, const char *id)
{
    if (!ns || empty(worker) || empty(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/%s/%s/%s", ns, dir_name(CORRAL_DIR_ASSIGN), worker, id);
}

int corral_path_idem(char *buf, size_t n, const char *ns, const char *key)
{
    if (!ns || empty(key) || strlen(key) > CORRAL_IDEM_KEY_MAX)
        return fail(buf, n, CORRAL_EINVAL);
    /* Keys are arbitrary bytes ('/' included); hex makes any key a single safe znode name. */
    static const char hex[] = "0123456789abcdef";
    char enc[2u * CORRAL_IDEM_KEY_MAX + 1u];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        enc[k++] = hex[*p >> 4];
        enc[k++] = hex[*p & 0xfu];
    }
    enc[k] = '\0';
    return build(buf, n, "%s/%s/%02x/%s", ns, dir_name(CORRAL_DIR_IDEM), corral_path_bucket(key),
                 enc);
}

/* A level of the done index: absent (NULL) or one non-empty component. */
static bool level_ok(const char *s)
{
    return !s || (*s && !strchr(s, '/'));
}

int corral_path_done(char *buf, size_t n, const char *ns, const char *hour, const char *minute,
                     const char *slot, const char *entry)
{
    const char *lv[4] = {hour, minute, slot, entry};
    if (!ns || empty(hour))
        return fail(buf, n, CORRAL_EINVAL);
    for (int i = 0; i < 4; i++) {
        /* A level after a missing one would silently address another folder. */
        if (!level_ok(lv[i]) || (i > 0 && !lv[i - 1] && lv[i]))
            return fail(buf, n, CORRAL_EINVAL);
    }
    if (!minute)
        return build(buf, n, "%s/%s/%s", ns, dir_name(CORRAL_DIR_DONE), hour);
    if (!slot)
        return build(buf, n, "%s/%s/%s/%s", ns, dir_name(CORRAL_DIR_DONE), hour, minute);
    if (!entry)
        return build(buf, n, "%s/%s/%s/%s/%s", ns, dir_name(CORRAL_DIR_DONE), hour, minute, slot);
    return build(buf, n, "%s/%s/%s/%s/%s/%s", ns, dir_name(CORRAL_DIR_DONE), hour, minute, slot,
                 entry);
}

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool corral_path_valid_namespace(const char *s)
{
    if (!s || s[0] != '/')
        return false;
    size_t len = strlen(s);
    if (len < 2 || len > NAMESPACE_MAX || s[len - 1] == '/')
        return false;
    /* ZooKeeper reserves /zookeeper and everything below it. */
    if (strncmp(s, "/zookeeper", 10) == 0 && (s[10] == '\0' || s[10] == '/'))
        return false;
    const char *comp = s + 1;
    for (;;) {
        size_t clen = strcspn(comp, "/");
        if (clen == 0)
            return false;
        if ((clen == 1 && comp[0] == '.') || (clen == 2 && comp[0] == '.' && comp[1] == '.'))
            return false;
        for (size_t i = 0; i < clen; i++) {
            if (!name_char(comp[i]))
                return false;
        }
        if (comp[clen] == '\0')
            return true;
        comp += clen + 1;
    }
}

bool corral_path_valid_name(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    if (len == 0 || len > CORRAL_WORKER_ID_MAX)
        return false;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!name_char(s[i]))
            return false;
    }
    return true;
}
