/* UTF-16 and GUID helpers (see text.h). */
#include "base/text.h"

#include <stdio.h>
#include <string.h>

#include "base/bytes.h"

size_t etw_utf16_span(const uint8_t *p, size_t n, int *terminated)
{
    n &= ~(size_t)1;
    for (size_t i = 0; i < n; i += 2) {
        if (p[i] == 0 && p[i + 1] == 0) {
            if (terminated)
                *terminated = 1;
            return i;
        }
    }
    if (terminated)
        *terminated = 0;
    return n;
}

static void put_utf8(etw_strbuf *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    etw_strbuf_append(out, b, n);
}

void etw_utf16_to_utf8(etw_strbuf *out, const uint8_t *p, size_t nbytes)
{
    nbytes &= ~(size_t)1;
    for (size_t i = 0; i < nbytes; i += 2) {
        uint32_t u = etw_rd16(p + i);
        if (u < 0x80) {
            etw_strbuf_putc(out, (char)u);
            continue;
        }
        if (u >= 0xD800 && u <= 0xDBFF && i + 4 <= nbytes) {
            uint32_t lo = etw_rd16(p + i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i += 2;
                continue;
            }
        }
        put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
    }
}

size_t etw_utf8_to_utf16(const char *s, WCHAR *out, size_t cap)
{
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        uint32_t cp;
        int extra;
        if (u[0] < 0x80) {
            cp = u[0];
            extra = 0;
        } else if ((u[0] & 0xE0) == 0xC0) {
            cp = u[0] & 0x1F;
            extra = 1;
        } else if ((u[0] & 0xF0) == 0xE0) {
            cp = u[0] & 0x0F;
            extra = 2;
        } else if ((u[0] & 0xF8) == 0xF0) {
            cp = u[0] & 0x07;
            extra = 3;
        } else {
            cp = 0xFFFD;
            extra = 0;
        }
        u++;
        for (int k = 0; k < extra; k++) {
            if ((*u & 0xC0) != 0x80) {
                cp = 0xFFFD;
                break;
            }
            cp = (cp << 6) | (*u++ & 0x3F);
        }
        size_t need = cp >= 0x10000 ? 2 : 1;
        if (o + need + 1 > cap)
            return (size_t)-1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[o++] = (WCHAR)(0xD800 + (cp >> 10));
            out[o++] = (WCHAR)(0xDC00 + (cp & 0x3FF));
        } else {
            out[o++] = (WCHAR)cp;
        }
    }
    if (o + 1 > cap)
        return (size_t)-1;
    out[o] = 0;
    return o;
}

void etw_wstr_to_utf8(etw_strbuf *out, const WCHAR *s)
{
    for (size_t i = 0; s[i]; i++) {
        uint32_t u = s[i];
        if (u >= 0xD800 && u <= 0xDBFF && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (s[i + 1] - 0xDC00u));
            i++;
            continue;
        }
        put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
    }
}

GUID etw_guid_read(const uint8_t *p)
{
    GUID g;
    g.Data1 = etw_rd32(p);
    g.Data2 = etw_rd16(p + 4);
    g.Data3 = etw_rd16(p + 6);
    memcpy(g.Data4, p + 8, 8);
    return g;
}

void etw_guid_format(const GUID *g, char out[37])
{
    /* Without printf: the CLI formats a GUID for every event it prints. */
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(g->Data1 >> (24 - 8 * i));
    b[4] = (uint8_t)(g->Data2 >> 8), b[5] = (uint8_t)g->Data2;
    b[6] = (uint8_t)(g->Data3 >> 8), b[7] = (uint8_t)g->Data3;
    memcpy(b + 8, g->Data4, 8);
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}

int etw_guid_equal(const GUID *a, const GUID *b)
{
    return a->Data1 == b->Data1 && a->Data2 == b->Data2 && a->Data3 == b->Data3 &&
           memcmp(a->Data4, b->Data4, 8) == 0;
}

int etw_guid_parse(const char *s, GUID *g)
{
    unsigned v[11];
    int used = 0;
    if (!s)
        return 0;
    if (*s == '{')
        s++;
    if (sscanf(s, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7], &v[8], &v[9], &v[10], &used) != 11 || used != 36)
        return 0;
    g->Data1 = v[0];
    g->Data2 = (USHORT)v[1];
    g->Data3 = (USHORT)v[2];
    for (int i = 0; i < 8; i++)
        g->Data4[i] = (UCHAR)v[3 + i];
    return 1;
}
