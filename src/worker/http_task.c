/* SPDX-License-Identifier: MIT */
/*
 * An HTTP task: `corral-worker --http-task`, started by a supervisor as the task's process
 * (supervisor.h). It reads the supervisor's configuration on stdin, performs the request with
 * libcurl (http and https only), writes the status line and body to stdout (the task's output)
 * and "<status> <error>" to fd 3, and exits with an HTTP_EXIT_* code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "corral/xalloc.h"
#include "worker/sup_config.h"
#include "worker/supervisor.h"

#define HTTP_ERR_FD 3

_Static_assert(CURL_ERROR_SIZE <= HTTP_ERROR_MAX, "fd 3 must hold curl's error text");

struct http_ctx {
    CURL *curl;
    int fd;
    bool status_written;
};

static void write_status_line(struct http_ctx *h)
{
    if (h->status_written)
        return;
    long status = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0) {
        dprintf(h->fd, "HTTP %ld\n", status);
        h->status_written = true;
    }
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_ctx *h = userdata;
    size_t len = size * nmemb, off = 0;
    write_status_line(h);
    while (off < len) {
        ssize_t w = write(h->fd, ptr + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0; /* aborts the transfer */
        off += (size_t)w;
    }
    return len;
}

/* Perform the request; report "<status> <error>" on errfd; returns the child's exit code. */

/* "Key: value" lines of a header map, appended to list. */
static struct curl_slist *append_headers(struct curl_slist *list, const struct corral_kv *kv,
                                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t size = strlen(kv[i].key) + strlen(kv[i].value) + 3;
        char *hl = corral_xmalloc(size);
        snprintf(hl, size, "%s: %s", kv[i].key, kv[i].value);
        list = curl_slist_append(list, hl);
        free(hl);
    }
    return list;
}

static int http_run(const struct sup_config *s, int outfd, int errfd)
{
    const struct corral_http_spec *hs = &s->spec.http;
    char errbuf[CURL_ERROR_SIZE] = "";
    char line[64];
    int code = HTTP_EXIT_CURL;
    struct curl_slist *hdrs = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dprintf(errfd, "0 curl: cannot initialise");
        return HTTP_EXIT_CURL;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        dprintf(errfd, "0 curl: cannot initialise");
        return HTTP_EXIT_CURL;
    }
    hdrs = append_headers(hdrs, hs->headers, hs->n_headers);
    hdrs = append_headers(hdrs, hs->secret_headers, hs->n_secret_headers);
    snprintf(line, sizeof line, "X-Corral-Task-Id: %s", s->task_id);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof line, "X-Corral-Attempt: %u", s->attempt);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof line, "X-Corral-Epoch: %llu", (unsigned long long)s->epoch);
    hdrs = curl_slist_append(hdrs, line);

    struct http_ctx h = {.curl = c, .fd = outfd};
    curl_easy_setopt(c, CURLOPT_URL, hs->url);
    /* Only http(s), also after redirects: no file://, gopher:// or dict:// at ZooKeeper. */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->spec.timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
    const char *m = hs->method ? hs->method : "GET";
    if (strcmp(m, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(m, "GET") != 0 || hs->body)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    if (hs->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(hs->body));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, hs->body);
    } else if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }

    CURLcode rc = curl_easy_perform(c);
    write_status_line(&h);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        dprintf(errfd, "%ld curl: %s", status, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        code = rc == CURLE_OPERATION_TIMEDOUT ? HTTP_EXIT_TIMEDOUT : HTTP_EXIT_CURL;
    } else {
        code = HTTP_EXIT_STATUS;
        for (size_t i = 0; i < hs->n_expect; i++)
            if (hs->expect_status[i] == status)
                code = HTTP_EXIT_OK;
        if (code == HTTP_EXIT_OK)
            dprintf(errfd, "%ld ", status);
        else
            dprintf(errfd, "%ld HTTP status %ld not in expect_status", status, status);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return code;
}

int http_task_main(void)
{
    struct sup_config c;
    if (sup_config_read(STDIN_FILENO, &c) != 0) {
        dprintf(HTTP_ERR_FD, "0 bad configuration");
        sup_config_cleanup(&c);
        return HTTP_EXIT_CURL;
    }
    int code = http_run(&c, STDOUT_FILENO, HTTP_ERR_FD);
    sup_config_cleanup(&c);
    return code;
}
