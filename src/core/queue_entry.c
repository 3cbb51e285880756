/* SPDX-License-Identifier: MIT */
/* Queue entry names and the idempotency record (queue_entry.h). */
#include <string.h>

#include "corral/id.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"

void corral_queue_entry_name(const struct corral_task *t, char out[CORRAL_QUEUE_NAME_MAX + 1])
{
    size_t n = strnlen(t->id, CORRAL_ID_LEN);
    memcpy(out, t->id, n);
    out[n] = '\0';
}

int corral_queue_entry_path(char *buf, size_t n, const char *ns, const struct corral_task *t)
{
    char name[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_entry_name(t, name);
    return corral_path_queue_entry(buf, n, ns, name);
}

bool corral_queue_entry_parse(const char *name, char id[CORRAL_ID_LEN + 1])
{
    if (!corral_id_is_valid(name))
        return false;
    memcpy(id, name, CORRAL_ID_LEN + 1);
    return true;
}

int corral_idem_decode(const char *buf, size_t len, char id[CORRAL_ID_LEN + 1],
                       struct corral_error *err)
{
    id[0] = '\0';
    if (!buf || len != CORRAL_ID_LEN || memchr(buf, '\0', len))
        return corral_error_set(err, CORRAL_EINVAL, "", "idempotency record: not a task id");
    char tmp[CORRAL_ID_LEN + 1];
    memcpy(tmp, buf, len);
    tmp[len] = '\0';
    if (!corral_id_is_valid(tmp))
        return corral_error_set(err, CORRAL_EINVAL, "", "idempotency record: not a task id");
    memcpy(id, tmp, sizeof tmp);
    return CORRAL_OK;
}
