/* SPDX-License-Identifier: MIT */
/* Loading IANA time zones from tzdata (io/tz.h): name check, one read, the pure parser. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/tz.h"

bool tz_name_is_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strnlen(name, TZ_NAME_MAX + 1);
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
        return false;
    if (strstr(name, "..") || strstr(name, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '-' || ch == '/';
        if (!ok)
            return false;
    }
    return true;
}

int tz_load_from(const char *dir, const char *name, struct corral_tz *out, struct corral_error *err)
{
    if (!tz_name_is_valid(name))
        return corral_error_set(err, CORRAL_EINVAL, "tz",
                                "bad time zone name (letters, digits, _+-/ and at most %u bytes)",
                                TZ_NAME_MAX);
    if (strcmp(name, "UTC") == 0) {
        *out = *corral_tz_utc();
        return CORRAL_OK;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return corral_error_set(err, e == ENOENT ? CORRAL_ENOTFOUND : CORRAL_EINVAL, "tz",
                                "unknown time zone %s: open %s: %s", name, path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return corral_error_set(err, CORRAL_EINVAL, "tz", "%s is not a regular file", path);
    }
    if (st.st_size > (off_t)CORRAL_TZIF_MAX_BYTES) {
        close(fd);
        return corral_error_set(err, CORRAL_ETOOBIG, "tz", "%s is larger than %u bytes", path,
                                CORRAL_TZIF_MAX_BYTES);
    }
    unsigned char *buf = malloc(CORRAL_TZIF_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        return corral_error_set(err, CORRAL_EINTERNAL, "tz", "out of memory");
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, CORRAL_TZIF_MAX_BYTES + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return corral_error_set(err, CORRAL_EINVAL, "tz", "read %s: %s", path, strerror(e));
        }
        if (r == 0 || (len += (size_t)r) > CORRAL_TZIF_MAX_BYTES)
            break;
    }
    close(fd);
    int rc = corral_tz_parse_tzif(buf, len, out, err);
    free(buf);
    return rc;
}

int tz_load(const char *name, struct corral_tz *out, struct corral_error *err)
{
    const char *dir = getenv("CORRAL_ZONEINFO");
    return tz_load_from(dir && *dir ? dir : TZ_DEFAULT_DIR, name, out, err);
}
