/* Turns the event-type classes of a parsed .mof (mof_model.h) into TRACE_EVENT_INFO, the way
 * TDH reports MOF classes (DecodingSource = Wbem; provider = the class's provider class, task =
 * the event class, opcode = the event type's name), and stores them as schema source 5. Type
 * mapping: format notes §5.2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "tdh/sources/mof_model.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/tei_build.h"

static const etw_mof_class *find_class(const etw_mof *m, const char *name)
{
    for (size_t i = 0; name[0] && i < m->n; i++)
        if (strcasecmp(m->classes[i].name, name) == 0)
            return &m->classes[i];
    return NULL;
}

static const char *label(const etw_mof_class *c) { return c->display[0] ? c->display : c->name; }

typedef struct mapped {
    uint16_t in, out, length; /* length: fixed characters/bytes, 0 = none */
    int string_array;         /* char16 name[N]: one fixed-length string, not N chars */
} mapped;

static int ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* MOF declaration -> TDH types; 0 if the type is not one ETW classes use. */
static int map_type(const etw_mof_prop *p, mapped *t)
{
    const char *ty = p->type, *ext = p->ext;
    int wide = ieq(p->format, "w"), hex = ieq(p->format, "x");
    memset(t, 0, sizeof *t);
    if (p->pointer && (ieq(ty, "uint32") || ieq(ty, "uint64") || ieq(ty, "sint32") || ieq(ty, "sint64") || ieq(ty, "object"))) {
        t->in = TDH_INTYPE_POINTER;
        t->out = TDH_OUTTYPE_HEXINT64;
    } else if (ieq(ty, "uint8")) {
        t->in = ieq(ext, "Guid") ? TDH_INTYPE_GUID : ieq(p->format, "c") ? TDH_INTYPE_ANSICHAR : TDH_INTYPE_UINT8;
    } else if (ieq(ty, "sint8")) {
        t->in = TDH_INTYPE_INT8;
    } else if (ieq(ty, "uint16") || ieq(ty, "sint16")) {
        t->in = ieq(ty, "uint16") ? TDH_INTYPE_UINT16 : TDH_INTYPE_INT16;
        t->out = ieq(ext, "Port") ? TDH_OUTTYPE_PORT : hex ? TDH_OUTTYPE_HEXINT16 : 0;
    } else if (ieq(ty, "uint32") || ieq(ty, "sint32")) {
        t->in = ieq(ty, "uint32") ? TDH_INTYPE_UINT32 : TDH_INTYPE_INT32;
        t->out = (ieq(ext, "IPAddr") || ieq(ext, "IPAddrV4")) ? TDH_OUTTYPE_IPV4 : hex ? TDH_OUTTYPE_HEXINT32 : 0;
    } else if (ieq(ty, "uint64") || ieq(ty, "sint64")) {
        t->in = ieq(ty, "uint64") ? TDH_INTYPE_UINT64 : TDH_INTYPE_INT64;
        t->out = hex ? TDH_OUTTYPE_HEXINT64 : 0;
    } else if (ieq(ty, "real32") || ieq(ty, "real64")) {
        t->in = ieq(ty, "real32") ? TDH_INTYPE_FLOAT : TDH_INTYPE_DOUBLE;
    } else if (ieq(ty, "boolean")) {
        t->in = TDH_INTYPE_BOOLEAN; /* 4 bytes, as the Windows MOF consumer sample reads it */
    } else if (ieq(ty, "char16")) {
        t->in = TDH_INTYPE_UNICODECHAR;
        if (p->array && p->count) { /* char16 Name[N]: a fixed, NUL-padded string */
            t->in = TDH_INTYPE_UNICODESTRING;
            t->length = (uint16_t)p->count;
            t->string_array = 1;
        }
    } else if (ieq(ty, "string")) {
        const char *term = p->term[0] ? p->term : "NullTerminated";
        if (ieq(term, "NullTerminated"))
            t->in = wide ? TDH_INTYPE_UNICODESTRING : TDH_INTYPE_ANSISTRING;
        else if (ieq(term, "Counted"))
            t->in = wide ? TDH_INTYPE_COUNTEDSTRING : TDH_INTYPE_COUNTEDANSISTRING;
        else if (ieq(term, "ReverseCounted"))
            t->in = wide ? TDH_INTYPE_REVERSEDCOUNTEDSTRING : TDH_INTYPE_REVERSEDCOUNTEDANSISTRING;
        else if (ieq(term, "NotCounted"))
            t->in = wide ? TDH_INTYPE_NONNULLTERMINATEDSTRING : TDH_INTYPE_NONNULLTERMINATEDANSISTRING;
    } else if (ieq(ty, "object")) {
        if (ieq(ext, "SizeT")) /* sizes: decimal, as the built-in kernel tables print them */
            t->in = TDH_INTYPE_SIZET, t->out = TDH_OUTTYPE_UNSIGNEDLONG;
        else if (ieq(ext, "Sid"))
            t->in = TDH_INTYPE_WBEMSID;
        else if (ieq(ext, "Guid"))
            t->in = TDH_INTYPE_GUID;
        else if (ieq(ext, "IPAddr") || ieq(ext, "IPAddrV4"))
            t->in = TDH_INTYPE_UINT32, t->out = TDH_OUTTYPE_IPV4;
        else if (ieq(ext, "IPAddrV6"))
            t->in = TDH_INTYPE_BINARY, t->out = TDH_OUTTYPE_IPV6, t->length = 16;
        else if (ieq(ext, "Port"))
            t->in = TDH_INTYPE_UINT16, t->out = TDH_OUTTYPE_PORT;
        else if (ieq(ext, "WmiTime"))
            t->in = TDH_INTYPE_UINT64;
    }
    return t->in != 0;
}

