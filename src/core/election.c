/* SPDX-License-Identifier: MIT */
/* Leader election as data (election.h): node names, node and record codecs, decisions. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/assignment.h"
#include "corral/election.h"
#include "corral/jsonx.h"
#include "corral/spec.h"

#define SEQ_DIGITS 10u /* ZooKeeper's sequence suffix: %010d */

bool corral_election_parse_name(const char *name, uint64_t *seq)
{
    if (!name || strncmp(name, "n_", 2) != 0)
        return false;
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name + 2 || strlen(dash + 1) != SEQ_DIGITS)
        return false;
    uint64_t v = 0;
    for (const char *p = dash + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10u + (uint64_t)(*p - '0');
    }
    *seq = v;
    return true;
}

uint64_t corral_election_epoch(uint64_t seq)
{
    return seq + 1u;
}

long corral_election_find_uuid(char *const *names, size_t n, const char *uuid)
{
    if (!uuid || !*uuid)
        return -1;
    size_t ul = strlen(uuid);
    for (size_t i = 0; i < n; i++) {
        uint64_t seq;
        /* n_<uuid>-<seq>: the uuid must be the whole middle, not a part of it. */
        if (corral_election_parse_name(names[i], &seq) && strncmp(names[i] + 2, uuid, ul) == 0 &&
            names[i][2 + ul] == '-' && strlen(names[i]) == 3 + ul + SEQ_DIGITS)
            return (long)i;
    }
    return -1;
}

void corral_election_judge(char *const *names, size_t n, const char *own,
                           struct corral_election_judgement *out)
{
    memset(out, 0, sizeof *out);
    out->predecessor = -1;
    uint64_t own_seq = 0;
    if (!corral_election_parse_name(own, &own_seq))
        return;
    out->epoch = corral_election_epoch(own_seq);
    out->lowest = true;
    uint64_t pred_seq = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq;
        if (!corral_election_parse_name(names[i], &seq))
            continue;
        if (strcmp(names[i], own) == 0) {
            out->found = true;
            continue;
        }
        if (seq < own_seq) {
            out->lowest = false;
            if (out->predecessor < 0 || seq > pred_seq) {
                out->predecessor = (long)i;
                pred_seq = seq;
            }
        }
    }
    if (!out->found) {
        out->lowest = false;
        out->predecessor = -1;
    }
}

long corral_election_lowest(char *const *names, size_t n, uint64_t *epoch)
{
    long best = -1;
    uint64_t best_seq = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq;
        if (corral_election_parse_name(names[i], &seq) && (best < 0 || seq < best_seq)) {
            best = (long)i;
            best_seq = seq;
        }
    }
    if (epoch)
        *epoch = best < 0 ? 0 : corral_election_epoch(best_seq);
    return best;
}

char *corral_replica_info_encode(const struct corral_replica_info *info)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", corral_json_str(info->id));
    json_object_set_new(o, "url", corral_json_str(info->url));
    if (info->epoch) {
        json_object_set_new(o, "epoch", json_integer((json_int_t)info->epoch));
        json_object_set_new(o, "at_ms", json_integer((json_int_t)info->at_ms));
    }
    char *text = json_dumps(o, CORRAL_JSON_DUMP_FLAGS);
    json_decref(o);
    if (!text)
        abort(); /* only memory can fail here */
    return text;
}

int corral_replica_info_decode(const char *buf, size_t len, struct corral_replica_info *out,
                               struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = corral_json_load_object(buf, len, CORRAL_ZNODE_JSON_MAX, "replica", err);
    if (!o)
        return CORRAL_EINVAL;
    const char *id = NULL, *url = NULL;
    uint64_t epoch = 0, at_ms = 0;
    int rc = corral_json_get_str(o, "id", true, sizeof out->id - 1, false, &id, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "url", true, sizeof out->url - 1, true, &url, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "epoch", false, INT64_MAX, &epoch, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "at_ms", false, INT64_MAX, &at_ms, err);
    if (rc == CORRAL_OK) {
        memcpy(out->id, id, strlen(id) + 1);
        memcpy(out->url, url, strlen(url) + 1);
        out->epoch = epoch;
        out->at_ms = (int64_t)at_ms;
    }
    json_decref(o);
    return rc;
}

bool corral_leader_is_current(const struct corral_replica_info *record, uint64_t lowest_epoch,
                              int64_t now_ms)
{
    if (!record || lowest_epoch == 0 || record->epoch != lowest_epoch)
        return false;
    return now_ms - record->at_ms <= CORRAL_LEADER_STALE_MS;
}
