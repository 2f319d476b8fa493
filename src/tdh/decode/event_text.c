/* Event names and field text for the CLI (see event_text.h). */
#include "tdh/decode/event_text.h"

#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "tdh/decode/event_plan.h"
#include "tdh/decode/prop_value.h"
#include "tdh/decode/schema_memo.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/decode/tei_text.h"
#include "tdh/decode/text_out.h"
#include "tdh/decode/wpp_format.h"

/* "{xxxxxxxx-...}" without printf: unknown providers are named this way on every event. */
static void put_guid(etw_strbuf *out, const GUID *g)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    char s[38], *o = s;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(g->Data1 >> (24 - 8 * i));
    b[4] = (uint8_t)(g->Data2 >> 8), b[5] = (uint8_t)g->Data2;
    b[6] = (uint8_t)(g->Data3 >> 8), b[7] = (uint8_t)g->Data3;
    memcpy(b + 8, g->Data4, 8);
    *o++ = '{';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o++ = '}';
    etw_strbuf_append(out, s, (size_t)(o - s));
}

/* The event name from a schema's plan (the rules of etw_event_describe in event_text.h). */
static int plan_event_name(const etw_event_plan *pl, const EVENT_DESCRIPTOR *d, etw_strbuf *event_name)
{
    if (pl->task.s) {
        etw_strbuf_append(event_name, pl->task.s, pl->task.n);
        if (d->Opcode == 0)
            return 1;
        if (pl->opcode.s) {
            etw_strbuf_putc(event_name, '/');
            etw_strbuf_append(event_name, pl->opcode.s, pl->opcode.n);
        } else if (pl->wbem) {
            /* Kernel classes name every opcode they know; TraceEvent prints the rest as
             * Opcode(n), manifest events just drop an unnamed opcode. */
            etw_strbuf_puts(event_name, "/Opcode(");
            etw_strbuf_u64(event_name, d->Opcode);
            etw_strbuf_putc(event_name, ')');
        }
        return 1;
    }
    if (!pl->wbem && pl->event_name.s) {
        /* named by the manifest or TraceLogging metadata */
        etw_strbuf_append(event_name, pl->event_name.s, pl->event_name.n);
        return 1;
    }
    return 0;
}

/* etw_event_describe once the schema is known (have, s); *plain = 1 when the names need no
 * JSON escaping (0 when not known). */
static int describe(const EVENT_RECORD *rec, int have, etw_schema s, const etw_event_plan *pl, etw_strbuf *provider,
                    etw_strbuf *event_name, int *plain)
{
    *plain = 0;
    const EVENT_DESCRIPTOR *d = &rec->EventHeader.EventDescriptor;
    int classic = (rec->EventHeader.Flags & EVENT_HEADER_FLAG_CLASSIC_HEADER) != 0;
    const TRACE_EVENT_INFO *t = have ? s.info : NULL;
    const char *kprov = NULL, *ktask = NULL, *packed_name = NULL;
    if (!have)
        etw_unknown_provider_names(&rec->EventHeader.ProviderId, &kprov, &ktask, &packed_name);
    if (kprov) {
        /* A built-in class with an event type the tables do not know. */
        etw_strbuf_puts(provider, kprov);
        etw_strbuf_puts(event_name, ktask);
        etw_strbuf_puts(event_name, "/Opcode(");
        etw_strbuf_u64(event_name, d->Opcode);
        etw_strbuf_putc(event_name, ')');
        return 0;
    }
    if (pl && pl->provider.s)
        etw_strbuf_append(provider, pl->provider.s, pl->provider.n);
    else if (!pl && have && etw_blob_wstr_append(provider, t, s.size, t->ProviderNameOffset, 0))
        ; /* named by its schema */
    else if (packed_name)
        etw_strbuf_puts(provider, packed_name); /* a known provider, an event no manifest lists */
    else
        put_guid(provider, &rec->EventHeader.ProviderId);
    /* Names from the plan, or a GUID and a number. */
    *plain = pl ? pl->names_plain : !have && !packed_name;
    if (pl) {
        if (plan_event_name(pl, d, event_name))
            return have;
    } else if (have && etw_blob_wstr_append(event_name, t, s.size, t->TaskNameOffset, 0)) {
        if (d->Opcode != 0) {
            size_t mark = event_name->len;
            etw_strbuf_putc(event_name, '/');
            if (!etw_blob_wstr_append(event_name, t, s.size, t->OpcodeNameOffset, 0)) {
                if (t->DecodingSource == DecodingSourceWbem) {
                    etw_strbuf_puts(event_name, "Opcode(");
                    etw_strbuf_u64(event_name, d->Opcode);
                    etw_strbuf_putc(event_name, ')');
                } else {
                    event_name->len = mark;
                    event_name->data[mark] = 0;
                }
            } else if (event_name->len - mark > 5 && memcmp(event_name->data + mark + 1, "win:", 4) == 0) {
                memmove(event_name->data + mark + 1, event_name->data + mark + 5, event_name->len - mark - 4);
                event_name->len -= 4;
            }
        }
        return have;
    } else if (have && t->DecodingSource != DecodingSourceWbem &&
               etw_blob_wstr_append(event_name, t, s.size, t->EventNameOffset, 0)) {
        return have;
    }
    etw_strbuf_puts(event_name, classic ? "Opcode(" : "EventID(");
    etw_strbuf_u64(event_name, classic ? d->Opcode : d->Id);
    etw_strbuf_putc(event_name, ')');
    return have;
}

