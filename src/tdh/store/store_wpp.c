/* The schema store's WPP section: an index sorted by (message GUID, number) over message blobs
 * (layout: schema_store.h). Read in place from the mapped pack; a blob is checked and copied
 * when a GUID is first looked up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/store/schema_store.h"

#define ENTRY 28u /* guid[16], number u16, reserved u16, offset u32, size u32 */

static int entry_cmp(const uint8_t *a, const uint8_t *b)
{
    int c = memcmp(a, b, 16);
    if (c)
        return c;
    unsigned x = etw_rd16(a + 16), y = etw_rd16(b + 16);
    return x < y ? -1 : x > y;
}

int etw_store_wpp_open(etw_store_wpp *w, const uint8_t *p, size_t n, char *why, size_t whylen)
{
    memset(w, 0, sizeof *w);
    if (n < 4 || n > UINT32_MAX) {
        snprintf(why, whylen, "WPP section: %zu bytes, too small for its count", n);
        return 0;
    }
    uint32_t count = etw_rd32(p);
    if ((n - 4) / ENTRY < count) {
        snprintf(why, whylen, "WPP section: %u entries do not fit in %zu bytes", count, n);
        return 0;
    }
    size_t index_end = 4 + (size_t)count * ENTRY;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + 4 + (size_t)i * ENTRY;
        uint32_t off = etw_rd32(e + 20), size = etw_rd32(e + 24);
        if (off < index_end || off % 4 || off > n || size > n - off || size < sizeof(etw_wpp_msg)) {
            snprintf(why, whylen, "WPP section: entry %u: blob at %u (%u bytes) outside the section", i, off, size);
            return 0;
        }
        if (i && entry_cmp(e - ENTRY, e) >= 0) {
            snprintf(why, whylen, "WPP section: entry %u out of order", i);
            return 0;
        }
    }
    w->p = p;
    w->n = n;
    w->count = count;
    return 1;
}

void etw_store_wpp_entry(const etw_store_wpp *w, uint32_t i, GUID *guid, uint16_t *number, const uint8_t **blob,
                         uint32_t *size)
{
    const uint8_t *e = w->p + 4 + (size_t)i * ENTRY;
    memcpy(guid, e, 16);
    *number = etw_rd16(e + 16);
    *blob = w->p + etw_rd32(e + 20);
    *size = etw_rd32(e + 24);
}

uint32_t etw_store_wpp_first(const etw_store_wpp *w, const GUID *guid)
{
    uint32_t lo = 0, hi = w->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(w->p + 4 + (size_t)mid * ENTRY, guid, 16) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->count && memcmp(w->p + 4 + (size_t)lo * ENTRY, guid, 16) == 0 ? lo : w->count;
}

etw_wpp_msg *etw_store_wpp_copy(const etw_store_wpp *w, uint32_t i)
{
    GUID g;
    uint16_t number;
    const uint8_t *blob;
    uint32_t size;
    etw_store_wpp_entry(w, i, &g, &number, &blob, &size);
    etw_wpp_msg *m = malloc(size);
    if (!m)
        return NULL;
    memcpy(m, blob, size);
    if (!etw_wpp_msg_check(m, size) || memcmp(&m->guid, &g, sizeof g) != 0 || m->number != number) {
        free(m);
        return NULL;
    }
    return m;
}

uint8_t *etw_store_wpp_build(etw_wpp_msg *const *msgs, size_t n, size_t *size)
{
    size_t total = 4 + n * ENTRY;
    for (size_t i = 0; i < n; i++)
        total += ((size_t)msgs[i]->size + 3) & ~(size_t)3;
    if (total > UINT32_MAX)
        return NULL;
    uint8_t *p = calloc(1, total);
    if (!p)
        return NULL;
    etw_wr32(p, (uint32_t)n);
    size_t off = 4 + n * ENTRY;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = p + 4 + i * ENTRY;
        memcpy(e, &msgs[i]->guid, 16);
        etw_wr16(e + 16, msgs[i]->number);
        etw_wr32(e + 20, (uint32_t)off);
        etw_wr32(e + 24, msgs[i]->size);
        memcpy(p + off, msgs[i], msgs[i]->size);
        off += ((size_t)msgs[i]->size + 3) & ~(size_t)3;
    }
    *size = total;
    return p;
}
