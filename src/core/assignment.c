/* SPDX-License-Identifier: MIT */
/* Codec of the assignment znode (assignment.h). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/assignment.h"
#include "corral/id.h"
#include "corral/jsonx.h"
#include "corral/spec.h"

bool corral_reg_is_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > CORRAL_REG_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

char *corral_assignment_encode(const struct corral_assignment *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "task", json_string(a->task));
    json_object_set_new(o, "reg", json_string(a->reg));
    json_object_set_new(o, "attempt", json_integer(a->attempt));
    json_object_set_new(o, "epoch", json_integer((json_int_t)a->epoch));
    if (a->cancel)
        json_object_set_new(o, "cancel", json_true());
    if (a->follow_until_ms > 0)
        json_object_set_new(o, "follow_until_ms", json_integer((json_int_t)a->follow_until_ms));
    char *text = json_dumps(o, CORRAL_JSON_DUMP_FLAGS);
    json_decref(o);
    if (!text)
        abort(); /* only strings we validated and integers: cannot fail but for memory */
    return text;
}

int corral_assignment_decode(const char *buf, size_t len, struct corral_assignment *out,
                             struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = corral_json_load_object(buf, len, CORRAL_ZNODE_JSON_MAX, "assignment", err);
    if (!o)
        return CORRAL_EINVAL;
    const char *task = NULL, *reg = NULL;
    uint64_t attempt = 0, epoch = 0, follow = 0;
    bool cancel = false;
    int rc = corral_json_get_str(o, "task", true, CORRAL_ID_LEN, false, &task, err);
    if (rc == CORRAL_OK && !corral_id_is_valid(task))
        rc = corral_error_set(err, CORRAL_EINVAL, "task", "not a task id");
    if (rc == CORRAL_OK)
        rc = corral_json_get_str(o, "reg", true, CORRAL_REG_MAX, false, &reg, err);
    if (rc == CORRAL_OK && !corral_reg_is_valid(reg))
        rc = corral_error_set(err, CORRAL_EINVAL, "reg", "not a registration id");
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "attempt", true, UINT32_MAX, &attempt, err);
    if (rc == CORRAL_OK && attempt == 0)
        rc = corral_error_set(err, CORRAL_EINVAL, "attempt", "must be at least 1");
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "epoch", true, INT64_MAX, &epoch, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_bool(o, "cancel", false, &cancel, err);
    if (rc == CORRAL_OK)
        rc = corral_json_get_u64(o, "follow_until_ms", false, INT64_MAX, &follow, err);
    if (rc == CORRAL_OK) {
        memcpy(out->task, task, strlen(task) + 1);
        memcpy(out->reg, reg, strlen(reg) + 1);
        out->attempt = (uint32_t)attempt;
        out->epoch = epoch;
        out->cancel = cancel;
        out->follow_until_ms = (int64_t)follow;
    }
    json_decref(o);
    return rc;
}