typedef struct fmt {
    etw_strbuf *out;
    int json;
    int esc; /* ETW_ESC_*: JSON when json, else how text is escaped */
    const TRACE_EVENT_INFO *t;
    const etw_event_plan *pl; /* NULL: names converted per event (no memory for a plan) */
    uint32_t tsize;
    const uint8_t *p;
    unsigned ptr;
    unsigned lvl;
    uint8_t first[ETW_WALK_MAX_DEPTH * 2 + 2];
    char closer[ETW_WALK_MAX_DEPTH * 2 + 2];
    unsigned hidden; /* > 0 while inside a NOPRINT property */
} fmt;

static void sep(fmt *f, int in_array)
{
    /* Each a literal of its own (a length the compiler knows: no strlen per value). */
    if (f->first[f->lvl])
        ;
    else if (f->json)
        etw_strbuf_putc(f->out, ',');
    else if (in_array)
        etw_strbuf_puts(f->out, ", ");
    else
        etw_strbuf_puts(f->out, "; ");
    f->first[f->lvl] = 0;
}

static void key(fmt *f, const etw_walk_item *it)
{
    if (f->pl) {
        const etw_plan_prop *pp = &f->pl->props[it->index];
        if (f->json)
            etw_strbuf_append(f->out, pp->key_json.s + ETW_PLAN_SEP_JSON, pp->key_json.n - ETW_PLAN_SEP_JSON);
        else
            etw_strbuf_append(f->out, pp->key_text.s + ETW_PLAN_SEP_TEXT, pp->key_text.n - ETW_PLAN_SEP_TEXT);
        return;
    }
    if (f->json)
        etw_strbuf_putc(f->out, '"');
    if (!etw_blob_wstr_append(f->out, f->t, f->tsize, it->epi->NameOffset, f->esc))
    {
        etw_strbuf_puts(f->out, "Field");
        etw_strbuf_u64(f->out, it->index);
    }
    etw_strbuf_puts(f->out, f->json ? "\":" : "=");
}

static void push(fmt *f, char open)
{
    etw_strbuf_putc(f->out, open);
    if (f->lvl + 1 < sizeof f->first)
        f->lvl++;
    f->first[f->lvl] = 1;
    f->closer[f->lvl] = open == '[' ? ']' : '}';
}

const EVENT_MAP_INFO *etw_event_property_map(const TRACE_EVENT_INFO *tei, size_t tei_size,
                                             const EVENT_PROPERTY_INFO *e, size_t *size)
{
    etw_schema m;
    const uint8_t *name;
    if ((e->Flags & (PropertyStruct | PropertyHasCustomSchema)) || !e->nonStructType.MapNameOffset)
        return NULL;
    size_t len = etw_blob_wstr(tei, tei_size, e->nonStructType.MapNameOffset, &name);
    if (!len || !etw_map_for_provider(&tei->ProviderGuid, name, len, &m))
        return NULL;
    *size = m.size;
    return m.info;
}

