/* SPDX-License-Identifier: MIT */
/* corral-sim's chart (plot.h): small multiples, one row per policy, shared axes. */
#include <math.h>
#include <stdlib.h>

#include "corral/xalloc.h"
#include "sim/plot.h"
#include "sim/svg.h"

#define WIDTH      980.0
#define TOP        78.0
#define ROW_H      132.0
#define PANEL_W    400.0
#define PANEL_H    82.0
#define LEFT_X     60.0
#define RIGHT_X    548.0
#define CDF_POINTS 400
#define UTIL_BINS  200

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                      "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

/* A round tick step that gives about 5 ticks up to max. */
static double nice_step(double max)
{
    if (!(max > 0.0))
        return 1.0;
    double raw = max / 5.0, mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

/* Number of waits <= x in sorted[0..n). */
static size_t count_le(const uint64_t *sorted, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)sorted[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Frame, grid and x ticks (in seconds, up to max_s) of one panel at (x, y). */
static void panel(FILE *f, double x, double y, double max_s, const char *y_top, const char *y_mid)
{
    svg_rect(f, x, y, PANEL_W, PANEL_H, "#fafafa", "#999");
    svg_line(f, x, y + PANEL_H / 2, x + PANEL_W, y + PANEL_H / 2, "#ddd", 1, "3,3");
    svg_text(f, x - 4, y + 4, 9, "end", "#555", "%s", y_top);
    svg_text(f, x - 4, y + PANEL_H / 2 + 3, 9, "end", "#555", "%s", y_mid);
    svg_text(f, x - 4, y + PANEL_H + 3, 9, "end", "#555", "0");
    double step = nice_step(max_s);
    for (int i = 1; i < 100 && step * i <= max_s * 1.0001; i++) {
        double tx = x + PANEL_W * step * i / max_s;
        svg_line(f, tx, y + PANEL_H, tx, y + PANEL_H + 3, "#999", 1, NULL);
        svg_text(f, tx, y + PANEL_H + 13, 9, "middle", "#555", "%g", step * i);
    }
    svg_text(f, x, y + PANEL_H + 13, 9, "middle", "#555", "0");
}

void sim_plot_svg(FILE *f, const struct sim_result *r, size_t n, const char *subtitle)
{
    /* Shared axes: waits up to the largest p99 (the tail beyond is cut at the right edge),
     * time up to the longest makespan. */
    double wmax = 0.0, tmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        if ((double)r[i].wait_p99_ms > wmax)
            wmax = (double)r[i].wait_p99_ms;
        if ((double)r[i].makespan_ms > tmax)
            tmax = (double)r[i].makespan_ms;
    }
    if (wmax <= 0.0)
        wmax = 1000.0;
    if (tmax <= 0.0)
        tmax = 1000.0;
    double wmax_s = wmax / 1000.0, tmax_s = tmax / 1000.0;
    double wstep = nice_step(wmax_s), tstep = nice_step(tmax_s);
    wmax_s = ceil(wmax_s / wstep) * wstep;
    tmax_s = ceil(tmax_s / tstep) * tstep;

    double height = TOP + (double)n * ROW_H + 24.0;
    svg_begin(f, WIDTH, height);
    svg_text(f, LEFT_X, 24, 16, "start", "#111",
             "corral-sim: wait times and utilisation by policy");
    svg_text(f, LEFT_X, 42, 11, "start", "#444", "%s", subtitle);
    svg_text(f, LEFT_X, 64, 11, "start", "#111",
             "wait-time CDF: share of tasks started within x s (axis to the largest p99)");
    svg_text(f, RIGHT_X, 64, 11, "start", "#111",
             "cluster cpu utilisation over time (x: s since the first submission)");

    double *xy = corral_xmalloc(sizeof(double) * 2 * (CDF_POINTS + UTIL_BINS + 4));
    double bins[UTIL_BINS];
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *s = &r[i];
        const char *col = palette[i % (sizeof palette / sizeof palette[0])];
        double y0 = TOP + (double)i * ROW_H;
        svg_text(f, LEFT_X, y0 + 12, 12, "start", col,
                 "%s / %s: mean wait %.2f s, p99 %.2f s, makespan %.1f s, utilisation %.0f%%, "
                 "fairness %.3f%s",
                 s->placement, s->order, s->wait_mean_ms / 1000.0, (double)s->wait_p99_ms / 1000.0,
                 (double)s->makespan_ms / 1000.0, s->utilisation * 100.0, s->fairness,
                 s->never_placed ? ", some never placed" : "");
        double py = y0 + 20;

        /* Wait CDF, sampled at CDF_POINTS x positions. */
        panel(f, LEFT_X, py, wmax_s, "1", "0.5");
        size_t k = 0;
        for (int p = 0; p <= CDF_POINTS && s->placed > 0; p++) {
            double x_s = wmax_s * p / CDF_POINTS;
            double frac = (double)count_le(s->waits, s->placed, x_s * 1000.0) / (double)s->placed;
            xy[2 * k] = LEFT_X + PANEL_W * p / CDF_POINTS;
            xy[2 * k + 1] = py + PANEL_H * (1.0 - frac);
            k++;
        }
        if (k > 0)
            svg_polyline(f, xy, k, col, 1.8);

        /* Utilisation, binned over the common time axis, as a filled area. */
        panel(f, RIGHT_X, py, tmax_s, "100%", "50%");
        sim_util_bins(s, (int64_t)(tmax_s * 1000.0), bins, UTIL_BINS);
        k = 0;
        xy[2 * k] = RIGHT_X;
        xy[2 * k + 1] = py + PANEL_H;
        k++;
        for (int b = 0; b < UTIL_BINS; b++) {
            double u = bins[b] > 1.0 ? 1.0 : bins[b];
            xy[2 * k] = RIGHT_X + PANEL_W * (b + 0.5) / UTIL_BINS;
            xy[2 * k + 1] = py + PANEL_H * (1.0 - u);
            k++;
        }
        xy[2 * k] = RIGHT_X + PANEL_W;
        xy[2 * k + 1] = py + PANEL_H;
        k++;
        svg_polygon(f, xy, k, col, 0.25);
        svg_polyline(f, xy + 2, k - 2, col, 1.2);
    }
    free(xy);
    svg_text(f, LEFT_X + PANEL_W / 2, height - 6, 10, "middle", "#333", "wait (s)");
    svg_text(f, RIGHT_X + PANEL_W / 2, height - 6, 10, "middle", "#333", "time (s)");
    svg_end(f);
}
