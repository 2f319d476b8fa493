/* The property walk (see prop_walk.h). */
#include "tdh/decode/prop_walk.h"

#include <string.h>

#include "tdh/decode/prop_value.h"
#include "tdh/store/tei_build.h"

typedef struct walker {
    const TRACE_EVENT_INFO *tei;
    const uint8_t *p;
    size_t n, off;
    unsigned ptr;
    etw_walk_fn fn;
    void *ctx;
    size_t budget; /* visits left: zero-size elements in nested arrays cannot spin forever */
    uint32_t ints[ETW_TEIB_MAX_PROPS];
    uint8_t have[ETW_TEIB_MAX_PROPS];
} walker;

static etw_tdh_status emit(walker *w, etw_walk_item *it)
{
    if (w->budget == 0)
        return ETW_TDH_E_PAYLOAD;
    w->budget--;
    return w->fn(w->ctx, it) ? ETW_TDH_E_STOPPED : 0;
}

/* A count or length taken from an earlier property; TDH clamps such values to 16 bits. */
static int ref_value(const walker *w, uint32_t idx, uint32_t *v)
{
    if (!w->have[idx])
        return 0;
    *v = w->ints[idx] > 0xFFFF ? 0xFFFF : w->ints[idx];
    return 1;
}

static etw_tdh_status walk_range(walker *w, uint32_t start, uint32_t end, unsigned depth);

static etw_tdh_status walk_prop(walker *w, uint32_t i, unsigned depth)
{
    const EVENT_PROPERTY_INFO *e = &w->tei->EventPropertyInfoArray[i];
    uint32_t count = e->count, length = e->length;
    etw_tdh_status r;
    int has_length = 0;
    if ((e->Flags & PropertyParamCount) && !ref_value(w, e->countPropertyIndex, &count))
        return ETW_TDH_E_PAYLOAD;
    int is_array = count != 1 || (e->Flags & (PropertyParamCount | PropertyParamFixedCount));
    int is_struct = (e->Flags & PropertyStruct) != 0;
    etw_walk_item it = {.index = i, .epi = e, .depth = depth, .in_array = is_array};
    if (!is_struct) {
        it.in_type = e->nonStructType.InType;
        it.out_type = e->nonStructType.OutType;
        if (e->Flags & PropertyParamLength) {
            if (!ref_value(w, e->lengthPropertyIndex, &length))
                return ETW_TDH_E_PAYLOAD;
            has_length = 1;
        } else {
            has_length = (e->Flags & PropertyParamFixedLength) || length != 0;
        }
    }
    size_t array_off = w->off;
    if (is_array) {
        it.ev = ETW_WALK_ARRAY_BEGIN;
        it.count = count;
        it.off = w->off;
        if ((r = emit(w, &it)) != 0)
            return r;
    }
    for (uint32_t k = 0; k < count; k++) {
        it.elem = k;
        it.off = w->off;
        if (is_struct) {
            if (depth >= ETW_WALK_MAX_DEPTH)
                return ETW_TDH_E_PAYLOAD;
            it.ev = ETW_WALK_STRUCT_BEGIN;
            if ((r = emit(w, &it)) != 0)
                return r;
            uint32_t s = e->structType.StructStartIndex;
            if ((r = walk_range(w, s, s + e->structType.NumOfStructMembers, depth + 1)) != 0)
                return r;
            it.ev = ETW_WALK_STRUCT_END;
            it.size = w->off - it.off;
            if ((r = emit(w, &it)) != 0)
                return r;
            continue;
        }
        size_t sz = etw_value_size(it.in_type, it.out_type, length, has_length, w->ptr,
                                   w->p + w->off, w->n - w->off);
        if (sz == ETW_SIZE_BAD)
            return ETW_TDH_E_PAYLOAD;
        it.ev = ETW_WALK_VALUE;
        it.size = sz;
        if (!is_array && etw_value_is_countable(it.in_type)) {
            w->ints[i] = (uint32_t)etw_value_uint(it.in_type, w->p + w->off, sz);
            w->have[i] = 1;
        }
        if ((r = emit(w, &it)) != 0)
            return r;
        w->off += sz;
    }
    if (is_array) {
        it.ev = ETW_WALK_ARRAY_END;
        it.off = array_off;
        it.size = w->off - array_off;
        return emit(w, &it);
    }
    return 0;
}

static etw_tdh_status walk_range(walker *w, uint32_t start, uint32_t end, unsigned depth)
{
    for (uint32_t i = start; i < end; i++) {
        /* A payload that ends exactly between two top-level properties comes from an older
         * layout of the event: the fields present decode, the rest are absent (TraceEvent
         * reads kernel events the same way, notes §5.4). */
        if (depth == 0 && i > start && w->off == w->n)
            return 0;
        etw_tdh_status r = walk_prop(w, i, depth);
        if (r)
            return r;
    }
    return 0;
}

etw_tdh_status etw_walk(const TRACE_EVENT_INFO *tei, const uint8_t *p, size_t n, unsigned ptr,
                  etw_walk_fn fn, void *ctx, size_t *consumed)
{
    walker w;
    uint32_t count = tei->PropertyCount;
    if (count > ETW_TEIB_MAX_PROPS || tei->TopLevelPropertyCount > count)
        return ETW_TDH_E_PARAM;
    static const uint8_t none[1];
    w.tei = tei;
    /* An event without payload (UserData NULL) walks over an empty range: never offset NULL. */
    w.p = p ? p : none;
    w.n = p ? n : 0;
    w.off = 0;
    w.ptr = ptr == 4 ? 4 : 8;
    w.fn = fn;
    w.ctx = ctx;
    w.budget = 65536 + 16 * w.n;
    memset(w.have, 0, count);
    etw_tdh_status r = walk_range(&w, 0, tei->TopLevelPropertyCount, 0);
    if (consumed)
        *consumed = w.off;
    return r;
}
