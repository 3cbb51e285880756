/* SPDX-License-Identifier: MIT */
/*
 * Log line formatting (include/corral/log.h, STYLE §6): level names and the one-line shape
 * "2026-11-24T08:52:52.123Z info corrald[4242] leader: message\n". Pure: the time comes in as
 * an argument and the civil date is computed here, independent of the C library's time zone
 * handling.
 * Writing the line is the sink's job (src/io/log.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "corral/log.h"

static const char *const level_names[] = {
#define CORRAL_X_NAME(e, s) s,
    CORRAL_LOG_LEVELS(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};

_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == CORRAL_LOG_LEVEL_COUNT,
               "log level table size");

const char *corral_log_level_name(enum corral_log_level l)
{
    if ((int)l < 0 || (int)l >= CORRAL_LOG_LEVEL_COUNT)
        return "unknown";
    return level_names[l];
}

int corral_log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < CORRAL_LOG_LEVEL_COUNT; i++) {
        if (strcmp(name, level_names[i]) == 0)
            return i;
    }
    return -1;
}

/* Floor division: times before 1970 still land in the right day and second. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

struct civil {
    int64_t year;
    unsigned month, day, hour, min, sec, ms;
};

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static struct civil civil_from_ms(int64_t wall_ms)
{
    struct civil c;
    int64_t days = floor_div(wall_ms, 86400000);
    int64_t rem = wall_ms - days * 86400000; /* 0 .. 86399999 */
    c.ms = (unsigned)(rem % 1000);
    c.sec = (unsigned)(rem / 1000 % 60);
    c.min = (unsigned)(rem / 60000 % 60);
    c.hour = (unsigned)(rem / 3600000);

    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    c.day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
    return c;
}

/* Length of s[0..len) without a UTF-8 sequence that truncation cut short at the end. */
static size_t utf8_cut(const char *s, size_t len)
{
    size_t i = len, back = 0;
    while (i > 0 && back < 3 && ((unsigned char)s[i - 1] & 0xc0u) == 0x80u) {
        i--;
        back++;
    }
    if (i == 0)
        return len;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0u ? 4 : lead >= 0xe0u ? 3 : lead >= 0xc0u ? 2 : 1;
    if (need > 1 && len - (i - 1) < need)
        return i - 1;
    return len;
}

size_t corral_log_format(char *buf, size_t n, int64_t wall_ms, enum corral_log_level level,
                         const char *prog, long pid, const char *module, const char *fmt,
                         va_list ap)
{
    if (n == 0)
        return 0;
    if (n == 1) {
        buf[0] = '\0';
        return 0;
    }
    /* The text must leave room for the final "\n" and NUL. */
    size_t room = n - 1;

    /* Years outside 0..9999 cannot occur for real clocks; clamp so the field stays 4 digits. */
    if (wall_ms < -62167219200000)
        wall_ms = -62167219200000; /* 0000-01-01T00:00:00.000Z */
    if (wall_ms > 253402300799999)
        wall_ms = 253402300799999; /* 9999-12-31T23:59:59.999Z */
    struct civil c = civil_from_ms(wall_ms);

    int head =
        snprintf(buf, room, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ %s %s[%ld] %s: ", (int)c.year,
                 c.month, c.day, c.hour, c.min, c.sec, c.ms, corral_log_level_name(level),
                 prog ? prog : "corral", pid, module ? module : "-");
    size_t len;
    bool truncated = false;
    if (head < 0) {
        len = 0;
        buf[0] = '\0';
    } else if ((size_t)head >= room) {
        len = room - 1;
        truncated = true;
    } else {
        len = (size_t)head;
        int body = fmt ? vsnprintf(buf + len, room - len, fmt, ap) : 0;
        if (body < 0)
            buf[len] = '\0';
        else if ((size_t)body >= room - len) {
            len = room - 1;
            truncated = true;
        } else
            len += (size_t)body;
    }
    if (truncated) /* do not end inside a UTF-8 sequence */
        len = utf8_cut(buf, len);
    /* One line per entry: a message must not forge or split lines. */
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    }
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

