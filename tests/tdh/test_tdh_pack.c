/* Schema pack format: writer -> reader round trips give back the same schemas (strings with
 * non-BMP characters and lone surrogates, structs, count/length references, maps, every
 * version, the last definition of a key winning), the output does not depend on the order of
 * adds, and damaged packs are refused with the offset named or fail lookups cleanly — never a
 * read outside the bytes (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/bytes.h"
#include "pack_test_util.h"
#include "tdh/store/pack_format.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/pack_write.h"
#include "tdh/store/tei_build.h"

static const GUID prov_a = {0x0a0a0a0a, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}};
static const GUID prov_b = {0x01010101, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}};

typedef struct blob {
    void *p;
    size_t n;
    etw_schema_key key;
} blob;

/* Event (id, version) of provider g: a count, an array of structs counted by it, a string
 * whose name holds U+1F600 and a lone surrogate, a mapped field. */
static blob make_event(const GUID *g, uint16_t id, uint8_t version, const char *task)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = *g;
    b.hdr.DecodingSource = DecodingSourceXMLFile;
    b.hdr.EventDescriptor.Id = id;
    b.hdr.EventDescriptor.Version = version;
    b.hdr.EventDescriptor.Keyword = 0x8000000000000010ull;
    b.hdr.EventDescriptor.Level = 4;
    b.hdr.Flags = TEMPLATE_EVENT_DATA;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, "Test-Provider", SIZE_MAX);
    b.hdr.TaskNameOffset = etw_teib_str(&b, task, SIZE_MAX);
    b.hdr.EventMessageOffset = etw_teib_str(&b, "Caf\xc3\xa9 \xf0\x9f\x98\x80 %1", SIZE_MAX);
    int32_t count = etw_teib_add(&b, -1, "Count", TDH_INTYPE_UINT16, TDH_OUTTYPE_NULL);
    int32_t arr = etw_teib_add_struct(&b, -1, "Items");
    b.props[arr].epi.Flags |= PropertyParamCount;
    b.props[arr].epi.countPropertyIndex = (USHORT)count;
    etw_teib_add(&b, arr, "X", TDH_INTYPE_UINT32, TDH_OUTTYPE_HEXINT32);
    int32_t s = etw_teib_add(&b, -1, "S", TDH_INTYPE_UNICODESTRING, TDH_OUTTYPE_NULL);
    const uint8_t lone[] = {'N', 0, 0x00, 0xd8, 'x', 0}; /* "N\xD800x" */
    b.props[s].epi.NameOffset = etw_teib_wstr(&b, lone, sizeof lone);
    int32_t mapped = etw_teib_add(&b, -1, "Mode", TDH_INTYPE_UINT32, TDH_OUTTYPE_NULL);
    b.props[mapped].epi.nonStructType.MapNameOffset = etw_teib_str(&b, "ModeMap", SIZE_MAX);
    blob r = {0};
    r.p = etw_teib_finish(&b, &r.n);
    etw_teib_free(&b);
    assert_non_null(r.p);
    r.key = (etw_schema_key){.guid = *g, .kind = ETW_KEY_MANIFEST, .a = id, .b = version};
    return r;
}

static uint8_t map_name[32];

static blob make_map(const GUID *g, const char *name, uint32_t flags, uint32_t nvalues)
{
    etw_mapb m;
    etw_mapb_init(&m, name, flags);
    for (uint32_t i = 0; i < nvalues; i++) {
        char text[32];
        snprintf(text, sizeof text, "Value %u", i);
        assert_true(etw_mapb_add(&m, i * 3, text));
    }
    blob r = {0};
    r.p = etw_mapb_finish(&m, &r.n);
    etw_mapb_free(&m);
    assert_non_null(r.p);
    size_t len = strlen(name);
    for (size_t i = 0; i < len; i++)
        map_name[2 * i] = (uint8_t)name[i], map_name[2 * i + 1] = 0;
    r.key = (etw_schema_key){.guid = *g, .kind = ETW_KEY_MAP, .blob = map_name, .blob_len = (uint32_t)(2 * len)};
    return r;
}

/* A pack of: provider A events 1 v0, 1 v1, 2 v0 (2 v0 added twice: the second wins), a map;
 * provider B event 7 v3; an extension section. reversed: the same adds in another order. */