/* Properties in WmiDataId order (declaration order among equals); returns the count. */
static unsigned ordered(const etw_mof_class *c, const etw_mof_prop **out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nprops; i++) {
        const etw_mof_prop *p = &c->props[i];
        unsigned j = n;
        while (j > 0 && out[j - 1]->data_id > p->data_id)
            j--;
        memmove(out + j + 1, out + j, (n - j) * sizeof *out);
        out[j] = p;
        n++;
    }
    return n;
}

static int add_props(etw_teib *b, const etw_mof_class *c, char *err, size_t errcap)
{
    const etw_mof_prop *order[ETW_MOF_MAX_PROPS];
    unsigned n = ordered(c, order);
    for (unsigned i = 0; i < n; i++) {
        const etw_mof_prop *p = order[i];
        mapped t;
        if (!map_type(p, &t)) {
            snprintf(err, errcap, "line %u: class %s, property %s: type %s%s%s is not an ETW event type", p->line,
                     c->name, p->name, p->type, p->ext[0] ? " extension " : "", p->ext);
            return 0;
        }
        int32_t k = etw_teib_add(b, -1, p->name, t.in, t.out);
        if (k < 0) {
            snprintf(err, errcap, "class %s: too many properties", c->name);
            return 0;
        }
        EVENT_PROPERTY_INFO *e = &b->props[k].epi;
        if (t.length) {
            e->length = t.length;
            e->Flags |= PropertyParamFixedLength;
        }
        if (!p->array || t.string_array)
            continue;
        if (p->size_is[0]) {
            /* The count comes from an earlier property of this class. */
            int32_t ref = -1;
            for (unsigned j = 0; j < i; j++)
                if (strcasecmp(order[j]->name, p->size_is) == 0)
                    ref = (int32_t)j;
            if (ref < 0) {
                snprintf(err, errcap, "line %u: class %s, property %s: WmiSizeIs(\"%s\") names no earlier property",
                         p->line, c->name, p->name, p->size_is);
                return 0;
            }
            e->Flags |= PropertyParamCount;
            e->countPropertyIndex = (USHORT)ref;
        } else if (p->count) {
            e->Flags |= PropertyParamFixedCount;
            e->count = (USHORT)p->count;
        } else {
            snprintf(err, errcap, "line %u: class %s, property %s: array without a size (give [N], MAX(N) or WmiSizeIs)",
                     p->line, c->name, p->name);
            return 0;
        }
    }
    return 1;
}

