/* SPDX-License-Identifier: MIT */
/* A very small SVG writer (svg.h). */
#include <stdarg.h>
#include <stdio.h>

#include "sim/svg.h"

static void escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
            case '&':
                fputs("&amp;", f);
                break;
            case '<':
                fputs("&lt;", f);
                break;
            case '>':
                fputs("&gt;", f);
                break;
            case '"':
                fputs("&quot;", f);
                break;
            default:
                fputc(*s, f);
        }
    }
}

void svg_begin(FILE *f, double width, double height)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n",
            width, height, width, height);
    svg_rect(f, 0, 0, width, height, "white", "none");
}

void svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill, const char *stroke)
{
    fprintf(f,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
            "stroke=\"%s\"/>\n",
            x, y, w, h, fill, stroke);
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke, double width,
              const char *dash)
{
    fprintf(f,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.2f\"",
            x1, y1, x2, y2, stroke, width);
    if (dash)
        fprintf(f, " stroke-dasharray=\"%s\"", dash);
    fputs("/>\n", f);
}

static void points(FILE *f, const double *xy, size_t n)
{
    fputs(" points=\"", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.2f,%.2f", i ? " " : "", xy[2 * i], xy[2 * i + 1]);
    fputc('"', f);
}

void svg_polyline(FILE *f, const double *xy, size_t n, const char *stroke, double width)
{
    fputs("<polyline fill=\"none\"", f);
    fprintf(f, " stroke=\"%s\" stroke-width=\"%.2f\" stroke-linejoin=\"round\"", stroke, width);
    points(f, xy, n);
    fputs("/>\n", f);
}

void svg_polygon(FILE *f, const double *xy, size_t n, const char *fill, double opacity)
{
    fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"%.2f\" stroke=\"none\"", fill, opacity);
    points(f, xy, n);
    fputs("/>\n", f);
}

void svg_text(FILE *f, double x, double y, double size, const char *anchor, const char *fill,
              const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">", x,
            y, size, anchor, fill);
    escaped(f, buf);
    fputs("</text>\n", f);
}

void svg_text_vertical(FILE *f, double x, double y, double size, const char *text)
{
    fprintf(f,
            "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"middle\" "
            "fill=\"#333\" transform=\"rotate(-90 %.2f %.2f)\">",
            x, y, size, x, y);
    escaped(f, text);
    fputs("</text>\n", f);
}
