/* Building the output plan of a schema (see event_plan.h). The strings are rendered exactly as
 * the per-event path rendered them (etw_text_utf16 over the blob's UTF-16), so output does not
 * change; they are collected in a scratch string, then copied with the table into one block. */
#include "tdh/decode/event_plan.h"

#include <stdlib.h>
#include <string.h>

#include "tdh/decode/prop_value.h"
#include "tdh/decode/tei_text.h"
#include "tdh/store/tei_build.h"
#include "tdh/decode/text_out.h"

/* Offsets into the scratch string while building; made pointers once the block exists. */
typedef struct str_ref {
    uint32_t off, n;
    int present;
} str_ref;

static str_ref blob_str(etw_strbuf *sb, const TRACE_EVENT_INFO *t, size_t size, uint32_t off)
{
    str_ref r = {(uint32_t)sb->len, 0, 0};
    if (etw_blob_wstr_append(sb, t, size, off, 0)) {
        r.n = (uint32_t)(sb->len - r.off);
        r.present = 1;
        etw_strbuf_putc(sb, '\0');
    }
    return r;
}

/* "Field<i>" for a property without a name, as the per-event path printed it. */
static void put_name(etw_strbuf *sb, const TRACE_EVENT_INFO *t, size_t size, uint32_t i, int json)
{
    if (!etw_blob_wstr_append(sb, t, size, t->EventPropertyInfoArray[i].NameOffset, json)) {
        etw_strbuf_puts(sb, "Field");
        etw_strbuf_u64(sb, i);
    }
}

static str_ref key(etw_strbuf *sb, const TRACE_EVENT_INFO *t, size_t size, uint32_t i, int json)
{
    str_ref r = {(uint32_t)sb->len, 0, 1};
    etw_strbuf_puts(sb, json ? ",\"" : "; ");
    put_name(sb, t, size, i, json);
    etw_strbuf_puts(sb, json ? "\":" : "=");
    r.n = (uint32_t)(sb->len - r.off);
    etw_strbuf_putc(sb, '\0');
    return r;
}

/* How etw_value_format renders an integral in-type without a map (format_integer), for the
 * out-types that only choose the base and sign; anything else goes through etw_value_format. */
static uint8_t fast_kind(uint16_t in, uint16_t out, uint8_t *size)
{
    int hex_in = in == TDH_INTYPE_HEXINT32 || in == TDH_INTYPE_HEXINT64 || in == TDH_INTYPE_POINTER ||
                 in == TDH_INTYPE_SIZET;
    int signed_in = in == TDH_INTYPE_INT8 || in == TDH_INTYPE_INT16 || in == TDH_INTYPE_INT32 ||
                    in == TDH_INTYPE_INT64;
    switch (in) {
    case TDH_INTYPE_INT8: case TDH_INTYPE_UINT8: *size = 1; break;
    case TDH_INTYPE_INT16: case TDH_INTYPE_UINT16: *size = 2; break;
    case TDH_INTYPE_INT32: case TDH_INTYPE_UINT32: case TDH_INTYPE_HEXINT32: *size = 4; break;
    case TDH_INTYPE_INT64: case TDH_INTYPE_UINT64: case TDH_INTYPE_HEXINT64: *size = 8; break;
    case TDH_INTYPE_POINTER: case TDH_INTYPE_SIZET: *size = 0; break;
    default: return ETW_PLAN_FAST_NONE;
    }
    switch (out) {
    case TDH_OUTTYPE_NULL:
        return hex_in ? ETW_PLAN_FAST_HEX : signed_in ? ETW_PLAN_FAST_SIGNED : ETW_PLAN_FAST_UNSIGNED;
    case TDH_OUTTYPE_HEXINT8: case TDH_OUTTYPE_HEXINT16: case TDH_OUTTYPE_HEXINT32:
    case TDH_OUTTYPE_HEXINT64: case TDH_OUTTYPE_CODE_POINTER:
        return ETW_PLAN_FAST_HEX;
    case TDH_OUTTYPE_BYTE: case TDH_OUTTYPE_SHORT: case TDH_OUTTYPE_INT: case TDH_OUTTYPE_LONG:
        return ETW_PLAN_FAST_SIGNED;
    case TDH_OUTTYPE_UNSIGNEDBYTE: case TDH_OUTTYPE_UNSIGNEDSHORT: case TDH_OUTTYPE_UNSIGNEDINT:
    case TDH_OUTTYPE_UNSIGNEDLONG: case TDH_OUTTYPE_PID: case TDH_OUTTYPE_TID: case TDH_OUTTYPE_ETWTIME:
        return ETW_PLAN_FAST_UNSIGNED;
    default:
        return ETW_PLAN_FAST_NONE;
    }
}

