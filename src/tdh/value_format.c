/* Renders one property value as text or JSON. Our formats are stable and documented in
 * docs/decoding.md; they do not try to be byte-identical to Windows' localised TDH output. */
#include "tdh/prop_value.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/map_format.h"

/* Windows-1252 0x80..0x9F; the rest of the code page coincides with Latin-1. */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

void etw_format_ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8)
{
    if (utf8) {
        etw_strbuf_append(out, (const char *)p, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t c = p[i];
        if (c < 0x80) {
            etw_strbuf_putc(out, (char)c);
            continue;
        }
        if (c < 0xA0)
            c = cp1252_hi[c - 0x80];
        uint8_t u[2] = {(uint8_t)c, (uint8_t)(c >> 8)};
        etw_utf16_to_utf8(out, u, 2);
    }
}

void etw_format_filetime(etw_strbuf *out, uint64_t ft)
{
    /* Civil date from days since 1601-01-01 (proleptic Gregorian). */
    uint64_t secs = ft / 10000000u, frac = ft % 10000000u;
    int64_t days = (int64_t)(secs / 86400u) - 134774; /* days from 1970-01-01 */
    uint32_t sod = (uint32_t)(secs % 86400u);
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    etw_strbuf_printf(out, "%04lld-%02lld-%02lldT%02u:%02u:%02u.%07lluZ", (long long)y, (long long)m,
                      (long long)d, sod / 3600, sod / 60 % 60, sod % 60, (unsigned long long)frac);
}

void etw_format_sid(etw_strbuf *out, const uint8_t *p, size_t n)
{
    if (n < 8 || (size_t)8 + 4u * p[1] > n) {
        etw_strbuf_puts(out, "S-?");
        return;
    }
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
        auth = auth << 8 | p[i];
    etw_strbuf_printf(out, "S-%u-", p[0]);
    if (auth >> 32)
        etw_strbuf_printf(out, "0x%012llX", (unsigned long long)auth);
    else
        etw_strbuf_u64(out, auth);
    for (unsigned i = 0; i < p[1]; i++)
        etw_strbuf_printf(out, "-%u", etw_rd32(p + 8 + 4 * i));
}

static void format_ipv6(etw_strbuf *out, const uint8_t *p)
{
    /* RFC 5952: the longest run (>= 2) of zero groups becomes "::". */
    int best = -1, bestlen = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && p[2 * j] == 0 && p[2 * j + 1] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            etw_strbuf_puts(out, "::");
            i += bestlen - 1;
            continue;
        }
        if (i && i != best + bestlen)
            etw_strbuf_putc(out, ':');
        etw_strbuf_printf(out, "%x", (unsigned)(p[2 * i] << 8 | p[2 * i + 1]));
    }
}

static void format_sockaddr(etw_strbuf *out, const uint8_t *p, size_t n)
{
    uint16_t family = n >= 2 ? etw_rd16(p) : 0;
    if (family == 2 && n >= 8) {
        etw_strbuf_printf(out, "%u.%u.%u.%u:%u", p[4], p[5], p[6], p[7], (unsigned)(p[2] << 8 | p[3]));
    } else if (family == 23 && n >= 24) {
        etw_strbuf_putc(out, '[');
        format_ipv6(out, p + 8);
        etw_strbuf_printf(out, "]:%u", (unsigned)(p[2] << 8 | p[3]));
    } else {
        etw_strbuf_puts(out, "0x");
        etw_strbuf_hex(out, p, n);
    }
}

static void format_systemtime(etw_strbuf *out, const uint8_t *p)
{
    etw_strbuf_printf(out, "%04u-%02u-%02uT%02u:%02u:%02u.%03u", etw_rd16(p), etw_rd16(p + 2),
                      etw_rd16(p + 6), etw_rd16(p + 8), etw_rd16(p + 10), etw_rd16(p + 12),
                      etw_rd16(p + 14));
}

