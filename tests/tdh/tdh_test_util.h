/* Shared helpers of the tdh tests: hand-built schemas stored under a test provider, and
 * EVENT_RECORDs over hand-built payloads. Header-only so every test stays one executable. */
#ifndef ETWIRE_TESTS_TDH_UTIL_H
#define ETWIRE_TESTS_TDH_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/event_text.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/tei_build.h"

/* The property array through a pointer: indexing EventPropertyInfoArray[ANYSIZE_ARRAY] past
 * element 0 is the Windows idiom but trips compilers' array-bounds warnings. */
static inline EVENT_PROPERTY_INFO *props_of(TRACE_EVENT_INFO *t)
{
    return t->EventPropertyInfoArray;
}

/* cmocka teardown: forget every learned and loaded schema between tests. */
static inline int tdh_reset_teardown(void **state)
{
    (void)state;
    etwire_tdh_reset();
    return 0;
}

static const GUID tdh_test_guid = {0x11223344, 0x5566, 0x7788, {1, 2, 3, 4, 5, 6, 7, 8}};

static inline void tdh_store(etw_teib *b, uint16_t id)
{
    size_t size = 0;
    b->hdr.ProviderGuid = tdh_test_guid;
    b->hdr.EventDescriptor.Id = id;
    if (!b->hdr.ProviderNameOffset)
        b->hdr.ProviderNameOffset = etw_teib_str(b, "Test-Provider", SIZE_MAX);
    TRACE_EVENT_INFO *t = etw_teib_finish(b, &size);
    assert_non_null(t);
    etw_schema_key k = {.guid = tdh_test_guid, .kind = ETW_KEY_MANIFEST, .a = id, .b = 0};
    assert_true(etw_schema_put(&k, t, (uint32_t)size, ETW_SRC_MANIFEST, 0));
    etw_teib_free(b);
}

static inline EVENT_RECORD tdh_rec(uint16_t id, const void *payload, size_t n, uint16_t flags)
{
    EVENT_RECORD r;
    memset(&r, 0, sizeof r);
    r.EventHeader.ProviderId = tdh_test_guid;
    r.EventHeader.EventDescriptor.Id = id;
    r.EventHeader.Flags = flags ? flags : EVENT_HEADER_FLAG_64_BIT_HEADER;
    r.UserData = (void *)(uintptr_t)payload;
    r.UserDataLength = (USHORT)n;
    return r;
}

/* Formats rec; the returned text lives until the next call. */
static inline const char *tdh_fmt(const EVENT_RECORD *r, int json, int *decoded)
{
    static etw_strbuf sb;
    etw_strbuf_reset(&sb);
    int ok = etw_event_format_fields(r, json, &sb);
    if (decoded)
        *decoded = ok;
    return sb.data ? sb.data : "";
}

/* One property F of (in, out) with an optional fixed length, formatted over payload. */
static inline const char *tdh_one(uint16_t id, uint16_t in, uint16_t out, uint16_t length,
                                  const void *payload, size_t n, int json, uint16_t flags)
{
    etw_teib b;
    etw_teib_init(&b);
    int32_t i = etw_teib_add(&b, -1, "F", in, out);
    b.props[i].epi.length = length;
    tdh_store(&b, id);
    EVENT_RECORD r = tdh_rec(id, payload, n, flags);
    return tdh_fmt(&r, json, NULL);
}

#endif
