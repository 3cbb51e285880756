/* SPDX-License-Identifier: MIT */
/* Names of the done index and its time folders (done_entry.h). */
#include <stdio.h>
#include <string.h>

#include "corral/done_entry.h"
#include "corral/id.h"
#include "corral/paths.h"

static const struct {
    enum corral_state state;
    char code;
} codes[] = {
    {CORRAL_STATE_SUCCEEDED, 's'},
    {CORRAL_STATE_FAILED, 'f'},
    {CORRAL_STATE_CANCELLED, 'c'},
};

static char state_code(enum corral_state s)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].state == s)
            return codes[i].code;
    return '\0';
}

int corral_done_entry_of(const struct corral_task *t, struct corral_done_entry *out)
{
    if (!state_code(t->state) || !corral_id_is_valid(t->id))
        return CORRAL_EINVAL;
    /* A final task always has finished_at; clamping keeps a corrupt one indexable. */
    int64_t ms = t->finished_at_ms < 0 ? 0 : t->finished_at_ms;
    if (ms > CORRAL_DONE_MS_MAX)
        ms = CORRAL_DONE_MS_MAX;
    *out = (struct corral_done_entry){
        .finished_ms = ms,
        .state = t->state,
        .has_key = t->spec.idempotency_key != NULL,
    };
    memcpy(out->id, t->id, sizeof out->id);
    return CORRAL_OK;
}

void corral_done_entry_name(const struct corral_done_entry *e, char out[CORRAL_DONE_NAME_LEN + 1])
{
    snprintf(out, CORRAL_DONE_NAME_LEN + 1, "%013lld-%.*s-%c%c", (long long)e->finished_ms,
             (int)CORRAL_ID_LEN, e->id, state_code(e->state), e->has_key ? 'k' : 'n');
}

/* Exactly len decimal digits at s, as a number. */
static bool digits(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool corral_done_entry_parse(const char *name, struct corral_done_entry *out)
{
    if (!name || strnlen(name, CORRAL_DONE_NAME_LEN + 1) != CORRAL_DONE_NAME_LEN)
        return false;
    struct corral_done_entry e = {0};
    const char *id = name + 14;
    const char *tail = id + CORRAL_ID_LEN;
    if (!digits(name, 13, &e.finished_ms) || name[13] != '-' || tail[0] != '-')
        return false;
    memcpy(e.id, id, CORRAL_ID_LEN);
    e.id[CORRAL_ID_LEN] = '\0';
    if (!corral_id_is_valid(e.id))
        return false;
    bool known = false;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == tail[1]) {
            e.state = codes[i].state;
            known = true;
        }
    if (!known || (tail[2] != 'k' && tail[2] != 'n'))
        return false;
    e.has_key = tail[2] == 'k';
    *out = e;
    return true;
}

int64_t corral_done_slot_of(int64_t ms)
{
    return ms / CORRAL_DONE_SLOT_MS;
}

int64_t corral_done_minute_of(int64_t ms)
{
    return ms / CORRAL_DONE_MINUTE_MS;
}

int64_t corral_done_hour_of(int64_t ms)
{
    return ms / CORRAL_DONE_HOUR_MS;
}

/* Folder names of a slot number: its hour, its minute within the hour, its slot within the
 * minute. */
struct names {
    char hour[CORRAL_DONE_HOUR_NAME_LEN + 1];
    char minute[CORRAL_DONE_MINUTE_NAME_LEN + 1];
    char slot[CORRAL_DONE_SLOT_NAME_LEN + 1];
};

static bool slot_names(int64_t slot, struct names *nm)
{
    if (slot < 0 || slot > corral_done_slot_of(CORRAL_DONE_MS_MAX))
        return false;
    int64_t minute = slot / CORRAL_DONE_SLOTS_PER_MINUTE;
    snprintf(nm->hour, sizeof nm->hour, "%07lld",
             (long long)(minute / CORRAL_DONE_MINUTES_PER_HOUR));
    snprintf(nm->minute, sizeof nm->minute, "%02lld",
             (long long)(minute % CORRAL_DONE_MINUTES_PER_HOUR));
    snprintf(nm->slot, sizeof nm->slot, "%03lld", (long long)(slot % CORRAL_DONE_SLOTS_PER_MINUTE));
    return true;
}

