/* Fuzz target: schema packs (docs/format/schema-pack.md) as untrusted bytes — the store reads
 * packs from disk. Opens the input; when the index validates, rebuilds every event and map it
 * lists (bounded), so each body decoder and blob check runs on hostile data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdh/store/pack_format.h"
#include "tdh/store/pack_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BUILDS 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    etw_pack pk;
    char why[160];
    if (!etw_pack_open(&pk, data, size, why, sizeof why))
        return 0;
    (void)etw_pack_verify_crc(&pk);
    size_t ext_n = 0;
    (void)etw_pack_section(&pk, ETW_PACK_SEC_EXTENSION, &ext_n);
    unsigned builds = 0;
    for (uint32_t p = 0; p < etw_pack_provider_count(&pk) && builds < MAX_BUILDS; p++) {
        etw_pack_provider_info info;
        etw_pack_provider(&pk, p, &info);
        uint32_t found;
        if (!etw_pack_find_provider(&pk, &info.guid, &found) || found != p)
            abort(); /* open checked the order: the search must find every provider */
        for (uint32_t e = 0; e < info.event_count && builds < MAX_BUILDS; e++, builds++) {
            uint8_t kind;
            uint16_t a, b, v;
            size_t n;
            etw_pack_event_key(&pk, p, e, &kind, &a, &b);
            free(etw_pack_build_event(&pk, p, kind, a, b, &n));
            free(etw_pack_build_event_at_most(&pk, p, kind, a, (uint16_t)(b + 1), &v, &n));
        }
        for (uint32_t m = 0; m < info.map_count && builds < MAX_BUILDS; m++, builds++) {
            const char *name = etw_pack_map_name(&pk, p, m);
            uint8_t utf16[512];
            size_t k = 0;
            for (; name[k] && k < sizeof utf16 / 2; k++) {
                utf16[2 * k] = (uint8_t)name[k]; /* ASCII names; others simply miss */
                utf16[2 * k + 1] = 0;
            }
            size_t n;
            free(etw_pack_build_map(&pk, p, utf16, 2 * k, &n));
        }
    }
    return 0;
}