/* No byte of the string would be escaped in JSON. */
static int json_plain(const char *base, str_ref r)
{
    for (uint32_t i = 0; r.present && i < r.n; i++) {
        unsigned char c = (unsigned char)base[r.off + i];
        if (c < 0x20 || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* No byte of the string would be escaped in a CSV field (dump's CSV view). */
static int csv_plain(const char *base, str_ref r)
{
    for (uint32_t i = 0; r.present && i < r.n; i++) {
        unsigned char c = (unsigned char)base[r.off + i];
        if (c < 0x20 || c == 0x7F || c == '"')
            return 0;
    }
    return 1;
}

static etw_plan_str resolve(const char *base, str_ref r)
{
    return r.present ? (etw_plan_str){base + r.off, r.n} : (etw_plan_str){NULL, 0};
}

static etw_event_plan *build(const TRACE_EVENT_INFO *t, size_t size)
{
    uint32_t n = t->PropertyCount;
    etw_strbuf sb = {0};
    str_ref provider = blob_str(&sb, t, size, t->ProviderNameOffset);
    str_ref task = blob_str(&sb, t, size, t->TaskNameOffset);
    str_ref opcode = blob_str(&sb, t, size, t->OpcodeNameOffset);
    str_ref event_name = blob_str(&sb, t, size, t->EventNameOffset);
    /* A standard opcode without a message string has its QName ("win:Start"): the name alone
     * is shown, as the standard messages do. */
    if (opcode.present && opcode.n > 4 && memcmp(sb.data + opcode.off, "win:", 4) == 0) {
        opcode.off += 4;
        opcode.n -= 4;
    }
    /* "Task/Opcode", as describe composes it (the same opcode text, "win:" dropped). */
    str_ref task_opcode = {0, 0, 0};
    if (task.present && opcode.present) {
        task_opcode.off = (uint32_t)sb.len;
        etw_blob_wstr_append(&sb, t, size, t->TaskNameOffset, 0);
        etw_strbuf_putc(&sb, '/');
        size_t at = sb.len;
        etw_blob_wstr_append(&sb, t, size, t->OpcodeNameOffset, 0);
        if (!sb.failed && sb.len - at > 4 && memcmp(sb.data + at, "win:", 4) == 0) {
            memmove(sb.data + at, sb.data + at + 4, sb.len - at - 4);
            sb.len -= 4;
        }
        task_opcode.n = (uint32_t)(sb.len - task_opcode.off);
        task_opcode.present = 1;
        etw_strbuf_putc(&sb, '\0');
    }
    str_ref *keys = calloc(2 * (size_t)n + 1, sizeof *keys);
    if (!keys) {
        etw_strbuf_free(&sb);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        keys[2 * i] = key(&sb, t, size, i, 1);
        keys[2 * i + 1] = key(&sb, t, size, i, 0);
    }
    size_t table = sizeof(etw_event_plan) + (size_t)n * sizeof(etw_plan_prop);
    /* ETW_PLAN_PAD zero bytes after the strings: a key can be copied in fixed 32-byte moves. */
    etw_event_plan *p = sb.failed ? NULL : malloc(table + sb.len + ETW_PLAN_PAD);
    if (p) {
        char *base = (char *)p + table;
        if (sb.len)
            memcpy(base, sb.data, sb.len);
        memset(base + sb.len, 0, ETW_PLAN_PAD);
        p->provider = resolve(base, provider);
        p->task = resolve(base, task);
        p->opcode = resolve(base, opcode);
        p->task_opcode = resolve(base, task_opcode);
        p->event_name = resolve(base, event_name);
        p->wbem = t->DecodingSource == DecodingSourceWbem;
        p->names_plain = json_plain(base, provider) && json_plain(base, task) && json_plain(base, opcode) &&
                         json_plain(base, event_name);
        p->names_csv_plain = csv_plain(base, provider) && csv_plain(base, task) && csv_plain(base, opcode) &&
                             csv_plain(base, event_name);
        p->keys_csv_plain = 1;
        for (uint32_t i = 0; i < n; i++)
            p->keys_csv_plain = p->keys_csv_plain && csv_plain(base, keys[2 * i + 1]);
        p->nprops = n;
        p->flat = t->TopLevelPropertyCount == n && n <= ETW_TEIB_MAX_PROPS;
        for (uint32_t i = 0; i < n; i++) {
            const EVENT_PROPERTY_INFO *e = &t->EventPropertyInfoArray[i];
            etw_plan_prop *pp = &p->props[i];
            pp->key_json = resolve(base, keys[2 * i]);
            pp->key_text = resolve(base, keys[2 * i + 1]);
            pp->map_name = NULL;
            pp->map_name_bytes = 0;
            pp->array = (e->Flags & (PropertyParamCount | PropertyParamFixedCount)) || e->count != 1;
            pp->count_ref = (e->Flags & PropertyParamCount) != 0;
            pp->count = pp->count_ref ? e->countPropertyIndex : e->count;
            /* Lengths and counts refer back, to a scalar: the walk only records those. */
            if ((e->Flags & PropertyStruct) ||
                ((e->Flags & PropertyParamLength) && (e->lengthPropertyIndex >= i || p->props[e->lengthPropertyIndex].array)) ||
                (pp->count_ref && (e->countPropertyIndex >= i || p->props[e->countPropertyIndex].array)))
                p->flat = 0;
            pp->in_type = e->nonStructType.InType;
            pp->out_type = e->nonStructType.OutType;
            pp->length = e->length;
            pp->length_ref = (e->Flags & PropertyParamLength) != 0;
            pp->has_length = pp->length_ref || (e->Flags & PropertyParamFixedLength) || e->length != 0;
            pp->noprint = pp->out_type == TDH_OUTTYPE_NOPRINT;
            pp->countable = (uint8_t)etw_value_is_countable(pp->in_type);
            if (!(e->Flags & (PropertyStruct | PropertyHasCustomSchema)) && e->nonStructType.MapNameOffset) {
                const uint8_t *name;
                size_t len = etw_blob_wstr(t, size, e->nonStructType.MapNameOffset, &name);
                if (len) {
                    pp->map_name = name;
                    pp->map_name_bytes = (uint32_t)len;
                }
            }
            pp->fixed_size = 0;
            pp->fast = pp->map_name ? ETW_PLAN_FAST_NONE : fast_kind(pp->in_type, pp->out_type, &pp->fixed_size);
            pp->shown_int = pp->fast && !pp->array && !pp->noprint && !pp->length_ref;
            /* Arrays the flat formatter writes: of integers it writes itself, shown. */
            if (pp->array && ((e->Flags & PropertyStruct) || !pp->fast || pp->noprint))
                p->flat = 0;
        }
    }
    free(keys);
    etw_strbuf_free(&sb);
    return p;
}

const etw_event_plan *etw_event_plan_get(const etw_schema *s)
{
    const etw_event_plan *p = etw_schema_plan(s);
    if (p || !s->entry || !s->info)
        return p;
    etw_event_plan *built = build(s->info, s->size);
    return built ? etw_schema_set_plan(s, built) : NULL;
}
