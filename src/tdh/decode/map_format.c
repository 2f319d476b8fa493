/* Map lookups and rendering (see map_format.h). */
#include "tdh/decode/map_format.h"

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/decode/text_out.h"

#define EMI_HEADER 16u

/* A UTF-16 NUL string at off inside the blob: its byte length, or SIZE_MAX if it runs off. */
static size_t wstr_len(const uint8_t *p, size_t n, uint32_t off)
{
    if (off == 0 || off >= n || (off & 1))
        return SIZE_MAX;
    int term;
    size_t len = etw_utf16_span(p + off, n - off, &term);
    return term ? len : SIZE_MAX;
}

/* End of the NUL-terminated UTF-16 string at off (past its NUL), scanning unit by unit: the
 * blob's true end is unknown, so no wider read may run past the terminator. 0 if unterminated. */
static size_t wstr_end_scalar(const uint8_t *p, size_t bound, uint32_t off)
{
    if (off == 0 || off >= bound || (off & 1))
        return 0;
    for (size_t i = off; i + 1 < bound; i += 2)
        if (p[i] == 0 && p[i + 1] == 0)
            return i + 2;
    return 0;
}

size_t etw_map_extent(const uint8_t *p, size_t bound)
{
    if (!p || bound < EMI_HEADER)
        return bound;
    uint32_t count = etw_rd32(p + 8);
    if (count > (bound - EMI_HEADER) / 8)
        return bound; /* malformed: etw_map_format refuses it on its own */
    size_t end = EMI_HEADER + 8u * (size_t)count, e;
    int pattern = (etw_rd32(p + 4) & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int strkeys = pattern || etw_rd32(p + 12) == EVENTMAP_ENTRY_VALUETYPE_STRING;
    if ((e = wstr_end_scalar(p, bound, etw_rd32(p))) > end)
        end = e;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *ent = p + EMI_HEADER + 8u * i;
        if ((e = wstr_end_scalar(p, bound, etw_rd32(ent))) > end)
            end = e;
        if (strkeys && (e = wstr_end_scalar(p, bound, etw_rd32(ent + 4))) > end)
            end = e;
    }
    return end;
}

int etw_map_check(const uint8_t *p, size_t n)
{
    if (n < EMI_HEADER)
        return 0;
    uint32_t count = etw_rd32(p + 8);
    if (count > (n - EMI_HEADER) / 8)
        return 0;
    if (wstr_len(p, n, etw_rd32(p)) == SIZE_MAX)
        return 0;
    int pattern = (etw_rd32(p + 4) & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int strkeys = pattern || etw_rd32(p + 12) == EVENTMAP_ENTRY_VALUETYPE_STRING;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + EMI_HEADER + 8u * i;
        if (wstr_len(p, n, etw_rd32(e)) == SIZE_MAX)
            return 0;
        if (strkeys && wstr_len(p, n, etw_rd32(e + 4)) == SIZE_MAX)
            return 0;
    }
    return 1;
}

/* Appends entry text without the trailing spaces manifests leave on map strings. */
static void put_name(etw_strbuf *out, const uint8_t *p, size_t n, uint32_t off, int esc)
{
    size_t len = wstr_len(p, n, off);
    if (len == SIZE_MAX)
        return;
    while (len >= 2 && p[off + len - 2] == ' ' && p[off + len - 1] == 0)
        len -= 2;
    etw_text_utf16(out, p + off, len, esc);
}

etw_tdh_status etw_map_format(etw_strbuf *out, int esc, uint32_t value, const EVENT_MAP_INFO *map,
                        size_t map_size)
{
    int json = esc == ETW_ESC_JSON;
    const uint8_t *p = (const uint8_t *)map;
    if (!map || map_size < EMI_HEADER)
        return ETW_TDH_E_NOT_IN_MAP;
    uint32_t flags = etw_rd32(p + 4), count = etw_rd32(p + 8);
    if (count > (map_size - EMI_HEADER) / 8 || (flags & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) ||
        etw_rd32(p + 12) == EVENTMAP_ENTRY_VALUETYPE_STRING)
        return ETW_TDH_E_NOT_IN_MAP;
    int bitmap = (flags & (EVENTMAP_INFO_FLAG_MANIFEST_BITMAP | EVENTMAP_INFO_FLAG_WBEM_BITMAP)) != 0;
    if (!bitmap) {
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *e = p + EMI_HEADER + 8u * i;
            /* WBEM "Values" without "ValueMap" are indexed from 0 (notes §1.9). */
            uint32_t key = etw_rd32(e + 4);
            if (key != value)
                continue;
            if (json)
                etw_strbuf_putc(out, '"');
            put_name(out, p, map_size, etw_rd32(e), esc);
            if (json)
                etw_strbuf_putc(out, '"');
            return ETW_TDH_OK;
        }
        return ETW_TDH_E_NOT_IN_MAP;
    }
    uint32_t left = value;
    int first = 1;
    if (json)
        etw_strbuf_putc(out, '"');
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + EMI_HEADER + 8u * i;
        uint32_t mask = etw_rd32(e + 4);
        if (mask == 0 ? value != 0 : (value & mask) != mask)
            continue;
        if (!first)
            etw_strbuf_putc(out, '|');
        put_name(out, p, map_size, etw_rd32(e), esc);
        left &= ~mask;
        first = 0;
    }
    if (left || first) {
        if (!first)
            etw_strbuf_putc(out, '|');
        if (left) {
            etw_strbuf_puts(out, "0x");
            etw_strbuf_hex_u64(out, left, 1, 0);
        } else {
            etw_strbuf_putc(out, '0');
        }
    }
    if (json)
        etw_strbuf_putc(out, '"');
    return 0;
}
