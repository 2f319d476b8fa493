/* Manifest loader robustness (issue 10 item 4): the defects of real regenerated manifests
 * load (raw quotes and '<' inside attribute values, length names with spaces), and every
 * failure names the file, the line and what was wrong. Skips when built without expat. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include <etwire/etwire.h>

static const GUID guid = {0x0badf00d, 0x1234, 0x5678, {0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x79}};

#define HEAD                                                                                  \
    "<?xml version='1.0'?>\n"                                                                 \
    "<instrumentationManifest><instrumentation><events>\n"                                    \
    "<provider name='Test-Broken' guid='{0badf00d-1234-5678-9abc-def012345679}'>\n"
#define TAIL "</provider></events></instrumentation>\n"

/* The shapes found in the reference set (GroupPolicy, Ntfs, MUP, CodeIntegrity). */
static const char quirks[] = HEAD
    " <maps><valueMap name=\"ModeMap\">\n"
    "  <map value=\"0x0\" message=\"$(string.map_ModeMap\"No loopback mode\")\"/>\n"
    "  <map value=\"0x1\" message=\"$(string.map_Token<Property>)\"/>\n"
    " </valueMap></maps>\n"
    " <templates><template tid='T'>\n"
    "  <data name='Mode' inType='win:UInt32' map='ModeMap'/>\n"
    "  <data name='HashSize' inType='win:UInt32'/>\n"
    "  <data name='Hash' inType='win:Binary' length='Hash Size'/>\n"
    " </template></templates>\n"
    " <events><event value='1' version='0' template='T'/></events>\n" TAIL
    "<localization><resources><stringTable>\n"
    " <string id=\"map_ModeMap\"No loopback mode\"\" value=\"\"No loopback mode\"\"/>\n"
    " <string id=\"map_Token<Property>\" value=\"Token & more\"/>\n"
    "</stringTable></resources></localization>\n"
    "</instrumentationManifest>\n";

static char path[256];

static void write_file(const char *text)
{
    snprintf(path, sizeof path, "%s/tdh_errors_%d.man", ETWIRE_BINARY_DIR, (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int have_expat(void)
{
    write_file(HEAD TAIL "</instrumentationManifest>\n");
    ULONG rc = etwire_tdh_load_manifest(path);
    unlink(path);
    etwire_tdh_reset();
    return rc != ERROR_NOT_SUPPORTED;
}

static void regenerated_quirks_load(void **state)
{
    (void)state;
    if (!have_expat())
        TEST_SKIP("built without expat (manifests not supported)");
    write_file(quirks);
    assert_int_equal(etwire_tdh_load_manifest(path), ERROR_SUCCESS);
    unlink(path);
    /* Mode 0 through the repaired map, a 3-byte hash whose length names "Hash Size". */
    const uint8_t payload[] = {0, 0, 0, 0, 3, 0, 0, 0, 0xaa, 0xbb, 0xcc};
    EVENT_RECORD r = tdh_rec(1, payload, sizeof payload, 0);
    r.EventHeader.ProviderId = guid;
    int decoded = 0;
    const char *text = tdh_fmt(&r, 0, &decoded);
    assert_true(decoded);
    assert_string_equal(text, "Mode=\"No loopback mode\"; HashSize=3; Hash=0xaabbcc");
    const uint8_t one[] = {1, 0, 0, 0, 1, 0, 0, 0, 0x5a};
    r = tdh_rec(1, one, sizeof one, 0);
    r.EventHeader.ProviderId = guid;
    assert_string_equal(tdh_fmt(&r, 0, NULL), "Mode=Token & more; HashSize=1; Hash=0x5a");
}

/* Each failure: ERROR code, and a message with the path, the line and the reason. */
static void failures_name_file_line_reason(void **state)
{
    (void)state;
    if (!have_expat())
        TEST_SKIP("built without expat (manifests not supported)");
    static const struct {
        const char *text, *line, *reason;
        ULONG code;
    } cases[] = {
        {HEAD "<events><event value='1'\n x=1/></events>" TAIL "</instrumentationManifest>", "line 5",
         "not well-formed", ERROR_XML_PARSE_ERROR},
        {"<?xml version='1.0'?>\n\n<doc><member/></doc>\n", "line 3", "not an instrumentation manifest",
         ERROR_BAD_FORMAT},
        {"<instrumentationManifest>\n<provider name='x' guid='nope'/></instrumentationManifest>", "line 1",
         "no <provider> element with a valid guid", ERROR_INVALID_DATA},
        {HEAD " <events>\n\n  <event value='9' version='2' template='Missing'/></events>\n" TAIL
              "</instrumentationManifest>",
         "line 6: event 9 version 2", "template not found (Missing)", ERROR_INVALID_DATA},
        {HEAD " <templates><template tid='T'>\n  <data name='B' inType='win:Binary' length='Nothing'/>\n"
              " </template></templates>\n <events><event value='3' template='T'/></events>\n" TAIL
              "</instrumentationManifest>",
         "line 5: event 3 version 0", "length names no earlier field (B)", ERROR_INVALID_DATA},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(cases[i].text);
        assert_int_equal(etwire_tdh_load_manifest(path), cases[i].code);
        const char *msg = etwire_last_error_message();
        if (!strstr(msg, path) || !strstr(msg, cases[i].line) || !strstr(msg, cases[i].reason))
            fail_msg("case %zu: '%s' lacks '%s' / '%s'", i, msg, cases[i].line, cases[i].reason);
        unlink(path);
    }
    assert_int_equal(etwire_tdh_load_manifest("/nonexistent/x.man"), ERROR_FILE_NOT_FOUND);
    assert_non_null(strstr(etwire_last_error_message(), "/nonexistent/x.man: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(regenerated_quirks_load, tdh_reset_teardown),
        cmocka_unit_test_teardown(failures_name_file_line_reason, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
