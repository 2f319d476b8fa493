/* Schema pack reader (pack_read.h): validation of the index at open, binary searches over the
 * fixed-size tables, and the rebuild of TRACE_EVENT_INFO / EVENT_MAP_INFO blobs from bodies.
 * Every offset read from the pack is checked against its section before use. */
#include "tdh/store/pack_read.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/crc32.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_format.h"
#include "tdh/store/schema_cache.h"

static int fail(char *why, size_t len, size_t off, const char *what)
{
    if (why && len)
        snprintf(why, len, "schema pack offset %zu: %s", off, what);
    return 0;
}

static const uint8_t *provider_rec(const etw_pack *pk, uint32_t i)
{
    return pk->p + pk->providers.off + (size_t)i * ETW_PACK_PROVIDER_SIZE;
}

static const uint8_t *event_rec(const etw_pack *pk, uint32_t i)
{
    return pk->p + pk->events.off + (size_t)i * ETW_PACK_EVENT_SIZE;
}

static const uint8_t *map_rec(const etw_pack *pk, uint32_t i)
{
    return pk->p + pk->maps.off + (size_t)i * ETW_PACK_MAP_SIZE;
}

static const char *string_at(const etw_pack *pk, uint32_t ref)
{
    return (const char *)pk->p + pk->strings.off + ref; /* ref < strings.size, checked */
}

static uint64_t event_key(const uint8_t *rec)
{
    return (uint64_t)rec[0] << 32 | (uint32_t)etw_rd16(rec + 2) << 16 | etw_rd16(rec + 4);
}

static int table(etw_pack_span *s, uint32_t rec, char *why, size_t len, const char *name)
{
    if (s->size % rec || s->size / rec != s->count)
        return fail(why, len, s->off, name);
    return 1;
}

/* Each provider's runs: in range, sorted, their references inside their sections. */
static int check_provider(const etw_pack *pk, uint32_t i, char *why, size_t len)
{
    const uint8_t *r = provider_rec(pk, i);
    size_t at = (size_t)(r - pk->p);
    uint32_t e0 = etw_rd32(r + 24), ne = etw_rd32(r + 28), m0 = etw_rd32(r + 32), nm = etw_rd32(r + 36);
    if (etw_rd32(r + 16) >= pk->strings.size || etw_rd32(r + 20) >= pk->strings.size)
        return fail(why, len, at, "provider name or origin outside the string section");
    if (i && memcmp(r - ETW_PACK_PROVIDER_SIZE, r, 16) >= 0)
        return fail(why, len, at, "providers not sorted by GUID");
    if (e0 > pk->events.count || ne > pk->events.count - e0 || m0 > pk->maps.count || nm > pk->maps.count - m0)
        return fail(why, len, at, "provider's events or maps outside their tables");
    for (uint32_t k = e0; k < e0 + ne; k++) {
        const uint8_t *e = event_rec(pk, k);
        if (etw_rd32(e + 8) >= pk->bodies.size)
            return fail(why, len, (size_t)(e - pk->p), "event body outside the body section");
        if (k > e0 && event_key(e - ETW_PACK_EVENT_SIZE) >= event_key(e))
            return fail(why, len, (size_t)(e - pk->p), "events not sorted by key");
    }
    for (uint32_t k = m0; k < m0 + nm; k++) {
        const uint8_t *m = map_rec(pk, k);
        if (etw_rd32(m) >= pk->strings.size || etw_rd32(m + 4) >= pk->bodies.size)
            return fail(why, len, (size_t)(m - pk->p), "map name or body outside its section");
        if (k > m0 && strcmp(string_at(pk, etw_rd32(m - ETW_PACK_MAP_SIZE)), string_at(pk, etw_rd32(m))) >= 0)
            return fail(why, len, (size_t)(m - pk->p), "maps not sorted by name");
    }
    return 1;
}

static int open_index(etw_pack *pk, const uint8_t *p, size_t n, char *why, size_t len)
{
    memset(pk, 0, sizeof *pk);
    if (!p || n < ETW_PACK_HEADER_SIZE || memcmp(p, ETW_PACK_MAGIC, 8) != 0)
        return fail(why, len, 0, "not a schema pack (magic)");
    if (etw_rd32(p + ETW_PACK_OFF_VERSION) != ETW_PACK_VERSION)
        return fail(why, len, ETW_PACK_OFF_VERSION, "unsupported pack version");
    uint32_t hsize = etw_rd32(p + ETW_PACK_OFF_HEADER_SIZE), ns = etw_rd32(p + ETW_PACK_OFF_SECTIONS);
    if (etw_rd64(p + ETW_PACK_OFF_FILE_SIZE) != n || n > ETW_PACK_MAX_SIZE)
        return fail(why, len, ETW_PACK_OFF_FILE_SIZE, "file size field disagrees with the data");
    if (hsize < ETW_PACK_HEADER_SIZE || ns > ETW_PACK_MAX_SECTIONS ||
        !etw_range_ok(n, hsize, (size_t)ns * ETW_PACK_DIR_ENTRY))
        return fail(why, len, ETW_PACK_OFF_HEADER_SIZE, "header or section directory outside the file");
    pk->p = p;
    pk->n = n;
    pk->dir = hsize;
    pk->nsections = ns;
    size_t data0 = (size_t)hsize + (size_t)ns * ETW_PACK_DIR_ENTRY;
    etw_pack_span *core[] = {NULL, &pk->strings, &pk->providers, &pk->events, &pk->maps, &pk->bodies};
    uint32_t seen = 0;
    for (uint32_t i = 0; i < ns; i++) {
        const uint8_t *e = p + hsize + (size_t)i * ETW_PACK_DIR_ENTRY;
        uint32_t type = etw_rd32(e), off = etw_rd32(e + 4), size = etw_rd32(e + 8);
        if (off < data0 || !etw_range_ok(n, off, size))
            return fail(why, len, (size_t)(e - p), "section outside the file");
        if (type >= ETW_PACK_SEC_STRINGS && type <= ETW_PACK_SEC_BODIES) {
            if (seen & (1u << type))
                return fail(why, len, (size_t)(e - p), "section listed twice");
            seen |= 1u << type;
            *core[type] = (etw_pack_span){off, size, etw_rd32(e + 12)};
        }
    }
    if (seen != 0x3e)
        return fail(why, len, hsize, "a required section is missing");
    if (!pk->strings.size || p[pk->strings.off] || p[pk->strings.off + pk->strings.size - 1])
        return fail(why, len, pk->strings.off, "string section not NUL-delimited");
    if (!table(&pk->providers, ETW_PACK_PROVIDER_SIZE, why, len, "provider table size") ||
        !table(&pk->events, ETW_PACK_EVENT_SIZE, why, len, "event table size") ||
        !table(&pk->maps, ETW_PACK_MAP_SIZE, why, len, "map table size"))
        return 0;
    return 1;
}

