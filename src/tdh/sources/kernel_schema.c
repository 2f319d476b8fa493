/* Compiles a kernel table row (kernel_tables.h) into a TRACE_EVENT_INFO with
 * DecodingSource = Wbem, as TDH reports MOF classes: ProviderGuid = EventGuid = the class GUID,
 * TaskName = the class's display name, OpcodeName = the event type's name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "tdh/sources/kernel_tables.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/tei_build.h"

typedef struct ktype {
    const char *code;
    uint16_t in, out;
} ktype;

static const ktype ktypes[] = {
    {"p", TDH_INTYPE_POINTER, TDH_OUTTYPE_HEXINT64}, {"z", TDH_INTYPE_SIZET, TDH_OUTTYPE_UNSIGNEDLONG},
    {"u8", TDH_INTYPE_UINT8, 0}, {"i8", TDH_INTYPE_INT8, 0}, {"u16", TDH_INTYPE_UINT16, 0},
    {"i16", TDH_INTYPE_INT16, 0}, {"u32", TDH_INTYPE_UINT32, 0}, {"i32", TDH_INTYPE_INT32, 0},
    {"u64", TDH_INTYPE_UINT64, 0}, {"i64", TDH_INTYPE_INT64, 0},
    {"x32", TDH_INTYPE_UINT32, TDH_OUTTYPE_HEXINT32}, {"x64", TDH_INTYPE_UINT64, TDH_OUTTYPE_HEXINT64},
    {"a", TDH_INTYPE_ANSISTRING, 0}, {"w", TDH_INTYPE_UNICODESTRING, 0}, {"sid", TDH_INTYPE_WBEMSID, 0},
    {"g", TDH_INTYPE_GUID, 0}, {"port", TDH_INTYPE_UINT16, TDH_OUTTYPE_PORT},
    {"ip4", TDH_INTYPE_UINT32, TDH_OUTTYPE_IPV4}, {"ip6", TDH_INTYPE_BINARY, TDH_OUTTYPE_IPV6},
    {"ft", TDH_INTYPE_FILETIME, 0},
};

/* The name of opcode in "10=Load 2=Unload": 1 if listed (*name may be empty), else 0. */
static int find_opcode(const char *ops, unsigned opcode, char *name, size_t cap)
{
    for (const char *s = ops; *s;) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (*end != '=')
            return 0;
        const char *n = end + 1, *e = strchr(n, ' ');
        size_t len = e ? (size_t)(e - n) : strlen(n);
        if (v == opcode) {
            snprintf(name, cap, "%.*s", (int)len, n);
            return 1;
        }
        s = e ? e + 1 : n + len;
    }
    return 0;
}

/* Builder index of the property called name (ASCII), or -1: count references ("Name[Ref]")
 * point back at an earlier field. Names live UTF-16 in the builder's string area. */
static int32_t find_field(const etw_teib *b, const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; i < b->nprops; i++) {
        size_t off = b->props[i].epi.NameOffset;
        if (off + 2 * (n + 1) > b->slen)
            continue;
        const uint8_t *s = b->str + off;
        size_t k = 0;
        while (k < n && s[2 * k] == (uint8_t)name[k] && s[2 * k + 1] == 0)
            k++;
        if (k == n && s[2 * n] == 0 && s[2 * n + 1] == 0)
            return (int32_t)i;
    }
    return -1;
}

