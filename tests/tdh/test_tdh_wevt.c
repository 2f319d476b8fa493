/* WEVT_TEMPLATE: a PE image with a CRIM resource built here (layout of format notes §3.2),
 * loaded with TdhLoadManifestFromBinary, then decoding through it; damaged images and blobs
 * are refused. The CRIM written follows etwire's reading of the format, so this checks the
 * PE/CRIM plumbing and bounds, not Microsoft's compiler. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include "base/text.h"
#include "tdh/sources/manifest.h"

#include "wevt_pe_build.h"

static char path[256];

static ULONG load(const blob *x)
{
    snprintf(path, sizeof path, "%s/tdh_wevt_%d.dll", ETWIRE_BINARY_DIR, (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(x->b, 1, x->n, f);
    fclose(f);
    ULONG r = etwire_tdh_load_binary(path);
    unlink(path);
    return r;
}

static void test_pe_with_wevt_template(void **state)
{
    (void)state;
    static blob crim, pe;
    build_crim(&crim);
    build_pe(&pe, &crim);
    assert_int_equal(load(&pe), ERROR_SUCCESS);
    const uint8_t p[] = {2, 0, 0xAB, 0xCD, 'o', 0, 'k', 0, 0, 0};
    EVENT_RECORD rec = tdh_rec(5, p, sizeof p, 0);
    rec.EventHeader.ProviderId = wevt_guid;
    rec.EventHeader.EventDescriptor.Version = 1;
    rec.EventHeader.EventDescriptor.Opcode = 20;
    etw_strbuf prov = {0}, name = {0};
    assert_int_equal(etw_event_describe(&rec, &prov, &name), 1);
    assert_string_equal(name.data, "Work/Begin");
    assert_string_equal(prov.data, "{feedface-0001-0002-0101-020305080d15}");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    int ok;
    assert_string_equal(tdh_fmt(&rec, 0, &ok), "Len=2; Data=0xabcd; Name=ok");
    assert_int_equal(ok, 1);
}

static void test_damaged_images(void **state)
{
    (void)state;
    static blob crim, pe, bad;
    build_crim(&crim);
    build_pe(&pe, &crim);
    /* Every truncation and a sweep of single-byte corruptions: errors or schemas, no crash. */
    for (size_t cut = 0; cut < pe.n; cut += 7) {
        etw_wevt_load_pe(pe.b, cut, 99);
    }
    for (size_t i = 0; i < pe.n; i += 3) {
        bad = pe;
        bad.b[i] ^= 0xFF;
        etw_wevt_load_pe(bad.b, bad.n, 99);
    }
    for (size_t i = 0; i < crim.n; i++) {
        bad = crim;
        bad.b[i] ^= 0x80;
        etw_wevt_load_pe(bad.b, bad.n, 99);
    }
    blob notpe = {{'M', 'Z'}, 64};
    assert_int_equal(etw_wevt_load_pe(notpe.b, notpe.n, 99), ETW_TDH_E_NOT_PE);
    assert_int_equal(load(&crim), ERROR_SUCCESS); /* a bare CRIM blob is accepted too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pe_with_wevt_template, tdh_reset_teardown),
        cmocka_unit_test_teardown(test_damaged_images, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
