/* Helpers of the schema pack tests: semantic equality of TRACE_EVENT_INFO / EVENT_MAP_INFO
 * blobs (same fields, same strings — string placement inside a blob may differ). */
#ifndef ETWIRE_TESTS_PACK_UTIL_H
#define ETWIRE_TESTS_PACK_UTIL_H

#include <stdint.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/bytes.h"

/* The UTF-16 string at off (0 = absent) compared with the one at off2 of another blob. */
static inline int pack_test_str_eq(const uint8_t *a, size_t na, uint32_t oa, const uint8_t *b, size_t nb, uint32_t ob)
{
    if (!oa || !ob)
        return oa == ob;
    for (;; oa += 2, ob += 2) {
        if (oa + 1 >= na || ob + 1 >= nb)
            return 0;
        uint16_t x = etw_rd16(a + oa), y = etw_rd16(b + ob);
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

/* 1 if the two TRACE_EVENT_INFO blobs describe the same event (BinaryXML not compared). */
static inline int pack_test_tei_eq(const TRACE_EVENT_INFO *x, size_t nx, const TRACE_EVENT_INFO *y, size_t ny)
{
    const uint8_t *a = (const uint8_t *)x, *b = (const uint8_t *)y;
    if (memcmp(&x->ProviderGuid, &y->ProviderGuid, sizeof x->ProviderGuid) ||
        memcmp(&x->EventGuid, &y->EventGuid, sizeof x->EventGuid) ||
        memcmp(&x->EventDescriptor, &y->EventDescriptor, sizeof x->EventDescriptor) ||
        x->DecodingSource != y->DecodingSource || x->PropertyCount != y->PropertyCount ||
        x->TopLevelPropertyCount != y->TopLevelPropertyCount || x->Flags != y->Flags)
        return 0;
    const ULONG sx[] = {x->ProviderNameOffset, x->LevelNameOffset,  x->ChannelNameOffset, x->KeywordsNameOffset,
                        x->TaskNameOffset,     x->OpcodeNameOffset, x->EventMessageOffset, x->ProviderMessageOffset,
                        x->EventNameOffset,    x->EventAttributesOffset};
    const ULONG sy[] = {y->ProviderNameOffset, y->LevelNameOffset,  y->ChannelNameOffset, y->KeywordsNameOffset,
                        y->TaskNameOffset,     y->OpcodeNameOffset, y->EventMessageOffset, y->ProviderMessageOffset,
                        y->EventNameOffset,    y->EventAttributesOffset};
    for (size_t i = 0; i < sizeof sx / sizeof sx[0]; i++)
        if (!pack_test_str_eq(a, nx, sx[i], b, ny, sy[i]))
            return 0;
    const EVENT_PROPERTY_INFO *px = x->EventPropertyInfoArray, *py = y->EventPropertyInfoArray;
    for (ULONG i = 0; i < x->PropertyCount; i++) {
        const EVENT_PROPERTY_INFO *p = &px[i], *q = &py[i];
        if (p->Flags != q->Flags || p->count != q->count || p->length != q->length || p->Reserved != q->Reserved ||
            !pack_test_str_eq(a, nx, p->NameOffset, b, ny, q->NameOffset))
            return 0;
        if (p->Flags & PropertyStruct) {
            if (p->structType.StructStartIndex != q->structType.StructStartIndex ||
                p->structType.NumOfStructMembers != q->structType.NumOfStructMembers)
                return 0;
        } else if (p->nonStructType.InType != q->nonStructType.InType ||
                   p->nonStructType.OutType != q->nonStructType.OutType ||
                   !pack_test_str_eq(a, nx, p->nonStructType.MapNameOffset, b, ny, q->nonStructType.MapNameOffset)) {
            return 0;
        }
    }
    return 1;
}

static inline int pack_test_map_eq(const EVENT_MAP_INFO *x, size_t nx, const EVENT_MAP_INFO *y, size_t ny)
{
    const uint8_t *a = (const uint8_t *)x, *b = (const uint8_t *)y;
    if (x->Flag != y->Flag || x->EntryCount != y->EntryCount || !pack_test_str_eq(a, nx, x->NameOffset, b, ny, y->NameOffset))
        return 0;
    int pattern = (x->Flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int str_in = pattern || x->MapEntryValueType == EVENTMAP_ENTRY_VALUETYPE_STRING;
    if (pattern ? !pack_test_str_eq(a, nx, x->FormatStringOffset, b, ny, y->FormatStringOffset)
                : x->MapEntryValueType != y->MapEntryValueType)
        return 0;
    for (ULONG i = 0; i < x->EntryCount; i++) {
        const EVENT_MAP_ENTRY *p = &x->MapEntryArray[i], *q = &y->MapEntryArray[i];
        if (!pack_test_str_eq(a, nx, p->OutputOffset, b, ny, q->OutputOffset))
            return 0;
        if (str_in ? !pack_test_str_eq(a, nx, p->InputOffset, b, ny, q->InputOffset) : p->Value != q->Value)
            return 0;
    }
    return 1;
}

#endif
