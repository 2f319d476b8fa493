/* WEVT_TEMPLATE: a PE image with a CRIM resource built here (layout of format notes §3.2),
 * loaded with TdhLoadManifestFromBinary, then decoding through it; damaged images and blobs
 * are refused. The CRIM written follows etwire's reading of the format, so this checks the
 * PE/CRIM plumbing and bounds, not Microsoft's compiler. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/sources/manifest.h"

typedef struct blob {
    uint8_t b[4096];
    size_t n;
} blob;

static size_t at(blob *x) { return x->n; }
static void put(blob *x, const void *p, size_t n) { memcpy(x->b + x->n, p, n); x->n += n; }
static void u8(blob *x, uint8_t v) { put(x, &v, 1); }
static void u16(blob *x, uint16_t v) { uint8_t b[2]; etw_wr16(b, v); put(x, b, 2); }
static void u32(blob *x, uint32_t v) { uint8_t b[4]; etw_wr32(b, v); put(x, b, 4); }
static void u64(blob *x, uint64_t v) { uint8_t b[8]; etw_wr64(b, v); put(x, b, 8); }
static void pad(blob *x, size_t align) { while (x->n % align) u8(x, 0); }
static void set32(blob *x, size_t off, uint32_t v) { etw_wr32(x->b + off, v); }

static const GUID wevt_guid = {0xfeedface, 0x0001, 0x0002, {1, 1, 2, 3, 5, 8, 13, 21}};

/* {u32 size; UTF-16 NUL; padding to 4} */
static uint32_t crim_string(blob *x, const char *s)
{
    uint32_t off = (uint32_t)at(x);
    u32(x, (uint32_t)(4 + 2 * (strlen(s) + 1)));
    for (; *s; s++)
        u16(x, (uint8_t)*s);
    u16(x, 0);
    pad(x, 4);
    return off;
}

static void build_crim(blob *c)
{
    c->n = 0;
    put(c, "CRIM", 4); u32(c, 0); u16(c, 3); u16(c, 1); u32(c, 1);
    put(c, &wevt_guid, 16); size_t wevt_ref = at(c); u32(c, 0);
    size_t wevt = at(c);
    set32(c, wevt_ref, (uint32_t)wevt);
    put(c, "WEVT", 4); u32(c, 0); u32(c, 0xFFFFFFFF); u32(c, 4); u32(c, 0);
    size_t desc = at(c);
    for (int i = 0; i < 4; i++) { u32(c, 0); u32(c, 0); }
    /* TASK */
    size_t task = at(c);
    set32(c, desc, (uint32_t)task);
    put(c, "TASK", 4); u32(c, 44); u32(c, 1);
    size_t task_rec = at(c);
    u32(c, 7); u32(c, 0); for (int i = 0; i < 16; i++) u8(c, 0); size_t task_name = at(c); u32(c, 0);
    /* OPCO */
    size_t opco = at(c);
    set32(c, desc + 8, (uint32_t)opco);
    put(c, "OPCO", 4); u32(c, 24); u32(c, 1);
    size_t opco_rec = at(c);
    u32(c, 20); u32(c, 0); size_t opco_name = at(c); u32(c, 0);
    /* TTBL with one TEMP of three items */
    size_t ttbl = at(c);
    set32(c, desc + 16, (uint32_t)ttbl);
    put(c, "TTBL", 4); u32(c, 0); u32(c, 1);
    size_t temp = at(c);
    put(c, "TEMP", 4); u32(c, 0); u32(c, 3); u32(c, 3); size_t items_ref = at(c); u32(c, 0); u32(c, 1);
    for (int i = 0; i < 16; i++) u8(c, 0);
    size_t items = at(c);
    set32(c, items_ref, (uint32_t)items);
    size_t name_refs[3];
    static const uint8_t types[3][2] = {{TDH_INTYPE_UINT16, 0}, {TDH_INTYPE_BINARY, TDH_OUTTYPE_HEXBINARY}, {TDH_INTYPE_UNICODESTRING, 0}};
    for (int i = 0; i < 3; i++) {
        u32(c, i == 1 ? PropertyParamLength : 0);
        u8(c, types[i][0]); u8(c, types[i][1]); u16(c, 0); u32(c, 0);
        u16(c, 1); u16(c, 0); /* count 1; length 0 or the index of Len */
        name_refs[i] = at(c); u32(c, 0);
    }
    set32(c, temp + 4, (uint32_t)(at(c) - temp));
    /* EVNT */
    size_t evnt = at(c);
    set32(c, desc + 24, (uint32_t)evnt);
    put(c, "EVNT", 4); u32(c, 16 + 48); u32(c, 1); u32(c, 0);
    u16(c, 5); u8(c, 1); u8(c, 0); u8(c, 4); u8(c, 20); u16(c, 7); u64(c, 0);
    u32(c, 0); u32(c, (uint32_t)temp); u32(c, (uint32_t)opco_rec); u32(c, 0); u32(c, (uint32_t)task_rec);
    u32(c, 0); u32(c, 0); u32(c, 0);
    /* strings */
    set32(c, task_name, crim_string(c, "Work"));
    set32(c, opco_name, crim_string(c, "Begin"));
    static const char *const names[3] = {"Len", "Data", "Name"};
    for (int i = 0; i < 3; i++)
        set32(c, name_refs[i], crim_string(c, names[i]));
    set32(c, 4, (uint32_t)c->n);
}