static int bad(char *buf, size_t n)
{
    if (n > 0)
        buf[0] = '\0';
    return CORRAL_EINVAL;
}

int corral_done_entry_path(char *buf, size_t n, const char *ns, const struct corral_done_entry *e)
{
    struct names nm;
    if (!slot_names(corral_done_slot_of(e->finished_ms), &nm) || !state_code(e->state))
        return bad(buf, n);
    char name[CORRAL_DONE_NAME_LEN + 1];
    corral_done_entry_name(e, name);
    return corral_path_done(buf, n, ns, nm.hour, nm.minute, nm.slot, name);
}

int corral_done_slot_path(char *buf, size_t n, const char *ns, int64_t slot)
{
    struct names nm;
    if (!slot_names(slot, &nm))
        return bad(buf, n);
    return corral_path_done(buf, n, ns, nm.hour, nm.minute, nm.slot, NULL);
}

int corral_done_minute_path(char *buf, size_t n, const char *ns, int64_t minute)
{
    struct names nm;
    if (minute < 0 || minute > corral_done_minute_of(CORRAL_DONE_MS_MAX) ||
        !slot_names(minute * CORRAL_DONE_SLOTS_PER_MINUTE, &nm))
        return bad(buf, n);
    return corral_path_done(buf, n, ns, nm.hour, nm.minute, NULL, NULL);
}

int corral_done_hour_path(char *buf, size_t n, const char *ns, int64_t hour)
{
    struct names nm;
    if (hour < 0 || hour > corral_done_hour_of(CORRAL_DONE_MS_MAX) ||
        !slot_names(hour * CORRAL_DONE_MINUTES_PER_HOUR * CORRAL_DONE_SLOTS_PER_MINUTE, &nm))
        return bad(buf, n);
    return corral_path_done(buf, n, ns, nm.hour, NULL, NULL, NULL);
}

/* A folder name of exactly len digits whose value is below limit. */
static bool folder(const char *name, size_t len, int64_t limit, int64_t *out)
{
    int64_t v;
    if (!name || strnlen(name, len + 1) != len || !digits(name, len, &v) || v >= limit)
        return false;
    *out = v;
    return true;
}

bool corral_done_hour_parse(const char *name, int64_t *hour)
{
    return folder(name, CORRAL_DONE_HOUR_NAME_LEN, corral_done_hour_of(CORRAL_DONE_MS_MAX) + 1,
                  hour);
}

bool corral_done_minute_parse(const char *name, int64_t hour, int64_t *minute)
{
    int64_t m;
    if (hour < 0 || hour > corral_done_hour_of(CORRAL_DONE_MS_MAX) ||
        !folder(name, CORRAL_DONE_MINUTE_NAME_LEN, CORRAL_DONE_MINUTES_PER_HOUR, &m))
        return false;
    *minute = hour * CORRAL_DONE_MINUTES_PER_HOUR + m;
    return true;
}

bool corral_done_slot_parse(const char *name, int64_t minute, int64_t *slot)
{
    int64_t s;
    if (minute < 0 || minute > corral_done_minute_of(CORRAL_DONE_MS_MAX) ||
        !folder(name, CORRAL_DONE_SLOT_NAME_LEN, CORRAL_DONE_SLOTS_PER_MINUTE, &s))
        return false;
    *slot = minute * CORRAL_DONE_SLOTS_PER_MINUTE + s;
    return true;
}

int corral_done_entry_cmp(const struct corral_done_entry *e, int64_t ms, const char *id)
{
    if (e->finished_ms != ms)
        return e->finished_ms < ms ? -1 : 1;
    return strcmp(e->id, id);
}
