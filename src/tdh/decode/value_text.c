/* Text forms of structured values (times, SIDs, addresses, GUIDs): stable formats of our own,
 * documented in docs/decoding.md, written straight into the output without allocating. */
#include "tdh/decode/prop_value.h"

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
        etw_strbuf_printf(out, "%x", (unsigned)(p[2 * i] << 8 | p[2 * i + 1]));
    }
}

void etw_format_sockaddr(etw_strbuf *out, const uint8_t *p, size_t n)
{
    uint16_t family = n >= 2 ? etw_rd16(p) : 0;
    if (family == 2 && n >= 8) {
        etw_strbuf_printf(out, "%u.%u.%u.%u:%u", p[4], p[5], p[6], p[7], (unsigned)(p[2] << 8 | p[3]));
    } else if (family == 23 && n >= 24) {
        etw_strbuf_putc(out, '[');
        etw_format_ipv6(out, p + 8);
        etw_strbuf_printf(out, "]:%u", (unsigned)(p[2] << 8 | p[3]));
    } else {
        etw_strbuf_puts(out, "0x");
        etw_strbuf_hex(out, p, n);
    }
}

void etw_format_systemtime(etw_strbuf *out, const uint8_t *p)
{
    etw_strbuf_printf(out, "%04u-%02u-%02uT%02u:%02u:%02u.%03u", etw_rd16(p), etw_rd16(p + 2),
                      etw_rd16(p + 6), etw_rd16(p + 8), etw_rd16(p + 10), etw_rd16(p + 12),
                      etw_rd16(p + 14));
}

void etw_format_guid(etw_strbuf *out, const uint8_t *p)
{
    static const char hex[] = "0123456789abcdef";
    static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    char s[36], *o = s;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[p[order[i]] >> 4];
        *o++ = hex[p[order[i]] & 15];
    }
    etw_strbuf_append(out, s, sizeof s);
}
