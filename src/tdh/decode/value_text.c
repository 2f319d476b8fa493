/* Text forms of structured values (times, SIDs, addresses, GUIDs): stable formats of our own,
 * documented in docs/decoding.md, written straight into the output without allocating. */
#include "tdh/decode/prop_value.h"

#include <string.h>

#include "base/bytes.h"
#include "tdh/decode/text_out.h"

void etw_format_ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8)
{
    etw_text_ansi(out, p, n, utf8, 0);
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
    /* y >= 1601: every field is non-negative */
    etw_strbuf_u64_pad(out, (uint64_t)y, 4);
    etw_strbuf_putc(out, '-');
    etw_strbuf_u64_pad(out, (uint64_t)m, 2);
    etw_strbuf_putc(out, '-');
    etw_strbuf_u64_pad(out, (uint64_t)d, 2);
    etw_strbuf_putc(out, 'T');
    etw_strbuf_u64_pad(out, sod / 3600, 2);
    etw_strbuf_putc(out, ':');
    etw_strbuf_u64_pad(out, sod / 60 % 60, 2);
    etw_strbuf_putc(out, ':');
    etw_strbuf_u64_pad(out, sod % 60, 2);
    etw_strbuf_putc(out, '.');
    etw_strbuf_u64_pad(out, frac, 7);
    etw_strbuf_putc(out, 'Z');
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
    etw_strbuf_puts(out, "S-");
    etw_strbuf_u64(out, p[0]);
    etw_strbuf_putc(out, '-');
    if (auth >> 32) {
        etw_strbuf_puts(out, "0x");
        etw_strbuf_hex_u64(out, auth, 12, 1);
    } else {
        etw_strbuf_u64(out, auth);
    }
    for (unsigned i = 0; i < p[1]; i++) {
        etw_strbuf_putc(out, '-');
        etw_strbuf_u64(out, etw_rd32(p + 8 + 4 * i));
    }
}

void etw_format_ipv4(etw_strbuf *out, const uint8_t *p)
{
    char s[16], *o = s; /* network events carry two per event: no call per byte */
    for (int i = 0; i < 4; i++) {
        unsigned b = p[i];
        if (i)
            *o++ = '.';
        if (b >= 100)
            *o++ = (char)('0' + b / 100);
        if (b >= 10)
            *o++ = (char)('0' + b / 10 % 10);
        *o++ = (char)('0' + b % 10);
    }
    etw_strbuf_append(out, s, (size_t)(o - s));
}

void etw_format_ipv6(etw_strbuf *out, const uint8_t *p)
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
        etw_strbuf_hex_u64(out, (unsigned)(p[2 * i] << 8 | p[2 * i + 1]), 1, 0);
    }
}

void etw_format_sockaddr(etw_strbuf *out, const uint8_t *p, size_t n)
{
    uint16_t family = n >= 2 ? etw_rd16(p) : 0;
    if (family == 2 && n >= 8) {
        etw_format_ipv4(out, p + 4);
        etw_strbuf_putc(out, ':');
        etw_strbuf_u64(out, (unsigned)(p[2] << 8 | p[3]));
    } else if (family == 23 && n >= 24) {
        etw_strbuf_putc(out, '[');
        etw_format_ipv6(out, p + 8);
        etw_strbuf_puts(out, "]:");
        etw_strbuf_u64(out, (unsigned)(p[2] << 8 | p[3]));
    } else {
        etw_strbuf_puts(out, "0x");
        etw_strbuf_hex(out, p, n);
    }
}

void etw_format_systemtime(etw_strbuf *out, const uint8_t *p)
{
    /* year, month, (day of week skipped), day, hour, minute, second, milliseconds */
    static const uint8_t at[7] = {0, 2, 6, 8, 10, 12, 14}, width[7] = {4, 2, 2, 2, 2, 2, 3};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 0};
    for (int i = 0; i < 7; i++) {
        etw_strbuf_u64_pad(out, etw_rd16(p + at[i]), width[i]);
        if (after[i])
            etw_strbuf_putc(out, after[i]);
    }
}

void etw_format_guid(etw_strbuf *out, const uint8_t *p)
{
    /* Written in place, a byte's two digits at a time (GUID fields are frequent payload). */
    if (etw_strbuf_reserve(out, 36) != 0)
        return;
    char *o = out->data + out->len;
    /* Data1, Data2 and Data3 little-endian, Data4 in order: (output position, byte) pairs. */
#define GUID_BYTE(at, i) memcpy(o + (at), etw_hex_pairs + 2 * p[i], 2)
    GUID_BYTE(0, 3); GUID_BYTE(2, 2); GUID_BYTE(4, 1); GUID_BYTE(6, 0);
    GUID_BYTE(9, 5); GUID_BYTE(11, 4);
    GUID_BYTE(14, 7); GUID_BYTE(16, 6);
    GUID_BYTE(19, 8); GUID_BYTE(21, 9);
    GUID_BYTE(24, 10); GUID_BYTE(26, 11); GUID_BYTE(28, 12);
    GUID_BYTE(30, 13); GUID_BYTE(32, 14); GUID_BYTE(34, 15);
#undef GUID_BYTE
    o[8] = o[13] = o[18] = o[23] = '-';
    o += 36;
    *o = '\0';
    out->len += 36;
}
