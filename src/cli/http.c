/* SPDX-License-Identifier: MIT */
/*
 * libcurl requests of the `corral` client with replica failover (CONTRACT "corral (client)").
 * Every replica serves the whole API, so any that answers will do; the one that answered last
 * is tried first by the next request of this process. A write is never sent twice when the
 * first replica may already have stored it (see http_request in http.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "corral/xalloc.h"
#include "cli/http.h"

#define CONNECT_TIMEOUT_MS 2000L

struct body_buf {
    char *s;
    size_t len, cap;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_buf *b = userdata;
    size_t n = size * nmemb;
    if (n > CLI_RESPONSE_MAX - b->len) {
        b->too_big = true;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return 0;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, ptr, n);
    b->len += n;
    b->s[b->len] = '\0';
    return n;
}

/* New NUL-terminated string of a[0..al) followed by b[0..bl); aborts on OOM. */
static char *concat(const char *a, size_t al, const char *b, size_t bl)
{
    char *d = corral_xmalloc(al + bl + 1);
    memcpy(d, a, al);
    memcpy(d + al, b, bl);
    d[al + bl] = '\0';
    return d;
}

/* Add one base URL from servers[start..end): trimmed, "http://" added when no scheme, trailing
 * slashes dropped. Empty entries are skipped. */
static void add_url(struct cli_http *h, const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '/'))
        n--;
    if (n == 0)
        return;
    bool has_scheme = false;
    for (size_t i = 0; i + 2 < n; i++) {
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            has_scheme = true;
            break;
        }
    }
    char *url = has_scheme ? concat(s, n, "", 0) : concat("http://", 7, s, n);
    h->urls = corral_xrealloc(h->urls, (h->n_urls + 1) * sizeof(char *));
    h->urls[h->n_urls++] = url;
}

int http_init(struct cli_http *h, const char *servers, const char *token, struct corral_error *err)
{
    memset(h, 0, sizeof(*h));
    const char *p = servers ? servers : "";
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        add_url(h, p, n);
        if (!comma)
            break;
        p = comma + 1;
    }
    if (h->n_urls == 0)
        return corral_error_set(err, CORRAL_EUSAGE, "--server", "needs at least one URL");
    if (token && *token) {
        if (strpbrk(token, "\r\n"))
            return corral_error_set(err, CORRAL_EUSAGE, "--token", "must be one line");
        const char *prefix = "Authorization: Bearer ";
        h->auth_header = concat(prefix, strlen(prefix), token, strlen(token));
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "libcurl failed to initialise");
    h->curl = curl_easy_init();
    if (!h->curl)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "libcurl failed to initialise");
    return 0;
}

void http_cleanup(struct cli_http *h)
{
    if (h->curl) {
        curl_easy_cleanup(h->curl);
        curl_global_cleanup();
    }
    for (size_t i = 0; i < h->n_urls; i++)
        free(h->urls[i]);
    free(h->urls);
    free(h->auth_header);
    memset(h, 0, sizeof(*h));
}

void http_response_cleanup(struct cli_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

char *http_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e) {
        fputs("corral: out of memory\n", stderr);
        abort();
    }
    char *d = concat(e, strlen(e), "", 0);
    curl_free(e);
    return d;
}

/* A 503 after which a write can be retried elsewhere: the replica stored nothing. */
static bool nothing_stored(const struct body_buf *b)
{
    if (!b->s)
        return false;
    json_t *root = json_loadb(b->s, b->len, 0, NULL);
    const char *code = json_string_value(json_object_get(root, "error"));
    bool safe =
        code && (strcmp(code, "zookeeper_unavailable") == 0 || strcmp(code, "no_leader") == 0);
    json_decref(root);
    return safe;
}

static void take_body(struct cli_response *resp, struct body_buf *b)
{
    free(resp->body);
    resp->body = b->s ? b->s : concat("", 0, "", 0);
    resp->len = b->len;
    memset(b, 0, sizeof(*b));
}

int http_request(struct cli_http *h, const char *method, const char *path, const char *body,
                 bool idempotent, long timeout_s, struct cli_response *resp,
                 struct corral_error *err)
{
    memset(resp, 0, sizeof(*resp));
    CURL *curl = h->curl;
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    if (h->auth_header)
        headers = curl_slist_append(headers, h->auth_header);
    if (!headers)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "out of memory");

    char errbuf[CURL_ERROR_SIZE];
    char last_err[160] = "";
    const char *last_url = h->urls[h->current];
    bool have_503 = false;
    int rc = 0;
    for (size_t k = 0; k < h->n_urls; k++) {
        size_t idx = (h->current + k) % h->n_urls;
        const char *base = h->urls[idx];
        last_url = base;
        char *url = concat(base, strlen(base), path, strlen(path));

        struct body_buf buf = {0};
        errbuf[0] = '\0';
        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "corral/" CORRAL_VERSION);
        if (h->cacert)
            curl_easy_setopt(curl, CURLOPT_CAINFO, h->cacert);
        if (strcmp(method, "GET") == 0) {
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (!body && strcmp(method, "DELETE") == 0) {
            /* No body, no Content-Length: a plain DELETE (schedule rm). */
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
        } else {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
            if (strcmp(method, "POST") != 0)
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        }
        CURLcode cc = curl_easy_perform(curl);
        free(url);

        if (cc != CURLE_OK) {
            bool too_big = buf.too_big;
            free(buf.s);
            if (too_big) {
                rc = corral_error_set(err, CORRAL_ETOOBIG, NULL,
                                      "%s: response larger than %u bytes", base, CLI_RESPONSE_MAX);
                goto out;
            }
            snprintf(last_err, sizeof(last_err), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
            long sent = 0;
            curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
            if (!idempotent && sent > 0) {
                /* The replica may have stored the write before the connection broke; sending
                 * it to another one could store it twice. */
                rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                      "%s: %s; the request may have taken effect", base, last_err);
                goto out;
            }
            continue;
        }
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 503) {
            bool movable = idempotent || nothing_stored(&buf);
            take_body(resp, &buf);
            resp->status = status;
            resp->url = base;
            have_503 = true;
            if (!movable)
                goto out;
            continue;
        }
        take_body(resp, &buf);
        resp->status = status;
        resp->url = base;
        h->current = idx;
        goto out;
    }
    if (!have_503) {
        if (h->n_urls > 1)
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no server answered (last %s: %s)",
                                  last_url, last_err);
        else
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL, "%s: %s", last_url, last_err);
    }
out:
    curl_slist_free_all(headers);
    return rc;
}
