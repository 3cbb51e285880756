/* SPDX-License-Identifier: MIT */
/*
 * GET / and GET /ui/<file>: the dashboard (docs/operations.md "Dashboard"). Its files are
 * compiled in (src/corrald/ui, embedded by cmake/EmbedFiles.cmake) and served from memory on
 * the polling thread: no token (CONTRACT: the page and its assets need none; the API calls it
 * makes do), no ZooKeeper, no file system. Every answer carries the security headers below: the
 * page runs only its own script and style files, cannot be framed, and sends no Referer. The
 * header X-Corral-Replica names the replica that served it, which the page shows.
 */
#include <string.h>

#include "corrald/api_internal.h"
#include "corrald/replica.h"
#include "corrald/ui_assets.h"

/* Only files of this origin, nothing inline: the HTML has no <script> or style="" of its own
 * (app.js sets styles through the CSSOM, which CSP allows). */
#define UI_CSP                                                                                     \
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "            \
    "object-src 'none'"

/* Name, value pairs. */
static const char *const ui_headers[] = {
    /* clang-format off */
    "Cache-Control", "no-cache",
    "Content-Security-Policy", UI_CSP,
    "X-Content-Type-Options", "nosniff",
    "X-Frame-Options", "DENY",
    "Referrer-Policy", "no-referrer",
    "Cross-Origin-Opener-Policy", "same-origin",
    NULL,
    /* clang-format on */
};

/* The file an URL of the route table names, and its Content-Type. */
static const struct {
    const char *url, *file, *ctype;
} UI_FILES[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/ui/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/ui/app.css", "app.css", "text/css; charset=utf-8"},
    {"/ui/icon.svg", "icon.svg", "image/svg+xml"},
};

static const struct corral_ui_asset *asset_named(const char *file)
{
    for (size_t i = 0; i < corral_ui_asset_count; i++)
        if (strcmp(corral_ui_assets[i].name, file) == 0)
            return &corral_ui_assets[i];
    return NULL;
}

/* Does an If-None-Match value ("\"a\", \"b\"", or "*") hold etag? */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t el = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
        char after = p[el];
        if (after == '\0' || after == ',' || after == ' ' || after == '\t')
            return true;
    }
    return false;
}

void api_ui(struct api *a, struct api_request *req, const char *url, struct api_reply *rp)
{
    const struct corral_ui_asset *asset = NULL;
    const char *ctype = NULL;
    for (size_t i = 0; i < sizeof UI_FILES / sizeof UI_FILES[0] && !asset; i++)
        if (strcmp(UI_FILES[i].url, url) == 0) {
            asset = asset_named(UI_FILES[i].file);
            ctype = UI_FILES[i].ctype;
        }
    if (!asset) {
        /* The route table and UI_FILES disagree, or the file was not embedded. */
        api_reply_fail(rp, CORRAL_ENOTFOUND, NULL, "no such file of the dashboard");
        return;
    }
    const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "If-None-Match");
    if (etag_matches(inm, asset->etag))
        api_reply_text(rp, MHD_HTTP_NOT_MODIFIED, NULL, "", 0);
    else
        api_reply_text(rp, MHD_HTTP_OK, ctype, (const char *)asset->data, asset->len);
    rp->headers = ui_headers;
    rp->etag = asset->etag;
    /* The replica's id is [A-Za-z0-9._-] (--id): safe in a header; it lives as long as the
     * server. */
    rp->hdr = "X-Corral-Replica";
    rp->val = a->r->opts.id;
}
