/* SPDX-License-Identifier: MIT */
/*
 * Loading an IANA time zone from the system's tzdata: the file /usr/share/zoneinfo/<name>
 * (CORRAL_ZONEINFO overrides the folder), parsed by the pure corral_tz_parse_tzif.
 */
#ifndef CORRAL_IO_TZ_H
#define CORRAL_IO_TZ_H

#include <stdbool.h>

#include "corral/error.h"
#include "corral/tz.h"

#define TZ_NAME_MAX    64u
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* Whether name is a zone name we will look up: 1..64 bytes of [A-Za-z0-9_+-/], no leading or
 * trailing '/', no empty or ".." component. */
bool tz_name_is_valid(const char *name);

/*
 * Load zone `name` into *out. "UTC" needs no file. Returns CORRAL_OK; CORRAL_EINVAL for a bad
 * name or a file that is not TZif; CORRAL_ENOTFOUND when there is no such zone; CORRAL_ETOOBIG
 * for a file over CORRAL_TZIF_MAX_BYTES. err names the file and the reason.
 */
CORRAL_NODISCARD int tz_load(const char *name, struct corral_tz *out, struct corral_error *err);
/* tz_load from the folder dir instead of CORRAL_ZONEINFO or the default. */
CORRAL_NODISCARD int tz_load_from(const char *dir, const char *name, struct corral_tz *out,
                                  struct corral_error *err);

#endif