/* ------------------------------------------------------------------ JSON lines */

/* A bounded writer: appends nothing more once a piece does not fit below lim. */
struct jw {
    char *buf;
    size_t len, lim;
    bool full;
};

static void jw_raw(struct jw *w, const char *s, size_t k)
{
    if (w->full || w->len + k > w->lim) {
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, s, k);
    w->len += k;
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t need;
    unsigned min;
    if (c < 0x80u)
        return 1;
    if (c >= 0xc2u && c <= 0xdfu) {
        need = 2;
        min = 0x80u;
    } else if (c >= 0xe0u && c <= 0xefu) {
        need = 3;
        min = 0x800u;
    } else if (c >= 0xf0u && c <= 0xf4u) {
        need = 4;
        min = 0x10000u;
    } else {
        return 0;
    }
    if (avail < need)
        return 0;
    unsigned cp = c & (need == 2 ? 0x1fu : need == 3 ? 0x0fu : 0x07u);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffffu || (cp >= 0xd800u && cp <= 0xdfffu))
        return 0;
    return need;
}

/* A JSON string of s[0..k): escaped, invalid UTF-8 as U+FFFD; cut (whole characters) when
 * max_out bytes of output would be passed. */
static void jw_str(struct jw *w, const char *s, size_t k, size_t max_out)
{
    size_t start = w->len;
    jw_raw(w, "\"", 1);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < k && !w->full;) {
        char esc[8];
        const char *piece;
        size_t plen, adv;
        size_t seq = utf8_seq(u + i, k - i);
        if (seq == 0) {
            piece = "\\ufffd";
            plen = 6;
            adv = 1;
        } else if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u[i];
            piece = esc;
            plen = 2;
            adv = 1;
        } else if (u[i] < 0x20u || u[i] == 0x7fu) {
            snprintf(esc, sizeof esc, "\\u%04x", u[i]);
            piece = esc;
            plen = 6;
            adv = 1;
        } else {
            piece = s + i;
            plen = seq;
            adv = seq;
        }
        if (w->len - start + plen + 1 > max_out || w->len + plen + 1 > w->lim)
            break; /* room for the closing quote stays */
        jw_raw(w, piece, plen);
        i += adv;
    }
    w->full = false;
    jw_raw(w, "\"", 1);
}

/* ,"key":<value> as one piece: all of it or nothing. */
static void jw_field(struct jw *w, const char *key, const char *val, size_t vlen, bool number)
{
    size_t mark = w->len;
    jw_raw(w, ",", 1);
    jw_str(w, key, strlen(key), (size_t)-1);
    jw_raw(w, ":", 1);
    if (number)
        jw_raw(w, val, vlen);
    else
        jw_str(w, val, vlen, (size_t)-1);
    if (w->full || w->len > w->lim) {
        w->len = mark;
        w->full = false;
    }
}

