/* The schema store: a directory tree mixing a manifest, a PE with a WEVT_TEMPLATE built here,
 * a MOF file and a TMF with files that are no schemas and broken ones is imported (each broken
 * file reported with its line, the rest taken); the store then decodes events of every kind
 * through etwire_schemas_open, below what the user loads (precedence); a second import keeps
 * the first's schemas; a damaged store is refused with the file and offset named. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "base/text.h"
#include "tdh/store/schema_store.h"
#include "tdh/store/store_import.h"
#include "wevt_pe_build.h"

static const GUID man_guid = {0x5709e1a0, 0x1b2c, 0x4d3e, {0x8f, 0x90, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6}};
static const GUID mof_guid = {0x6a7b8c9d, 0x0e1f, 0x4a2b, {0x9c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93}};
static const GUID tmf_guid = {0x0a1b2c3d, 0x4e5f, 0x4061, {0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9}};

static const char manifest[] =
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    "<instrumentationManifest xmlns='http://schemas.microsoft.com/win/2004/08/events'"
    " xmlns:win='http://manifests.microsoft.com/win/2004/08/windows/events'>\n"
    "<instrumentation><events>\n"
    "<provider name='Store-Test' guid='{5709e1a0-1b2c-4d3e-8f90-a1b2c3d4e5f6}' symbol='P'>\n"
    " <maps><valueMap name='Mode'><map value='1' message='$(string.on)'/></valueMap></maps>\n"
    " <templates><template tid='T'><data name='%FIELD%' inType='win:UInt32' map='Mode'/></template></templates>\n"
    " <events><event value='3' version='0' template='T' symbol='E3'/></events>\n"
    "</provider>\n"
    "</events></instrumentation>\n"
    "<localization><resources culture='en-US'><stringTable><string id='on' value='On'/></stringTable>"
    "</resources></localization>\n"
    "</instrumentationManifest>\n";

static const char mof[] = "[Dynamic, Guid(\"{6a7b8c9d-0e1f-4a2b-9c3d-4e5f60718293}\"), EventVersion(1)]\n"
                          "class StoreTick : EventTrace { };\n"
                          "[EventType(12), EventTypeName(\"Tick\")]\n"
                          "class StoreTick_Ev : StoreTick { [WmiDataId(1)] uint32 Count; };\n";

static const char tmf[] = "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9 storedrv // SRC=store.c MJ= MN=\n"
                          "#typev store_c77 10 \"%0stored %10!d!\" // LEVEL=TRACE_LEVEL_INFORMATION FUNC=Keep\n"
                          "{\nn, ItemLong -- 10\n}\n";

static char root[64], tree[128], store[128];

static void write_text(const char *rel, const char *text, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tree, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, n, f);
    fclose(f);
}

static void write_manifest(const char *rel, const char *field)
{
    char text[2048];
    const char *at = strstr(manifest, "%FIELD%");
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - manifest), manifest, field, at + 7);
    write_text(rel, text, strlen(text));
}

typedef struct seen {
    char ok[16][64], failed[16][64], skipped[16][64], why[16][256];
    int nok, nfailed, nskipped;
} seen;

static void on_file(void *ctx, const char *path, enum etw_import_result r, const char *what)
{
    seen *s = ctx;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (r == ETW_IMPORT_OK && s->nok < 16)
        snprintf(s->ok[s->nok++], 64, "%s", base);
    else if (r == ETW_IMPORT_FAILED && s->nfailed < 16) {
        snprintf(s->why[s->nfailed], 256, "%s", what);
        snprintf(s->failed[s->nfailed++], 64, "%s", base);
    } else if (r == ETW_IMPORT_SKIPPED && s->nskipped < 16)
        snprintf(s->skipped[s->nskipped++], 64, "%s", base);
}

static int has(char list[][64], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], name))
            return 1;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/etwire-store-XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(tree, sizeof tree, "%s/tree", root);
    snprintf(store, sizeof store, "%s/store", root);
    mkdir(tree, 0755);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", tree);
    mkdir(sub, 0755);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    etwire_schemas_close();
    etwire_tdh_reset();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void import_all(seen *s, const char *path)
{
    char why[256];
    etw_store_import *imp = etw_store_import_begin(store, why, sizeof why);
    assert_non_null(imp);
    memset(s, 0, sizeof *s);
    etw_store_import_path(imp, path, on_file, s);
    assert_true(etw_store_import_commit(imp, why, sizeof why));
    etw_store_import_free(imp);
}

static const char *fields_of(const EVENT_RECORD *r, etw_strbuf *prov, etw_strbuf *name, etw_strbuf *out, int *ok)
{
    etw_strbuf_reset(prov);
    etw_strbuf_reset(name);
    etw_strbuf_reset(out);
    etw_event_describe(r, prov, name);
    *ok = etw_event_format_fields(r, 0, out);
    return out->data ? out->data : "";
}

static void test_import_tree_and_decode(void **state)
{
    (void)state;
    write_manifest("good.man", "Mode");
    write_text("broken.man", manifest, 300); /* cut inside an element */
    write_text("notes.txt", "just text\n", 10);
    write_text("random.bin", "\x01\x02\x03\x04", 4);
    write_text("other.xml", "<config><a/></config>\n", 22);
    write_text("classes.mof", mof, sizeof mof - 1);
    write_text("sub/0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9.tmf", tmf, sizeof tmf - 1);
    write_text("sub/bad.tmf", "no guid here\n", 13);
    static blob crim, pe;
    build_crim(&crim);
    build_pe(&pe, &crim);
    write_text("sub/provider.dll", (const char *)pe.b, pe.n);
    write_text("sub/plain.dll", "MZ\x90\x00not really a PE", 20);
    static blob bad;
    bad = pe;
    uint8_t *crim_at = memmem(bad.b, bad.n, "CRIM", 4);
    assert_non_null(crim_at);
    crim_at[0] = 'X'; /* the resource is there, its content is not a CRIM */
    write_text("sub/badcrim.dll", (const char *)bad.b, bad.n);

    seen s;
    import_all(&s, tree);
    assert_int_equal(s.nok, 4);
    assert_true(has(s.ok, s.nok, "good.man") && has(s.ok, s.nok, "classes.mof") &&
                has(s.ok, s.nok, "provider.dll") && has(s.ok, s.nok, "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9.tmf"));
    assert_int_equal(s.nfailed, 4);
    assert_true(has(s.failed, s.nfailed, "broken.man") && has(s.failed, s.nfailed, "bad.tmf") &&
                has(s.failed, s.nfailed, "plain.dll") && has(s.failed, s.nfailed, "badcrim.dll"));
    for (int i = 0; i < s.nfailed; i++) {
        /* every report says where: a line in text, an offset in a binary */
        int text = !strcmp(s.failed[i], "broken.man") || !strcmp(s.failed[i], "bad.tmf");
        assert_non_null(strstr(s.why[i], text ? "line " : "offset "));
        printf("not usable: %s: %s\n", s.failed[i], s.why[i]);
    }
    assert_true(has(s.skipped, s.nskipped, "notes.txt") && has(s.skipped, s.nskipped, "random.bin") &&
                has(s.skipped, s.nskipped, "other.xml"));

    etw_strbuf prov = {0}, name = {0}, out = {0};
    int ok;
    const uint8_t one[] = {1, 0, 0, 0};
    EVENT_RECORD r = tdh_rec(3, one, 4, 0);
    r.EventHeader.ProviderId = man_guid;
    fields_of(&r, &prov, &name, &out, &ok);
    assert_int_equal(ok, 0); /* no store open yet: both misses are remembered... */
    const uint8_t m[] = {0xF6, 0xFF, 0xFF, 0xFF};
    EVENT_RECORD rm = tdh_rec(10, m, 4, EVENT_HEADER_FLAG_TRACE_MESSAGE | EVENT_HEADER_FLAG_64_BIT_HEADER);
    rm.EventHeader.ProviderId = tmf_guid;
    fields_of(&rm, &prov, &name, &out, &ok);
    assert_int_equal(ok, 0);

    assert_int_equal(etwire_schemas_open(store), ERROR_SUCCESS);
    assert_string_equal(fields_of(&r, &prov, &name, &out, &ok), "Mode=On");
    assert_int_equal(ok, 1);
    assert_string_equal(name.data, "EventID(3)");
    assert_string_equal(prov.data, "Store-Test");

    /* The Windows-named API sees the store too. */
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    ULONG psize = 0;
    assert_int_equal(TdhEnumerateProviders(NULL, &psize), ERROR_INSUFFICIENT_BUFFER);
    PROVIDER_ENUMERATION_INFO *pei = malloc(psize);
    assert_int_equal(TdhEnumerateProviders(pei, &psize), ERROR_SUCCESS);
    int listed = 0;
    for (ULONG i = 0; i < pei->NumberOfProviders; i++) {
        TRACE_PROVIDER_INFO *t = &((TRACE_PROVIDER_INFO *)pei->TraceProviderInfoArray)[i];
        if (memcmp(&t->ProviderGuid, &man_guid, sizeof man_guid) == 0) {
            etw_strbuf n = {0};
            etw_wstr_to_utf8(&n, (const WCHAR *)(const void *)((const uint8_t *)pei + t->ProviderNameOffset));
            listed = n.data && !strcmp(n.data, "Store-Test") && t->SchemaSource == 0;
            etw_strbuf_free(&n);
        }
    }
    free(pei);
    assert_true(listed);

    const uint8_t w[] = {2, 0, 0xAB, 0xCD, 'o', 0, 'k', 0, 0, 0};
    EVENT_RECORD rw = tdh_rec(5, w, sizeof w, 0);
    rw.EventHeader.ProviderId = wevt_guid;
    rw.EventHeader.EventDescriptor.Version = 1;
    rw.EventHeader.EventDescriptor.Opcode = 20;
    assert_string_equal(fields_of(&rw, &prov, &name, &out, &ok), "Len=2; Data=0xabcd; Name=ok");
    assert_string_equal(name.data, "Work/Begin");

    const uint8_t c[] = {9, 0, 0, 0};
    EVENT_RECORD rc = tdh_rec(0, c, 4, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    rc.EventHeader.ProviderId = mof_guid;
    rc.EventHeader.EventDescriptor.Opcode = 12;
    rc.EventHeader.EventDescriptor.Version = 1;
    assert_string_equal(fields_of(&rc, &prov, &name, &out, &ok), "Count=9");

    fields_of(&rm, &prov, &name, &out, &ok); /* ...and forgotten when a store opens */
    assert_int_equal(ok, 1);
    assert_string_equal(prov.data, "storedrv");
    assert_non_null(strstr(out.data, "Message=stored -10; Function=Keep; File=store.c; Line=77"));

    /* What the user loads ranks above the store. */
    write_manifest("user.man", "UserField");
    char path[200];
    snprintf(path, sizeof path, "%s/user.man", tree);
    assert_int_equal(etwire_tdh_load_manifest(path), ERROR_SUCCESS);
    assert_string_equal(fields_of(&r, &prov, &name, &out, &ok), "UserField=On");
    etwire_tdh_reset();

    /* A second import adds to the store and keeps what it held. */
    etwire_schemas_close();
    char dir2[160];
    snprintf(dir2, sizeof dir2, "%s/more", root);
    mkdir(dir2, 0755);
    snprintf(path, sizeof path, "%s/more/m.mof", root);
    FILE *f = fopen(path, "w");
    fputs("[Dynamic, Guid(\"{7b8c9d0e-1f2a-4b3c-8d4e-5f6071829304}\")]\nclass Extra : EventTrace { };\n"
          "[EventType(1)]\nclass Extra_A : Extra { [WmiDataId(1)] uint8 B; };\n", f);
    fclose(f);
    import_all(&s, dir2);
    assert_int_equal(s.nok, 1);
    assert_int_equal(etwire_schemas_open(store), ERROR_SUCCESS);
    assert_string_equal(fields_of(&r, &prov, &name, &out, &ok), "Mode=On");
    assert_non_null(strstr(fields_of(&rm, &prov, &name, &out, &ok), "Message=stored -10"));
    /* The class without EventVersion serves whatever version its events carry. */
    static const GUID extra_guid = {0x7b8c9d0e, 0x1f2a, 0x4b3c, {0x8d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93, 0x04}};
    const uint8_t byte = 7;
    EVENT_RECORD rx = tdh_rec(0, &byte, 1, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    rx.EventHeader.ProviderId = extra_guid;
    rx.EventHeader.EventDescriptor.Opcode = 1;
    rx.EventHeader.EventDescriptor.Version = 3;
    assert_string_equal(fields_of(&rx, &prov, &name, &out, &ok), "B=7");
    etw_pack_provider_info info;
    uint32_t idx;
    assert_true(etw_pack_find_provider(etw_store_pack(), &man_guid, &idx));
    etw_pack_provider(etw_store_pack(), idx, &info);
    assert_non_null(strstr(info.origin, "tree/good.man"));

    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    etw_strbuf_free(&out);
}

static void test_damaged_store(void **state)
{
    (void)state;
    char path[200];
    snprintf(path, sizeof path, "%s/store/%s", root, ETW_STORE_FILE);
    struct stat st;
    assert_int_equal(stat(path, &st), 0); /* left by the test before */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET); /* into the section directory */
    fputc(0xEE, f), fputc(0xEE, f), fputc(0xEE, f);
    fclose(f);
    assert_int_equal(truncate(path, st.st_size - 5), 0);
    assert_int_equal(etwire_schemas_open(store), ERROR_INVALID_DATA);
    assert_non_null(strstr(etwire_last_error_message(), ETW_STORE_FILE ": schema pack offset"));
    char why[256];
    assert_null(etw_store_import_begin(store, why, sizeof why));
    assert_non_null(strstr(why, ETW_STORE_FILE));
    char missing[200];
    snprintf(missing, sizeof missing, "%s/nowhere", root);
    assert_int_equal(etwire_schemas_open(missing), ERROR_FILE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_tree_and_decode),
        cmocka_unit_test(test_damaged_store),
    };
    return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
