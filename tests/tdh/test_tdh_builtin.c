/* The built-in schemas (docs/decoding.md source 7): found without configuration, intact,
 * consulted last (a user manifest of the same event wins, and unloading it brings the built-in
 * one back), switchable off, listed by TdhEnumerateProviders, and an event version newer than
 * the pack's gets the newest older one. Events are built by hand for providers the reference
 * manifests describe (Microsoft-Windows-DotNETRuntime GC/Start, Kernel-Process). */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "base/text.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/pack_sources.h"

static const GUID clr = {0xe13c0d23, 0xccbc, 0x4e12, {0x93, 0x1b, 0xd9, 0xcc, 0x2e, 0xee, 0x27, 0xe4}};
static const GUID kproc = {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}};

/* GC/Start v1: Count u32, Depth u32, Reason u32, Type u32, ClrInstanceID u16. */
static const uint8_t gc_start[] = {7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0};

static EVENT_RECORD gc_record(uint8_t version)
{
    EVENT_RECORD r = tdh_rec(1, gc_start, sizeof gc_start, 0);
    r.EventHeader.ProviderId = clr;
    r.EventHeader.EventDescriptor.Version = version;
    r.EventHeader.EventDescriptor.Opcode = 1;
    return r;
}

static void pack_is_embedded_and_intact(void **state)
{
    (void)state;
    const etw_pack *pk = etw_builtin_pack();
    assert_non_null(pk);
    assert_true(etw_pack_verify_crc(pk));
    assert_true(etw_pack_provider_count(pk) > 800);
    uint32_t i;
    assert_true(etw_pack_find_provider(pk, &kproc, &i));
    etw_pack_provider_info info;
    etw_pack_provider(pk, i, &info);
    assert_string_equal(info.name, "Microsoft-Windows-Kernel-Process");
    assert_true(strstr(info.origin, "Microsoft-Windows-Kernel-Process.xml") != NULL);
}

static void decodes_and_names(void **state)
{
    (void)state;
    EVENT_RECORD r = gc_record(1);
    etw_strbuf prov = {0}, name = {0};
    assert_true(etw_event_describe(&r, &prov, &name));
    assert_string_equal(prov.data, "Microsoft-Windows-DotNETRuntime");
    assert_string_equal(name.data, "GC/Start");
    int decoded = 0;
    const char *text = tdh_fmt(&r, 0, &decoded);
    assert_true(decoded);
    /* Reason 1 through the map GC/Start v0 carries (repaired into v1 by the generator). */
    assert_string_equal(text, "Count=7; Depth=1; Reason=Induced; Type=NonConcurrentGC; ClrInstanceID=9");
    /* Version 9 does not exist: the newest older version decodes it. */
    r = gc_record(9);
    text = tdh_fmt(&r, 0, &decoded);
    assert_true(decoded);
    assert_non_null(strstr(text, "Count=7; Depth=1"));
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
}

static void switched_off_and_overridden(void **state)
{
    (void)state;
    EVENT_RECORD r = gc_record(1);
    ULONG size = 0;
    etwire_tdh_use_builtin_schemas(0);
    etwire_tdh_reset();
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    etwire_tdh_use_builtin_schemas(1);
    etwire_tdh_reset();
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);

    /* A user manifest describing the same event wins; unloaded, the built-in one is back. */
    char path[256];
    snprintf(path, sizeof path, "%s/tdh_builtin_%d.man", ETWIRE_BINARY_DIR, (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("<instrumentationManifest><instrumentation><events>\n"
          "<provider name='Mine' guid='{e13c0d23-ccbc-4e12-931b-d9cc2eee27e4}'>\n"
          "<templates><template tid='T'><data name='Mine' inType='win:UInt32'/></template></templates>\n"
          "<events><event value='1' version='1' template='T'/></events>\n"
          "</provider></events></instrumentation></instrumentationManifest>\n",
          f);
    fclose(f);
    ULONG rc = etwire_tdh_load_manifest(path);
    if (rc == ERROR_NOT_SUPPORTED) { /* built without expat */
        unlink(path);
        return;
    }
    assert_int_equal(rc, ERROR_SUCCESS);
    assert_non_null(strstr(tdh_fmt(&r, 0, NULL), "Mine=7"));
    WCHAR wpath[256];
    size_t k = 0;
    for (; path[k]; k++)
        wpath[k] = (WCHAR)path[k];
    wpath[k] = 0;
    assert_int_equal(TdhUnloadManifest(wpath), ERROR_SUCCESS);
    unlink(path);
    assert_non_null(strstr(tdh_fmt(&r, 0, NULL), "Count=7"));
}

static void enumerated(void **state)
{
    (void)state;
    ULONG size = 0;
    assert_int_equal(TdhEnumerateProviders(NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    PROVIDER_ENUMERATION_INFO *pe = malloc(size);
    assert_non_null(pe);
    assert_int_equal(TdhEnumerateProviders(pe, &size), ERROR_SUCCESS);
    assert_true(pe->NumberOfProviders > 800);
    int found = 0;
    for (ULONG i = 0; i < pe->NumberOfProviders; i++) {
        const TRACE_PROVIDER_INFO *t = &pe->TraceProviderInfoArray[i];
        if (memcmp(&t->ProviderGuid, &kproc, sizeof kproc) == 0) {
            etw_strbuf sb = {0};
            etw_wstr_to_utf8(&sb, (const WCHAR *)(const void *)((const uint8_t *)pe + t->ProviderNameOffset));
            assert_string_equal(sb.data, "Microsoft-Windows-Kernel-Process");
            assert_int_equal(t->SchemaSource, 0);
            etw_strbuf_free(&sb);
            found = 1;
        }
    }
    assert_true(found);
    free(pe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_is_embedded_and_intact),
        cmocka_unit_test_teardown(decodes_and_names, tdh_reset_teardown),
        cmocka_unit_test_teardown(switched_off_and_overridden, tdh_reset_teardown),
        cmocka_unit_test_teardown(enumerated, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