static bool is_int(const char *v, size_t k)
{
    size_t i = v[0] == '-' ? 1 : 0;
    if (k <= i || k - i > 18 || (v[i] == '0' && k - i > 1))
        return false;
    for (; i < k; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

#define LOG_JSON_KEYS_MAX 24
#define LOG_JSON_KEY_MAX  32

size_t corral_log_json(char *buf, size_t n, int64_t wall_ms, enum corral_log_level level,
                       const char *prog, long pid, const char *module, const char *ctx_key,
                       const char *ctx_val, const char *msg)
{
    if (n < 4) {
        if (n > 0)
            buf[0] = '\0';
        return 0;
    }
    if (wall_ms < -62167219200000)
        wall_ms = -62167219200000;
    if (wall_ms > 253402300799999)
        wall_ms = 253402300799999;
    struct civil c = civil_from_ms(wall_ms);
    /* Room for "}\n" and the NUL stays below lim. */
    struct jw w = {.buf = buf, .len = 0, .lim = n - 3};
    char head[160];
    int h = snprintf(
        head, sizeof head, "{\"ts\":\"%04d-%02u-%02uT%02u:%02u:%02u.%03uZ\",\"level\":\"%s\"",
        (int)c.year, c.month, c.day, c.hour, c.min, c.sec, c.ms, corral_log_level_name(level));
    jw_raw(&w, head, h > 0 ? (size_t)h : 0);
    const char *p = prog ? prog : "corral";
    jw_field(&w, "prog", p, strlen(p), false);
    char num[24];
    int k = snprintf(num, sizeof num, "%ld", pid);
    jw_field(&w, "pid", num, (size_t)k, true);
    const char *m = module ? module : "-";
    jw_field(&w, "module", m, strlen(m), false);
    const char *text = msg ? msg : "";
    size_t tlen = strlen(text);
    /* The message may take what is left but a reserve for the context and a few fields. */
    size_t left = w.lim > w.len ? w.lim - w.len : 0;
    size_t reserve = left / 3 < 400 ? left / 3 : 400;
    size_t mark = w.len;
    jw_raw(&w, ",\"msg\":", 7);
    if (!w.full)
        jw_str(&w, text, tlen, left - reserve - 8);
    if (w.full) {
        w.len = mark;
        w.full = false;
    }
    char keys[LOG_JSON_KEYS_MAX][LOG_JSON_KEY_MAX + 1];
    size_t n_keys = 0;
    static const char *const fixed[] = {"ts", "level", "prog", "pid", "module", "msg"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        snprintf(keys[n_keys++], sizeof keys[0], "%s", fixed[i]);
    if (ctx_key && ctx_val && strlen(ctx_key) <= LOG_JSON_KEY_MAX) {
        jw_field(&w, ctx_key, ctx_val, strlen(ctx_val), false);
        snprintf(keys[n_keys++], sizeof keys[0], "%s", ctx_key);
    }
    /* key=value words of the message */
    for (size_t i = 0; i < tlen && n_keys < LOG_JSON_KEYS_MAX;) {
        if (i > 0 && text[i - 1] != ' ') {
            i++;
            continue;
        }
        size_t ks = i;
        while (i < tlen && ((text[i] >= 'a' && text[i] <= 'z') || text[i] == '_' ||
                            (i > ks && text[i] >= '0' && text[i] <= '9')))
            i++;
        size_t klen = i - ks;
        if (klen == 0 || klen > LOG_JSON_KEY_MAX || i >= tlen || text[i] != '=') {
            i = i > ks ? i : i + 1;
            continue;
        }
        char key[LOG_JSON_KEY_MAX + 1];
        memcpy(key, text + ks, klen);
        key[klen] = '\0';
        i++; /* '=' */
        const char *v = text + i;
        size_t vlen;
        bool quoted = i < tlen && text[i] == '"';
        if (quoted) {
            /* to the first unescaped '"' before a space or the end */
            size_t j = i + 1, end = 0;
            for (; j < tlen; j++) {
                if (text[j] == '\\') {
                    j++;
                    continue;
                }
                if (text[j] == '"' && (j + 1 == tlen || text[j + 1] == ' ')) {
                    end = j;
                    break;
                }
            }
            if (end == 0) {
                vlen = strcspn(v, " ");
            } else {
                v = text + i + 1;
                vlen = end - i - 1;
                i = end + 1;
            }
        }
        if (!quoted || v == text + i) {
            vlen = strcspn(text + i, " ");
            v = text + i;
            i += vlen;
        }
        bool seen = false;
        for (size_t q = 0; q < n_keys && !seen; q++)
            seen = strcmp(keys[q], key) == 0;
        if (seen)
            continue;
        snprintf(keys[n_keys++], sizeof keys[0], "%s", key);
        jw_field(&w, key, v, vlen, !quoted && is_int(v, vlen));
    }
    w.lim = n - 1;
    w.full = false;
    jw_raw(&w, "}\n", 2);
    buf[w.len] = '\0';
    return w.len;
}
