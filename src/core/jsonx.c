/* SPDX-License-Identifier: MIT */
/* jansson helpers of the core (jsonx.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corral/jsonx.h"
#include "corral/text.h"

json_t *corral_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (!v) {
        char *fixed = corral_utf8_repair(s, strlen(s));
        v = json_string(fixed);
        free(fixed);
    }
    return v;
}

json_t *corral_json_load_object(const char *buf, size_t len, size_t max_len, const char *what,
                                struct corral_error *err)
{
    if (!buf || len > max_len) {
        corral_error_set(err, CORRAL_EINVAL, "", "%s: over %zu bytes", what, max_len);
        return NULL;
    }
    json_error_t jerr;
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        corral_error_set(err, CORRAL_EINVAL, "", "%s: invalid JSON: %s", what, jerr.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        corral_error_set(err, CORRAL_EINVAL, "", "%s: not a JSON object", what);
        return NULL;
    }
    return o;
}

static const json_t *field(const json_t *o, const char *key, bool required, int *rc,
                           struct corral_error *err)
{
    const json_t *v = json_object_get(o, key);
    *rc = CORRAL_OK;
    if (!v && required)
        *rc = corral_error_set(err, CORRAL_EINVAL, key, "missing");
    return v;
}

int corral_json_get_u64(const json_t *o, const char *key, bool required, uint64_t max,
                        uint64_t *out, struct corral_error *err)
{
    int rc;
    const json_t *v = field(o, key, required, &rc, err);
    if (!v)
        return rc;
    if (!json_is_integer(v))
        return corral_error_set(err, CORRAL_EINVAL, key, "must be an integer");
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x > max)
        return corral_error_set(err, CORRAL_EINVAL, key, "must be 0..%llu",
                                (unsigned long long)max);
    *out = (uint64_t)x;
    return CORRAL_OK;
}

int corral_json_get_str(const json_t *o, const char *key, bool required, size_t max_len,
                        bool allow_empty, const char **out, struct corral_error *err)
{
    int rc;
    const json_t *v = field(o, key, required, &rc, err);
    if (!v)
        return rc;
    if (!json_is_string(v))
        return corral_error_set(err, CORRAL_EINVAL, key, "must be a string");
    size_t n = json_string_length(v);
    if (n > max_len || (n == 0 && !allow_empty) || strlen(json_string_value(v)) != n)
        return corral_error_set(err, CORRAL_EINVAL, key, "must be %s1..%zu bytes without NUL",
                                allow_empty ? "0 or " : "", max_len);
    *out = json_string_value(v);
    return CORRAL_OK;
}

int corral_json_get_bool(const json_t *o, const char *key, bool required, bool *out,
                         struct corral_error *err)
{
    int rc;
    const json_t *v = field(o, key, required, &rc, err);
    if (!v)
        return rc;
    if (!json_is_boolean(v))
        return corral_error_set(err, CORRAL_EINVAL, key, "must be true or false");
    *out = json_is_true(v);
    return CORRAL_OK;
}

int corral_json_get_cpu_milli(const json_t *o, const char *key, bool required, uint32_t max_milli,
                              uint32_t *out, struct corral_error *err)
{
    int rc;
    const json_t *v = field(o, key, required, &rc, err);
    if (!v)
        return rc;
    if (!json_is_number(v))
        return corral_error_set(err, CORRAL_EINVAL, key, "must be a number");
    double x = json_number_value(v);
    if (!(x >= 0.0) || x * 1000.0 > (double)max_milli)
        return corral_error_set(err, CORRAL_EINVAL, key, "must be 0..%u", max_milli / 1000u);
    double milli = round(x * 1000.0);
    if (fabs(milli - x * 1000.0) > 1e-6)
        return corral_error_set(err, CORRAL_EINVAL, key, "must have at most 3 decimals");
    *out = (uint32_t)milli;
    return CORRAL_OK;
}

json_t *corral_json_time(int64_t ms)
{
    if (ms < 0)
        return json_null();
    char buf[25];
    corral_time_format(ms, buf);
    return json_string(buf);
}