static uint8_t *make_pack(size_t *n, int reversed)
{
    blob v[6];
    v[0] = make_event(&prov_a, 1, 0, "One");
    v[1] = make_event(&prov_a, 1, 1, "OneV1");
    v[2] = make_event(&prov_a, 2, 0, "Old");
    v[3] = make_event(&prov_a, 2, 0, "New");
    v[4] = make_event(&prov_b, 7, 3, "Seven");
    etw_pack_writer *w = etw_pack_writer_create();
    assert_non_null(w);
    static const int fwd[] = {0, 1, 2, 3, 4}, rev[] = {4, 2, 3, 1, 0}; /* 2 before 3 either way */
    for (int i = 0; i < 5; i++) {
        const char *why = NULL;
        blob *b = &v[reversed ? rev[i] : fwd[i]];
        assert_true(etw_pack_writer_add(w, &b->key, b->p, b->n, &why));
    }
    v[5] = make_map(&prov_a, "ModeMap", EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP, 5);
    assert_true(etw_pack_writer_add(w, &v[5].key, v[5].p, v[5].n, NULL));
    assert_true(etw_pack_writer_provider(w, &prov_b, "Named-B", "test/b.man"));
    assert_true(etw_pack_writer_section(w, ETW_PACK_SEC_EXTENSION + 1, "ext!", 4));
    uint8_t *out = NULL;
    assert_true(etw_pack_writer_finish(w, &out, n));
    etw_pack_writer_destroy(w);
    for (int i = 0; i < 6; i++)
        free(v[i].p);
    return out;
}

static void roundtrip(void **state)
{
    (void)state;
    size_t n = 0;
    uint8_t *bytes = make_pack(&n, 0);
    etw_pack pk;
    char why[128];
    assert_true(etw_pack_open(&pk, bytes, n, why, sizeof why));
    assert_true(etw_pack_verify_crc(&pk));
    assert_int_equal(etw_pack_provider_count(&pk), 2);
    uint32_t a, b;
    assert_true(etw_pack_find_provider(&pk, &prov_a, &a));
    assert_true(etw_pack_find_provider(&pk, &prov_b, &b));
    etw_pack_provider_info info;
    etw_pack_provider(&pk, a, &info);
    assert_string_equal(info.name, "Test-Provider"); /* from its events */
    assert_int_equal(info.event_count, 3);
    assert_int_equal(info.map_count, 1);
    etw_pack_provider(&pk, b, &info);
    assert_string_equal(info.name, "Named-B");
    assert_string_equal(info.origin, "test/b.man");

    const struct {
        uint16_t id;
        uint8_t version;
        const char *task;
    } want[] = {{1, 0, "One"}, {1, 1, "OneV1"}, {2, 0, "New"}};
    for (size_t i = 0; i < 3; i++) {
        blob e = make_event(&prov_a, want[i].id, want[i].version, want[i].task);
        size_t size = 0;
        TRACE_EVENT_INFO *t = etw_pack_build_event(&pk, a, ETW_KEY_MANIFEST, want[i].id, want[i].version, &size);
        assert_non_null(t);
        assert_true(pack_test_tei_eq(e.p, e.n, t, size));
        free(t);
        free(e.p);
    }
    size_t size = 0;
    assert_null(etw_pack_build_event(&pk, a, ETW_KEY_MANIFEST, 3, 0, &size));
    assert_null(etw_pack_build_event(&pk, a, ETW_KEY_CLASSIC, 1, 0, &size));
    uint16_t ver = 0;
    TRACE_EVENT_INFO *t = etw_pack_build_event_at_most(&pk, a, ETW_KEY_MANIFEST, 1, 5, &ver, &size);
    assert_non_null(t);
    assert_int_equal(ver, 1);
    free(t);
    assert_null(etw_pack_build_event_at_most(&pk, a, ETW_KEY_MANIFEST, 3, 9, &ver, &size));

    blob m = make_map(&prov_a, "ModeMap", EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP, 5);
    EVENT_MAP_INFO *emi = etw_pack_build_map(&pk, a, m.key.blob, m.key.blob_len, &size);
    assert_non_null(emi);
    assert_true(pack_test_map_eq(m.p, m.n, emi, size));
    free(emi);
    free(m.p);
    assert_null(etw_pack_build_map(&pk, b, (const uint8_t *)"M\0", 2, &size));

    size_t ext_n = 0;
    const uint8_t *ext = etw_pack_section(&pk, ETW_PACK_SEC_EXTENSION + 1, &ext_n);
    assert_non_null(ext);
    assert_int_equal(ext_n, 4);
    assert_memory_equal(ext, "ext!", 4);
    free(bytes);
}

