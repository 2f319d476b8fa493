/* Renders one property value as text or JSON. Our formats are stable and documented in
 * docs/decoding.md; they do not try to be byte-identical to Windows' localised TDH output. */
#include "tdh/decode/prop_value.h"

#include <math.h>
#include <string.h>

#include "base/bytes.h"
#include "base/fmt_float.h"
#include "base/text.h"
#include "tdh/decode/map_format.h"
#include "tdh/decode/text_out.h"

static void format_double(etw_strbuf *out, double v, int json, int single)
{
    if (!isfinite(v)) {
        etw_strbuf_puts(out, json ? "null" : (isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"));
        return;
    }
    etw_strbuf_float(out, v, 'g', single ? 9 : 17, 0); /* printf's %.9g / %.17g, without printf */
}

/* Quotes around text that never needs JSON escaping (dates, addresses, SIDs, GUIDs). */
static void quote(etw_strbuf *out, int json)
{
    if (json)
        etw_strbuf_putc(out, '"');
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

/* "0x" and hex digits: lower case without leading zeros, or (error codes) upper case with at
 * least width digits. */
static void put_hex(etw_strbuf *out, int json, uint64_t v, unsigned width)
{
    if (json)
        etw_strbuf_putc(out, '"');
    etw_strbuf_puts(out, "0x");
    etw_strbuf_hex_u64(out, v, width, width > 1);
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

static etw_tdh_status format_integer(etw_strbuf *out, int esc, uint16_t in, uint16_t ot,
                               const uint8_t *p, size_t size)
{
    int json = esc == ETW_ESC_JSON;
    uint64_t v = etw_value_uint(in, p, size);
    switch (ot) {
    case TDH_OUTTYPE_BOOLEAN:
        etw_strbuf_puts(out, v ? "true" : "false");
        return 0;
    case TDH_OUTTYPE_STRING:
        if (size == 1 || size == 2) { /* an ANSI (CP1252) or UTF-16 character */
            quote(out, json);
            if (size == 1)
                etw_text_ansi(out, p, 1, 0, esc);
            else
                etw_text_utf16(out, p, 2, esc);
            quote(out, json);
            return 0;
        }
        break;
    case TDH_OUTTYPE_HEXINT8:
    case TDH_OUTTYPE_HEXINT16:
    case TDH_OUTTYPE_HEXINT32:
    case TDH_OUTTYPE_HEXINT64:
    case TDH_OUTTYPE_CODE_POINTER:
        put_hex(out, json, v, 1);
        return 0;
    case TDH_OUTTYPE_WIN32ERROR:
    case TDH_OUTTYPE_NTSTATUS:
    case TDH_OUTTYPE_HRESULT:
    case TDH_OUTTYPE_ERRORCODE:
        put_hex(out, json, v, size == 8 ? 16 : 8);
        return 0;
    case TDH_OUTTYPE_PORT:
        if (size == 2) {
            put_u64(out, json, (uint64_t)(p[0] << 8 | p[1]));
            return 0;
        }
        break;
    case TDH_OUTTYPE_IPV4:
        if (size == 4) { /* digits and dots: nothing to escape */
            quote(out, json);
            etw_format_ipv4(out, p);
            quote(out, json);
            return 0;
        }
        break;
    case TDH_OUTTYPE_DATETIME:
    case TDH_OUTTYPE_DATETIME_UTC:
    case TDH_OUTTYPE_CULTURE_INSENSITIVE_DATETIME:
        if (size == 8) {
            quote(out, json);
            etw_format_filetime(out, v);
            quote(out, json);
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
        put_hex(out, json, v, 1);
    else if (is_signed_in(in))
        put_i64(out, json, sign_extend(v, size));
    else
        put_u64(out, json, v);
    return 0;
}

static void format_string(etw_strbuf *out, int esc, uint16_t in, uint16_t ot, const uint8_t *p,
                          size_t size)
{
    int json = esc == ETW_ESC_JSON;
    int wide = in == TDH_INTYPE_UNICODESTRING || in == TDH_INTYPE_MANIFEST_COUNTEDSTRING ||
               in == TDH_INTYPE_COUNTEDSTRING || in == TDH_INTYPE_REVERSEDCOUNTEDSTRING ||
               in == TDH_INTYPE_NONNULLTERMINATEDSTRING || in == TDH_INTYPE_UNICODECHAR;
    size_t skip = (in == TDH_INTYPE_MANIFEST_COUNTEDSTRING || in == TDH_INTYPE_COUNTEDSTRING ||
                   in == TDH_INTYPE_REVERSEDCOUNTEDSTRING || in == TDH_INTYPE_MANIFEST_COUNTEDANSISTRING ||
                   in == TDH_INTYPE_COUNTEDANSISTRING || in == TDH_INTYPE_REVERSEDCOUNTEDANSISTRING)
                      ? 2 : 0;
    int utf8 = ot == TDH_OUTTYPE_UTF8 || ot == TDH_OUTTYPE_JSON || ot == TDH_OUTTYPE_XML;
    if (json)
        etw_strbuf_putc(out, '"');
    if (wide)
        etw_text_utf16(out, p + skip, size - skip, esc);
    else
        etw_text_ansi(out, p + skip, size - skip, utf8, esc);
    if (json)
        etw_strbuf_putc(out, '"');
}

static void format_binary(etw_strbuf *out, int esc, uint16_t ot, const uint8_t *p, size_t size)
{
    int json = esc == ETW_ESC_JSON;
    if (json)
        etw_strbuf_putc(out, '"');
    if (ot == TDH_OUTTYPE_IPV6 && size == 16)
        etw_format_ipv6(out, p);
    else if (ot == TDH_OUTTYPE_SOCKETADDRESS)
        etw_format_sockaddr(out, p, size);
    else if (ot == TDH_OUTTYPE_STRING || ot == TDH_OUTTYPE_UTF8)
        etw_text_ansi(out, p, size, 1, esc);
    else {
        etw_strbuf_puts(out, "0x");
        etw_strbuf_hex(out, p, size);
    }
    if (json)
        etw_strbuf_putc(out, '"');
}

etw_tdh_status etw_value_format(etw_strbuf *out, unsigned flags, uint16_t in, uint16_t ot,
                          const uint8_t *p, size_t size, unsigned ptr, const EVENT_MAP_INFO *map,
                          size_t map_size)
{
    int esc = etw_fmt_esc_of_flags(flags), json = esc == ETW_ESC_JSON;
    size_t need;
    if (in == TDH_INTYPE_UNICODESTRING || in == TDH_INTYPE_ANSISTRING || in == TDH_INTYPE_BINARY ||
        in == TDH_INTYPE_NONNULLTERMINATEDSTRING || in == TDH_INTYPE_NONNULLTERMINATEDANSISTRING)
        need = size; /* the caller sized these (length, terminator or rest of payload) */
    else
        need = etw_value_size(in, ot, 0, 0, ptr, p, size);
    if (need == ETW_SIZE_BAD || need > size)
        return ETW_TDH_E_PAYLOAD;
    if (map && etw_value_is_countable(in)) {
        etw_tdh_status r = etw_map_format(out, esc, (uint32_t)etw_value_uint(in, p, need), map, map_size);
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
        format_string(out, esc, in, ot, p, need);
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
    case TDH_INTYPE_GUID:
        quote(out, json);
        etw_format_guid(out, p);
        quote(out, json);
        return 0;
    case TDH_INTYPE_FILETIME:
        return format_integer(out, esc, TDH_INTYPE_UINT64,
                              ot == TDH_OUTTYPE_NULL ? TDH_OUTTYPE_DATETIME : ot, p, 8);
    case TDH_INTYPE_SYSTEMTIME:
        quote(out, json);
        etw_format_systemtime(out, p);
        quote(out, json);
        return 0;
    case TDH_INTYPE_SID:
    case TDH_INTYPE_WBEMSID: {
        size_t skip = in == TDH_INTYPE_WBEMSID ? 2u * ptr : 0;
        quote(out, json);
        if (!(in == TDH_INTYPE_WBEMSID && need == 4)) /* TOKEN_USER without a SID: empty */
            etw_format_sid(out, p + skip, need - skip);
        quote(out, json);
        return 0;
    }
    case TDH_INTYPE_BINARY:
        format_binary(out, esc, ot, p, need);
        return 0;
    case TDH_INTYPE_MANIFEST_COUNTEDBINARY:
        format_binary(out, esc, ot, p + 2, need - 2);
        return 0;
    case TDH_INTYPE_HEXDUMP:
        format_binary(out, esc, ot, p + 4, need - 4);
        return 0;
    default:
        if (need == 0 || need > 8)
            return ETW_TDH_E_PAYLOAD;
        return format_integer(out, esc, in, ot, p, need);
    }
}
