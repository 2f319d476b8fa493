/* Growable output string (see strbuf.h). */
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void etw_strbuf_reset(etw_strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

void etw_strbuf_free(etw_strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}

int etw_strbuf_reserve(etw_strbuf *sb, size_t extra)
{
    if (extra < sb->cap - sb->len)
        return 0;
    if (extra > SIZE_MAX / 2 - sb->len) {
        sb->failed = 1;
        return -1;
    }
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap - sb->len <= extra)
        cap *= 2;
    char *grown = realloc(sb->data, cap);
    if (!grown) {
        sb->failed = 1;
        return -1;
    }
    sb->data = grown;
    sb->cap = cap;
    return 0;
}

void etw_strbuf_append(etw_strbuf *sb, const char *s, size_t n)
{
    if (etw_strbuf_reserve(sb, n) != 0)
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void etw_strbuf_puts(etw_strbuf *sb, const char *s)
{
    etw_strbuf_append(sb, s, strlen(s));
}

void etw_strbuf_putc(etw_strbuf *sb, char c)
{
    etw_strbuf_append(sb, &c, 1);
}

void etw_strbuf_printf(etw_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        etw_strbuf_append(sb, small, (size_t)n);
        return;
    }
    if (etw_strbuf_reserve(sb, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void etw_strbuf_u64(etw_strbuf *sb, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    etw_strbuf_append(sb, tmp + i, sizeof tmp - i);
}

void etw_strbuf_i64(etw_strbuf *sb, int64_t v)
{
    if (v < 0) {
        etw_strbuf_putc(sb, '-');
        etw_strbuf_u64(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        etw_strbuf_u64(sb, (uint64_t)v);
    }
}

void etw_strbuf_hex(etw_strbuf *sb, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n > SIZE_MAX / 2 || etw_strbuf_reserve(sb, n * 2) != 0)
        return;
    char *o = sb->data + sb->len;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = digits[p[i] >> 4];
        o[2 * i + 1] = digits[p[i] & 15];
    }
    sb->len += n * 2;
    sb->data[sb->len] = '\0';
}

void etw_strbuf_json_string(etw_strbuf *sb, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        etw_strbuf_append(sb, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': etw_strbuf_puts(sb, "\\\""); break;
        case '\\': etw_strbuf_puts(sb, "\\\\"); break;
        case '\n': etw_strbuf_puts(sb, "\\n"); break;
        case '\r': etw_strbuf_puts(sb, "\\r"); break;
        case '\t': etw_strbuf_puts(sb, "\\t"); break;
        default: etw_strbuf_printf(sb, "\\u%04x", c); break;
        }
    }
    etw_strbuf_append(sb, s + start, n - start);
}
