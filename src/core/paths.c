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

int corral_path_join(char *buf, size_t n, const char *ns, const char *rel)
{
    if (!ns)
        return fail(buf, n, CORRAL_EINVAL);
    if (empty(rel))
        return build(buf, n, "%s", ns);
    while (*rel == '/')
        rel++;
    return build(buf, n, "%s/%s", ns, rel);
}

int corral_path_task(char *buf, size_t n, const char *ns, const char *id)
{
    if (!ns || empty(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/tasks/%02x/%s", ns, corral_path_bucket(id), id);
}

int corral_path_task_bucket(char *buf, size_t n, const char *ns, unsigned b)
{
    if (!ns || b >= CORRAL_BUCKETS)
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/tasks/%02x", ns, b);
}

int corral_path_queue_entry(char *buf, size_t n, const char *ns, const char *id)
{
    if (!ns || empty(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/queue/%02x/%s", ns, corral_path_bucket(id), id);
}

int corral_path_queue_bucket(char *buf, size_t n, const char *ns, unsigned b)
{
    if (!ns || b >= CORRAL_BUCKETS)
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/queue/%02x", ns, b);
}

int corral_path_worker(char *buf, size_t n, const char *ns, const char *worker)
{
    if (!ns || empty(worker))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/workers/%s", ns, worker);
}

int corral_path_assign_dir(char *buf, size_t n, const char *ns, const char *worker)
{
    if (!ns || empty(worker))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/assign/%s", ns, worker);
}

int corral_path_assign(char *buf, size_t n, const char *ns, const char *worker, const char *id)
{
    if (!ns || empty(worker) || empty(id))
        return fail(buf, n, CORRAL_EINVAL);
    return build(buf, n, "%s/assign/%s/%s", ns, worker, id);
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
    return build(buf, n, "%s/idem/%02x/%s", ns, corral_path_bucket(key), enc);
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
