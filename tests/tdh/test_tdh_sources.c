/* Schema sources: TraceLogging metadata, embedded EventMetadata events and the built-in kernel
 * tables, each from hand-built bytes. */
#include "tdh_test_util.h"

#include "base/bytes.h"
#include "tdh/store/schema_lookup.h"

typedef struct blob {
    uint8_t b[512];
    size_t n;
} blob;

static void put(blob *x, const void *p, size_t n)
{
    assert_true(x->n + n <= sizeof x->b);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}
static void put8(blob *x, uint8_t v) { put(x, &v, 1); }
static void put16(blob *x, uint16_t v) { uint8_t b[2]; etw_wr16(b, v); put(x, b, 2); }
static void put32(blob *x, uint32_t v) { uint8_t b[4]; etw_wr32(b, v); put(x, b, 4); }
static void put64(blob *x, uint64_t v) { uint8_t b[8]; etw_wr64(b, v); put(x, b, 8); }
static void puts0(blob *x, const char *s) { put(x, s, strlen(s) + 1); }
static void putw(blob *x, const char *s)
{
    for (; *s; s++)
        put16(x, (uint8_t)*s);
    put16(x, 0);
}

static void tl_metadata(blob *m)
{
    m->n = 2;
    put8(m, 0); /* no event tags */
    puts0(m, "Ev");
    puts0(m, "A"); put8(m, TDH_INTYPE_UINT32);
    puts0(m, "S"); put8(m, TDH_INTYPE_UNICODESTRING | 0x80); put8(m, 0);
    puts0(m, "Arr"); put8(m, TDH_INTYPE_UINT16 | 0x40);
    puts0(m, "Bin"); put8(m, 14);
    puts0(m, "St"); put8(m, 24 | 0x80); put8(m, 2);
    puts0(m, "X"); put8(m, TDH_INTYPE_INT8);
    puts0(m, "Y"); put8(m, TDH_INTYPE_INT8);
    puts0(m, "H"); put8(m, TDH_INTYPE_UINT32 | 0x80); put8(m, 0x04 | 0x80); put8(m, 0x05);
    puts0(m, "C"); put8(m, TDH_INTYPE_UINT8 | 0x20); put16(m, 2);
    etw_wr16(m->b, (uint16_t)m->n);
}

static void test_tracelogging(void **state)
{
    (void)state;
    blob meta = {0}, traits = {0}, pay = {0};
    tl_metadata(&meta);
    traits.n = 2;
    puts0(&traits, "MyProvider");
    put16(&traits, 19);
    put8(&traits, 1);
    put(&traits, &tdh_test_guid, 16);
    etw_wr16(traits.b, (uint16_t)traits.n);
    put32(&pay, 7);
    putw(&pay, "hi");
    put16(&pay, 2); put16(&pay, 1); put16(&pay, 2);
    put16(&pay, 2); put8(&pay, 0xAB); put8(&pay, 0xCD);
    put8(&pay, 0xFF); put8(&pay, 2);
    put32(&pay, 0x10);
    put8(&pay, 3); put8(&pay, 4);
    EVENT_HEADER_EXTENDED_DATA_ITEM ext[2];
    memset(ext, 0, sizeof ext);
    ext[0].ExtType = EVENT_HEADER_EXT_TYPE_PROV_TRAITS;
    ext[0].DataSize = (USHORT)traits.n;
    ext[0].DataPtr = (ULONGLONG)(uintptr_t)traits.b;
    ext[1].ExtType = EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL;
    ext[1].DataSize = (USHORT)meta.n;
    ext[1].DataPtr = (ULONGLONG)(uintptr_t)meta.b;
    EVENT_RECORD r = tdh_rec(0, pay.b, pay.n, 0);
    r.EventHeader.Flags |= EVENT_HEADER_FLAG_EXTENDED_INFO;
    r.ExtendedData = ext;
    r.ExtendedDataCount = 2;
    int ok;
    assert_string_equal(tdh_fmt(&r, 0, &ok), "A=7; S=hi; Arr=[1, 2]; Bin=0xabcd; St={X=-1; Y=2}; H=0x10; C=[3, 4]");
    assert_int_equal(ok, 1);
    etw_strbuf prov = {0}, name = {0};
    assert_int_equal(etw_event_describe(&r, &prov, &name), 1);
    assert_string_equal(prov.data, "MyProvider");
    assert_string_equal(name.data, "Ev");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    /* The TDH view: Tlg source, event name in the task slot, field tags kept. */
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    TRACE_EVENT_INFO *t = malloc(size);
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, t, &size), ERROR_SUCCESS);
    assert_int_equal(t->DecodingSource, DecodingSourceTlg);
    assert_int_equal(t->TopLevelPropertyCount, 9); /* 7 fields + Arr.Count + Bin.Length */
    int tagged = 0;
    for (ULONG i = 0; i < t->PropertyCount; i++)
        if ((t->EventPropertyInfoArray[i].Flags & PropertyHasTags) && t->EventPropertyInfoArray[i].Tags == (5u << 21))
            tagged++;
    assert_int_equal(tagged, 1);
    free(t);
}

