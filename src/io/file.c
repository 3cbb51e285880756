/* SPDX-License-Identifier: MIT */
/*
 * Config files (file.h): one open, fstat on the open descriptor (no race between the check and
 * the read), a bounded read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corral/xalloc.h"
#include "io/file.h"

int corral_config_file_read(const char *path, const char *flag, bool secret, char **out,
                            size_t *len, struct corral_error *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return corral_error_set(err, CORRAL_EUSAGE, flag, "open %s: %s", path, strerror(errno));
    struct stat st;
    int rc = CORRAL_OK;
    if (fstat(fd, &st) != 0)
        rc = corral_error_set(err, CORRAL_EUSAGE, flag, "stat %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = corral_error_set(err, CORRAL_EUSAGE, flag, "%s is not a regular file", path);
    else if (st.st_size > (off_t)CORRAL_CONFIG_FILE_MAX)
        rc = corral_error_set(err, CORRAL_EUSAGE, flag, "%s is larger than %u bytes", path,
                              CORRAL_CONFIG_FILE_MAX);
    else if (secret && (st.st_mode & 077))
        rc = corral_error_set(err, CORRAL_EUSAGE, flag,
                              "%s holds a secret but group or others may access it (mode %04o); "
                              "chmod 600 it",
                              path, (unsigned)(st.st_mode & 07777));
    else if (secret && st.st_uid != geteuid() && st.st_uid != 0)
        rc = corral_error_set(err, CORRAL_EUSAGE, flag,
                              "%s holds a secret but belongs to another user (uid %u)", path,
                              (unsigned)st.st_uid);
    if (rc != CORRAL_OK) {
        close(fd);
        return rc;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = corral_xmalloc(cap);
    for (;;) {
        if (n + 1 == cap) { /* grew since the fstat: allow up to the limit */
            if (cap > CORRAL_CONFIG_FILE_MAX) {
                rc = corral_error_set(err, CORRAL_EUSAGE, flag, "%s is larger than %u bytes", path,
                                      CORRAL_CONFIG_FILE_MAX);
                break;
            }
            cap *= 2;
            buf = corral_xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = corral_error_set(err, CORRAL_EUSAGE, flag, "read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc != CORRAL_OK) {
        corral_config_file_free(buf, cap - 1);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CORRAL_OK;
}

void corral_config_file_free(char *buf, size_t len)
{
    if (!buf)
        return;
    /* volatile: the compiler may not drop the wipe of memory about to be freed */
    volatile char *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = 0;
    free(buf);
}

int corral_zk_auth_file_read(const char *path, const char *flag, char **out,
                             struct corral_error *err)
{
    size_t len;
    int rc = corral_config_file_read(path, flag, true, out, &len, err);
    if (rc != CORRAL_OK)
        return rc;
    char *s = *out;
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    const char *colon = strchr(s, ':');
    bool ok = len > 0 && colon && colon != s && colon[1] != '\0' && !strpbrk(s, "\n\r");
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    if (!ok) {
        corral_config_file_free(s, len);
        *out = NULL;
        return corral_error_set(err, CORRAL_EUSAGE, flag,
                                "%s must hold one line user:pass (both non-empty)", path);
    }
    return CORRAL_OK;
}
