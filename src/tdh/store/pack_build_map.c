/* Rebuilding EVENT_MAP_INFO blobs from schema pack map bodies (docs/format/schema-pack.md §4
 * and §5): the map is found by name among its provider's (binary search over the bytes of the
 * stored names), then decoded twice like an event body (pack_sink.h). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/store/pack_format.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/pack_sink.h"

#define EMI_FIXED 16u

static int provider_ok(const etw_pack *pk, uint32_t provider)
{
    return pk && pk->p && provider < pk->providers.count;
}

static void map_entries(etw_pack_sink *s, size_t pos, uint32_t name_ref, EVENT_MAP_INFO *emi, uint32_t *count)
{
    uint32_t flag = etw_pack_sink_uv(s, &pos, UINT32_MAX), second = etw_pack_sink_uv(s, &pos, UINT32_MAX);
    uint32_t n = etw_pack_sink_uv(s, &pos, ETW_PACK_MAX_MAP_ENTRIES);
    *count = n;
    int pattern = (flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int str_input = pattern || second == EVENTMAP_ENTRY_VALUETYPE_STRING;
    uint32_t name = etw_pack_sink_string(s, name_ref);
    if (pattern)
        second = etw_pack_sink_string(s, second);
    if (s->out) {
        emi->NameOffset = name;
        emi->Flag = (MAP_FLAGS)flag;
        emi->EntryCount = n;
        emi->FormatStringOffset = second;
    }
    for (uint32_t i = 0; i < n && !s->bad; i++) {
        uint32_t out = etw_pack_sink_string(s, etw_pack_sink_uv(s, &pos, UINT32_MAX));
        uint32_t in = etw_pack_sink_uv(s, &pos, UINT32_MAX);
        if (str_input)
            in = etw_pack_sink_string(s, in);
        if (s->out && EMI_FIXED + (size_t)8 * (i + 1) <= s->fixed) {
            emi->MapEntryArray[i].OutputOffset = out;
            emi->MapEntryArray[i].Value = in;
        } else if (s->out) {
            s->bad = 1;
        }
    }
}

/* A UTF-16LE name in the stored form, for comparing with map names; 0 if too long. */
static size_t stored_name(const uint8_t *le, size_t nbytes, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < nbytes; i += 2) {
        uint32_t c = etw_rd16(le + i);
        if (c >= 0xd800 && c < 0xdc00 && i + 3 < nbytes) {
            uint32_t lo = etw_rd16(le + i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            }
        }
        if (c == 0 || o + 5 > cap)
            return 0;
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xe0 | c >> 12);
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | c >> 18);
            out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[o] = 0;
    return o;
}

EVENT_MAP_INFO *etw_pack_build_map(const etw_pack *pk, uint32_t provider, const uint8_t *name_utf16,
                                   size_t name_bytes, size_t *size)
{
    char name[1024];
    if (!provider_ok(pk, provider) || !stored_name(name_utf16, name_bytes, name, sizeof name))
        return NULL;
    const uint8_t *r = pk->p + pk->providers.off + (size_t)provider * ETW_PACK_PROVIDER_SIZE;
    uint32_t lo = etw_rd32(r + 32), hi = lo + etw_rd32(r + 36);
    const uint8_t *m = NULL;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = pk->p + pk->maps.off + (size_t)mid * ETW_PACK_MAP_SIZE;
        int c = strcmp((const char *)pk->p + pk->strings.off + etw_rd32(e), name);
        if (c == 0) {
            m = e;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!m)
        return NULL;
    etw_pack_sink s = {.pk = pk, .body = pk->p + pk->bodies.off, .nbody = pk->bodies.size};
    uint32_t n = 0;
    map_entries(&s, etw_rd32(m + 4), etw_rd32(m), NULL, &n);
    if (s.bad)
        return NULL;
    s.fixed = EMI_FIXED + (size_t)8 * n;
    size_t total = s.fixed + s.str;
    EVENT_MAP_INFO *emi = total <= ETW_PACK_MAX_BLOB ? calloc(1, total) : NULL;
    if (!emi)
        return NULL;
    s.out = (uint8_t *)emi;
    s.cap = total;
    s.str = 0;
    map_entries(&s, etw_rd32(m + 4), etw_rd32(m), emi, &n);
    if (s.bad || s.fixed + s.str != total) {
        free(emi);
        return NULL;
    }
    *size = total;
    return emi;
}