int etw_pack_open(etw_pack *pk, const uint8_t *p, size_t n, char *why, size_t len)
{
    if (!open_index(pk, p, n, why, len))
        return 0;
    for (uint32_t i = 0; i < pk->providers.count; i++)
        if (!check_provider(pk, i, why, len))
            return 0;
    return 1;
}

int etw_pack_open_deferred(etw_pack *pk, const uint8_t *p, size_t n, char *why, size_t len)
{
    if (!open_index(pk, p, n, why, len))
        return 0;
    pk->verdicts = calloc(pk->providers.count ? pk->providers.count : 1, sizeof *pk->verdicts);
    if (!pk->verdicts)
        return fail(why, len, 0, "out of memory");
    return 1;
}

void etw_pack_close_deferred(etw_pack *pk)
{
    free((void *)pk->verdicts);
    pk->verdicts = NULL;
}

/* Checks a deferred pack's provider on first use; racing threads reach the same verdict. */
static int provider_sound(const etw_pack *pk, uint32_t i)
{
    if (!pk->verdicts)
        return 1;
    unsigned char v = atomic_load_explicit(&pk->verdicts[i], memory_order_relaxed);
    if (!v) {
        v = check_provider(pk, i, NULL, 0) ? 1 : 2;
        atomic_store_explicit(&pk->verdicts[i], v, memory_order_relaxed);
    }
    return v == 1;
}

int etw_pack_verify_crc(const etw_pack *pk)
{
    uint32_t hsize = etw_rd32(pk->p + ETW_PACK_OFF_HEADER_SIZE);
    return etw_crc32(0, pk->p + hsize, pk->n - hsize) == etw_rd32(pk->p + ETW_PACK_OFF_CRC);
}

uint32_t etw_pack_provider_count(const etw_pack *pk)
{
    return pk->providers.count;
}

int etw_pack_find_provider(const etw_pack *pk, const GUID *guid, uint32_t *index)
{
    uint8_t key[16];
    memcpy(key, guid, 16); /* providers are sorted by these bytes (writer: memcmp of GUIDs) */
    uint32_t lo = 0, hi = pk->providers.count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(provider_rec(pk, mid), key, 16);
        if (c == 0) {
            *index = mid;
            return provider_sound(pk, mid);
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void etw_pack_provider(const etw_pack *pk, uint32_t index, etw_pack_provider_info *out)
{
    const uint8_t *r = provider_rec(pk, index);
    memcpy(&out->guid, r, 16);
    if (!provider_sound(pk, index)) {
        out->name = out->origin = "";
        out->event_count = out->map_count = 0;
        return;
    }
    out->name = string_at(pk, etw_rd32(r + 16));
    out->origin = string_at(pk, etw_rd32(r + 20));
    out->event_count = etw_rd32(r + 28);
    out->map_count = etw_rd32(r + 36);
}

void etw_pack_event_key(const etw_pack *pk, uint32_t provider, uint32_t i, uint8_t *kind, uint16_t *a, uint16_t *b)
{
    const uint8_t *e = event_rec(pk, etw_rd32(provider_rec(pk, provider) + 24) + i);
    *kind = e[0];
    *a = etw_rd16(e + 2);
    *b = etw_rd16(e + 4);
}

const char *etw_pack_map_name(const etw_pack *pk, uint32_t provider, uint32_t i)
{
    return string_at(pk, etw_rd32(map_rec(pk, etw_rd32(provider_rec(pk, provider) + 32) + i)));
}

const uint8_t *etw_pack_section(const etw_pack *pk, uint32_t type, size_t *size)
{
    for (uint32_t i = 0; type >= ETW_PACK_SEC_EXTENSION && i < pk->nsections; i++) {
        const uint8_t *e = pk->p + pk->dir + (size_t)i * ETW_PACK_DIR_ENTRY;
        if (etw_rd32(e) == type) {
            *size = etw_rd32(e + 8);
            return pk->p + etw_rd32(e + 4);
        }
    }
    return NULL;
}