static void format_double(etw_strbuf *out, double v, int json, int single)
{
    if (!isfinite(v)) {
        etw_strbuf_puts(out, json ? "null" : (isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"));
        return;
    }
    etw_strbuf_printf(out, single ? "%.9g" : "%.17g", v);
}

/* Text of string-like values goes through a scratch buffer so JSON can escape it. */
static void put_text(etw_strbuf *out, int json, const char *s, size_t n)
{
    if (json) {
        etw_strbuf_putc(out, '"');
        etw_strbuf_json_string(out, s, n);
        etw_strbuf_putc(out, '"');
    } else {
        etw_strbuf_append(out, s, n);
    }
}

static void put_u64(etw_strbuf *out, int json, uint64_t v)
{
    /* JSON numbers beyond 2^53 would lose precision in a double: quote them. */
    int q = json && v > (1ull << 53);
    if (q)
        etw_strbuf_putc(out, '"');
    etw_strbuf_u64(out, v);
    if (q)
        etw_strbuf_putc(out, '"');
}

static void put_i64(etw_strbuf *out, int json, int64_t v)
{
    int q = json && (v > (int64_t)(1ll << 53) || v < -(int64_t)(1ll << 53));
    if (q)
        etw_strbuf_putc(out, '"');
    etw_strbuf_i64(out, v);
    if (q)
        etw_strbuf_putc(out, '"');
}

static void put_hex(etw_strbuf *out, int json, uint64_t v, const char *fmt)
{
    if (json)
        etw_strbuf_putc(out, '"');
    etw_strbuf_printf(out, fmt, (unsigned long long)v);
    if (json)
        etw_strbuf_putc(out, '"');
}

static int64_t sign_extend(uint64_t v, size_t size)
{
    if (size >= 8)
        return (int64_t)v;
    uint64_t m = 1ull << (size * 8 - 1);
    return (int64_t)((v ^ m) - m);
}

static int is_signed_in(uint16_t in)
{
    return in == TDH_INTYPE_INT8 || in == TDH_INTYPE_INT16 || in == TDH_INTYPE_INT32 ||
           in == TDH_INTYPE_INT64;
}

static uint32_t format_integer(etw_strbuf *out, int json, uint16_t in, uint16_t ot,
                               const uint8_t *p, size_t size)
{
    uint64_t v = etw_value_uint(in, p, size);
    switch (ot) {
    case TDH_OUTTYPE_BOOLEAN:
        etw_strbuf_puts(out, v ? "true" : "false");
        return 0;
    case TDH_OUTTYPE_STRING:
        if (size == 1 || size == 2) { /* an ANSI (CP1252) or UTF-16 character */
            etw_strbuf tmp = {0};
            if (size == 1)
                etw_format_ansi(&tmp, p, v ? 1 : 0, 0);
            else
                etw_utf16_to_utf8(&tmp, p, v ? 2 : 0);
            put_text(out, json, tmp.data ? tmp.data : "", tmp.len);
            etw_strbuf_free(&tmp);
            return 0;
        }
        break;
    case TDH_OUTTYPE_HEXINT8:
    case TDH_OUTTYPE_HEXINT16:
    case TDH_OUTTYPE_HEXINT32:
    case TDH_OUTTYPE_HEXINT64:
    case TDH_OUTTYPE_CODE_POINTER:
        put_hex(out, json, v, "0x%llx");
        return 0;
    case TDH_OUTTYPE_WIN32ERROR:
    case TDH_OUTTYPE_NTSTATUS:
    case TDH_OUTTYPE_HRESULT:
    case TDH_OUTTYPE_ERRORCODE:
        put_hex(out, json, v, size == 8 ? "0x%016llX" : "0x%08llX");
        return 0;
    case TDH_OUTTYPE_PORT:
        if (size == 2) {
            put_u64(out, json, (uint64_t)(p[0] << 8 | p[1]));
            return 0;
        }
        break;
    case TDH_OUTTYPE_IPV4:
        if (size == 4) {
            char b[16];
            int k = snprintf(b, sizeof b, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
            put_text(out, json, b, (size_t)k);
            return 0;
        }
        break;
    case TDH_OUTTYPE_DATETIME:
    case TDH_OUTTYPE_DATETIME_UTC:
    case TDH_OUTTYPE_CULTURE_INSENSITIVE_DATETIME:
        if (size == 8) {
            etw_strbuf tmp = {0};
            etw_format_filetime(&tmp, v);
            put_text(out, json, tmp.data ? tmp.data : "", tmp.len);
            etw_strbuf_free(&tmp);
            return 0;
        }
        break;
    case TDH_OUTTYPE_BYTE:
    case TDH_OUTTYPE_SHORT:
    case TDH_OUTTYPE_INT:
    case TDH_OUTTYPE_LONG:
        put_i64(out, json, sign_extend(v, size));
        return 0;
    case TDH_OUTTYPE_UNSIGNEDBYTE:
    case TDH_OUTTYPE_UNSIGNEDSHORT:
    case TDH_OUTTYPE_UNSIGNEDINT:
    case TDH_OUTTYPE_UNSIGNEDLONG:
    case TDH_OUTTYPE_PID:
    case TDH_OUTTYPE_TID:
    case TDH_OUTTYPE_ETWTIME:
        put_u64(out, json, v);
        return 0;
    default:
        break;
    }
    /* Unrecognised pairing: as if out-type were NULL (notes §1.6). */
    if (in == TDH_INTYPE_HEXINT32 || in == TDH_INTYPE_HEXINT64 || in == TDH_INTYPE_POINTER ||
        in == TDH_INTYPE_SIZET)
        put_hex(out, json, v, "0x%llx");
    else if (is_signed_in(in))
        put_i64(out, json, sign_extend(v, size));
    else
        put_u64(out, json, v);
    return 0;
}

static void format_string(etw_strbuf *out, int json, uint16_t in, uint16_t ot, const uint8_t *p,
                          size_t size)
{
    etw_strbuf tmp = {0};
    int wide = in == TDH_INTYPE_UNICODESTRING || in == TDH_INTYPE_MANIFEST_COUNTEDSTRING ||
               in == TDH_INTYPE_COUNTEDSTRING || in == TDH_INTYPE_REVERSEDCOUNTEDSTRING ||
               in == TDH_INTYPE_NONNULLTERMINATEDSTRING || in == TDH_INTYPE_UNICODECHAR;
    size_t skip = (in == TDH_INTYPE_MANIFEST_COUNTEDSTRING || in == TDH_INTYPE_COUNTEDSTRING ||
                   in == TDH_INTYPE_REVERSEDCOUNTEDSTRING || in == TDH_INTYPE_MANIFEST_COUNTEDANSISTRING ||
                   in == TDH_INTYPE_COUNTEDANSISTRING || in == TDH_INTYPE_REVERSEDCOUNTEDANSISTRING)
                      ? 2 : 0;
    p += skip;
    size -= skip;
    if (wide) {
        etw_utf16_to_utf8(&tmp, p, etw_utf16_span(p, size, NULL));
    } else {
        size_t n = 0;
        while (n < size && p[n])
            n++;
        int utf8 = ot == TDH_OUTTYPE_UTF8 || ot == TDH_OUTTYPE_JSON || ot == TDH_OUTTYPE_XML;
        etw_format_ansi(&tmp, p, n, utf8);
    }
    put_text(out, json, tmp.data ? tmp.data : "", tmp.len);
    etw_strbuf_free(&tmp);
}

static void format_binary(etw_strbuf *out, int json, uint16_t ot, const uint8_t *p, size_t size)
{
    etw_strbuf tmp = {0};
    if (ot == TDH_OUTTYPE_IPV6 && size == 16)
        format_ipv6(&tmp, p);
    else if (ot == TDH_OUTTYPE_SOCKETADDRESS)
        format_sockaddr(&tmp, p, size);
    else if (ot == TDH_OUTTYPE_STRING || ot == TDH_OUTTYPE_UTF8)
        etw_format_ansi(&tmp, p, size, 1);
    else {
        etw_strbuf_puts(&tmp, "0x");
        etw_strbuf_hex(&tmp, p, size);
    }
    put_text(out, json, tmp.data ? tmp.data : "", tmp.len);
    etw_strbuf_free(&tmp);
}

uint32_t etw_value_format(etw_strbuf *out, unsigned flags, uint16_t in, uint16_t ot,
                          const uint8_t *p, size_t size, unsigned ptr, const EVENT_MAP_INFO *map,
                          size_t map_size)
{
    int json = flags & ETW_FMT_JSON;
    size_t need;
    if (in == TDH_INTYPE_UNICODESTRING || in == TDH_INTYPE_ANSISTRING || in == TDH_INTYPE_BINARY ||
        in == TDH_INTYPE_NONNULLTERMINATEDSTRING || in == TDH_INTYPE_NONNULLTERMINATEDANSISTRING)
        need = size; /* the caller sized these (length, terminator or rest of payload) */
    else
        need = etw_value_size(in, ot, 0, 0, ptr, p, size);
    if (need == ETW_SIZE_BAD || need > size)
        return ERROR_EVT_INVALID_EVENT_DATA;
    if (map && etw_value_is_countable(in)) {
        uint32_t r = etw_map_format(out, json, (uint32_t)etw_value_uint(in, p, need), map, map_size);
        if (r == 0)
            return 0;
        if (flags & ETW_FMT_STRICT_MAP)
            return r;
    }
    switch (in) {
    case TDH_INTYPE_UNICODESTRING:
    case TDH_INTYPE_ANSISTRING:
    case TDH_INTYPE_MANIFEST_COUNTEDSTRING:
    case TDH_INTYPE_MANIFEST_COUNTEDANSISTRING:
    case TDH_INTYPE_COUNTEDSTRING:
    case TDH_INTYPE_COUNTEDANSISTRING:
    case TDH_INTYPE_REVERSEDCOUNTEDSTRING:
    case TDH_INTYPE_REVERSEDCOUNTEDANSISTRING:
    case TDH_INTYPE_NONNULLTERMINATEDSTRING:
    case TDH_INTYPE_NONNULLTERMINATEDANSISTRING:
    case TDH_INTYPE_UNICODECHAR:
    case TDH_INTYPE_ANSICHAR:
        format_string(out, json, in, ot, p, need);
        return 0;
    case TDH_INTYPE_FLOAT: {
        float f;
        uint32_t u = etw_rd32(p);
        memcpy(&f, &u, 4);
        format_double(out, f, json, 1);
        return 0;
    }
    case TDH_INTYPE_DOUBLE: {
        double d;
        uint64_t u = etw_rd64(p);
        memcpy(&d, &u, 8);
        format_double(out, d, json, 0);
        return 0;
    }
    case TDH_INTYPE_BOOLEAN:
        etw_strbuf_puts(out, etw_rd32(p) ? "true" : "false");
        return 0;
    case TDH_INTYPE_GUID: {
        GUID g = etw_guid_read(p);
        char s[37];
        etw_guid_format(&g, s);
        put_text(out, json, s, 36);
        return 0;
    }
    case TDH_INTYPE_FILETIME:
        return format_integer(out, json, TDH_INTYPE_UINT64,
                              ot == TDH_OUTTYPE_NULL ? TDH_OUTTYPE_DATETIME : ot, p, 8);
    case TDH_INTYPE_SYSTEMTIME: {
        etw_strbuf tmp = {0};
        format_systemtime(&tmp, p);
        put_text(out, json, tmp.data ? tmp.data : "", tmp.len);
        etw_strbuf_free(&tmp);
        return 0;
    }
    case TDH_INTYPE_SID:
    case TDH_INTYPE_WBEMSID: {
        etw_strbuf tmp = {0};
        size_t skip = in == TDH_INTYPE_WBEMSID ? (need == 4 ? need : 2u * ptr) : 0;
        if (in == TDH_INTYPE_WBEMSID && need == 4)
            etw_strbuf_puts(&tmp, "");
        else
            etw_format_sid(&tmp, p + skip, need - skip);
        put_text(out, json, tmp.data ? tmp.data : "", tmp.len);
        etw_strbuf_free(&tmp);
        return 0;
    }
    case TDH_INTYPE_BINARY:
        format_binary(out, json, ot, p, need);
        return 0;
    case TDH_INTYPE_MANIFEST_COUNTEDBINARY:
        format_binary(out, json, ot, p + 2, need - 2);
        return 0;
    case TDH_INTYPE_HEXDUMP:
        format_binary(out, json, ot, p + 4, need - 4);
        return 0;
    default:
        if (need == 0 || need > 8)
            return ERROR_EVT_INVALID_EVENT_DATA;
        return format_integer(out, json, in, ot, p, need);
    }
}
