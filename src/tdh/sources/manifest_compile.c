/* Manifest model → stored schemas: one TRACE_EVENT_INFO per event (DecodingSource XMLFile,
 * key (provider, id, version)) and one EVENT_MAP_INFO per value or bit map. Names given for
 * length and count become PropertyParamLength / PropertyParamCount references (notes §3.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/manifest_model.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/tei_build.h"
#include "tdh/sources/tlg_meta.h"

void *etw_man_push(etw_manifest *m, void **v, size_t *n, size_t *cap, size_t elem)
{
    if (m->failed || *n >= ETW_MAN_MAX_ITEMS) {
        m->failed = 1;
        return NULL;
    }
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        void *g = realloc(*v, c * elem);
        if (!g) {
            m->failed = 1;
            return NULL;
        }
        *v = g;
        *cap = c;
    }
    void *e = (char *)*v + *n * elem;
    memset(e, 0, elem);
    (*n)++;
    return e;
}

void etw_manifest_free(etw_manifest *m)
{
    for (size_t i = 0; i < m->providers.n; i++)
        free(m->providers.v[i].name);
    for (size_t i = 0; i < m->tasks.n; i++)
        free(m->tasks.v[i].name), free(m->tasks.v[i].message);
    for (size_t i = 0; i < m->opcodes.n; i++)
        free(m->opcodes.v[i].name), free(m->opcodes.v[i].message);
    for (size_t i = 0; i < m->events.n; i++) {
        etw_man_event *e = &m->events.v[i];
        free(e->task_name), free(e->opcode_name), free(e->level_name), free(e->tmpl);
        free(e->symbol), free(e->name), free(e->message);
    }
    for (size_t i = 0; i < m->templates.n; i++)
        free(m->templates.v[i]);
    for (size_t i = 0; i < m->items.n; i++) {
        etw_man_item *it = &m->items.v[i];
        free(it->name), free(it->in_type), free(it->out_type), free(it->map), free(it->length), free(it->count);
    }
    for (size_t i = 0; i < m->maps.n; i++)
        free(m->maps.v[i].name);
    for (size_t i = 0; i < m->entries.n; i++)
        free(m->entries.v[i].message);
    for (size_t i = 0; i < m->strings.n; i++)
        free(m->strings.v[i].id), free(m->strings.v[i].value);
    free(m->providers.v), free(m->tasks.v), free(m->opcodes.v), free(m->events.v);
    free(m->templates.v), free(m->items.v), free(m->maps.v), free(m->entries.v), free(m->strings.v);
    memset(m, 0, sizeof *m);
}

static const char *const in_names[] = {
    NULL, "UnicodeString", "AnsiString", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32",
    "Int64", "UInt64", "Float", "Double", "Boolean", "Binary", "GUID", "Pointer", "FILETIME",
    "SYSTEMTIME", "SID", "HexInt32", "HexInt64", "CountedUnicodeString", "CountedAnsiString",
    NULL, "CountedBinary"};
static const char *const out_names[] = {
    NULL, "string", "dateTime", "byte", "unsignedByte", "short", "unsignedShort", "int",
    "unsignedInt", "long", "unsignedLong", "float", "double", "boolean", "GUID", "hexBinary",
    "HexInt8", "HexInt16", "HexInt32", "HexInt64", "PID", "TID", "Port", "IPv4", "IPv6",
    "SocketAddress", "CIMDateTime", "ETWTIME", "Xml", "ErrorCode", "Win32Error", "NTSTATUS",
    "HResult", "DateTimeCultureInsensitive", "Json", "Utf8", "Pkcs7WithTypeInfo", "CodePointer",
    "DateTimeUtc"};

static uint16_t type_code(const char *s, const char *const *names, size_t n)
{
    if (!s)
        return 0;
    const char *c = strchr(s, ':');
    s = c ? c + 1 : s;
    for (size_t i = 1; i < n; i++)
        if (names[i] && strcasecmp(names[i], s) == 0)
            return (uint16_t)i;
    if (names == in_names && strcasecmp(s, "CountedString") == 0)
        return TDH_INTYPE_MANIFEST_COUNTEDSTRING;
    return 0;
}

static int cmp_string(const void *a, const void *b)
{
    const etw_man_string *x = a, *y = b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* "$(string.Id)" → the localized string (first culture wins), else the text itself. */
