/* SPDX-License-Identifier: MIT */
/*
 * Who may do what on each znode (include/corral/acl.h, docs/security.md "ZooKeeper ACLs"), and
 * the ZooKeeper digest of an identity. Pure.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "corral/acl.h"
#include "corral/paths.h"

#define MAX_PARTS 6

/* The parts of path below the folder dir (dir itself: 0 parts); -1 when path is not dir nor
 * below it, or has more than MAX_PARTS parts or an empty one. */
static int parts_below(const char *path, const char *dir, const char *parts[MAX_PARTS],
                       size_t lens[MAX_PARTS])
{
    size_t dn = strlen(dir);
    if (strncmp(path, dir, dn) != 0)
        return -1;
    const char *p = path + dn;
    if (*p == '\0')
        return 0;
    if (*p != '/')
        return -1;
    int n = 0;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || n == MAX_PARTS)
            return -1;
        parts[n] = p;
        lens[n++] = len;
        p += len;
    }
    return *p == '\0' ? n : -1;
}

static void set_owner(struct corral_acl_rule *out, const char *name, size_t len, int perms)
{
    if (len >= sizeof out->owner_id)
        return;
    memcpy(out->owner_id, name, len);
    out->owner_id[len] = '\0';
    if (corral_path_valid_name(out->owner_id))
        out->owner = perms;
    else
        out->owner_id[0] = '\0';
}

void corral_acl_rule_of(const char *ns, const char *path, struct corral_acl_rule *out)
{
    memset(out, 0, sizeof *out);
    if (!ns || !path)
        return;
    for (int d = 0; d < CORRAL_DIR_COUNT; d++) {
        char dir[CORRAL_PATH_MAX];
        const char *parts[MAX_PARTS];
        size_t lens[MAX_PARTS];
        if (corral_path_dir(dir, sizeof dir, ns, (enum corral_dir)d) != 0)
            return;
        int n = parts_below(path, dir, parts, lens);
        if (n < 0)
            continue;
        switch ((enum corral_dir)d) {
            case CORRAL_DIR_WORKERS:
                /* Enrol (and read the folder's ACL: the replicas' ids); a registration is its
                 * worker's own. Deleting one needs delete on the folder: nobody but replicas. */
                if (n == 0)
                    out->workers = CORRAL_PERM_READ | CORRAL_PERM_CREATE;
                else if (n == 1)
                    out->creator = CORRAL_PERM_ALL;
                break;
            case CORRAL_DIR_TASKS:
                /* The worker it is assigned to, from the assignment on; no listing. */
                if (n == 2)
                    out->assignee = CORRAL_PERM_READ | CORRAL_PERM_WRITE;
                break;
            case CORRAL_DIR_QUEUE:
                /* Bump the signal; queue a retry. */
                if (n == 0)
                    out->workers = CORRAL_PERM_WRITE;
                else if (n == 1)
                    out->workers = CORRAL_PERM_CREATE;
                break;
            case CORRAL_DIR_ASSIGN:
                /* Its own folder: list, watch, delete what it finished; nobody else's. */
                if (n == 1)
                    set_owner(out, parts[0], lens[0], CORRAL_PERM_READ | CORRAL_PERM_DELETE);
                else if (n == 2)
                    set_owner(out, parts[0], lens[0], CORRAL_PERM_READ);
                break;
            case CORRAL_DIR_DONE:
                /* The finish that makes a task final adds its entry, and a missing level. */
                if (n <= 3)
                    out->workers = CORRAL_PERM_CREATE;
                break;
            case CORRAL_DIR_FLEET:
                if (n == 1)
                    out->workers = CORRAL_PERM_READ;
                break;
            case CORRAL_DIR_EVENTS:
                /* Find the current generation, check it is open, add an event. */
                if (n == 0)
                    out->workers = CORRAL_PERM_READ;
                else if (n == 1)
                    out->workers = CORRAL_PERM_READ | CORRAL_PERM_CREATE;
                break;
            case CORRAL_DIR_OUTPUT:
                if (n == 0)
                    out->workers = CORRAL_PERM_CREATE;
                else if (n == 1)
                    out->creator = CORRAL_PERM_ALL;
                break;
            default:
                break;
        }
        return;
    }
}

