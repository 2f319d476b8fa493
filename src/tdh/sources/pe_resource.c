/* PE resource lookup (see pe_resource.h). Layouts: the PE/COFF specification (DOS header
 * e_lfanew at 0x3C, COFF header, optional header with the resource data directory at index 2,
 * 40-byte section headers, IMAGE_RESOURCE_DIRECTORY of 16 bytes followed by 8-byte entries
 * whose high bits mark names and subdirectories). */
#include "tdh/sources/pe_resource.h"

#include <ctype.h>

#include "base/bytes.h"

typedef struct rsrc {
    const uint8_t *p; /* the resource section's bytes */
    size_t n;
    uint32_t rva;     /* its virtual address (data entries hold RVAs) */
} rsrc;

/* Maps an RVA to a file offset through the section table. */
static int rva_to_off(const uint8_t *p, size_t n, size_t sections, unsigned nsec, uint32_t rva,
                      uint32_t len, size_t *off)
{
    for (unsigned i = 0; i < nsec; i++) {
        const uint8_t *s = p + sections + 40u * i;
        uint32_t va = etw_rd32(s + 12), raw = etw_rd32(s + 16), ptr = etw_rd32(s + 20);
        if (rva >= va && rva - va <= raw && len <= raw - (rva - va)) {
            uint64_t o = (uint64_t)ptr + (rva - va); /* no wrap on 32-bit targets */
            if (!etw_range_ok(n, o, len))
                return 0;
            *off = (size_t)o;
            return 1;
        }
    }
    return 0;
}

static int name_matches(const rsrc *r, uint32_t off, const char *want)
{
    if (!etw_range_ok(r->n, off, 2))
        return 0;
    size_t len = etw_rd16(r->p + off), i = 0;
    if (!etw_range_ok(r->n, off + 2, len * 2))
        return 0;
    for (; i < len && want[i]; i++) {
        uint16_t c = etw_rd16(r->p + off + 2 + 2 * i);
        if (c > 0x7F || toupper(c) != toupper((unsigned char)want[i]))
            return 0;
    }
    return i == len && want[i] == 0;
}

/* Entry of a directory at off: the named one (want != NULL) or the first one. Returns the
 * entry's OffsetToData, or UINT32_MAX. */
static uint32_t dir_entry(const rsrc *r, uint32_t off, const char *want)
{
    if (!etw_range_ok(r->n, off, 16))
        return UINT32_MAX;
    size_t count = (size_t)etw_rd16(r->p + off + 12) + etw_rd16(r->p + off + 14);
    if (!etw_range_ok(r->n, (uint64_t)off + 16, count * 8))
        return UINT32_MAX;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = r->p + off + 16 + 8 * i;
        uint32_t name = etw_rd32(e);
        if (!want || ((name & 0x80000000u) && name_matches(r, name & 0x7FFFFFFFu, want)))
            return etw_rd32(e + 4);
    }
    return UINT32_MAX;
}

etw_tdh_status etw_pe_find_resource(const uint8_t *p, size_t n, const char *type_name, const uint8_t **data,
                           size_t *size)
{
    if (n < 64 || p[0] != 'M' || p[1] != 'Z')
        return ETW_TDH_E_NOT_PE;
    size_t pe = etw_rd32(p + 0x3C);
    if (!etw_range_ok(n, pe, 24) || etw_rd32(p + pe) != 0x00004550u)
        return ETW_TDH_E_NOT_PE;
    unsigned nsec = etw_rd16(p + pe + 6);
    size_t opt = pe + 24, optsize = etw_rd16(p + pe + 20);
    if (!etw_range_ok(n, opt, optsize) || optsize < 2)
        return ETW_TDH_E_NOT_PE;
    uint16_t magic = etw_rd16(p + opt);
    size_t dirs = magic == 0x20b ? 112 : magic == 0x10b ? 96 : 0;
    if (!dirs || optsize < dirs || etw_rd32(p + opt + dirs - 4) < 3 || optsize < dirs + 3 * 8)
        return ETW_TDH_E_NO_RESOURCE;
    uint32_t rva = etw_rd32(p + opt + dirs + 16), len = etw_rd32(p + opt + dirs + 20);
    size_t sections = opt + optsize, off;
    if (!etw_range_ok(n, sections, (uint64_t)nsec * 40))
        return ETW_TDH_E_NOT_PE;
    if (rva == 0 || !rva_to_off(p, n, sections, nsec, rva, len, &off))
        return ETW_TDH_E_NO_RESOURCE;
    rsrc r = {p + off, len, rva};
    /* type (by name) → first name/id → first language → data entry. */
    uint32_t e = dir_entry(&r, 0, type_name);
    for (int level = 0; level < 2 && e != UINT32_MAX; level++)
        e = (e & 0x80000000u) ? dir_entry(&r, e & 0x7FFFFFFFu, NULL) : UINT32_MAX;
    if (e == UINT32_MAX || (e & 0x80000000u) || !etw_range_ok(r.n, e, 16))
        return ETW_TDH_E_NO_RESOURCE;
    uint32_t drva = etw_rd32(r.p + e), dlen = etw_rd32(r.p + e + 4);
    if (!rva_to_off(p, n, sections, nsec, drva, dlen, &off))
        return ETW_TDH_E_NOT_PE;
    *data = p + off;
    *size = dlen;
    return ETW_TDH_OK;
}
