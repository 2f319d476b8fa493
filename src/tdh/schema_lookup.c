/* Schema lookup for an event record (see schema_lookup.h). */
#include "tdh/schema_lookup.h"

#include <stdint.h>
#include <string.h>

#include "tdh/tlg_meta.h"

unsigned etw_event_pointer_size(const EVENT_RECORD *rec, ULONG nctx, const TDH_CONTEXT *ctx)
{
    if (rec && (rec->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER))
        return 4;
    if (rec && (rec->EventHeader.Flags & EVENT_HEADER_FLAG_64_BIT_HEADER))
        return 8;
    for (ULONG i = 0; ctx && i < nctx; i++)
        if (ctx[i].ParameterType == TDH_CONTEXT_POINTERSIZE && (ctx[i].ParameterValue == 4 || ctx[i].ParameterValue == 8))
            return (unsigned)ctx[i].ParameterValue;
    return 8;
}

const uint8_t *etw_event_ext(const EVENT_RECORD *rec, USHORT type, size_t *size)
{
    if (!rec->ExtendedData)
        return NULL;
    for (USHORT i = 0; i < rec->ExtendedDataCount; i++) {
        const EVENT_HEADER_EXTENDED_DATA_ITEM *x = &rec->ExtendedData[i];
        if (x->ExtType == type && x->DataPtr) {
            *size = x->DataSize;
            return (const uint8_t *)(uintptr_t)x->DataPtr;
        }
    }
    return NULL;
}

static int tlg_schema(const EVENT_RECORD *rec, const uint8_t *meta, size_t meta_len, etw_schema *out)
{
    etw_schema_key k = {.guid = rec->EventHeader.ProviderId, .kind = ETW_KEY_TLG, .blob = meta,
                        .blob_len = (uint32_t)meta_len};
    /* The traits (provider name) are part of the schema too; TraceLogging events of one
     * provider always carry the same traits, so keying by metadata alone is enough. */
    if (etw_schema_find(&k, out))
        return 1;
    size_t traits_len = 0, size = 0;
    const uint8_t *traits = etw_event_ext(rec, EVENT_HEADER_EXT_TYPE_PROV_TRAITS, &traits_len);
    TRACE_EVENT_INFO *tei = etw_tlg_build(&rec->EventHeader.ProviderId, &rec->EventHeader.EventDescriptor,
                                          meta, meta_len, traits, traits_len, &size);
    if (!tei)
        return 0;
    etw_schema_put(&k, tei, (uint32_t)size, ETW_SRC_TLG, 0);
    return etw_schema_find(&k, out);
}

int etw_schema_for_record(const EVENT_RECORD *rec, etw_schema *out)
{
    const EVENT_HEADER *h = &rec->EventHeader;
    size_t meta_len = 0;
    const uint8_t *meta = etw_event_ext(rec, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, &meta_len);
    if (meta)
        return tlg_schema(rec, meta, meta_len, out);
    if (h->Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return 0; /* WPP needs TMF files */
    etw_schema_key k = {.guid = h->ProviderId};
    int classic = (h->Flags & EVENT_HEADER_FLAG_CLASSIC_HEADER) != 0;
    k.kind = classic ? ETW_KEY_CLASSIC : ETW_KEY_MANIFEST;
    k.a = classic ? h->EventDescriptor.Opcode : h->EventDescriptor.Id;
    k.b = h->EventDescriptor.Version;
    if (etw_schema_find(&k, out))
        return 1;
    if (!classic) {
        /* A pipeline may deliver classic events without the flag: try the classic key too. */
        etw_schema_key c = k;
        c.kind = ETW_KEY_CLASSIC;
        c.a = h->EventDescriptor.Opcode;
        if (etw_schema_find(&c, out))
            return 1;
    }
    size_t size = 0;
    TRACE_EVENT_INFO *tei = etw_kernel_build(&h->ProviderId, h->EventDescriptor.Opcode,
                                             h->EventDescriptor.Version, &size);
    if (!tei)
        return 0;
    k.kind = ETW_KEY_CLASSIC;
    k.a = h->EventDescriptor.Opcode;
    etw_schema_put(&k, tei, (uint32_t)size, ETW_SRC_KERNEL, 0);
    return etw_schema_find(&k, out);
}

int etw_map_for_provider(const GUID *provider, const uint8_t *name, size_t name_bytes, etw_schema *out)
{
    etw_schema_key k = {.guid = *provider, .kind = ETW_KEY_MAP, .blob = name,
                        .blob_len = (uint32_t)name_bytes};
    return name_bytes < 4096 && etw_schema_find(&k, out);
}
