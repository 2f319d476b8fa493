/* The TDH size rules for one element of each in-type (format notes §1.5, §1.8). */
#include "tdh/decode/prop_value.h"

#include <string.h>

#include "base/bytes.h"
#include "base/text.h"

static size_t fixed(size_t want, size_t n)
{
    return want <= n ? want : ETW_SIZE_BAD;
}

static size_t counted(size_t prefix_len, size_t body, size_t n)
{
    return body <= n - prefix_len ? prefix_len + body : ETW_SIZE_BAD;
}

static size_t sid_size(const uint8_t *p, size_t n)
{
    if (n < 8 || p[1] > 15) /* a SID has at most 15 sub-authorities */
        return ETW_SIZE_BAD;
    return fixed(8u + 4u * p[1], n);
}

size_t etw_value_size(uint16_t in, uint16_t out, uint32_t length, int has_length, unsigned ptr,
                      const uint8_t *p, size_t n)
{
    int term;
    size_t s;
    switch (in) {
    case TDH_INTYPE_UNICODESTRING:
        if (has_length)
            return length <= n / 2 ? (size_t)length * 2 : ETW_SIZE_BAD;
        s = etw_utf16_span(p, n, &term);
        return term ? s + 2 : n;
    case TDH_INTYPE_ANSISTRING: {
        if (has_length)
            return fixed(length, n);
        if (n == 0)
            return 0;
        /* the terminator found by the C library's vectorised search (paths are long) */
        const uint8_t *z = memchr(p, 0, n);
        return z ? (size_t)(z - p) + 1 : n;
    }
    case TDH_INTYPE_INT8:
    case TDH_INTYPE_UINT8:
    case TDH_INTYPE_ANSICHAR:
        return fixed(1, n);
    case TDH_INTYPE_INT16:
    case TDH_INTYPE_UINT16:
    case TDH_INTYPE_UNICODECHAR:
        return fixed(2, n);
    case TDH_INTYPE_INT32:
    case TDH_INTYPE_UINT32:
    case TDH_INTYPE_HEXINT32:
    case TDH_INTYPE_FLOAT:
    case TDH_INTYPE_BOOLEAN:
        return fixed(4, n);
    case TDH_INTYPE_INT64:
    case TDH_INTYPE_UINT64:
    case TDH_INTYPE_HEXINT64:
    case TDH_INTYPE_DOUBLE:
    case TDH_INTYPE_FILETIME:
        return fixed(8, n);
    case TDH_INTYPE_GUID:
    case TDH_INTYPE_SYSTEMTIME:
        return fixed(16, n);
    case TDH_INTYPE_POINTER:
    case TDH_INTYPE_SIZET:
        return fixed(ptr, n);
    case TDH_INTYPE_BINARY:
        if (has_length)
            return fixed(length, n);
        if (out == TDH_OUTTYPE_IPV6)
            return fixed(16, n);
        return ETW_SIZE_BAD; /* unsized binary: TDH calls this malformed */
    case TDH_INTYPE_SID:
        return sid_size(p, n);
    case TDH_INTYPE_WBEMSID:
        /* TOKEN_USER {PSID; ULONG Attributes} padded to 2 pointers, then the SID. A zero first
         * word means no SID and, as TraceEvent reads it, a 4-byte field (notes §1.8.4, D11). */
        if (n < 4)
            return ETW_SIZE_BAD;
        if (etw_rd32(p) == 0)
            return 4;
        if (n < 2u * ptr)
            return ETW_SIZE_BAD;
        s = sid_size(p + 2u * ptr, n - 2u * ptr);
        return s == ETW_SIZE_BAD ? s : s + 2u * ptr;
    case TDH_INTYPE_MANIFEST_COUNTEDSTRING:
    case TDH_INTYPE_MANIFEST_COUNTEDANSISTRING:
    case TDH_INTYPE_MANIFEST_COUNTEDBINARY:
    case TDH_INTYPE_COUNTEDSTRING:
    case TDH_INTYPE_COUNTEDANSISTRING:
        return n < 2 ? ETW_SIZE_BAD : counted(2, etw_rd16(p), n);
    case TDH_INTYPE_REVERSEDCOUNTEDSTRING:
    case TDH_INTYPE_REVERSEDCOUNTEDANSISTRING:
        return n < 2 ? ETW_SIZE_BAD : counted(2, (size_t)(p[0] << 8 | p[1]), n);
    case TDH_INTYPE_NONNULLTERMINATEDSTRING:
    case TDH_INTYPE_NONNULLTERMINATEDANSISTRING:
        return n;
    case TDH_INTYPE_HEXDUMP:
        return n < 4 ? ETW_SIZE_BAD : counted(4, etw_rd32(p), n);
    default:
        return ETW_SIZE_BAD;
    }
}

int etw_value_is_countable(uint16_t in)
{
    switch (in) {
    case TDH_INTYPE_INT8:
    case TDH_INTYPE_UINT8:
    case TDH_INTYPE_INT16:
    case TDH_INTYPE_UINT16:
    case TDH_INTYPE_INT32:
    case TDH_INTYPE_UINT32:
    case TDH_INTYPE_HEXINT32:
        return 1;
    default:
        return 0;
    }
}

uint64_t etw_value_uint(uint16_t in, const uint8_t *p, size_t size)
{
    switch (size) {
    case 1: return p[0];
    case 2: return etw_rd16(p);
    case 4: return in == TDH_INTYPE_FLOAT ? 0 : etw_rd32(p);
    case 8: return in == TDH_INTYPE_DOUBLE ? 0 : etw_rd64(p);
    default: return 0;
    }
}