static const char *resolve(const etw_manifest *m, const char *msg)
{
    if (!msg || strncmp(msg, "$(string.", 9) != 0)
        return msg;
    char id[256];
    size_t len = strcspn(msg + 9, ")");
    if (len >= sizeof id)
        return msg;
    memcpy(id, msg + 9, len);
    id[len] = 0;
    etw_man_string key = {id, NULL};
    const etw_man_string *s = m->strings.n ? bsearch(&key, m->strings.v, m->strings.n, sizeof key, cmp_string) : NULL;
    return s && s->value ? s->value : msg;
}

static const char *strip_win(const char *s)
{
    return s && strncmp(s, "win:", 4) == 0 ? s + 4 : s;
}

static int32_t find_named(const etw_manifest *m, const void *list_v, size_t n, int32_t owner, const char *name)
{
    const etw_man_named *v = list_v;
    for (size_t i = 0; name && i < n; i++)
        if (v[i].owner == owner && v[i].name && strcmp(v[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

static unsigned std_opcode(const char *name)
{
    static const char *const alias[] = {"Info", "Start", "Stop", "DC_Start", "DC_Stop", "Extension",
                                        "Reply", "Resume", "Suspend", "Send"};
    for (unsigned i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(alias[i], name) == 0)
            return i;
    return strcmp(name, "Receive") == 0 ? 240 : 0;
}

static unsigned std_level(const char *name)
{
    static const char *const levels[] = {"LogAlways", "Critical", "Error", "Warning", "Informational", "Verbose"};
    for (unsigned i = 0; name && i < 6; i++)
        if (strcmp(strip_win(name), levels[i]) == 0)
            return i;
    return name ? (unsigned)strtoul(name, NULL, 0) : 0;
}

static int same_without_spaces(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (*a != *b)
            return 0;
        if (!*a)
            return 1;
        a++, b++;
    }
}

/* Why an event could not be compiled, and where (the item's or event's line). */
typedef struct problem {
    const char *what;
    const char *name; /* the field or template concerned */
    uint32_t line;
} problem;

/* Adds the template's items under builder parent; returns 0 on error (*pr says why). */
static int add_items(const etw_manifest *m, etw_teib *b, int32_t tmpl, int32_t parent_item,
                     int32_t parent_idx, int32_t *bidx, problem *pr)
{
    for (size_t i = 0; i < m->items.n; i++) {
        const etw_man_item *it = &m->items.v[i];
        if (it->tmpl != tmpl || it->parent != parent_item)
            continue;
        int32_t k = it->is_struct ? etw_teib_add_struct(b, parent_idx, it->name)
                                  : etw_teib_add(b, parent_idx, it->name, type_code(it->in_type, in_names, 26),
                                                 type_code(it->out_type, out_names, 39));
        if (k < 0) {
            *pr = (problem){b->nprops >= ETW_TEIB_MAX_PROPS ? "more than 1024 fields" : "out of memory", it->name,
                            it->line};
            return 0;
        }
        bidx[i] = k;
        EVENT_PROPERTY_INFO *e = &b->props[k].epi;
        if (!it->is_struct && it->map)
            e->nonStructType.MapNameOffset = etw_teib_str(b, it->map, SIZE_MAX);
        const char *refs[2] = {it->length, it->count};
        for (int r = 0; r < 2; r++) {
            const char *v = refs[r];
            if (!v)
                continue;
            char *end;
            unsigned long x = strtoul(v, &end, 0);
            if (*end == 0) {
                if (r == 0) {
                    e->length = (USHORT)x;
                    e->Flags |= PropertyParamFixedLength;
                } else {
                    e->count = (USHORT)x;
                    e->Flags |= PropertyParamFixedCount;
                }
                continue;
            }
            /* A name: the nearest earlier item of this template with that name. Manifests
             * regenerated from provider metadata name it with spaces the field's own name
             * lacks ("SHA1 Hash Size" for SHA1HashSize), so spaces are ignored second. */
            int32_t ref = -1;
            for (int loose = 0; loose < 2 && ref < 0; loose++)
                for (size_t j = i; j-- > 0;)
                    if (m->items.v[j].tmpl == tmpl && m->items.v[j].name && bidx[j] >= 0 &&
                        (loose ? same_without_spaces(m->items.v[j].name, v) : strcmp(m->items.v[j].name, v) == 0)) {
                        ref = bidx[j];
                        break;
                    }
            if (ref < 0) {
                *pr = (problem){r == 0 ? "length names no earlier field" : "count names no earlier field", it->name,
                                it->line};
                return 0;
            }
            e = &b->props[k].epi;
            if (r == 0) {
                e->Flags |= PropertyParamLength;
                e->lengthPropertyIndex = (USHORT)ref;
            } else {
                e->Flags |= PropertyParamCount;
                e->countPropertyIndex = (USHORT)ref;
            }
        }
        if (it->is_struct && !add_items(m, b, tmpl, (int32_t)i, k, bidx, pr))
            return 0;
    }
    return 1;
}

static int compile_event(const etw_manifest *m, const etw_man_event *ev, uint32_t origin, int32_t *bidx,
                         problem *pr)
{
    const etw_man_provider *p = &m->providers.v[ev->provider];
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = p->guid;
    b.hdr.DecodingSource = DecodingSourceXMLFile;
    EVENT_DESCRIPTOR *d = &b.hdr.EventDescriptor;
    d->Id = ev->id;
    d->Version = ev->version;
    d->Level = (UCHAR)std_level(ev->level_name);
    b.hdr.ProviderNameOffset = etw_teib_str(&b, p->name, SIZE_MAX);
    int32_t task = find_named(m, m->tasks.v, m->tasks.n, (int32_t)ev->provider, ev->task_name);
    if (task >= 0) {
        d->Task = (USHORT)m->tasks.v[task].value;
        b.hdr.TaskNameOffset = etw_teib_str(&b, m->tasks.v[task].name, SIZE_MAX);
    }
    if (ev->opcode_name) {
        int32_t op = find_named(m, m->opcodes.v, m->opcodes.n, task, ev->opcode_name);
        if (op < 0)
            op = find_named(m, m->opcodes.v, m->opcodes.n, -2 - (int32_t)ev->provider, ev->opcode_name);
        d->Opcode = (UCHAR)(op >= 0 ? m->opcodes.v[op].value : std_opcode(strip_win(ev->opcode_name)));
        b.hdr.OpcodeNameOffset = etw_teib_str(&b, strip_win(ev->opcode_name), SIZE_MAX);
    }
    if (ev->name)
        b.hdr.EventNameOffset = etw_teib_str(&b, ev->name, SIZE_MAX);
    if (ev->message)
        b.hdr.EventMessageOffset = etw_teib_str(&b, resolve(m, ev->message), SIZE_MAX);
    int ok = 1;
    if (ev->tmpl) {
        b.hdr.Flags = TEMPLATE_EVENT_DATA;
        ok = 0;
        *pr = (problem){"template not found", ev->tmpl, ev->line};
        for (size_t t = 0; t < m->templates.n; t++) {
            if (m->templates.v[t] && strcmp(m->templates.v[t], ev->tmpl) == 0) {
                for (size_t i = 0; i < m->items.n; i++)
                    bidx[i] = -1;
                *pr = (problem){"out of memory", NULL, ev->line};
                ok = add_items(m, &b, (int32_t)t, -1, -1, bidx, pr);
                break;
            }
        }
    }
    size_t size = 0;
    TRACE_EVENT_INFO *tei = ok ? etw_teib_finish(&b, &size) : NULL;
    if (ok && !tei)
        *pr = (problem){b.failed ? "out of memory" : "fields do not lay out", ev->tmpl, ev->line};
    etw_teib_free(&b);
    if (!tei)
        return 0;
    /* Origin 0: a manifest the trace carried (EventSource), kept in that trace's scope. */
    etw_schema_key k = {.guid = p->guid, .kind = ETW_KEY_MANIFEST, .a = ev->id, .b = ev->version,
                        .scope = origin ? 0 : etw_decode_scope};
    return etw_schema_put(&k, tei, (uint32_t)size, ETW_SRC_MANIFEST, origin);
}

static int cmp_entry(const void *a, const void *b)
{
    const EVENT_MAP_ENTRY *x = a, *y = b;
    return x->Value < y->Value ? -1 : x->Value > y->Value;
}

static int compile_map(const etw_manifest *m, size_t mi, uint32_t origin)
{
    const etw_man_map *mp = &m->maps.v[mi];
    if (!mp->name)
        return 1;
    etw_mapb b;
    etw_mapb_init(&b, mp->name, mp->bitmap ? EVENTMAP_INFO_FLAG_MANIFEST_BITMAP : EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP);
    for (size_t i = 0; i < m->entries.n; i++)
        if (m->entries.v[i].map == mi && !etw_mapb_add(&b, m->entries.v[i].value, resolve(m, m->entries.v[i].message)))
            break;
    /* Bitmaps render set bits lowest first, whatever order the manifest lists them in. */
    if (mp->bitmap && b.n)
        qsort(b.ent, b.n, sizeof *b.ent, cmp_entry);
    size_t size = 0;
    EVENT_MAP_INFO *e = etw_mapb_finish(&b, &size);
    etw_mapb_free(&b);
    if (!e)
        return 0;
    const uint8_t *name;
    size_t nlen = etw_utf16_span((const uint8_t *)e + e->NameOffset, size - e->NameOffset, NULL);
    name = (const uint8_t *)e + e->NameOffset;
    etw_schema_key k = {.guid = m->providers.v[mp->provider].guid, .kind = ETW_KEY_MAP, .blob = name,
                        .blob_len = (uint32_t)nlen, .scope = origin ? 0 : etw_decode_scope};
    return etw_schema_put(&k, e, (uint32_t)size, ETW_SRC_MANIFEST, origin);
}

etw_tdh_status etw_manifest_compile(etw_manifest *m, uint32_t origin, char *why, size_t why_len)
{
    if (m->strings.n)
        qsort(m->strings.v, m->strings.n, sizeof *m->strings.v, cmp_string);
    int32_t *bidx = malloc((m->items.n + 1) * sizeof *bidx);
    if (!bidx)
        return ETW_TDH_E_NOMEM;
    size_t stored = 0, skipped = 0;
    problem first = {0};
    const etw_man_event *first_ev = NULL;
    for (size_t i = 0; i < m->events.n; i++) {
        problem pr = {"out of memory", NULL, m->events.v[i].line};
        if (compile_event(m, &m->events.v[i], origin, bidx, &pr)) {
            stored++;
        } else if (skipped++ == 0) {
            first = pr;
            first_ev = &m->events.v[i];
        }
    }
    for (size_t i = 0; i < m->maps.n; i++)
        compile_map(m, i, origin);
    free(bidx);
    if (skipped && why && why_len)
        snprintf(why, why_len, "line %u: event %u version %u: %s%s%s%s (%zu of %zu events skipped)", first.line,
                 first_ev->id, first_ev->version, first.what, first.name ? " (" : "", first.name ? first.name : "",
                 first.name ? ")" : "", skipped, m->events.n);
    return stored || m->events.n == 0 ? ETW_TDH_OK : ETW_TDH_E_UNUSABLE;
}
