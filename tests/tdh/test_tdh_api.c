/* The Windows-named TDH functions: buffer-size protocol, documented error codes, property
 * lookup by descriptor path, one-value formatting and provider enumeration. */
#include "tdh_test_util.h"

#include "base/bytes.h"
#include "base/text.h"

static const WCHAR W_A[] = {'A', 0}, W_S[] = {'S', 0}, W_X[] = {'X', 0}, W_NOPE[] = {'N', 'o', 0},
                   W_MAP[] = {'M', 0};

/* Schema id 1: A UINT32; S struct[2] {X UINT16}; T UNICODESTRING (map on A). */
static void store_schema(void)
{
    etw_teib b;
    etw_teib_init(&b);
    int32_t a = etw_teib_add(&b, -1, "A", TDH_INTYPE_UINT32, 0);
    b.props[a].epi.nonStructType.MapNameOffset = etw_teib_str(&b, "M", SIZE_MAX);
    int32_t s = etw_teib_add_struct(&b, -1, "S");
    b.props[s].epi.count = 2;
    etw_teib_add(&b, s, "X", TDH_INTYPE_UINT16, 0);
    etw_teib_add(&b, -1, "T", TDH_INTYPE_UNICODESTRING, 0);
    tdh_store(&b, 1);
    etw_mapb m;
    etw_mapb_init(&m, "M", EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP);
    etw_mapb_add(&m, 5, "Five");
    size_t size;
    EVENT_MAP_INFO *e = etw_mapb_finish(&m, &size);
    etw_mapb_free(&m);
    uint8_t key[2] = {'M', 0};
    etw_schema_key k = {.guid = tdh_test_guid, .kind = ETW_KEY_MAP, .blob = key, .blob_len = 2};
    assert_true(etw_schema_put(&k, e, (uint32_t)size, ETW_SRC_MANIFEST, 0));
}

static const uint8_t payload[] = {5, 0, 0, 0, 0x11, 0x11, 0x22, 0x22, 'h', 0, 'i', 0, 0, 0};