/* A PE32+ image with one section holding the resource tree WEVT_TEMPLATE/1/0x409 → crim. */
static void build_pe(blob *pe, const blob *crim)
{
    pe->n = 0;
    memset(pe->b, 0, sizeof pe->b);
    pe->b[0] = 'M', pe->b[1] = 'Z';
    etw_wr32(pe->b + 0x3C, 0x40);
    pe->n = 0x40;
    put(pe, "PE\0\0", 4);
    u16(pe, 0x8664); u16(pe, 1); u32(pe, 0); u32(pe, 0); u32(pe, 0); u16(pe, 240); u16(pe, 0x22);
    size_t opt = at(pe);
    u16(pe, 0x20b);
    pe->n = opt + 108;
    u32(pe, 16);
    size_t dirs = at(pe);
    pe->n = dirs + 16 * 8;
    size_t sec = at(pe);
    put(pe, ".rsrc\0\0\0", 8);
    size_t sec_fields = at(pe);
    pe->n = sec + 40;
    pe->n = 0x200;
    size_t rs = at(pe); /* resource section start, RVA 0x1000 */
    /* root: one named entry */
    u32(pe, 0); u32(pe, 0); u16(pe, 0); u16(pe, 0); u16(pe, 1); u16(pe, 0);
    size_t root_e = at(pe); u32(pe, 0); u32(pe, 0);
    size_t l2 = at(pe) - rs;
    u32(pe, 0); u32(pe, 0); u16(pe, 0); u16(pe, 0); u16(pe, 0); u16(pe, 1);
    u32(pe, 1); size_t l2_e = at(pe); u32(pe, 0);
    size_t l3 = at(pe) - rs;
    u32(pe, 0); u32(pe, 0); u16(pe, 0); u16(pe, 0); u16(pe, 0); u16(pe, 1);
    u32(pe, 0x409); size_t l3_e = at(pe); u32(pe, 0);
    size_t data_entry = at(pe) - rs;
    size_t de = at(pe);
    u32(pe, 0); u32(pe, (uint32_t)crim->n); u32(pe, 0); u32(pe, 0);
    size_t name = at(pe) - rs;
    const char *tn = "WEVT_TEMPLATE";
    u16(pe, (uint16_t)strlen(tn));
    for (const char *s = tn; *s; s++)
        u16(pe, (uint16_t)*s);
    pad(pe, 8);
    size_t crim_off = at(pe);
    put(pe, crim->b, crim->n);
    set32(pe, root_e, 0x80000000u | (uint32_t)name);
    set32(pe, root_e + 4, 0x80000000u | (uint32_t)l2);
    set32(pe, l2_e, 0x80000000u | (uint32_t)l3);
    set32(pe, l3_e, (uint32_t)data_entry);
    set32(pe, de, (uint32_t)(0x1000 + crim_off - rs));
    uint32_t size = (uint32_t)(at(pe) - rs);
    set32(pe, dirs + 2 * 8, 0x1000);
    set32(pe, dirs + 2 * 8 + 4, size);
    set32(pe, sec_fields, size);        /* VirtualSize */
    set32(pe, sec_fields + 4, 0x1000);  /* VirtualAddress */
    set32(pe, sec_fields + 8, size);    /* SizeOfRawData */
    set32(pe, sec_fields + 12, (uint32_t)rs);
}

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
    return cmocka_run_group_tests(tests, NULL, NULL);
}
