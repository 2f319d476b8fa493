/* Building the output plan of a schema (see event_plan.h). The strings are rendered exactly as
 * the per-event path rendered them (etw_text_utf16 over the blob's UTF-16), so output does not
 * change; they are collected in a scratch string, then copied with the table into one block. */
#include "tdh/decode/event_plan.h"

#include <stdlib.h>
#include <string.h>

#include "tdh/decode/tei_text.h"
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
    if (json)
        etw_strbuf_putc(sb, '"');
    put_name(sb, t, size, i, json);
    etw_strbuf_puts(sb, json ? "\":" : "=");
    r.n = (uint32_t)(sb->len - r.off);
    etw_strbuf_putc(sb, '\0');
    return r;
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
    etw_event_plan *p = sb.failed ? NULL : malloc(table + sb.len + 1);
    if (p) {
        char *base = (char *)p + table;
        if (sb.len)
            memcpy(base, sb.data, sb.len);
        base[sb.len] = '\0';
        p->provider = resolve(base, provider);
        p->task = resolve(base, task);
        p->opcode = resolve(base, opcode);
        p->event_name = resolve(base, event_name);
        p->wbem = t->DecodingSource == DecodingSourceWbem;
        p->nprops = n;
        for (uint32_t i = 0; i < n; i++) {
            const EVENT_PROPERTY_INFO *e = &t->EventPropertyInfoArray[i];
            etw_plan_prop *pp = &p->props[i];
            pp->key_json = resolve(base, keys[2 * i]);
            pp->key_text = resolve(base, keys[2 * i + 1]);
            pp->map_name = NULL;
            pp->map_name_bytes = 0;
            if (!(e->Flags & (PropertyStruct | PropertyHasCustomSchema)) && e->nonStructType.MapNameOffset) {
                const uint8_t *name;
                size_t len = etw_blob_wstr(t, size, e->nonStructType.MapNameOffset, &name);
                if (len) {
                    pp->map_name = name;
                    pp->map_name_bytes = (uint32_t)len;
                }
            }
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
