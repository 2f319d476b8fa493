/* The Windows-named TDH functions over the schema store: argument checks, the buffer-size
 * protocol (size 0 asks, ERROR_INSUFFICIENT_BUFFER reports the size needed) and error mapping.
 * Schema files (TdhLoadManifest, ...) are in tdh_manifests.c, providers in tdh_providers.c. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/decode/prop_value.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/wpp_table.h"
#include "tdh/decode/tei_text.h"
#include "tdh/store/pack_sources.h"
#include "tdh/tdh_status.h"

static int record_schema(PEVENT_RECORD rec, ULONG nctx, PTDH_CONTEXT ctx, etw_schema *s)
{
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        etw_wpp_use_contexts(nctx, ctx); /* TMF files and search paths the caller names */
    etw_metadata_observe(rec);
    return etw_schema_for_record(rec, s);
}

ULONG WINAPI TdhGetEventInformation(PEVENT_RECORD Event, ULONG TdhContextCount, PTDH_CONTEXT TdhContext,
                                    PTRACE_EVENT_INFO Buffer, PULONG BufferSize)
{
    etw_schema s;
    if (!Event || !BufferSize || (TdhContextCount && !TdhContext))
        return ERROR_INVALID_PARAMETER;
    if (!record_schema(Event, TdhContextCount, TdhContext, &s))
        return ERROR_NOT_FOUND;
    if (!Buffer || *BufferSize < s.size) {
        *BufferSize = s.size;
        return ERROR_INSUFFICIENT_BUFFER;
    }
    memcpy(Buffer, s.info, s.size);
    /* Shared schemas (TraceLogging, kernel tables) serve many descriptors: report this one. */
    if (s.source == ETW_SRC_TLG || s.source == ETW_SRC_KERNEL || s.source == ETW_SRC_MOF)
        Buffer->EventDescriptor = Event->EventHeader.EventDescriptor;
    *BufferSize = s.size;
    return ERROR_SUCCESS;
}

ULONG WINAPI TdhGetEventMapInformation(PEVENT_RECORD pEvent, PWSTR pMapName, PEVENT_MAP_INFO pBuffer,
                                       ULONG *pBufferSize)
{
    if (!pEvent || !pMapName || !pBufferSize)
        return ERROR_INVALID_PARAMETER;
    uint8_t name[1024];
    size_t n = 0;
    for (; pMapName[n / 2] && n + 2 <= sizeof name; n += 2)
        etw_wr16(name + n, pMapName[n / 2]);
    if (pMapName[n / 2])
        return ERROR_NOT_FOUND;
    etw_schema s;
    etw_metadata_observe(pEvent);
    if (!etw_map_for_provider(&pEvent->EventHeader.ProviderId, name, n, &s))
        return ERROR_NOT_FOUND;
    if (!pBuffer || *pBufferSize < s.size) {
        *pBufferSize = s.size;
        return ERROR_INSUFFICIENT_BUFFER;
    }
    memcpy(pBuffer, s.info, s.size);
    *pBufferSize = s.size;
    return ERROR_SUCCESS;
}

/* Finds the property a PROPERTY_DATA_DESCRIPTOR path names (see tdh.h) during a walk. */
typedef struct locate {
    uint32_t idx[ETW_WALK_MAX_DEPTH + 1];
    uint32_t elem[ETW_WALK_MAX_DEPTH + 1];
    uint32_t cur_idx[ETW_WALK_MAX_DEPTH + 2], cur_elem[ETW_WALK_MAX_DEPTH + 2];
    unsigned last;
    size_t off, size;
    int found;
} locate;

static int locate_fn(void *ctx, const etw_walk_item *it)
{
    locate *l = ctx;
    if (it->ev == ETW_WALK_STRUCT_BEGIN && it->depth <= ETW_WALK_MAX_DEPTH) {
        l->cur_idx[it->depth] = it->index;
        l->cur_elem[it->depth] = it->elem;
    }
    if (it->depth != l->last || it->index != l->idx[l->last])
        return 0;
    for (unsigned d = 0; d < l->last; d++)
        if (l->cur_idx[d] != l->idx[d] || l->cur_elem[d] != l->elem[d])
            return 0;
    uint32_t want = l->elem[l->last];
    int whole = want == UINT32_MAX;
    switch (it->ev) {
    case ETW_WALK_ARRAY_END:
        if (whole) {
            l->off = it->off;
            l->size = it->size;
            l->found = 1;
        }
        return l->found;
    case ETW_WALK_VALUE:
    case ETW_WALK_STRUCT_END:
        if ((whole && !it->in_array) || (!whole && it->elem == want && (it->in_array || want == 0))) {
            l->off = it->off;
            l->size = it->size;
            l->found = 1;
        }
        return l->found;
    default:
        return 0;
    }
}

