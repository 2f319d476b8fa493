/* Schema source 5: classic event classes from a user's MOF text (etwire_tdh_load_mof). Hand-
 * written MOF in the style of the Windows SDK / ETW class pages, hand-built classic payloads. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include <etwire/etwire.h>

static const GUID task_guid = {0x0aa11bb2, 0xcc33, 0x4dd4, {0x8e, 0xe5, 0xff, 0x66, 0x00, 0x77, 0x11, 0x88}};
static const GUID plain_guid = {0x1bb22cc3, 0xdd44, 0x4ee5, {0x9f, 0xf6, 0x00, 0x77, 0x11, 0x88, 0x22, 0x99}};

static const char good_mof[] =
    "#pragma namespace(\"\\\\\\\\.\\\\root\\\\wmi\")\n"
    "// A provider, one versioned event class and its type group.\n"
    "[Dynamic, Description(\"Test provider\"), Guid(\"{99887766-5544-3322-1100-aabbccddeeff}\")]\n"
    "class TestProvider : EventTrace { };\n"
    "/* The event class: types 10 and 11, version 2. */\n"
    "[Dynamic, Guid(\"{0aa11bb2-cc33-4dd4-8ee5-ff6600771188}\"), EventVersion(2), DisplayName(\"Widget\")]\n"
    "class Widget_V2 : TestProvider { };\n"
    "[Dynamic, EventType{10, 11}, EventTypeName{\"Start\", \"Stop\"} : amended]\n"
    "class Widget_V2_TypeGroup1 : Widget_V2\n"
    "{\n"
    "    [WmiDataId(2), format(\"x\")] uint32 Flags;\n"
    "    [WmiDataId(1), pointer] uint32 Address;\n"
    "    [WmiDataId(3), extension(\"SizeT\")] object Size;\n"
    "    [WmiDataId(4)] uint16 Count;\n"
    "    [WmiDataId(5), WmiSizeIs(\"Count\")] uint16 Values[];\n"
    "    [WmiDataId(6), StringTermination(\"NullTerminated\"), format(\"w\")] string Name;\n"
    "    [WmiDataId(7)] string Tag;\n"
    "    [WmiDataId(8)] char16 Code[4];\n"
    "    [WmiDataId(9), extension(\"Port\")] object Port;\n"
    "    [WmiDataId(10), extension(\"IPAddrV4\")] object Addr;\n"
    "    [WmiDataId(11)] boolean Ok;\n"
    "    [WmiDataId(12)] sint64 Delta;\n"
    "    [WmiDataId(13), MAX(2)] uint8 Pair[];\n"
    "    uint32 Ignored = 5;  // no WmiDataId (0): sorts first\n"
    "    void Method(uint32 x);\n"
    "};\n"
    "instance of __Namespace { Name = \"x\"; };\n"
    "// A class without EventVersion serves every version.\n"
    "[Dynamic, Guid(\"{1bb22cc3-dd44-4ee5-9ff6-007711882299}\")]\n"
    "class Plain : EventTrace { };\n"
    "[EventType(1), EventTypeName(\"Tick\")]\n"
    "class Plain_Tick : Plain { [WmiDataId(1)] uint32 N; };\n";

static char mof_path[64];

