/* SPDX-License-Identifier: MIT */
/* corral-bench's HTTP client over libcurl (http.h). */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bench/bench.h"
#include "bench/http.h"
#include "corral/xalloc.h"

#define BODY_MAX (64u * 1024u * 1024u) /* a batch answer of 1000 tasks is ~1 MB */

struct http_client {
    CURL *h;
    struct curl_slist *headers;
    char *base;
    char url[1024];
    char *body; /* response, NUL-terminated */
    size_t len, cap;
    long retry_after_s;
    char errbuf[CURL_ERROR_SIZE];
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct http_client *c = ud;
    size_t n = size * nmemb;
    if (c->len + n + 1 > BODY_MAX)
        return 0; /* aborts the transfer */
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        c->body = corral_xrealloc(c->body, cap);
        c->cap = cap;
    }
    memcpy(c->body + c->len, p, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

/* Abort a transfer when the run is being stopped. */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)ud, (void)a, (void)b, (void)c, (void)d;
    return bench_stopping() ? 1 : 0;
}

struct http_client *http_client_new(const char *base_url)
{
    struct http_client *c = corral_xcalloc(1, sizeof *c);
    c->base = corral_xstrdup(base_url);
    c->h = curl_easy_init();
    if (!c->h)
        abort(); /* out of memory only */
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, "Accept: application/json");
    c->headers = curl_slist_append(c->headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    curl_slist_free_all(c->headers);
    free(c->base);
    free(c->body);
    free(c);
}

int http_do(struct http_client *c, const char *method, const char *path, const char *body,
            size_t len, long timeout_ms, long *status, struct corral_error *err)
{
    *status = 0;
    c->len = 0;
    c->retry_after_s = 0;
    if (c->body)
        c->body[0] = '\0';
    c->errbuf[0] = '\0';
    snprintf(c->url, sizeof c->url, "%s%s", c->base, path);
    curl_easy_setopt(c->h, CURLOPT_URL, c->url);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (body) {
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") ? method : NULL);
    } else {
        curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
    }
    CURLcode rc = curl_easy_perform(c->h);
    if (rc != CURLE_OK)
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "%s %s: %s", method, c->url,
                                c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
    curl_off_t ra = 0;
    if (curl_easy_getinfo(c->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        c->retry_after_s = (long)ra;
    if (!c->body) {
        c->body = corral_xmalloc(1);
        c->body[0] = '\0';
    }
    return CORRAL_OK;
}

const char *http_body(const struct http_client *c, size_t *len)
{
    if (len)
        *len = c->len;
    return c->body ? c->body : "";
}

long http_retry_after_s(const struct http_client *c)
{
    return c->retry_after_s;
}

long http_get_status(const char *base_url, const char *path, long timeout_ms)
{
    struct http_client *c = http_client_new(base_url);
    long status = 0;
    struct corral_error err = {0};
    if (http_do(c, "GET", path, NULL, 0, timeout_ms, &status, &err) != CORRAL_OK)
        status = 0;
    http_client_free(c);
    return status;
}
