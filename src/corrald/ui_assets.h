/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's files (src/corrald/ui/), compiled into corrald: CMake turns each into a byte
 * array at build time (cmake/EmbedFiles.cmake writes <build>/generated/ui_assets.c), and
 * api_ui.c serves them from memory.
 */
#ifndef CORRALD_UI_ASSETS_H
#define CORRALD_UI_ASSETS_H

#include <stddef.h>

struct corral_ui_asset {
    const char *name;          /* file name in src/corrald/ui ("index.html") */
    const unsigned char *data; /* len bytes, then a NUL */
    size_t len;
    const char *etag; /* quoted: "\"0123456789abcdef\"" (a prefix of the SHA-256) */
};

extern const struct corral_ui_asset corral_ui_assets[];
extern const size_t corral_ui_asset_count;

#endif