static ULONG find_property(PEVENT_RECORD ev, ULONG nctx, PTDH_CONTEXT ctx, ULONG n,
                           PPROPERTY_DATA_DESCRIPTOR d, size_t *off, size_t *size)
{
    etw_schema s;
    if (!ev || !d || n == 0 || n > ETW_WALK_MAX_DEPTH || (nctx && !ctx))
        return ERROR_INVALID_PARAMETER;
    if (!record_schema(ev, nctx, ctx, &s))
        return ERROR_NOT_FOUND;
    const TRACE_EVENT_INFO *t = s.info;
    locate l;
    memset(&l, 0, sizeof l);
    uint32_t lo = 0, hi = t->TopLevelPropertyCount;
    for (ULONG k = 0; k < n; k++) {
        const WCHAR *name = (const WCHAR *)(uintptr_t)d[k].PropertyName;
        uint32_t i = lo;
        while (i < hi && !etw_blob_wstr_eq(t, s.size, t->EventPropertyInfoArray[i].NameOffset, name))
            i++;
        if (i >= hi)
            return ERROR_NOT_FOUND;
        const EVENT_PROPERTY_INFO *e = &t->EventPropertyInfoArray[i];
        l.idx[k] = i;
        l.elem[k] = d[k].ArrayIndex;
        if (k + 1 < n) {
            if (!(e->Flags & PropertyStruct))
                return ERROR_INVALID_PARAMETER;
            if (l.elem[k] == UINT32_MAX)
                l.elem[k] = 0;
            lo = e->structType.StructStartIndex;
            hi = lo + e->structType.NumOfStructMembers;
        }
    }
    l.last = n - 1;
    unsigned ptr = etw_event_pointer_size(ev, nctx, ctx);
    etw_tdh_status r = etw_walk(t, ev->UserData, ev->UserDataLength, ptr, locate_fn, &l, NULL);
    if (l.found) {
        *off = l.off;
        *size = l.size;
        return ERROR_SUCCESS;
    }
    /* Stopped or complete without finding it: the path names no value of this payload. */
    return r == ETW_TDH_OK || r == ETW_TDH_E_STOPPED ? ERROR_NOT_FOUND : etw_tdh_status_win32(r);
}

ULONG WINAPI TdhGetPropertySize(PEVENT_RECORD pEvent, ULONG TdhContextCount, PTDH_CONTEXT pTdhContext,
                                ULONG PropertyDataCount, PPROPERTY_DATA_DESCRIPTOR pPropertyData,
                                ULONG *pPropertySize)
{
    size_t off, size;
    if (!pPropertySize)
        return ERROR_INVALID_PARAMETER;
    ULONG r = find_property(pEvent, TdhContextCount, pTdhContext, PropertyDataCount, pPropertyData, &off, &size);
    if (r == ERROR_SUCCESS)
        *pPropertySize = (ULONG)size;
    return r;
}

ULONG WINAPI TdhGetProperty(PEVENT_RECORD pEvent, ULONG TdhContextCount, PTDH_CONTEXT pTdhContext,
                            ULONG PropertyDataCount, PPROPERTY_DATA_DESCRIPTOR pPropertyData,
                            ULONG BufferSize, PBYTE pBuffer)
{
    size_t off, size;
    if (!pBuffer)
        return ERROR_INVALID_PARAMETER;
    ULONG r = find_property(pEvent, TdhContextCount, pTdhContext, PropertyDataCount, pPropertyData, &off, &size);
    if (r != ERROR_SUCCESS)
        return r;
    if (BufferSize < size)
        return ERROR_INSUFFICIENT_BUFFER;
    memcpy(pBuffer, (const uint8_t *)pEvent->UserData + off, size);
    return ERROR_SUCCESS;
}

static int is_string_in(USHORT in)
{
    return in == TDH_INTYPE_UNICODESTRING || in == TDH_INTYPE_ANSISTRING;
}

ULONG WINAPI TdhFormatProperty(PTRACE_EVENT_INFO EventInfo, PEVENT_MAP_INFO MapInfo, ULONG PointerSize,
                               USHORT PropertyInType, USHORT PropertyOutType, USHORT PropertyLength,
                               USHORT UserDataLength, PBYTE UserData, PULONG BufferSize, PWCHAR Buffer,
                               PUSHORT UserDataConsumed)
{
    if (!BufferSize || !UserDataConsumed || (UserDataLength && !UserData) ||
        (PointerSize != 4 && PointerSize != 8))
        return ERROR_INVALID_PARAMETER;
    int has_length = PropertyLength != 0 || !is_string_in(PropertyInType);
    size_t size = etw_value_size(PropertyInType, PropertyOutType, PropertyLength, has_length,
                                 PointerSize, UserData, UserDataLength);
    if (size == ETW_SIZE_BAD)
        return etw_tdh_status_win32(ETW_TDH_E_PAYLOAD);
    etw_strbuf text = {0};
    /* The map's size is not passed in; a map blob is at most what its entries imply. */
    size_t map_size = MapInfo ? 16 + 8 * (size_t)MapInfo->EntryCount + 65536 : 0;
    etw_tdh_status st = etw_value_format(&text, MapInfo ? ETW_FMT_STRICT_MAP : 0, PropertyInType,
                                         PropertyOutType, UserData, size, PointerSize, MapInfo, map_size);
    if (st == ETW_TDH_OK && text.failed)
        st = ETW_TDH_E_NOMEM;
    ULONG r = etw_tdh_status_win32(st);
    if (r == ERROR_SUCCESS) {
        size_t cap = text.len + 1;
        WCHAR *w = malloc(cap * sizeof *w);
        size_t units = w ? etw_utf8_to_utf16(text.data ? text.data : "", w, cap) : (size_t)-1;
        if (units == (size_t)-1) {
            r = ERROR_NOT_ENOUGH_MEMORY;
        } else if (!Buffer || *BufferSize < (units + 1) * sizeof(WCHAR)) {
            *BufferSize = (ULONG)((units + 1) * sizeof(WCHAR));
            r = ERROR_INSUFFICIENT_BUFFER;
        } else {
            memcpy(Buffer, w, (units + 1) * sizeof(WCHAR));
            *BufferSize = (ULONG)((units + 1) * sizeof(WCHAR));
            *UserDataConsumed = (USHORT)size;
        }
        free(w);
    }
    etw_strbuf_free(&text);
    return r;
}

int etwire_tdh_observe(PCEVENT_RECORD rec)
{
    return rec ? etw_metadata_observe(rec) : 0;
}

void etwire_tdh_use_builtin_schemas(int Enable)
{
    etw_builtin_pack_enable(Enable);
}
