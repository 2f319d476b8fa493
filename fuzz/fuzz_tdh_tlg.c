/* Fuzz target: TraceLogging event metadata (+ provider traits) and a payload decoded with it.
 * Input: u16 metadata length, metadata, u16 traits length, traits, payload (rest). */
#include <stdint.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/bytes.h"
#include "base/strbuf.h"
#include "tdh/decode/event_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t take(const uint8_t **p, size_t *n, size_t want)
{
    if (want > *n)
        want = *n;
    *p += want;
    *n -= want;
    return want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    if (n < 2)
        return 0;
    size_t ml = etw_rd16(p);
    take(&p, &n, 2);
    const uint8_t *meta = p;
    ml = take(&p, &n, ml);
    size_t tl = n >= 2 ? etw_rd16(p) : 0;
    take(&p, &n, 2);
    const uint8_t *traits = p;
    tl = take(&p, &n, tl);
    EVENT_HEADER_EXTENDED_DATA_ITEM ext[2];
    memset(ext, 0, sizeof ext);
    ext[0].ExtType = EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL;
    ext[0].DataSize = (USHORT)ml;
    ext[0].DataPtr = (ULONGLONG)(uintptr_t)meta;
    ext[1].ExtType = EVENT_HEADER_EXT_TYPE_PROV_TRAITS;
    ext[1].DataSize = (USHORT)tl;
    ext[1].DataPtr = (ULONGLONG)(uintptr_t)traits;
    EVENT_RECORD rec;
    memset(&rec, 0, sizeof rec);
    rec.EventHeader.Flags = EVENT_HEADER_FLAG_EXTENDED_INFO | EVENT_HEADER_FLAG_64_BIT_HEADER;
    rec.ExtendedData = ext;
    rec.ExtendedDataCount = 2;
    rec.UserData = (void *)(uintptr_t)p;
    rec.UserDataLength = (USHORT)(n > 65535 ? 65535 : n);
    etw_strbuf a = {0}, b = {0};
    etw_event_describe(&rec, &a, &b);
    etw_event_format_fields(&rec, 0, &a);
    etw_event_format_fields(&rec, 1, &b);
    ULONG need = 0;
    TdhGetEventInformation(&rec, 0, NULL, NULL, &need);
    etw_strbuf_free(&a);
    etw_strbuf_free(&b);
    etwire_tdh_reset(); /* keep the schema store bounded across inputs */
    return 0;
}