static void test_tracelogging_malformed(void **state)
{
    (void)state;
    blob meta = {0};
    tl_metadata(&meta);
    /* Every truncation of valid metadata is either rejected or decodes without crashing. */
    for (size_t cut = 0; cut < meta.n; cut++) {
        blob m = meta;
        etw_wr16(m.b, (uint16_t)cut);
        EVENT_HEADER_EXTENDED_DATA_ITEM ext = {.ExtType = EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
                                               .DataSize = (USHORT)cut,
                                               .DataPtr = (ULONGLONG)(uintptr_t)m.b};
        EVENT_RECORD r = tdh_rec(0, "abc", 3, 0);
        r.ExtendedData = &ext;
        r.ExtendedDataCount = 1;
        tdh_fmt(&r, 1, NULL);
    }
    /* A struct claiming more members than there are fields. */
    blob bad = {0};
    bad.n = 2;
    put8(&bad, 0);
    puts0(&bad, "E");
    puts0(&bad, "St"); put8(&bad, 24 | 0x80); put8(&bad, 5);
    puts0(&bad, "X"); put8(&bad, TDH_INTYPE_INT8);
    etw_wr16(bad.b, (uint16_t)bad.n);
    EVENT_HEADER_EXTENDED_DATA_ITEM ext = {.ExtType = EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
                                           .DataSize = (USHORT)bad.n,
                                           .DataPtr = (ULONGLONG)(uintptr_t)bad.b};
    EVENT_RECORD r = tdh_rec(0, "a", 1, 0);
    r.ExtendedData = &ext;
    r.ExtendedDataCount = 1;
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
}

static const GUID meta_prov = {0xaabbccdd, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}};

static void test_embedded_metadata(void **state)
{
    (void)state;
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = meta_prov;
    b.hdr.EventDescriptor.Id = 10;
    b.hdr.EventDescriptor.Version = 1;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, "MetaProv", SIZE_MAX);
    b.hdr.TaskNameOffset = etw_teib_str(&b, "T", SIZE_MAX);
    b.hdr.OpcodeNameOffset = etw_teib_str(&b, "Op", SIZE_MAX);
    int32_t v = etw_teib_add(&b, -1, "V", TDH_INTYPE_UINT32, 0);
    b.props[v].epi.nonStructType.MapNameOffset = etw_teib_str(&b, "M", SIZE_MAX);
    size_t tsize;
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, &tsize);
    etw_teib_free(&b);
    etw_mapb m;
    etw_mapb_init(&m, "M", EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP);
    etw_mapb_add(&m, 3, "Three ");
    size_t msize;
    EVENT_MAP_INFO *e = etw_mapb_finish(&m, &msize);
    etw_mapb_free(&m);
    blob mp = {0};
    put(&mp, &meta_prov, 16);
    put(&mp, e, msize);

    EVENT_RECORD info = tdh_rec(0, t, tsize, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    info.EventHeader.ProviderId = etw_metadata_guid;
    info.EventHeader.EventDescriptor.Opcode = 32;
    EVENT_RECORD map = info;
    map.EventHeader.EventDescriptor.Opcode = 33;
    map.UserData = mp.b;
    map.UserDataLength = (USHORT)mp.n;
    assert_int_equal(etwire_tdh_observe(&info), 1);
    assert_int_equal(etwire_tdh_observe(&map), 1);

    uint8_t pay[4] = {3, 0, 0, 0};
    EVENT_RECORD r = tdh_rec(10, pay, 4, 0);
    r.EventHeader.ProviderId = meta_prov;
    r.EventHeader.EventDescriptor.Version = 1;
    r.EventHeader.EventDescriptor.Opcode = 7;
    etw_strbuf prov = {0}, name = {0};
    assert_int_equal(etw_event_describe(&r, &prov, &name), 1);
    assert_string_equal(prov.data, "MetaProv");
    assert_string_equal(name.data, "T/Op");
    assert_string_equal(tdh_fmt(&r, 0, NULL), "V=Three");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    /* The metadata events themselves are named, with no fields. */
    etw_strbuf_reset(&prov);
    assert_int_equal(etw_event_describe(&info, &prov, &name), 1);
    assert_string_equal(name.data, "MetaData/EventInfo");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);

    /* Damaged blobs are refused, not stored. */
    t->PropertyCount = 5000;
    info.UserData = t;
    assert_int_equal(etwire_tdh_observe(&info), 0);
    free(t);
    free(e);
}

