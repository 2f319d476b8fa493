/* XML instrumentation manifests: a test manifest written here, loaded with TdhLoadManifest,
 * decoding events through it (tasks, opcodes, maps, length/count by name, structs), unloading,
 * and malformed manifests. Skips when built without expat. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/text.h"

static const GUID man_guid = {0x0badf00d, 0x1234, 0x5678, {0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78}};

static const char manifest[] =
    "<?xml version='1.0' encoding='utf-8'?>\n"
    "<instrumentationManifest xmlns='http://schemas.microsoft.com/win/2004/08/events'"
    " xmlns:win='http://manifests.microsoft.com/win/2004/08/windows/events'>\n"
    "<instrumentation><events>\n"
    "<provider name='Test-Manifest' guid='{0badf00d-1234-5678-9abc-def012345678}' symbol='P'>\n"
    " <tasks><task name='Work' value='7'><opcodes><opcode name='Begin' value='20'/></opcodes></task></tasks>\n"
    " <maps>\n"
    "  <valueMap name='ColorMap'><map value='1' message='$(string.red)'/><map value='2' message='$(string.green)'/></valueMap>\n"
    "  <bitMap name='BitsMap'><map value='0x4' message='$(string.c)'/><map value='0x1' message='$(string.a)'/></bitMap>\n"
    " </maps>\n"
    " <templates>\n"
    "  <template tid='T1'>\n"
    "   <data name='Color' inType='win:UInt32' map='ColorMap'/>\n"
    "   <data name='Bits' inType='win:UInt8' map='BitsMap'/>\n"
    "   <data name='Len' inType='win:UInt16'/>\n"
    "   <data name='Blob' inType='win:Binary' length='Len'/>\n"
    "   <data name='N' inType='win:UInt8'/>\n"
    "   <struct name='Pts' count='N'><data name='X' inType='win:Int16'/><data name='Y' inType='win:Int16'/></struct>\n"
    "   <data name='Name' inType='win:UnicodeString'/>\n"
    "   <data name='Addr' inType='win:UInt32' outType='win:IPv4'/>\n"
    "  </template>\n"
    " </templates>\n"
    " <events><event value='5' version='1' task='Work' opcode='Begin' template='T1' symbol='E5'/>\n"
    "  <event value='6' version='0' opcode='win:Stop' symbol='E6'/></events>\n"
    "</provider>\n"
    "</events></instrumentation>\n"
    "<localization><resources culture='en-US'><stringTable>\n"
    " <string id='red' value='Red'/><string id='green' value='Green'/>\n"
    " <string id='a' value='A'/><string id='c' value='C'/>\n"
    "</stringTable></resources></localization>\n"
    "</instrumentationManifest>\n";

static char path[256];

static int write_file(const char *text, size_t n)
{
    snprintf(path, sizeof path, "%s/tdh_test_%d.man", ETWIRE_BINARY_DIR, (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(text, 1, n, f);
    fclose(f);
    return 1;
}

static void test_manifest_decoding(void **state)
{
    (void)state;
    assert_true(write_file(manifest, sizeof manifest - 1));
    ULONG r = etwire_tdh_load_manifest(path);
    if (r == ERROR_NOT_SUPPORTED) {
        unlink(path);
        TEST_SKIP("built without expat (manifests not supported)");
    }
    assert_int_equal(r, ERROR_SUCCESS);
    const uint8_t p[] = {2, 0, 0, 0, 5, 2, 0, 0xAB, 0xCD, 2, 1, 0, 2, 0, 0xFD, 0xFF, 3, 0, 'o', 0, 'k', 0, 0, 0, 10, 0, 0, 1};
    EVENT_RECORD rec = tdh_rec(5, p, sizeof p, 0);
    rec.EventHeader.ProviderId = man_guid;
    rec.EventHeader.EventDescriptor.Version = 1;
    rec.EventHeader.EventDescriptor.Opcode = 20;
    etw_strbuf prov = {0}, name = {0};
    assert_int_equal(etw_event_describe(&rec, &prov, &name), 1);
    assert_string_equal(prov.data, "Test-Manifest");
    assert_string_equal(name.data, "Work/Begin");
    int ok;
    assert_string_equal(tdh_fmt(&rec, 0, &ok),
                        "Color=Green; Bits=A|C; Len=2; Blob=0xabcd; N=2; Pts=[{X=1; Y=2}, {X=-3; Y=3}]; Name=ok; Addr=10.0.0.1");
    assert_int_equal(ok, 1);
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&rec, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    TRACE_EVENT_INFO *t = malloc(size);
    assert_int_equal(TdhGetEventInformation(&rec, 0, NULL, t, &size), ERROR_SUCCESS);
    assert_int_equal(t->DecodingSource, DecodingSourceXMLFile);
    assert_int_equal(t->EventDescriptor.Task, 7);
    assert_int_equal(props_of(t)[3].Flags & PropertyParamLength, PropertyParamLength);
    assert_int_equal(props_of(t)[3].lengthPropertyIndex, 2);
    free(t);
    /* An event without template: named by its standard opcode. */
    EVENT_RECORD stop = tdh_rec(6, "", 0, 0);
    stop.EventHeader.ProviderId = man_guid;
    stop.EventHeader.EventDescriptor.Opcode = 2;
    etw_strbuf_reset(&name);
    assert_int_equal(etw_event_describe(&stop, &prov, &name), 1);
    assert_string_equal(name.data, "EventID(6)");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    /* Unload forgets the schemas. */
    WCHAR wpath[256];
    etw_utf8_to_utf16(path, wpath, 256);
    assert_int_equal(TdhUnloadManifest(wpath), ERROR_SUCCESS);
    assert_int_equal(TdhGetEventInformation(&rec, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    assert_int_equal(TdhUnloadManifest(wpath), ERROR_NOT_FOUND);
    unlink(path);
}

static void test_malformed_manifests(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "<instrumentationManifest><provider name='x'", /* truncated */
        "not xml at all",
        "<a><provider name='P' guid='nope'/></a>", /* no usable provider */
        "<i><provider name='P' guid='{0badf00d-1234-5678-9abc-def012345679}'><templates><template tid='T'>"
        "<data name='B' inType='win:Binary' length='Missing'/></template></templates>"
        "<events><event value='1' template='T'/></events></provider></i>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_true(write_file(bad[i], strlen(bad[i])));
        ULONG r = etwire_tdh_load_manifest(path);
        unlink(path);
        if (r == ERROR_NOT_SUPPORTED)
            TEST_SKIP("built without expat (manifests not supported)");
        assert_int_not_equal(r, ERROR_SUCCESS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_manifest_decoding, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_malformed_manifests, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
