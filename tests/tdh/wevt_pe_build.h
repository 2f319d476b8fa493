/* Test helper: a PE32+ image whose resource tree holds a WEVT_TEMPLATE (a CRIM blob laid out as
 * the format notes §3.2 read it) for provider wevt_guid: event 5 version 1, task Work (7),
 * opcode Begin (20), fields Len (UInt16), Data (Binary, length Len), Name (UnicodeString).
 * Shared by the WEVT test and the schema store test. */
#ifndef ETWIRE_TESTS_WEVT_PE_BUILD_H
#define ETWIRE_TESTS_WEVT_PE_BUILD_H

#include <stdint.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/bytes.h"

typedef struct blob {
    uint8_t b[4096];
    size_t n;
} blob;

static inline size_t at(blob *x) { return x->n; }
static inline void put(blob *x, const void *p, size_t n) { memcpy(x->b + x->n, p, n); x->n += n; }
static inline void u8(blob *x, uint8_t v) { put(x, &v, 1); }
static inline void u16(blob *x, uint16_t v) { uint8_t b[2]; etw_wr16(b, v); put(x, b, 2); }
static inline void u32(blob *x, uint32_t v) { uint8_t b[4]; etw_wr32(b, v); put(x, b, 4); }
static inline void u64(blob *x, uint64_t v) { uint8_t b[8]; etw_wr64(b, v); put(x, b, 8); }
static inline void pad(blob *x, size_t align) { while (x->n % align) u8(x, 0); }
static inline void set32(blob *x, size_t off, uint32_t v) { etw_wr32(x->b + off, v); }

static const GUID wevt_guid __attribute__((unused)) = {0xfeedface, 0x0001, 0x0002, {1, 1, 2, 3, 5, 8, 13, 21}};

/* {u32 size; UTF-16 NUL; padding to 4} */
static inline uint32_t crim_string(blob *x, const char *s)
{
    uint32_t off = (uint32_t)at(x);
    u32(x, (uint32_t)(4 + 2 * (strlen(s) + 1)));
    for (; *s; s++)
        u16(x, (uint8_t)*s);
    u16(x, 0);
    pad(x, 4);
    return off;
}

static inline void build_crim(blob *c)
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
static inline void build_pe(blob *pe, const blob *crim)
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

#endif