static TRACE_EVENT_INFO *build(const etw_mof_class *c, const etw_mof_class *event_cls, const char *provider,
                               unsigned type_index, unsigned version, size_t *size, char *err, size_t errcap)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = event_cls->guid;
    b.hdr.EventGuid = event_cls->guid;
    b.hdr.EventDescriptor.Opcode = (UCHAR)c->types[type_index];
    b.hdr.EventDescriptor.Version = (UCHAR)(version == ETW_ANY_VERSION ? 0 : version);
    b.hdr.DecodingSource = DecodingSourceWbem;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, provider, SIZE_MAX);
    b.hdr.TaskNameOffset = etw_teib_str(&b, label(event_cls), SIZE_MAX);
    if (c->type_names[type_index][0])
        b.hdr.OpcodeNameOffset = etw_teib_str(&b, c->type_names[type_index], SIZE_MAX);
    TRACE_EVENT_INFO *t = add_props(&b, c, err, errcap) ? etw_teib_finish(&b, size) : NULL;
    if (!t && !err[0])
        snprintf(err, errcap, "class %s: cannot build its schema", c->name);
    etw_teib_free(&b);
    return t;
}

/* The nearest class of c's ancestry (c included) that carries a Guid, and the event version
 * (ETW_ANY_VERSION without EventVersion: MOF leaves it off the newest version of a class). */
static const etw_mof_class *event_class(const etw_mof *m, const etw_mof_class *c, unsigned *version)
{
    int v = -1;
    for (int depth = 0; c && depth < 32; depth++) {
        if (v < 0)
            v = c->version;
        if (c->has_guid) {
            *version = v < 0 ? ETW_ANY_VERSION : (unsigned)v;
            return c;
        }
        c = find_class(m, c->parent);
    }
    return NULL;
}

etw_tdh_status etw_mof_compile(const etw_mof *m, uint32_t origin, char *err, size_t errcap)
{
    err[0] = 0;
    for (size_t i = 0; i < m->n; i++) {
        const etw_mof_class *c = &m->classes[i];
        if (c->ntypes == 0)
            continue; /* a provider or event class: no layout of its own */
        unsigned version = 0;
        const etw_mof_class *ev = event_class(m, c, &version);
        if (!ev) {
            snprintf(err, errcap, "line %u: class %s has EventType but no Guid in its ancestry", c->line, c->name);
            return ETW_TDH_E_MOF;
        }
        /* Provider: the class the event class derives from, when the file declares it (as
         * MSNT_SystemTrace for kernel classes); else the event class names itself. */
        const etw_mof_class *pc = find_class(m, ev->parent);
        const char *provider = pc && strcasecmp(pc->name, "EventTrace") != 0 ? label(pc) : label(ev);
        for (unsigned k = 0; k < c->ntypes; k++) {
            size_t size = 0;
            /* Issue 4's precedence: the built-in kernel tables win over a user's MOF. */
            TRACE_EVENT_INFO *builtin = etw_kernel_build(&ev->guid, c->types[k], version & 0xff, &size);
            if (builtin) {
                free(builtin);
                continue;
            }
            TRACE_EVENT_INFO *t = build(c, ev, provider, k, version, &size, err, errcap);
            if (!t)
                return ETW_TDH_E_MOF;
            etw_schema_key key = {.guid = ev->guid, .kind = ETW_KEY_CLASSIC, .a = c->types[k], .b = (uint16_t)version};
            if (!etw_schema_put(&key, t, (uint32_t)size, ETW_SRC_MOF, origin))
                return ETW_TDH_E_NOMEM;
        }
    }
    return ETW_TDH_OK;
}

etw_tdh_status etw_mof_load_text(const uint8_t *text, size_t n, uint32_t origin, char *err, size_t errcap)
{
    etw_mof m;
    if (!etw_mof_parse(text, n, &m, err, errcap))
        return ETW_TDH_E_MOF;
    etw_tdh_status rc = etw_mof_compile(&m, origin, err, errcap);
    etw_mof_free(&m);
    return rc;
}