static const char *write_mof(const char *text)
{
    snprintf(mof_path, sizeof mof_path, "/tmp/etwire_mof_%d.mof", (int)getpid());
    FILE *f = fopen(mof_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return mof_path;
}

static EVENT_RECORD classic_rec(const GUID *g, uint8_t opcode, uint8_t version, const void *p, size_t n, int ptr32)
{
    EVENT_RECORD r;
    memset(&r, 0, sizeof r);
    r.EventHeader.ProviderId = *g;
    r.EventHeader.EventDescriptor.Opcode = opcode;
    r.EventHeader.EventDescriptor.Version = version;
    r.EventHeader.Flags = EVENT_HEADER_FLAG_CLASSIC_HEADER |
                          (ptr32 ? EVENT_HEADER_FLAG_32_BIT_HEADER : EVENT_HEADER_FLAG_64_BIT_HEADER);
    r.UserData = (void *)(uintptr_t)p;
    r.UserDataLength = (USHORT)n;
    return r;
}

typedef struct payload {
    uint8_t b[256];
    size_t n;
} payload;

static void put(payload *p, const void *v, size_t n)
{
    memcpy(p->b + p->n, v, n);
    p->n += n;
}

static void put_u(payload *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p->b[p->n++] = (uint8_t)(v >> (8 * i));
}

/* The Widget payload for a pointer size of ptr bytes. The property without WmiDataId sorts
 * first (WmiDataId 0), so Ignored leads. */
static payload widget(unsigned ptr)
{
    payload p = {{0}, 0};
    put_u(&p, 5, 4);                /* Ignored */
    put_u(&p, 0x7ff612340000ull & (ptr == 4 ? 0xffffffffull : ~0ull), ptr); /* Address */
    put_u(&p, 0x1f, 4);             /* Flags */
    put_u(&p, 4096, ptr);           /* Size */
    put_u(&p, 3, 2);                /* Count */
    put_u(&p, 7, 2), put_u(&p, 8, 2), put_u(&p, 9, 2);
    put(&p, "h\0i\0\0\0", 6);       /* Name (UTF-16) */
    put(&p, "ab\0", 3);             /* Tag (ANSI) */
    put(&p, "X\0Y\0\0\0\0\0", 8);   /* Code: char16[4], NUL padded */
    put(&p, "\x01\xbb", 2);         /* Port 443, network order */
    put(&p, "\x0a\x00\x00\x01", 4); /* Addr 10.0.0.1 */
    put_u(&p, 1, 4);                /* Ok */
    put_u(&p, (uint64_t)-42, 8);    /* Delta */
    put(&p, "\x05\x06", 2);         /* Pair */
    return p;
}

static void test_load_and_decode(void **state)
{
    (void)state;
    etwire_tdh_reset();
    assert_int_equal(etwire_tdh_load_mof(write_mof(good_mof)), ERROR_SUCCESS);
    const char *expect =
        "Ignored=5; Address=0x7ff612340000; Flags=0x1f; Size=4096; Count=3; Values=[7, 8, 9]; Name=hi; "
        "Tag=ab; Code=XY; Port=443; Addr=10.0.0.1; Ok=true; Delta=-42; Pair=[5, 6]";
    payload p = widget(8);
    EVENT_RECORD r = classic_rec(&task_guid, 11, 2, p.b, p.n, 0);
    etw_strbuf prov = {0}, name = {0};
    assert_true(etw_event_describe(&r, &prov, &name));
    assert_string_equal(prov.data, "TestProvider");
    assert_string_equal(name.data, "Widget/Stop");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    int ok = 0;
    assert_string_equal(tdh_fmt(&r, 0, &ok), expect);
    assert_true(ok);

    /* The same class from a 32-bit producer: pointer and SizeT take 4 bytes. */
    payload p32 = widget(4);
    assert_int_equal(p32.n, p.n - 8);
    EVENT_RECORD r32 = classic_rec(&task_guid, 10, 2, p32.b, p32.n, 1);
    assert_string_equal(tdh_fmt(&r32, 0, NULL),
                        "Ignored=5; Address=0x12340000; Flags=0x1f; Size=4096; Count=3; Values=[7, 8, 9]; Name=hi; "
                        "Tag=ab; Code=XY; Port=443; Addr=10.0.0.1; Ok=true; Delta=-42; Pair=[5, 6]");

    /* TDH view: a Wbem schema with 14 top-level properties, named as the MOF says. */
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    TRACE_EVENT_INFO *t = malloc(size);
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, t, &size), ERROR_SUCCESS);
    assert_int_equal(t->DecodingSource, DecodingSourceWbem);
    assert_int_equal(t->TopLevelPropertyCount, 14);
    assert_int_equal(t->EventDescriptor.Opcode, 11);
    EVENT_PROPERTY_INFO *e = props_of(t);
    assert_true(e[5].Flags & PropertyParamCount);
    assert_int_equal(e[5].countPropertyIndex, 4);
    free(t);

    /* Version 3 has no class; the class without EventVersion serves any version. */
    EVENT_RECORD v3 = classic_rec(&task_guid, 10, 3, p.b, p.n, 0);
    size = 0;
    assert_int_equal(TdhGetEventInformation(&v3, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    uint32_t n = 77;
    for (uint8_t v = 0; v < 6; v += 5) {
        EVENT_RECORD tick = classic_rec(&plain_guid, 1, v, &n, 4, 0);
        assert_string_equal(tdh_fmt(&tick, 0, &ok), "N=77");
        assert_true(ok);
    }

    /* Unloading by path drops exactly these schemas. */
    WCHAR wpath[64];
    for (size_t i = 0; i <= strlen(mof_path); i++)
        wpath[i] = (WCHAR)mof_path[i];
    assert_int_equal(TdhUnloadManifest(wpath), ERROR_SUCCESS);
    size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    unlink(mof_path);
}

static void expect_error(const char *text, const char *fragment)
{
    etwire_tdh_reset();
    assert_int_equal(etwire_tdh_load_mof(write_mof(text)), ERROR_INVALID_DATA);
    const char *msg = etwire_last_error_message();
    if (!strstr(msg, fragment))
        fail_msg("message '%s' lacks '%s'", msg, fragment);
    unlink(mof_path);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(etwire_tdh_load_mof("/nonexistent/x.mof"), ERROR_FILE_NOT_FOUND);
    expect_error("[Guid(\"{0aa11bb2-cc33-4dd4-8ee5-ff6600771188}\")]\nclass A : EventTrace {\n  uint32 x\n};",
                 "line 4: expected ';'");
    expect_error("[Guid(\"not-a-guid\")] class A { };", "line 1: bad Guid qualifier");
    expect_error("[Guid(\"{0aa11bb2-cc33-4dd4-8ee5-ff6600771188}\")] class A { };\n"
                 "[EventType(1)] class B : A { [WmiDataId(1)] uint32 Data[]; };",
                 "class B, property Data: array without a size");
    expect_error("[Guid(\"{0aa11bb2-cc33-4dd4-8ee5-ff6600771188}\")] class A { };\n"
                 "[EventType(1)] class B : A { [WmiDataId(1)] datetime When; };",
                 "class B, property When: type datetime");
    expect_error("[EventType(1)] class Orphan : Nowhere { };", "Orphan has EventType but no Guid");
    expect_error("class A { \"unterminated };", "unterminated string");
    expect_error("[Guid(\"{0aa11bb2-cc33-4dd4-8ee5-ff6600771188}\")] class A { };\n"
                 "[EventType(1)] class B : A { [WmiSizeIs(\"Later\")] uint8 D[]; uint8 Later; };",
                 "names no earlier property");
    /* Nothing of a failed file stays loaded. */
    etwire_tdh_reset();
    assert_int_equal(etwire_tdh_load_mof(write_mof("[Guid(\"{0aa11bb2-cc33-4dd4-8ee5-ff6600771188}\")] class A { };\n"
                                                   "[EventType(1)] class Good : A { uint32 N; };\n"
                                                   "[EventType(2)] class Bad : A { uint32 M[]; };")),
                     ERROR_INVALID_DATA);
    uint32_t v = 1;
    EVENT_RECORD r = classic_rec(&task_guid, 1, 0, &v, 4, 0);
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    unlink(mof_path);
}

/* A user MOF for a class the built-in kernel tables know does not replace them (issue 4's
 * precedence), but adds event types they lack. */
static void test_kernel_precedence(void **state)
{
    (void)state;
    etwire_tdh_reset();
    const char *mof = "[Guid(\"{3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c}\"), EventVersion(2)] class Thread_V2 { };\n"
                      "[EventType{1, 201}, EventTypeName{\"Mine\", \"Custom\"}] class T : Thread_V2 { [WmiDataId(1)] uint32 X; };";
    assert_int_equal(etwire_tdh_load_mof(write_mof(mof)), ERROR_SUCCESS);
    static const GUID thread_guid = {0x3d6fa8d1, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
    uint8_t start[80] = {0x10, 0, 0, 0, 0x20, 0, 0, 0};
    EVENT_RECORD r = classic_rec(&thread_guid, 1, 2, start, sizeof start, 0);
    etw_strbuf prov = {0}, name = {0};
    assert_true(etw_event_describe(&r, &prov, &name));
    assert_string_equal(name.data, "Thread/Start");
    etw_strbuf_reset(&prov);
    etw_strbuf_reset(&name);
    uint32_t x = 9;
    EVENT_RECORD c = classic_rec(&thread_guid, 201, 2, &x, 4, 0);
    assert_true(etw_event_describe(&c, &prov, &name));
    assert_string_equal(name.data, "Thread_V2/Custom");
    assert_string_equal(tdh_fmt(&c, 0, NULL), "X=9");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    unlink(mof_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_decode),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_kernel_precedence),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
