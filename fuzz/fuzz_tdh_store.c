/* Fuzz target: a schema store file (schemas.etwpack) as etwire_schemas_open reads it: the pack
 * index, the WPP section's index and blobs, and the rebuild of every event, map and message it
 * lists (each message then formatted against a fixed argument blob). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/wpp_format.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/schema_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void each_event(const etw_pack *pk)
{
    for (uint32_t i = 0; i < etw_pack_provider_count(pk); i++) {
        etw_pack_provider_info info;
        etw_pack_provider(pk, i, &info);
        for (uint32_t e = 0; e < info.event_count && e < 256; e++) {
            uint8_t kind;
            uint16_t a, b;
            size_t n;
            etw_pack_event_key(pk, i, e, &kind, &a, &b);
            free(etw_pack_build_event(pk, i, kind, a, b, &n));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The reader expects the bytes of a mapped file: page-aligned, so give it aligned memory. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    etw_pack pk;
    char why[256];
    if (etw_pack_open(&pk, p, size, why, sizeof why)) {
        each_event(&pk);
        size_t wn = 0;
        const uint8_t *w = etw_pack_section(&pk, ETW_STORE_SEC_WPP, &wn);
        etw_store_wpp wpp;
        static const uint8_t args[] = {'a', 'b', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
        etw_strbuf out = {0};
        if (w && etw_store_wpp_open(&wpp, w, wn, why, sizeof why)) {
            for (uint32_t i = 0; i < wpp.count && i < 1024; i++) {
                etw_wpp_msg *m = etw_store_wpp_copy(&wpp, i);
                if (!m)
                    continue;
                EVENT_RECORD r;
                memset(&r, 0, sizeof r);
                r.EventHeader.Flags = EVENT_HEADER_FLAG_TRACE_MESSAGE;
                r.UserData = (void *)(uintptr_t)args;
                r.UserDataLength = sizeof args;
                size_t used;
                etw_strbuf_reset(&out);
                etw_wpp_format_message(m, &r, &out, &used);
                GUID g;
                uint16_t number;
                const uint8_t *blob;
                uint32_t bsize;
                etw_store_wpp_entry(&wpp, i, &g, &number, &blob, &bsize);
                if (etw_store_wpp_first(&wpp, &g) > i)
                    abort(); /* the index is sorted: the first entry of a GUID is never after it */
                free(m);
            }
        }
        etw_strbuf_free(&out);
    }
    free(p);
    return 0;
}