static int format_fn(void *ctx, const etw_walk_item *it)
{
    fmt *f = ctx;
    int noprint = !(it->epi->Flags & PropertyStruct) && it->out_type == TDH_OUTTYPE_NOPRINT;
    int opens = it->ev == ETW_WALK_ARRAY_BEGIN || it->ev == ETW_WALK_STRUCT_BEGIN;
    int closes = it->ev == ETW_WALK_ARRAY_END || it->ev == ETW_WALK_STRUCT_END;
    if (f->hidden || noprint) {
        /* Hidden lengths and counts TraceLogging needs (tlg_meta.c) stay out of the output. */
        f->hidden += opens;
        f->hidden -= closes && f->hidden;
        return 0;
    }
    int element = it->in_array && it->ev != ETW_WALK_ARRAY_BEGIN && it->ev != ETW_WALK_ARRAY_END;
    switch (it->ev) {
    case ETW_WALK_ARRAY_BEGIN:
        sep(f, 0);
        key(f, it);
        push(f, '[');
        break;
    case ETW_WALK_STRUCT_BEGIN:
        sep(f, element);
        if (!element)
            key(f, it);
        push(f, '{');
        break;
    case ETW_WALK_ARRAY_END:
    case ETW_WALK_STRUCT_END:
        if (f->lvl) {
            etw_strbuf_putc(f->out, f->closer[f->lvl]);
            f->lvl--;
        }
        break;
    case ETW_WALK_VALUE: {
        sep(f, element);
        if (!element)
            key(f, it);
        if (f->pl) {
            /* Integers that need no map: written directly, as in flat schemas. */
            const etw_plan_prop *pp = &f->pl->props[it->index];
            if (pp->fast && it->size == (pp->fixed_size ? pp->fixed_size : f->ptr)) {
                etw_plan_put_fast(f->out, f->json, pp->fast, etw_plan_read_le(f->p + it->off, it->size), it->size);
                break;
            }
        }
        size_t msize = 0;
        const EVENT_MAP_INFO *map = NULL;
        if (!f->pl)
            map = etw_event_property_map(f->t, f->tsize, it->epi, &msize);
        else
            map = etw_plan_map(f->t, &f->pl->props[it->index], &msize);
        if (etw_value_format(f->out, etw_fmt_flags_of_esc(f->esc), it->in_type, it->out_type,
                             f->p + it->off, it->size, f->ptr, map, msize) != ETW_TDH_OK) {
            etw_strbuf_puts(f->out, f->json ? "\"0x" : "0x");
            etw_strbuf_hex(f->out, f->p + it->off, it->size);
            if (f->json)
                etw_strbuf_putc(f->out, '"');
        }
        break;
    }
    }
    return 0;
}

/* The fields that did not decode, after those that did (first: none did). */
static void undecoded_tail(etw_strbuf *out, int json, int first, const uint8_t *p, size_t used, size_t n)
{
    if (!first)
        etw_strbuf_puts(out, json ? "," : "; ");
    etw_strbuf_puts(out, json ? "\"_undecoded\":\"" : "_undecoded=");
    etw_strbuf_hex(out, p + used, n - used);
    if (json)
        etw_strbuf_putc(out, '"');
}

/* format's flat-plan case (most events), without its walk's state. */
static inline __attribute__((always_inline)) int format_flat(const EVENT_RECORD *rec, const etw_schema *s,
                                                           const etw_event_plan *pl, int esc, etw_strbuf *out)
{
    const uint8_t *p = rec->UserData;
    size_t n = p ? rec->UserDataLength : 0;
    unsigned ptr = (rec->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8; /* etw_event_pointer_size */
    size_t used = 0;
    int wrote = 0;
    if (etw_plan_format_flat(pl, s->info, p, n, ptr, esc, out, &used, &wrote))
        return 1;
    undecoded_tail(out, esc == ETW_ESC_JSON, !wrote, p, used, n);
    return 0;
}

/* etw_event_format_fields once the schema is known (have, s), escaped as esc (ETW_ESC_*; the
 * line modes only with plan keys that need no escaping). */
static int format(const EVENT_RECORD *rec, int have, etw_schema s, const etw_event_plan *pl, int esc, etw_strbuf *out)
{
    const int json = esc == ETW_ESC_JSON;
    const uint8_t *p = rec->UserData;
    size_t n = p ? rec->UserDataLength : 0;
    if (!have) {
        etw_strbuf_hex(out, p, n);
        return 0;
    }
    if (pl && pl->flat)
        return format_flat(rec, &s, pl, esc, out);
    unsigned ptr = etw_event_pointer_size(rec, 0, NULL);
    size_t used = 0;
    fmt f;
    memset(&f, 0, sizeof f);
    f.out = out;
    f.json = json;
    f.esc = esc;
    f.t = s.info;
    f.tsize = s.size;
    f.pl = pl;
    f.p = p;
    f.ptr = ptr;
    f.first[0] = 1;
    if (etw_walk(f.t, p, n, f.ptr, format_fn, &f, &used) == ETW_TDH_OK)
        return 1;
    /* Close whatever the walk left open, then show what could not be decoded. */
    while (f.lvl > 0) {
        etw_strbuf_putc(out, f.closer[f.lvl]);
        f.lvl--;
    }
    undecoded_tail(out, json, f.first[0], p, used, n);
    return 0;
}

int etw_event_describe(const EVENT_RECORD *rec, etw_strbuf *provider, etw_strbuf *event_name)
{
    etw_schema s;
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return etw_wpp_describe(rec, provider, event_name);
    etw_metadata_observe(rec);
    const etw_event_plan *pl;
    int have = etw_event_schema_planned(rec, &s, &pl);
    int plain;
    return describe(rec, have, s, pl, provider, event_name, &plain);
}

int etw_event_format_fields(const EVENT_RECORD *rec, int json, etw_strbuf *out)
{
    etw_schema s;
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return etw_wpp_format_fields(rec, json, out);
    etw_metadata_observe(rec);
    const etw_event_plan *pl;
    int have = etw_event_schema_planned(rec, &s, &pl);
    return format(rec, have, s, pl, json ? ETW_ESC_JSON : ETW_ESC_NONE, out);
}

int etw_event_decode(const EVENT_RECORD *rec, int json, etw_strbuf *provider, etw_strbuf *event_name,
                     etw_strbuf *fields, int *names_plain)
{
    etw_schema s;
    *names_plain = 0;
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE) {
        etw_wpp_describe(rec, provider, event_name);
        return etw_wpp_format_fields(rec, json, fields);
    }
    etw_metadata_observe(rec);
    const etw_event_plan *pl; /* found once for the names and the fields */
    int have = etw_event_schema_planned(rec, &s, &pl);
    describe(rec, have, s, pl, provider, event_name, names_plain);
    return format(rec, have, s, pl, json ? ETW_ESC_JSON : ETW_ESC_NONE, fields);
}