static void test_get_event_information(void **state)
{
    (void)state;
    store_schema();
    EVENT_RECORD r = tdh_rec(1, payload, sizeof payload, 0);
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(NULL, 0, NULL, NULL, &size), ERROR_INVALID_PARAMETER);
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, NULL), ERROR_INVALID_PARAMETER);
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    assert_true(size >= 112 + 4 * 24);
    TRACE_EVENT_INFO *t = malloc(size);
    ULONG small = size - 1;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, t, &small), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(small, size);
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, t, &size), ERROR_SUCCESS);
    assert_int_equal(t->PropertyCount, 4);
    assert_int_equal(t->TopLevelPropertyCount, 3);
    /* Windows layout: struct members after the top level, strings at byte offsets. */
    assert_int_equal(props_of(t)[1].Flags & PropertyStruct, PropertyStruct);
    assert_int_equal(props_of(t)[1].structType.StructStartIndex, 3);
    etw_strbuf sb = {0};
    etw_wstr_to_utf8(&sb, TEI_PROVIDER_NAME(t));
    assert_string_equal(sb.data, "Test-Provider");
    etw_strbuf_reset(&sb);
    etw_wstr_to_utf8(&sb, (PWSTR)((PBYTE)t + props_of(t)[3].NameOffset));
    assert_string_equal(sb.data, "X");
    etw_strbuf_free(&sb);
    free(t);
    EVENT_RECORD unknown = tdh_rec(77, payload, sizeof payload, 0);
    size = 0;
    assert_int_equal(TdhGetEventInformation(&unknown, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
}

static void test_get_property(void **state)
{
    (void)state;
    store_schema();
    EVENT_RECORD r = tdh_rec(1, payload, sizeof payload, 0);
    PROPERTY_DATA_DESCRIPTOR d[2];
    memset(d, 0, sizeof d);
    d[0].PropertyName = (ULONGLONG)(uintptr_t)W_A;
    d[0].ArrayIndex = UINT32_MAX;
    ULONG size = 0;
    assert_int_equal(TdhGetPropertySize(&r, 0, NULL, 1, d, &size), ERROR_SUCCESS);
    assert_int_equal(size, 4);
    /* Whole struct array, then one member of element 1. */
    d[0].PropertyName = (ULONGLONG)(uintptr_t)W_S;
    assert_int_equal(TdhGetPropertySize(&r, 0, NULL, 1, d, &size), ERROR_SUCCESS);
    assert_int_equal(size, 4);
    d[0].ArrayIndex = 1;
    d[1].PropertyName = (ULONGLONG)(uintptr_t)W_X;
    d[1].ArrayIndex = UINT32_MAX;
    uint8_t buf[8];
    assert_int_equal(TdhGetProperty(&r, 0, NULL, 2, d, sizeof buf, buf), ERROR_SUCCESS);
    assert_int_equal(etw_rd16(buf), 0x2222);
    assert_int_equal(TdhGetProperty(&r, 0, NULL, 2, d, 1, buf), ERROR_INSUFFICIENT_BUFFER);
    d[0].PropertyName = (ULONGLONG)(uintptr_t)W_NOPE;
    assert_int_equal(TdhGetPropertySize(&r, 0, NULL, 1, d, &size), ERROR_NOT_FOUND);
    assert_int_equal(TdhGetPropertySize(&r, 0, NULL, 0, d, &size), ERROR_INVALID_PARAMETER);
    /* Payload shorter than the schema. */
    d[0].PropertyName = (ULONGLONG)(uintptr_t)W_S;
    d[0].ArrayIndex = UINT32_MAX;
    EVENT_RECORD shortr = tdh_rec(1, payload, 6, 0);
    assert_int_equal(TdhGetPropertySize(&shortr, 0, NULL, 1, d, &size), ERROR_EVT_INVALID_EVENT_DATA);
}

static void test_map_information(void **state)
{
    (void)state;
    store_schema();
    EVENT_RECORD r = tdh_rec(1, payload, sizeof payload, 0);
    ULONG size = 0;
    assert_int_equal(TdhGetEventMapInformation(&r, (PWSTR)W_MAP, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    EVENT_MAP_INFO *m = malloc(size);
    assert_int_equal(TdhGetEventMapInformation(&r, (PWSTR)W_MAP, m, &size), ERROR_SUCCESS);
    assert_int_equal(m->EntryCount, 1);
    assert_int_equal(m->MapEntryArray[0].Value, 5);
    /* TdhFormatProperty with the map, then a value the map lacks. */
    WCHAR out[64];
    ULONG bytes = sizeof out;
    USHORT used = 0;
    assert_int_equal(TdhFormatProperty(NULL, m, 8, TDH_INTYPE_UINT32, 0, 0, 4, (PBYTE)payload, &bytes, out, &used), ERROR_SUCCESS);
    etw_strbuf sb = {0};
    etw_wstr_to_utf8(&sb, out);
    assert_string_equal(sb.data, "Five");
    assert_int_equal(used, 4);
    const uint8_t six[4] = {6, 0, 0, 0};
    bytes = sizeof out;
    assert_int_equal(TdhFormatProperty(NULL, m, 8, TDH_INTYPE_UINT32, 0, 0, 4, (PBYTE)six, &bytes, out, &used), ERROR_EVT_INVALID_EVENT_DATA);
    assert_int_equal(TdhFormatProperty(NULL, NULL, 8, TDH_INTYPE_UINT32, 0, 0, 4, (PBYTE)six, &bytes, out, &used), ERROR_SUCCESS);
    etw_strbuf_reset(&sb);
    etw_wstr_to_utf8(&sb, out);
    assert_string_equal(sb.data, "6");
    etw_strbuf_free(&sb);
    free(m);
    assert_int_equal(TdhGetEventMapInformation(&r, (PWSTR)W_A, NULL, &size), ERROR_NOT_FOUND);
}

static void test_format_property(void **state)
{
    (void)state;
    WCHAR out[32];
    ULONG bytes = 0;
    USHORT used = 0;
    const uint8_t w[] = {'h', 0, 'e', 0, 'l', 0, 'l', 0, 'o', 0, 0, 0, 'x', 0};
    assert_int_equal(TdhFormatProperty(NULL, NULL, 8, TDH_INTYPE_UNICODESTRING, 0, 0, sizeof w, (PBYTE)w, &bytes, NULL, &used), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(bytes, 12);
    assert_int_equal(TdhFormatProperty(NULL, NULL, 8, TDH_INTYPE_UNICODESTRING, 0, 0, sizeof w, (PBYTE)w, &bytes, out, &used), ERROR_SUCCESS);
    assert_int_equal(used, 12); /* consumed includes the terminator */
    assert_int_equal(TdhFormatProperty(NULL, NULL, 8, TDH_INTYPE_UINT64, 0, 0, 4, (PBYTE)w, &bytes, out, &used), ERROR_EVT_INVALID_EVENT_DATA);
    assert_int_equal(TdhFormatProperty(NULL, NULL, 5, TDH_INTYPE_UINT32, 0, 0, 4, (PBYTE)w, &bytes, out, &used), ERROR_INVALID_PARAMETER);
    bytes = sizeof out;
    assert_int_equal(TdhFormatProperty(NULL, NULL, 4, TDH_INTYPE_POINTER, 0, 0, 4, (PBYTE)w, &bytes, out, &used), ERROR_SUCCESS);
    assert_int_equal(used, 4);
}

static void test_enumerate_providers(void **state)
{
    (void)state;
    store_schema();
    ULONG size = 0;
    assert_int_equal(TdhEnumerateProviders(NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    PROVIDER_ENUMERATION_INFO *p = malloc(size);
    assert_int_equal(TdhEnumerateProviders(p, &size), ERROR_SUCCESS);
    int found = 0;
    for (ULONG i = 0; i < p->NumberOfProviders; i++) {
        TRACE_PROVIDER_INFO *t = &p->TraceProviderInfoArray[i];
        etw_strbuf sb = {0};
        etw_wstr_to_utf8(&sb, (const WCHAR *)(const void *)((uint8_t *)p + t->ProviderNameOffset));
        if (etw_guid_equal(&t->ProviderGuid, &tdh_test_guid) && strcmp(sb.data, "Test-Provider") == 0)
            found = 1;
        etw_strbuf_free(&sb);
    }
    assert_true(found);
    assert_true(p->NumberOfProviders > 10); /* the built-in kernel classes */
    free(p);
}

static void test_manifest_errors(void **state)
{
    (void)state;
    const WCHAR missing[] = {'/', 'n', 'o', 'p', 'e', 0};
    assert_int_equal(TdhLoadManifest((PWSTR)missing), ERROR_FILE_NOT_FOUND);
    assert_int_equal(TdhLoadManifestFromBinary((PWSTR)missing), ERROR_FILE_NOT_FOUND);
    assert_int_equal(TdhUnloadManifest((PWSTR)missing), ERROR_NOT_FOUND);
    assert_int_equal(TdhLoadManifest(NULL), ERROR_INVALID_PARAMETER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_get_event_information, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_get_property, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_map_information, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_format_property, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_enumerate_providers, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_manifest_errors, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
