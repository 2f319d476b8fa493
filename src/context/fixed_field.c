/* See fixed_field.h. The layout comes from TdhGetEventInformation, so the fast read gives what
 * TdhGetProperty gives: only integer and pointer properties without length or count
 * parameters (one element each) count as fixed before the property; anything else keeps the
 * TDH path. */
#include "context/fixed_field.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int fixed_size(const EVENT_PROPERTY_INFO *p, unsigned ptr)
{
    if (p->Flags != 0 || p->count != 1)
        return -1;
    unsigned size;
    switch (p->nonStructType.InType) {
    case TDH_INTYPE_INT8: case TDH_INTYPE_UINT8: size = 1; break;
    case TDH_INTYPE_INT16: case TDH_INTYPE_UINT16: size = 2; break;
    case TDH_INTYPE_INT32: case TDH_INTYPE_UINT32: case TDH_INTYPE_HEXINT32: size = 4; break;
    case TDH_INTYPE_INT64: case TDH_INTYPE_UINT64: case TDH_INTYPE_HEXINT64: size = 8; break;
    case TDH_INTYPE_POINTER: case TDH_INTYPE_SIZET: size = ptr; break;
    default: return -1;
    }
    return p->length == 0 || p->length == size ? (int)size : -1;
}

static int name_is(const TRACE_EVENT_INFO *info, ULONG info_size, ULONG off, const uint16_t *name)
{
    size_t n = 0;
    while (name[n])
        n++;
    if (off == 0 || off > info_size || (info_size - off) / 2 < n + 1)
        return 0;
    const uint8_t *s = (const uint8_t *)info + off;
    for (size_t i = 0; i <= n; i++)
        if ((uint16_t)(s[2 * i] | s[2 * i + 1] << 8) != name[i])
            return 0;
    return 1;
}

static int32_t learn(PCEVENT_RECORD er, const uint16_t *name, unsigned ptr, etw_field_kind kind)
{
    ULONG size = 0;
    if (TdhGetEventInformation((PEVENT_RECORD)er, 0, NULL, NULL, &size) != ERROR_INSUFFICIENT_BUFFER ||
        size < offsetof(TRACE_EVENT_INFO, EventPropertyInfoArray))
        return -1;
    TRACE_EVENT_INFO *info = malloc(size);
    if (!info)
        return -1;
    int32_t result = -1;
    if (TdhGetEventInformation((PEVENT_RECORD)er, 0, NULL, info, &size) == ERROR_SUCCESS &&
        info->TopLevelPropertyCount <= info->PropertyCount &&
        info->PropertyCount <= (size - offsetof(TRACE_EVENT_INFO, EventPropertyInfoArray)) / sizeof(EVENT_PROPERTY_INFO)) {
        uint32_t offset = 0;
        for (ULONG i = 0; i < info->TopLevelPropertyCount; i++) {
            const EVENT_PROPERTY_INFO *p = &info->EventPropertyInfoArray[i];
            int n = fixed_size(p, ptr);
            if (name_is(info, size, p->NameOffset, name)) {
                if (kind == ETW_FIELD_U32 ? n == 4
                                          : p->Flags == 0 && p->count == 1 && p->length == 0 &&
                                                p->nonStructType.InType == TDH_INTYPE_UNICODESTRING)
                    result = (int32_t)offset;
                break;
            }
            if (n < 0)
                break;
            offset += (uint32_t)n;
        }
    }
    free(info);
    return result;
}

int32_t etw_fixed_field_offset(etw_fixed_field_memo *m, PCEVENT_RECORD er, const uint16_t *name,
                               etw_field_kind kind)
{
    USHORT flags = er->EventHeader.Flags;
    unsigned ptr = (flags & EVENT_HEADER_FLAG_32_BIT_HEADER)   ? 4
                   : (flags & EVENT_HEADER_FLAG_64_BIT_HEADER) ? 8
                                                               : 0;
    if (!ptr)
        return -1;
    uint32_t key = er->EventHeader.EventDescriptor.Opcode |
                   (uint32_t)er->EventHeader.EventDescriptor.Version << 8 | ptr << 16;
    for (unsigned i = 0; i < ETW_FIXED_FIELD_MEMO; i++)
        if (m->slot[i].key == key)
            return m->slot[i].offset;
    int32_t offset = learn(er, name, ptr, kind);
    unsigned i = m->next++ % ETW_FIXED_FIELD_MEMO;
    m->slot[i].key = key;
    m->slot[i].offset = offset;
    return offset;
}
