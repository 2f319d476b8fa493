/* Arrays (fixed, counted, by property), structs, maps and bitmaps, and hostile schemas and
 * payloads, from hand-built schemas. */
#include "tdh_test_util.h"

#include "tdh/decode/prop_walk.h"
#include "base/bytes.h"

static void test_fixed_and_counted_arrays(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    int32_t n = etw_teib_add(&b, -1, "N", TDH_INTYPE_UINT16, 0);
    int32_t a = etw_teib_add(&b, -1, "A", TDH_INTYPE_UINT8, 0);
    b.props[a].epi.Flags = PropertyParamCount;
    b.props[a].epi.countPropertyIndex = (USHORT)n;
    int32_t f = etw_teib_add(&b, -1, "Fixed", TDH_INTYPE_INT16, 0);
    b.props[f].epi.count = 2;
    int32_t one = etw_teib_add(&b, -1, "One", TDH_INTYPE_UINT8, 0);
    b.props[one].epi.Flags = PropertyParamFixedCount;
    int32_t s = etw_teib_add(&b, -1, "S", TDH_INTYPE_UNICODESTRING, 0);
    b.props[s].epi.count = 2;
    tdh_store(&b, 1);
    const uint8_t p[] = {3, 0, 10, 20, 30, 0xFF, 0xFF, 2, 0, 9, 'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0};
    EVENT_RECORD r = tdh_rec(1, p, sizeof p, 0);
    int ok;
    assert_string_equal(tdh_fmt(&r, 0, &ok), "N=3; A=[10, 20, 30]; Fixed=[-1, 2]; One=[9]; S=[a, bc]");
    assert_int_equal(ok, 1);
    assert_string_equal(tdh_fmt(&r, 1, &ok),
                        "\"N\":3,\"A\":[10,20,30],\"Fixed\":[-1,2],\"One\":[9],\"S\":[\"a\",\"bc\"]");
}

static void test_length_by_property(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    int32_t len = etw_teib_add(&b, -1, "Len", TDH_INTYPE_UINT32, 0);
    int32_t bin = etw_teib_add(&b, -1, "Data", TDH_INTYPE_BINARY, 0);
    b.props[bin].epi.Flags = PropertyParamLength;
    b.props[bin].epi.lengthPropertyIndex = (USHORT)len;
    int32_t str = etw_teib_add(&b, -1, "Str", TDH_INTYPE_UNICODESTRING, 0);
    b.props[str].epi.Flags = PropertyParamLength;
    b.props[str].epi.lengthPropertyIndex = (USHORT)len;
    tdh_store(&b, 2);
    const uint8_t p[] = {2, 0, 0, 0, 0xAB, 0xCD, 'h', 0, 'i', 0};
    EVENT_RECORD r = tdh_rec(2, p, sizeof p, 0);
    assert_string_equal(tdh_fmt(&r, 0, NULL), "Len=2; Data=0xabcd; Str=hi");
}

static void test_structs(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    int32_t cnt = etw_teib_add(&b, -1, "Count", TDH_INTYPE_UINT8, 0);
    int32_t st = etw_teib_add_struct(&b, -1, "Items");
    b.props[st].epi.Flags |= PropertyParamCount;
    b.props[st].epi.countPropertyIndex = (USHORT)cnt;
    etw_teib_add(&b, st, "Id", TDH_INTYPE_UINT16, 0);
    int32_t inner = etw_teib_add_struct(&b, st, "Pos");
    etw_teib_add(&b, inner, "X", TDH_INTYPE_INT8, 0);
    etw_teib_add(&b, inner, "Y", TDH_INTYPE_INT8, 0);
    etw_teib_add(&b, -1, "Tail", TDH_INTYPE_UINT8, 0);
    tdh_store(&b, 3);
    const uint8_t p[] = {2, 1, 0, 5, 0xFF, 2, 0, 6, 7, 99};
    EVENT_RECORD r = tdh_rec(3, p, sizeof p, 0);
    assert_string_equal(tdh_fmt(&r, 0, NULL),
                        "Count=2; Items=[{Id=1; Pos={X=5; Y=-1}}, {Id=2; Pos={X=6; Y=7}}]; Tail=99");
    assert_string_equal(tdh_fmt(&r, 1, NULL),
                        "\"Count\":2,\"Items\":[{\"Id\":1,\"Pos\":{\"X\":5,\"Y\":-1}},{\"Id\":2,\"Pos\":{\"X\":6,\"Y\":7}}],\"Tail\":99");
}

static void store_map(const char *name, uint32_t flags, const uint32_t *vals, const char *const *names, size_t n)
{
    etw_mapb m;
    etw_mapb_init(&m, name, flags);
    for (size_t i = 0; i < n; i++)
        assert_true(etw_mapb_add(&m, vals[i], names[i]));
    size_t size = 0;
    EVENT_MAP_INFO *e = etw_mapb_finish(&m, &size);
    assert_non_null(e);
    uint8_t key[64];
    size_t kn = 0;
    for (const char *c = name; *c; c++, kn += 2)
        etw_wr16(key + kn, (uint16_t)*c);
    etw_schema_key k = {.guid = tdh_test_guid, .kind = ETW_KEY_MAP, .blob = key, .blob_len = (uint32_t)kn};
    assert_true(etw_schema_put(&k, e, (uint32_t)size, ETW_SRC_MANIFEST, 0));
    etw_mapb_free(&m);
}

static void test_maps(void **state)
{
    (void)state;
    static const uint32_t dv[] = {0, 1};
    static const char *const dn[] = {"Sunday ", "Monday "};
    store_map("DayMap", EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP, dv, dn, 2);
    static const uint32_t fv[] = {1, 2, 8};
    static const char *const fn[] = {"Read", "Write", "Exec"};
    store_map("FlagMap", EVENTMAP_INFO_FLAG_MANIFEST_BITMAP, fv, fn, 3);
    etw_teib b;
    etw_teib_init(&b);
    int32_t d = etw_teib_add(&b, -1, "Day", TDH_INTYPE_UINT32, 0);
    b.props[d].epi.nonStructType.MapNameOffset = etw_teib_str(&b, "DayMap", SIZE_MAX);
    int32_t f = etw_teib_add(&b, -1, "Flags", TDH_INTYPE_UINT32, 0);
    b.props[f].epi.nonStructType.MapNameOffset = etw_teib_str(&b, "FlagMap", SIZE_MAX);
    int32_t g = etw_teib_add(&b, -1, "Missing", TDH_INTYPE_UINT8, 0);
    b.props[g].epi.nonStructType.MapNameOffset = etw_teib_str(&b, "NoSuchMap", SIZE_MAX);
    tdh_store(&b, 4);
    const uint8_t p1[] = {1, 0, 0, 0, 0x13, 0, 0, 0, 5};
    EVENT_RECORD r = tdh_rec(4, p1, sizeof p1, 0);
    assert_string_equal(tdh_fmt(&r, 0, NULL), "Day=Monday; Flags=Read|Write|0x10; Missing=5");
    assert_string_equal(tdh_fmt(&r, 1, NULL), "\"Day\":\"Monday\",\"Flags\":\"Read|Write|0x10\",\"Missing\":5");
    const uint8_t p2[] = {7, 0, 0, 0, 0, 0, 0, 0, 5};
    r = tdh_rec(4, p2, sizeof p2, 0);
    assert_string_equal(tdh_fmt(&r, 0, NULL), "Day=7; Flags=0; Missing=5");
}

static void test_truncated_payload(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    etw_teib_add(&b, -1, "A", TDH_INTYPE_UINT32, 0);
    etw_teib_add(&b, -1, "B", TDH_INTYPE_UINT64, 0);
    tdh_store(&b, 5);
    const uint8_t p[] = {1, 0, 0, 0, 0xAA, 0xBB};
    EVENT_RECORD r = tdh_rec(5, p, sizeof p, 0);
    int ok;
    assert_string_equal(tdh_fmt(&r, 0, &ok), "A=1; _undecoded=aabb");
    assert_int_equal(ok, 0);
    assert_string_equal(tdh_fmt(&r, 1, &ok), "\"A\":1,\"_undecoded\":\"aabb\"");
    /* Ending exactly between fields: an older, shorter layout. */
    r = tdh_rec(5, p, 4, 0);
    assert_string_equal(tdh_fmt(&r, 0, &ok), "A=1");
    assert_int_equal(ok, 1);
    /* No schema at all: the payload as hex. */
    r = tdh_rec(999, p, sizeof p, 0);
    assert_string_equal(tdh_fmt(&r, 0, &ok), "01000000aabb");
    assert_int_equal(ok, 0);
}

static void test_zero_size_elements_are_bounded(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    int32_t outer = etw_teib_add_struct(&b, -1, "O");
    b.props[outer].epi.count = 65535;
    int32_t inner = etw_teib_add_struct(&b, outer, "I");
    b.props[inner].epi.count = 65535;
    int32_t s = etw_teib_add(&b, inner, "S", TDH_INTYPE_ANSISTRING, 0);
    b.props[s].epi.Flags = PropertyParamFixedLength; /* fixed length 0: no bytes at all */
    tdh_store(&b, 6);
    EVENT_RECORD r = tdh_rec(6, "", 0, 0);
    int ok;
    tdh_fmt(&r, 0, &ok);
    assert_int_equal(ok, 0); /* stopped by the visit budget, not hung */
}

static void test_check_rejects_hostile_schemas(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    int32_t st = etw_teib_add_struct(&b, -1, "S");
    etw_teib_add(&b, st, "M", TDH_INTYPE_UINT8, 0);
    size_t size;
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, &size);
    etw_teib_free(&b);
    assert_non_null(t);
    assert_true(etw_tei_check((const uint8_t *)t, size));
    /* A struct whose members start at itself would recurse forever. */
    props_of(t)[0].structType.StructStartIndex = 0;
    assert_false(etw_tei_check((const uint8_t *)t, size));
    props_of(t)[0].structType.StructStartIndex = 1;
    props_of(t)[0].structType.NumOfStructMembers = 2;
    assert_false(etw_tei_check((const uint8_t *)t, size));
    props_of(t)[0].structType.NumOfStructMembers = 1;
    props_of(t)[1].NameOffset = (ULONG)size - 1; /* odd, unterminated */
    assert_false(etw_tei_check((const uint8_t *)t, size));
    props_of(t)[1].NameOffset = 0;
    props_of(t)[1].Flags = PropertyParamCount;
    props_of(t)[1].countPropertyIndex = 7;
    assert_false(etw_tei_check((const uint8_t *)t, size));
    props_of(t)[1].Flags = 0;
    t->PropertyCount = 100000;
    assert_false(etw_tei_check((const uint8_t *)t, size));
    t->PropertyCount = 2;
    assert_false(etw_tei_check((const uint8_t *)t, 50));
    assert_true(etw_tei_check((const uint8_t *)t, size));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_and_counted_arrays), cmocka_unit_test(test_length_by_property),
        cmocka_unit_test(test_structs),                  cmocka_unit_test(test_maps),
        cmocka_unit_test(test_truncated_payload),        cmocka_unit_test(test_zero_size_elements_are_bounded),
        cmocka_unit_test(test_check_rejects_hostile_schemas),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, tdh_reset_teardown));
}
