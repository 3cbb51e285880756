/* SPDX-License-Identifier: MIT */
/*
 * A very small SVG writer: the few primitives corral-sim's charts need (rectangles, lines,
 * polylines, polygons, text), written straight to a FILE. Text is XML-escaped; numbers are
 * printed with two decimals. No external tool, no fonts beyond the viewer's sans-serif.
 */
#ifndef CORRAL_SIM_SVG_H
#define CORRAL_SIM_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "corral/error.h"

/* <svg> header with a white background; width and height in px. */
void svg_begin(FILE *f, double width, double height);
void svg_end(FILE *f);
/* fill/stroke are CSS colours or "none". */
void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill,
              const char *stroke);
/* dash: a stroke-dasharray such as "3,3", or NULL for solid. */
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke, double width,
              const char *dash);
/* xy holds n points as x0, y0, x1, y1, ... */
void svg_polyline(FILE *f, const double *xy, size_t n, const char *stroke, double width);
void svg_polygon(FILE *f, const double *xy, size_t n, const char *fill, double opacity);
/* anchor: "start", "middle" or "end"; the text is printf-formatted, then escaped. */
void svg_text(FILE *f, double x, double y, double size, const char *anchor, const char *fill,
              const char *fmt, ...) CORRAL_PRINTF(7, 8);
/* Same, rotated by -90 degrees around (x, y) (a vertical axis title). */
void svg_text_vertical(FILE *f, double x, double y, double size, const char *text);

#endif