static void order_independent(void **state)
{
    (void)state;
    size_t n1 = 0, n2 = 0;
    uint8_t *p1 = make_pack(&n1, 0), *p2 = make_pack(&n2, 1);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1);
    free(p1);
    free(p2);
}

/* Every header and directory field damaged is refused, naming an offset. */
static void refuses_damaged_index(void **state)
{
    (void)state;
    size_t n = 0;
    uint8_t *bytes = make_pack(&n, 0);
    etw_pack pk;
    char why[128] = "";
    assert_false(etw_pack_open(&pk, bytes, n - 1, why, sizeof why));
    assert_non_null(strstr(why, "offset"));
    assert_false(etw_pack_open(&pk, bytes, 10, why, sizeof why));
    uint32_t dir = etw_rd32(bytes + ETW_PACK_OFF_HEADER_SIZE);
    const size_t fields[] = {0, ETW_PACK_OFF_VERSION, ETW_PACK_OFF_HEADER_SIZE, ETW_PACK_OFF_FILE_SIZE,
                             ETW_PACK_OFF_SECTIONS, dir + 4, dir + 8, dir + 16, dir + 16 + 12};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, bytes, n);
        etw_wr32(copy + fields[i], etw_rd32(copy + fields[i]) ^ 0x40000001u);
        why[0] = 0;
        assert_false(etw_pack_open(&pk, copy, n, why, sizeof why));
        assert_non_null(strstr(why, "schema pack offset"));
        free(copy);
    }
    free(bytes);
}

/* Every provider's events and a map through pk: each lookup either fails or returns a blob
 * that passes the same checks as a schema from a trace (ASan watches the reads). Returns how
 * many providers read as corrupt (no name, no events, no maps). */
static uint32_t read_everything(const etw_pack *pk)
{
    uint32_t corrupt = 0;
    for (uint32_t p = 0; p < etw_pack_provider_count(pk); p++) {
        etw_pack_provider_info info;
        etw_pack_provider(pk, p, &info);
        uint32_t found;
        if (!etw_pack_find_provider(pk, &info.guid, &found) || found != p) {
            corrupt += pk->verdicts && pk->verdicts[p] == 2;
            continue;
        }
        for (uint32_t e = 0; e < info.event_count; e++) {
            uint8_t kind;
            uint16_t ka, kb;
            size_t size;
            etw_pack_event_key(pk, p, e, &kind, &ka, &kb);
            free(etw_pack_build_event(pk, p, kind, ka, kb, &size));
        }
        size_t size;
        free(etw_pack_build_map(pk, p, (const uint8_t *)"M\0o\0d\0e\0M\0a\0p\0", 14, &size));
    }
    return corrupt;
}

/* Any single byte changed anywhere: open refuses, or every lookup either fails or returns a
 * checked blob. A deferred open (providers checked on first use) accepts what open accepts
 * and then finds every provider sound; where only it accepts, the damage is in a provider's
 * entry, which then reads as corrupt. */
static void survives_any_byte(void **state)
{
    (void)state;
    size_t n = 0;
    uint8_t *bytes = make_pack(&n, 0);
    uint8_t *copy = malloc(n);
    static const uint8_t values[] = {0x00, 0xff, 0x80, 0x7f, 0x01};
    unsigned deferred_only = 0;
    for (size_t at = 0; at < n; at++) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, bytes, n);
            copy[at] = bytes[at] == values[v] ? (uint8_t)~values[v] : values[v];
            etw_pack pk, lazy;
            int whole = etw_pack_open(&pk, copy, n, NULL, 0);
            int deferred = etw_pack_open_deferred(&lazy, copy, n, NULL, 0);
            assert_true(deferred || !whole);
            if (whole)
                assert_int_equal(read_everything(&pk), 0);
            if (deferred) {
                uint32_t corrupt = read_everything(&lazy);
                if (whole)
                    assert_int_equal(corrupt, 0);
                else
                    deferred_only += corrupt > 0;
                etw_pack_close_deferred(&lazy);
            }
        }
    }
    assert_true(deferred_only > 0);
    free(copy);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(order_independent),
        cmocka_unit_test(refuses_damaged_index),
        cmocka_unit_test(survives_any_byte),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
