/* SPDX-License-Identifier: MIT */
/* The pure parts of /metrics (metrics.h). */
#include <stdio.h>

#include "corral/metrics.h"

const double corral_latency_le_s[CORRAL_LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,   0.25,   0.5,   1,    5,     60};
const double corral_wait_le_s[CORRAL_WAIT_BUCKETS] = {0.01, 0.05, 0.1, 0.5, 1,    5,
                                                      10,   30,   60,  300, 3600, 86400};

static const char *const band_names[CORRAL_BAND_COUNT] = {"low", "normal", "high", "urgent"};

enum corral_band corral_priority_band(int priority)
{
    if (priority < 0)
        return CORRAL_BAND_LOW;
    if (priority == 0)
        return CORRAL_BAND_NORMAL;
    return priority < 100 ? CORRAL_BAND_HIGH : CORRAL_BAND_URGENT;
}

const char *corral_band_name(enum corral_band b)
{
    return (unsigned)b < CORRAL_BAND_COUNT ? band_names[b] : "normal";
}

size_t corral_histo_index(const double *le, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        if (v <= le[i])
            return i;
    return n;
}

/* Account for k bytes an snprintf wrote at the end; -1 when they did not fit. */
static int put(size_t cap, size_t *len, int k)
{
    if (k < 0 || (size_t)k >= cap - *len)
        return -1;
    *len += (size_t)k;
    return 0;
}

int corral_metrics_histogram(char *buf, size_t cap, size_t len, const char *name, const char *help,
                             const double *le, size_t n, const uint64_t *counts, double sum)
{
    if (len >= cap)
        return -1;
    if (put(cap, &len,
            snprintf(buf + len, cap - len, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
                     name)) < 0)
        return -1;
    unsigned long long cum = 0;
    for (size_t i = 0; i <= n; i++) {
        cum += counts[i];
        int k =
            i < n ? snprintf(buf + len, cap - len, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], cum)
                  : snprintf(buf + len, cap - len, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
        if (put(cap, &len, k) < 0)
            return -1;
    }
    if (put(cap, &len,
            snprintf(buf + len, cap - len, "%s_sum %.6f\n%s_count %llu\n", name, sum, name, cum)) <
        0)
        return -1;
    return (int)len;
}
