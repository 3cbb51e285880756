/* SPDX-License-Identifier: MIT */
/*
 * Reading the small files a program is configured with: token files, ZooKeeper credentials,
 * TLS certificates and keys. A file that holds a secret must be private to its owner.
 */
#ifndef CORRAL_IO_FILE_H
#define CORRAL_IO_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/error.h"

#define CORRAL_CONFIG_FILE_MAX (256u * 1024u) /* bytes: larger is not a config file */

/*
 * Read the regular file `path` whole into a NUL-terminated heap buffer (*out, *len without the
 * NUL; free it with corral_config_file_free). With `secret`, a file that group or others may
 * read or write (any of the mode bits 077) is refused, as is one owned by another user than
 * the caller (root excepted). Errors are CORRAL_EUSAGE naming `flag` and saying what to do.
 */
int corral_config_file_read(const char *path, const char *flag, bool secret, char **out,
                            size_t *len, struct corral_error *err);

/*
 * Read ZooKeeper digest credentials `user:pass` (one line; a final newline is dropped) from a
 * secret file into out (*out heap, free with corral_config_file_free(out, strlen(out))).
 */
int corral_zk_auth_file_read(const char *path, const char *flag, char **out,
                             struct corral_error *err);

/* Overwrite and free what corral_config_file_read returned. NULL is fine. */
void corral_config_file_free(char *buf, size_t len);

#endif