/* ------------------------------------------------------------------ SHA-1 */

static uint32_t rol(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static void sha1_block(uint32_t h[5], const uint8_t b[64])
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (bb & c) | (~bb & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = bb ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (bb & c) | (bb & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = bb ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(bb, 30);
        bb = a;
        a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void corral_sha1(const void *data, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    uint8_t tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tn = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8u;
    for (int i = 0; i < 8; i++)
        tail[tn - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, tail);
    if (tn == 128)
        sha1_block(h, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

/* ------------------------------------------------------------------ digest ids */

static void base64_20(const uint8_t in[20], char out[29])
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < 20; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t have = 20 - i >= 3 ? 3 : 20 - i;
        if (have > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (have > 2)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = have > 1 ? tab[(v >> 6) & 63] : '=';
        out[o++] = have > 2 ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

bool corral_digest_id(const char *user_pass, char *out, size_t n)
{
    if (n > 0)
        out[0] = '\0';
    const char *colon = user_pass ? strchr(user_pass, ':') : NULL;
    if (!colon || colon == user_pass || (size_t)(colon - user_pass) > CORRAL_DIGEST_USER_MAX)
        return false;
    uint8_t sum[20];
    char b64[29];
    corral_sha1(user_pass, strlen(user_pass), sum);
    base64_20(sum, b64);
    int w = snprintf(out, n, "%.*s:%s", (int)(colon - user_pass), user_pass, b64);
    if (w < 0 || (size_t)w >= n) {
        if (n > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}

bool corral_worker_identity_user(const char *worker, char *out, size_t n)
{
    if (n > 0)
        out[0] = '\0';
    if (!worker || !corral_path_valid_name(worker))
        return false;
    int w = snprintf(out, n, "w.%s", worker);
    if (w < 0 || (size_t)w >= n) {
        if (n > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}

bool corral_digest_id_is_worker(const char *digest_id, const char *worker)
{
    char user[CORRAL_DIGEST_USER_MAX + 1];
    if (!digest_id || !corral_worker_identity_user(worker, user, sizeof user))
        return false;
    size_t un = strlen(user);
    return strncmp(digest_id, user, un) == 0 && digest_id[un] == ':' &&
           strlen(digest_id + un + 1) == 28;
}

/* ------------------------------------------------------------------ the replicas' ids */

/* "user:<28 base64 chars>" with a user of 1..CORRAL_DIGEST_USER_MAX bytes without ':'. */
static bool digest_id_valid(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) > CORRAL_DIGEST_USER_MAX)
        return false;
    const char *h = colon + 1;
    if (strlen(h) != 28 || h[27] != '=')
        return false;
    for (size_t i = 0; i < 27; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", h[i]))
            return false;
    for (const char *p = s; p < colon; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

char *corral_acl_replicas_encode(const char *const *ids, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(ids[i]));
    json_t *o = json_object();
    json_object_set_new(o, "replicas", arr);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int corral_acl_replicas_decode(const char *data, size_t len, char ids[][CORRAL_DIGEST_ID_MAX + 1],
                               size_t n_max, size_t *n, struct corral_error *err)
{
    *n = 0;
    json_error_t je;
    json_t *o = data ? json_loadb(data, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    json_t *arr = json_is_object(o) ? json_object_get(o, "replicas") : NULL;
    int rc = CORRAL_OK;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > n_max ||
        json_object_size(o) != 1) {
        rc = corral_error_set(err, CORRAL_EINVAL, "replicas",
                              "must be the only field: an array of 1 to %zu digest ids", n_max);
    } else {
        for (size_t i = 0; rc == CORRAL_OK && i < json_array_size(arr); i++) {
            const char *s = json_string_value(json_array_get(arr, i));
            if (!s || !digest_id_valid(s))
                rc = corral_error_set(err, CORRAL_EINVAL, "replicas",
                                      "item %zu is not a digest id user:hash", i);
            else
                snprintf(ids[(*n)++], CORRAL_DIGEST_ID_MAX + 1, "%s", s);
        }
    }
    if (rc != CORRAL_OK)
        *n = 0;
    json_decref(o);
    return rc;
}