static int add_field(etw_teib *b, const char *word, size_t len)
{
    char name[64], type[16];
    const char *colon = memchr(word, ':', len);
    if (!colon || (size_t)(colon - word) >= sizeof name || len - (size_t)(colon - word) - 1 >= sizeof type)
        return 0;
    snprintf(name, sizeof name, "%.*s", (int)(colon - word), word);
    snprintf(type, sizeof type, "%.*s", (int)(len - (size_t)(colon - word) - 1), colon + 1);
    unsigned repeat = 0;
    char *star = strchr(name, '*');
    if (star) {
        repeat = (unsigned)atoi(star + 1);
        *star = 0;
    }
    /* "Name[Ref]": an array whose element count is the value of the earlier field Ref. */
    int32_t count_ref = -1;
    char *bracket = strchr(name, '[');
    if (bracket) {
        char *close = strchr(bracket, ']');
        if (!close || close[1] || repeat)
            return 0;
        *close = 0;
        if ((count_ref = find_field(b, bracket + 1)) < 0)
            return 0;
        *bracket = 0;
    }
    uint16_t in = 0, out = 0, length = 0;
    if (type[0] == 'b' && type[1] >= '0' && type[1] <= '9') {
        in = TDH_INTYPE_BINARY;
        out = TDH_OUTTYPE_HEXBINARY;
        length = (uint16_t)atoi(type + 1);
    } else if (type[0] == 'w' && type[1] >= '0' && type[1] <= '9') {
        in = TDH_INTYPE_UNICODESTRING; /* MOF char16 Name[N]: fixed, NUL-padded */
        length = (uint16_t)atoi(type + 1);
    } else {
        for (size_t i = 0; i < sizeof ktypes / sizeof ktypes[0]; i++)
            if (strcmp(ktypes[i].code, type) == 0) {
                in = ktypes[i].in;
                out = ktypes[i].out;
            }
    }
    if (!in)
        return 0;
    for (unsigned k = 0; k < (repeat ? repeat : 1); k++) {
        char full[80];
        if (repeat)
            snprintf(full, sizeof full, "%s%u", name, k + 1);
        else
            snprintf(full, sizeof full, "%s", name);
        int32_t i = etw_teib_add(b, -1, full, in, out);
        if (i < 0)
            return 0;
        b->props[i].epi.length = length;
        if (length)
            b->props[i].epi.Flags = PropertyParamFixedLength;
        if (count_ref >= 0) {
            b->props[i].epi.Flags |= PropertyParamCount;
            b->props[i].epi.countPropertyIndex = (USHORT)count_ref;
        }
    }
    return 1;
}

static TRACE_EVENT_INFO *compile(const etw_klayout *l, const char *opname, unsigned opcode,
                                 unsigned version, size_t *size)
{
    const etw_kclass *c = &etw_kclasses[l->cls];
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = c->guid;
    b.hdr.EventGuid = c->guid;
    b.hdr.EventDescriptor.Opcode = (UCHAR)opcode;
    b.hdr.EventDescriptor.Version = (UCHAR)version;
    b.hdr.DecodingSource = DecodingSourceWbem;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, c->provider, SIZE_MAX);
    b.hdr.TaskNameOffset = etw_teib_str(&b, c->task, SIZE_MAX);
    if (opname[0])
        b.hdr.OpcodeNameOffset = etw_teib_str(&b, opname, SIZE_MAX);
    int ok = 1;
    for (const char *s = l->fields; ok && *s;) {
        const char *e = strchr(s, ' ');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        ok = add_field(&b, s, len);
        s = e ? e + 1 : s + len;
    }
    TRACE_EVENT_INFO *t = ok ? etw_teib_finish(&b, size) : NULL;
    etw_teib_free(&b);
    return t;
}

TRACE_EVENT_INFO *etw_kernel_build(const GUID *cls, unsigned opcode, unsigned version, size_t *size)
{
    /* The newest layout not newer than the event, else the oldest one: payloads may be longer
     * than a known layout (decode the known prefix) or shorter (fields missing at the end). */
    const etw_klayout *best = NULL;
    char name[48] = "", best_name[48] = "";
    for (size_t i = 0; i < etw_klayout_count; i++) {
        const etw_klayout *l = &etw_klayouts[i];
        if (!etw_guid_equal(&etw_kclasses[l->cls].guid, cls) || !find_opcode(l->opcodes, opcode, name, sizeof name))
            continue;
        int better = !best ||
                     (l->version <= version ? (best->version > version || l->version > best->version)
                                            : (best->version > version && l->version < best->version));
        if (better) {
            best = l;
            memcpy(best_name, name, sizeof name);
        }
    }
    return best ? compile(best, best_name, opcode, version, size) : NULL;
}

int etw_kernel_class_names(const GUID *cls, const char **provider, const char **task)
{
    for (size_t i = 0; i < etw_kclass_count; i++) {
        if (etw_guid_equal(&etw_kclasses[i].guid, cls)) {
            *provider = etw_kclasses[i].provider;
            *task = etw_kclasses[i].task;
            return 1;
        }
    }
    return 0;
}