static const GUID process_guid = {0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};

static void process_payload(blob *p, unsigned ptr)
{
    const uint8_t sid[12] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
    p->n = 0;
    ptr == 8 ? put64(p, 0xfffffa8000001000ull) : put32(p, 0x81001000u);
    put32(p, 1234);
    put32(p, 4);
    put32(p, 1);
    put32(p, 259);
    ptr == 8 ? put64(p, 0x1aa000) : put32(p, 0x1aa000);
    put32(p, 0);
    uint8_t tok[16] = {1};
    put(p, tok, 2 * ptr);
    put(p, sid, 12);
    puts0(p, "a.exe");
    putw(p, "a.exe -x");
    putw(p, "");
    putw(p, "");
}

static void test_kernel_process(void **state)
{
    (void)state;
    blob p;
    process_payload(&p, 8);
    EVENT_RECORD r = tdh_rec(0, p.b, p.n, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    r.EventHeader.ProviderId = process_guid;
    r.EventHeader.EventDescriptor.Opcode = 3;
    r.EventHeader.EventDescriptor.Version = 4;
    etw_strbuf prov = {0}, name = {0};
    assert_int_equal(etw_event_describe(&r, &prov, &name), 1);
    assert_string_equal(prov.data, "Windows Kernel");
    assert_string_equal(name.data, "Process/DCStart");
    const char *want = "UniqueProcessKey=0xfffffa8000001000; ProcessId=1234; ParentId=4; SessionId=1; "
                       "ExitStatus=259; DirectoryTableBase=0x1aa000; Flags=0x0; UserSID=S-1-5-18; "
                       "ImageFileName=a.exe; CommandLine=a.exe -x; PackageFullName=; ApplicationId=";
    int ok;
    assert_string_equal(tdh_fmt(&r, 0, &ok), want);
    assert_int_equal(ok, 1);
    process_payload(&p, 4);
    r = tdh_rec(0, p.b, p.n, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_32_BIT_HEADER);
    r.EventHeader.ProviderId = process_guid;
    r.EventHeader.EventDescriptor.Opcode = 3;
    r.EventHeader.EventDescriptor.Version = 4;
    assert_string_equal(tdh_fmt(&r, 0, &ok),
                        "UniqueProcessKey=0x81001000; ProcessId=1234; ParentId=4; SessionId=1; "
                        "ExitStatus=259; DirectoryTableBase=0x1aa000; Flags=0x0; UserSID=S-1-5-18; "
                        "ImageFileName=a.exe; CommandLine=a.exe -x; PackageFullName=; ApplicationId=");
    assert_int_equal(ok, 1);
    /* An unknown newer version falls back to the newest known layout. */
    r.EventHeader.EventDescriptor.Version = 9;
    etw_strbuf_reset(&name);
    etw_event_describe(&r, &prov, &name);
    assert_string_equal(name.data, "Process/DCStart");
    /* Unknown opcodes of a known class are named like TraceEvent does. */
    r.EventHeader.EventDescriptor.Opcode = 99;
    etw_strbuf_reset(&name);
    assert_int_equal(etw_event_describe(&r, &prov, &name), 0);
    assert_string_equal(name.data, "Process/Opcode(99)");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tracelogging),      cmocka_unit_test(test_tracelogging_malformed),
        cmocka_unit_test(test_embedded_metadata), cmocka_unit_test(test_kernel_process),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, tdh_reset_teardown));
}