void etw_event_decoding_begin(etw_event_decoding *dc, const EVENT_RECORD *rec)
{
    dc->rec = rec;
    dc->have = 0;
    dc->pl = NULL;
    /* WPP messages are formatted by their own rules (wpp_format.c), and a plan's text keys are
     * written as they are: those few take the caller's pass over the text. */
    dc->escapes = 0;
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return; /* WPP: named and formatted from its TMF, no schema */
    etw_metadata_observe(rec);
    dc->have = etw_event_schema_planned(rec, &dc->s, &dc->pl);
    dc->escapes = !dc->pl || dc->pl->keys_csv_plain;
}

static etw_text_view view_of(const etw_strbuf *sb)
{
    return sb->data ? (etw_text_view){sb->data, sb->len, 0} : (etw_text_view){"", 0, 0};
}

int etw_event_decoding_names(const etw_event_decoding *dc, etw_strbuf *provider_buf, etw_strbuf *event_buf,
                             etw_text_view *provider, etw_text_view *event)
{
    const etw_event_plan *pl = dc->pl;
    const EVENT_DESCRIPTOR *d = &dc->rec->EventHeader.EventDescriptor;
    if (pl && pl->provider.s) {
        /* describe's cases where both names are the plan's strings as they are. */
        const etw_plan_str *name = NULL;
        if (pl->task.s)
            name = d->Opcode == 0 ? &pl->task : pl->opcode.s ? &pl->task_opcode : !pl->wbem ? &pl->task : NULL;
        else if (!pl->wbem && pl->event_name.s)
            name = &pl->event_name;
        if (name) {
            *provider = (etw_text_view){pl->provider.s, pl->provider.n, 1};
            *event = (etw_text_view){name->s, name->n, 1};
            return pl->names_plain | pl->names_csv_plain << 1;
        }
    }
    etw_strbuf_reset(provider_buf);
    etw_strbuf_reset(event_buf);
    int plain = 0;
    if (dc->rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        etw_wpp_describe(dc->rec, provider_buf, event_buf);
    else
        describe(dc->rec, dc->have, dc->s, pl, provider_buf, event_buf, &plain);
    *provider = view_of(provider_buf);
    *event = view_of(event_buf);
    return plain;
}

int etw_event_decoding_fields(const etw_event_decoding *dc, int esc, etw_strbuf *out)
{
    const etw_event_plan *pl = dc->pl;
    if ((unsigned)esc >= ETW_ESC_LINE && ((unsigned)esc > ETW_ESC_CSV || !dc->escapes))
        esc = ETW_ESC_NONE;
    if (pl && pl->flat)
        return format_flat(dc->rec, &dc->s, pl, esc, out);
    if (dc->rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return etw_wpp_format_fields(dc->rec, esc == ETW_ESC_JSON, out);
    return format(dc->rec, dc->have, dc->s, pl, esc, out);
}

int etw_event_decode_unplanned(const EVENT_RECORD *rec, int json, etw_strbuf *provider, etw_strbuf *event_name,
                               etw_strbuf *fields)
{
    etw_schema s;
    int plain;
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE) {
        etw_wpp_describe(rec, provider, event_name);
        return etw_wpp_format_fields(rec, json, fields);
    }
    etw_metadata_observe(rec);
    int have = etw_schema_for_record(rec, &s); /* the store itself, not the memo */
    describe(rec, have, s, NULL, provider, event_name, &plain);
    return format(rec, have, s, NULL, json ? ETW_ESC_JSON : ETW_ESC_NONE, fields);
}
