/* TraceLogging metadata → TRACE_EVENT_INFO (see tlg_meta.h). */
#include "tdh/sources/tlg_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/store/tei_build.h"

#define TLG_MAX_FIELDS 512u
#define TLG_IN_BINARY 14
#define TLG_IN_STRUCT 24
#define TLG_IN_COUNTEDBINARY 25
#define TLG_ARITY_CCOUNT 0x20
#define TLG_ARITY_VCOUNT 0x40
#define TLG_ARITY_CUSTOM 0x60

typedef struct tlg_field {
    const char *name;
    size_t name_len;
    uint8_t in, out, arity;
    uint16_t ccount;
    uint32_t tags;
    int has_tags;
} tlg_field;

typedef struct tlg_reader {
    const uint8_t *p;
    size_t n, off;
} tlg_reader;

static int read_cstr(tlg_reader *r, const char **s, size_t *len)
{
    const uint8_t *z = memchr(r->p + r->off, 0, r->n - r->off);
    if (!z)
        return 0;
    *s = (const char *)r->p + r->off;
    *len = (size_t)(z - (r->p + r->off));
    r->off += *len + 1;
    return 1;
}

/* 28-bit tags, 7 bits per byte, most significant group first (notes §2.4). */
static int read_tags(tlg_reader *r, uint32_t *tags)
{
    *tags = 0;
    for (int shift = 21, i = 0; i < 4; i++, shift -= 7) {
        if (r->off >= r->n)
            return 0;
        uint8_t b = r->p[r->off++];
        *tags |= (uint32_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

static int read_field(tlg_reader *r, tlg_field *f)
{
    memset(f, 0, sizeof *f);
    if (!read_cstr(r, &f->name, &f->name_len) || r->off >= r->n)
        return 0;
    uint8_t in = r->p[r->off++];
    f->in = in & 0x1F;
    f->arity = in & 0x60;
    if (in & 0x80) {
        if (r->off >= r->n)
            return 0;
        uint8_t out = r->p[r->off++];
        f->out = out & 0x7F;
        if ((out & 0x80) && !(f->has_tags = read_tags(r, &f->tags)))
            return 0;
    }
    if (f->arity == TLG_ARITY_CCOUNT) {
        if (r->n - r->off < 2)
            return 0;
        f->ccount = etw_rd16(r->p + r->off);
        r->off += 2;
    } else if (f->arity == TLG_ARITY_CUSTOM) {
        if (r->n - r->off < 2)
            return 0;
        size_t cb = etw_rd16(r->p + r->off);
        if (cb > r->n - r->off - 2)
            return 0;
        r->off += 2 + cb;
    }
    return f->in != 0 && (f->in != TLG_IN_STRUCT || f->out != 0);
}

/* TraceLogging out-types are numbered differently from TDH's below 0x21 (notes §2.6). */
static uint16_t map_out(uint8_t in, uint8_t out)
{
    switch (out) {
    case 0x01: return TDH_OUTTYPE_NOPRINT;
    case 0x02: return TDH_OUTTYPE_STRING;
    case 0x03: return TDH_OUTTYPE_BOOLEAN;
    case 0x04:
        switch (in) {
        case TDH_INTYPE_INT8: case TDH_INTYPE_UINT8: return TDH_OUTTYPE_HEXINT8;
        case TDH_INTYPE_INT16: case TDH_INTYPE_UINT16: return TDH_OUTTYPE_HEXINT16;
        case TDH_INTYPE_INT64: case TDH_INTYPE_UINT64: case TDH_INTYPE_HEXINT64: return TDH_OUTTYPE_HEXINT64;
        case TLG_IN_BINARY: case TLG_IN_COUNTEDBINARY: return TDH_OUTTYPE_HEXBINARY;
        default: return TDH_OUTTYPE_HEXINT32;
        }
    case 0x05: return TDH_OUTTYPE_PID;
    case 0x06: return TDH_OUTTYPE_TID;
    case 0x07: return TDH_OUTTYPE_PORT;
    case 0x08: return TDH_OUTTYPE_IPV4;
    case 0x09: return TDH_OUTTYPE_IPV6;
    case 0x0A: return TDH_OUTTYPE_SOCKETADDRESS;
    case 0x0B: return TDH_OUTTYPE_XML;
    case 0x0C: return TDH_OUTTYPE_JSON;
    case 0x0D: return TDH_OUTTYPE_WIN32ERROR;
    case 0x0E: return TDH_OUTTYPE_NTSTATUS;
    case 0x0F: return TDH_OUTTYPE_HRESULT;
    case 0x10: return TDH_OUTTYPE_DATETIME;
    case 0x11: case 0x12: return TDH_OUTTYPE_NULL;
    default: return out >= 0x21 && out <= 0x26 ? out : TDH_OUTTYPE_NULL;
    }
}

typedef struct tlg_build {
    etw_teib b;
    const tlg_field *f;
    size_t nf, pos;
} tlg_build;

static int32_t add_named(tlg_build *t, int32_t parent, const tlg_field *f, const char *suffix,
                         uint16_t in, uint16_t out)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s%s", (int)(f->name_len > 200 ? 200 : f->name_len), f->name, suffix);
    return etw_teib_add(&t->b, parent, name, in, out);
}

/* Adds field t->f[t->pos] (and, for a struct, its members) under parent. */
static int add_field(tlg_build *t, int32_t parent, unsigned depth)
{
    if (t->pos >= t->nf || depth > 32)
        return 0;
    const tlg_field *f = &t->f[t->pos++];
    int32_t count_idx = -1, idx;
    if (f->arity == TLG_ARITY_VCOUNT) {
        /* A u16 element count precedes the elements: expose it as a hidden property. */
        count_idx = add_named(t, parent, f, ".Count", TDH_INTYPE_UINT16, TDH_OUTTYPE_NOPRINT);
        if (count_idx < 0)
            return 0;
    }
    if (f->in == TLG_IN_STRUCT) {
        idx = etw_teib_add_struct(&t->b, parent, "");
        if (idx < 0)
            return 0;
        t->b.props[idx].epi.NameOffset = etw_teib_str(&t->b, f->name, f->name_len);
        for (unsigned m = 0; m < f->out; m++)
            if (!add_field(t, idx, depth + 1))
                return 0;
    } else if (f->in == TLG_IN_BINARY) {
        /* TDH presents TraceLogging binary (u16 size + bytes) as a Length property followed
         * by BINARY sized by it; arrays of it do not exist (notes §2.5). */
        if (f->arity)
            return 0;
        int32_t len = add_named(t, parent, f, ".Length", TDH_INTYPE_UINT16, TDH_OUTTYPE_NOPRINT);
        idx = add_named(t, parent, f, "", TDH_INTYPE_BINARY, map_out(f->in, f->out));
        if (len < 0 || idx < 0)
            return 0;
        t->b.props[idx].epi.Flags |= PropertyParamLength;
        t->b.props[idx].epi.lengthPropertyIndex = (USHORT)len;
    } else {
        uint16_t in = f->arity == TLG_ARITY_CUSTOM ? TDH_INTYPE_MANIFEST_COUNTEDBINARY : f->in;
        if (in > TLG_IN_COUNTEDBINARY)
            return 0;
        idx = add_named(t, parent, f, "", in, map_out(f->in, f->out));
        if (idx < 0)
            return 0;
    }
    EVENT_PROPERTY_INFO *e = &t->b.props[idx].epi;
    if (f->has_tags) {
        e->Flags |= PropertyHasTags;
        e->Tags = f->tags;
    }
    if (f->arity == TLG_ARITY_CCOUNT) {
        e->Flags |= PropertyParamFixedCount;
        e->count = f->ccount;
    } else if (count_idx >= 0) {
        e->Flags |= PropertyParamCount;
        e->countPropertyIndex = (USHORT)count_idx;
    }
    return 1;
}

const char *etw_tlg_provider_name(const uint8_t *traits, size_t n, size_t *len)
{
    if (!traits || n < 3)
        return NULL;
    size_t total = etw_rd16(traits);
    if (total < 3 || total > n)
        return NULL;
    const uint8_t *z = memchr(traits + 2, 0, total - 2);
    if (!z)
        return NULL;
    *len = (size_t)(z - traits - 2);
    return (const char *)traits + 2;
}

const char *etw_std_opcode_name(unsigned op)
{
    static const char *const names[] = {"Info", "Start", "Stop", "DC_Start", "DC_Stop",
                                        "Extension", "Reply", "Resume", "Suspend", "Send"};
    if (op < sizeof names / sizeof names[0])
        return names[op];
    return op == 240 ? "Receive" : NULL;
}

TRACE_EVENT_INFO *etw_tlg_build(const GUID *provider, const EVENT_DESCRIPTOR *desc,
                                const uint8_t *meta, size_t meta_len, const uint8_t *traits,
                                size_t traits_len, size_t *size)
{
    if (!meta || meta_len < 3)
        return NULL;
    size_t total = etw_rd16(meta);
    if (total < 3 || total > meta_len)
        return NULL;
    tlg_reader r = {meta, total, 2};
    uint32_t tags;
    const char *ev_name;
    size_t ev_len;
    if (!read_tags(&r, &tags) || !read_cstr(&r, &ev_name, &ev_len))
        return NULL;
    tlg_field *fields = malloc(TLG_MAX_FIELDS * sizeof *fields);
    if (!fields)
        return NULL;
    size_t nf = 0;
    while (r.off < r.n) {
        if (nf == TLG_MAX_FIELDS || !read_field(&r, &fields[nf])) {
            free(fields);
            return NULL;
        }
        nf++;
    }
    tlg_build t = {.f = fields, .nf = nf};
    etw_teib_init(&t.b);
    t.b.hdr.ProviderGuid = *provider;
    t.b.hdr.EventDescriptor = *desc;
    t.b.hdr.DecodingSource = DecodingSourceTlg;
    t.b.hdr.Tags = tags;
    size_t pn_len;
    const char *pn = etw_tlg_provider_name(traits, traits_len, &pn_len);
    if (pn)
        t.b.hdr.ProviderNameOffset = etw_teib_str(&t.b, pn, pn_len);
    t.b.hdr.TaskNameOffset = etw_teib_str(&t.b, ev_name, ev_len);
    t.b.hdr.EventNameOffset = t.b.hdr.TaskNameOffset;
    const char *op = desc->Opcode ? etw_std_opcode_name(desc->Opcode) : NULL;
    if (op)
        t.b.hdr.OpcodeNameOffset = etw_teib_str(&t.b, op, SIZE_MAX);
    int ok = 1;
    while (ok && t.pos < nf)
        ok = add_field(&t, -1, 0);
    TRACE_EVENT_INFO *tei = ok ? etw_teib_finish(&t.b, size) : NULL;
    etw_teib_free(&t.b);
    free(fields);
    return tei;
}
