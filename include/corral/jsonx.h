/* SPDX-License-Identifier: MIT */
/*
 * Small jansson helpers shared by the core's codecs and renderers. The getters read one field
 * of a decoded znode object and fail with CORRAL_EINVAL naming the field (wrong type, out of
 * range, too long); a missing optional field leaves *out unchanged.
 */
#ifndef CORRAL_JSONX_H
#define CORRAL_JSONX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "corral/error.h"

/* JSON string of s, or null for NULL. json_string() refuses invalid UTF-8; this repairs it
 * (U+FFFD) instead, so it never returns NULL. */
json_t *corral_json_str(const char *s);

/* A wall-clock time as corral_time_format writes it ("2026-11-24T08:52:52.123Z"); null for a
 * negative ms (the "not set" value). Never NULL. */
json_t *corral_json_time(int64_t ms);

/* Parse buf (len bytes, at most max_len) as one JSON object, duplicates rejected. NULL with
 * CORRAL_EINVAL in err (what names the format: "assignment") when it is not one. */
json_t *corral_json_load_object(const char *buf, size_t len, size_t max_len, const char *what,
                                struct corral_error *err);

/* Integer field in 0..max. */
CORRAL_NODISCARD int corral_json_get_u64(const json_t *o, const char *key, bool required,
                                         uint64_t max, uint64_t *out, struct corral_error *err);
/* String field of 1..max_len bytes (0..max_len when allow_empty); *out borrowed from o. */
CORRAL_NODISCARD int corral_json_get_str(const json_t *o, const char *key, bool required,
                                         size_t max_len, bool allow_empty, const char **out,
                                         struct corral_error *err);
/* Boolean field. */
CORRAL_NODISCARD int corral_json_get_bool(const json_t *o, const char *key, bool required,
                                          bool *out, struct corral_error *err);
/* CPU cores (integer or real with at most 3 decimals) as thousandths, at most max_milli. The
 * decoder of corral_cpu_to_json(). */
CORRAL_NODISCARD int corral_json_get_cpu_milli(const json_t *o, const char *key, bool required,
                                               uint32_t max_milli, uint32_t *out,
                                               struct corral_error *err);

#endif
