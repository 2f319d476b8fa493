/* Formatting an event's fields from its schema's plan (see event_plan.h). A flat schema - only
 * top-level scalars, the common case - needs none of the general walk's bookkeeping (arrays,
 * structs, depth, visit budget, a callback per value): one loop over the plan's properties
 * sizes each value by the same rules (etw_value_size), formats it by the same function
 * (etw_value_format) and writes the precomputed key. */
#include "tdh/decode/event_plan.h"

#include <stddef.h>
#include <string.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "tdh/decode/prop_value.h"
#include "tdh/decode/text_out.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/tei_build.h"

/* Map lookups of the calling thread, by plan property: a store lookup hashes the map name and
 * takes the store's lock, for every value of every mapped property. An answer holds while the
 * store's generation and the decoding scope are the ones it was found under (the generation
 * also changes when entries, and with them plans, are freed, so a stale property address is
 * never matched). */
#define MAP_MEMO_SLOTS 64

typedef struct map_memo {
    const etw_plan_prop *pp;
    uint64_t gen;
    uint32_t scope;
    uint32_t size;
    const EVENT_MAP_INFO *map;
    /* The text the last mapped value formatted to (a map name, or names joined by '|'),
     * keyed by that value's bytes, size, pointer size and escaping (text_key; 0: none):
     * a repeated value skips the map's search. Cleared with the rest of the slot. */
    uint64_t text_key;
    uint8_t text_len;
    char text[55];
} map_memo;

static _Thread_local map_memo memo[MAP_MEMO_SLOTS];

/* The memo of pp's map, looked up again when the store or the decoding scope changed. */
static map_memo *map_slot(const TRACE_EVENT_INFO *tei, const etw_plan_prop *pp)
{
    uint64_t gen = etw_schema_generation();
    map_memo *m = &memo[((uintptr_t)pp / sizeof *pp * 0x9E3779B1u >> 16) & (MAP_MEMO_SLOTS - 1)];
    if (m->pp != pp || m->gen != gen || m->scope != etw_decode_scope) {
        etw_schema s;
        int found = etw_map_for_provider(&tei->ProviderGuid, pp->map_name, pp->map_name_bytes, &s);
        /* Kept under the generation read before the lookup: whatever was stored meanwhile (by
         * this lookup remembering a miss, or by another thread) makes the next call ask again. */
        m->pp = pp;
        m->gen = gen;
        m->scope = etw_decode_scope;
        m->map = found ? s.info : NULL;
        m->size = found ? s.size : 0;
        m->text_key = 0;
    }
    return m;
}

const EVENT_MAP_INFO *etw_plan_map(const TRACE_EVENT_INFO *tei, const etw_plan_prop *pp, size_t *map_size)
{
    if (!pp->map_name)
        return NULL;
    map_memo *m = map_slot(tei, pp);
    *map_size = m->size;
    return m->map;
}

/* The separator and key: most keys are short, and the plan block is padded (ETW_PLAN_PAD), so
 * 32 bytes are moved whatever the length, without a call. */
static inline void put_key(etw_strbuf *out, const etw_plan_str *k, size_t skip)
{
    const char *s = k->s + skip;
    size_t n = k->n - skip;
    if (n <= 32 && out->cap - out->len > 33) {
        char *o = out->data + out->len;
        memcpy(o, s, 16);
        memcpy(o + 16, s + 16, 16);
        out->len += n;
        out->data[out->len] = '\0';
    } else {
        etw_strbuf_append(out, s, n);
    }
}

/* A key and the integer after it under one capacity check (the 32-byte key move as in
 * put_key): the flat formatter's commonest field. */
static inline __attribute__((always_inline)) void put_key_int(etw_strbuf *out, const etw_plan_str *k, size_t skip,
                                                              int json, uint8_t fast, uint64_t v, size_t sz)
{
    size_t kn = k->n - skip;
    if (kn <= 32 && out->cap - out->len > 32 + ETW_PLAN_FAST_MAX) {
        char *o = out->data + out->len;
        memcpy(o, k->s + skip, 16);
        memcpy(o + 16, k->s + skip + 16, 16);
        o = etw_plan_put_fast_at(o + kn, json, fast, v, sz);
        *o = '\0';
        out->len = (size_t)(o - out->data);
    } else {
        put_key(out, k, skip);
        etw_plan_put_fast(out, json, fast, v, sz);
    }
}

/* etw_plan_format_flat for one value of esc (a constant in each copy the switch at the end
 * makes: the loop tests no mode per value). */
static inline __attribute__((always_inline)) int format_flat(const etw_event_plan *pl, const TRACE_EVENT_INFO *tei,
                                                             const uint8_t *p, size_t n, unsigned ptr, int esc,
                                                             etw_strbuf *out, size_t *used, int *wrote)
{
    const int json = esc == ETW_ESC_JSON;
    static const uint8_t none[1];
    /* Values that later lengths refer to; a flat plan only refers back, so every property a
     * length names was sized (and, being countable, recorded) before. */
    uint32_t ints[ETW_TEIB_MAX_PROPS];
    size_t off = 0;
    int first = 1;
    if (!p) {
        p = none;
        n = 0;
    }
    ptr = ptr == 4 ? 4 : 8;
    /* Which key every property writes, and the separator the first one leaves out. */
    const size_t key_at = json ? offsetof(etw_plan_prop, key_json) : offsetof(etw_plan_prop, key_text);
    const size_t first_skip = json ? ETW_PLAN_SEP_JSON : ETW_PLAN_SEP_TEXT;
    for (uint32_t i = 0; i < pl->nprops; i++) {
        const etw_plan_prop *pp = &pl->props[i];
        /* A payload that ends exactly between two properties comes from an older layout of
         * the event: the fields present decode (as in the walk, notes §5.4). */
        if (i > 0 && off == n)
            break;
        if (pp->shown_int) {
            /* The common case first, with nothing else to look at: an integer shown as it is
             * (read once, for a later length and for the output). */
            size_t sz = pp->fixed_size ? pp->fixed_size : ptr;
            if (sz > n - off)
                goto partial;
            uint64_t v = etw_plan_read_le(p + off, sz);
            ints[i] = (uint32_t)v; /* read back only if countable: stored without asking */
            const etw_plan_str *k = (const etw_plan_str *)(const void *)((const char *)pp + key_at);
            size_t skip = first ? first_skip : 0;
            first = 0;
            put_key_int(out, k, skip, json, pp->fast, v, sz);
            off += sz;
            continue;
        }
        uint32_t length = pp->length;
        if (pp->length_ref) {
            if (!pl->props[pp->length].countable)
                goto partial;
            length = ints[pp->length] > 0xFFFF ? 0xFFFF : ints[pp->length];
        }
        size_t sz;
        if (pp->array) {
            /* An array of fast integers: key, [, the elements, ] - as the walk writes it, and
             * cut where it would stop (the elements that fit, then the rest undecoded). */
            uint32_t count = pp->count;
            if (pp->count_ref) {
                if (!pl->props[pp->count].countable)
                    goto partial;
                count = ints[pp->count] > 0xFFFF ? 0xFFFF : ints[pp->count];
            }
            sz = pp->fixed_size ? pp->fixed_size : ptr;
            put_key(out, json ? &pp->key_json : &pp->key_text,
                    first ? (json ? ETW_PLAN_SEP_JSON : ETW_PLAN_SEP_TEXT) : 0);
            first = 0;
            etw_strbuf_putc(out, '[');
            for (uint32_t k = 0; k < count; k++) {
                if (sz > n - off) {
                    etw_strbuf_putc(out, ']');
                    goto partial;
                }
                /* The separator and the element under one capacity check, in place. */
                if (etw_strbuf_reserve(out, 2 + ETW_PLAN_FAST_MAX) == 0) {
                    char *o = out->data + out->len;
                    if (k) {
                        *o++ = ',';
                        if (!json)
                            *o++ = ' ';
                    }
                    o = etw_plan_put_fast_at(o, json, pp->fast, etw_plan_read_le(p + off, sz), sz);
                    *o = '\0';
                    out->len = (size_t)(o - out->data);
                }
                off += sz;
            }
            etw_strbuf_putc(out, ']');
            continue;
        }
        if (pp->fast) {
            /* An integer: read once, for a later length and for the output. */
            sz = pp->fixed_size ? pp->fixed_size : ptr;
            if (sz > n - off)
                goto partial;
            uint64_t v = etw_plan_read_le(p + off, sz);
            if (pp->countable)
                ints[i] = (uint32_t)v;
            if (!pp->noprint) {
                const etw_plan_str *k = json ? &pp->key_json : &pp->key_text;
                size_t skip = first ? (json ? ETW_PLAN_SEP_JSON : ETW_PLAN_SEP_TEXT) : 0;
                first = 0;
                put_key_int(out, k, skip, json, pp->fast, v, sz);
            }
            off += sz;
            continue;
        }
        if (!pp->has_length && !pp->noprint &&
            (pp->in_type == TDH_INTYPE_UNICODESTRING || pp->in_type == TDH_INTYPE_ANSISTRING)) {
            /* A string up to its terminator: sized while converted (one pass), as below. */
            put_key(out, json ? &pp->key_json : &pp->key_text,
                    first ? (json ? ETW_PLAN_SEP_JSON : ETW_PLAN_SEP_TEXT) : 0);
            first = 0;
            if (json)
                etw_strbuf_putc(out, '"');
            if (pp->in_type == TDH_INTYPE_UNICODESTRING)
                off += etw_text_utf16z(out, p + off, n - off, esc);
            else
                off += etw_text_ansiz(out, p + off, n - off,
                                      pp->out_type == TDH_OUTTYPE_UTF8 || pp->out_type == TDH_OUTTYPE_JSON ||
                                          pp->out_type == TDH_OUTTYPE_XML,
                                      esc);
            if (json)
                etw_strbuf_putc(out, '"');
            continue;
        }
        sz = etw_value_size(pp->in_type, pp->out_type, length, pp->has_length, ptr, p + off, n - off);
        if (sz == ETW_SIZE_BAD)
            goto partial;
        if (pp->countable)
            ints[i] = (uint32_t)etw_value_uint(pp->in_type, p + off, sz);
        if (!pp->noprint) {
            size_t skip = first ? (json ? ETW_PLAN_SEP_JSON : ETW_PLAN_SEP_TEXT) : 0;
            put_key(out, json ? &pp->key_json : &pp->key_text, skip);
            first = 0;
            if (pp->in_type == TDH_INTYPE_UNICODESTRING || pp->in_type == TDH_INTYPE_ANSISTRING) {
                /* The common strings, sized above: what etw_value_format's format_string writes
                 * for them (no map applies to a string), without its dispatch. */
                if (json)
                    etw_strbuf_putc(out, '"');
                if (pp->in_type == TDH_INTYPE_UNICODESTRING)
                    etw_text_utf16(out, p + off, sz, esc);
                else
                    etw_text_ansi(out, p + off, sz,
                                  pp->out_type == TDH_OUTTYPE_UTF8 || pp->out_type == TDH_OUTTYPE_JSON ||
                                      pp->out_type == TDH_OUTTYPE_XML,
                                  esc);
                if (json)
                    etw_strbuf_putc(out, '"');
                off += sz;
                continue;
            }
            if (pp->in_type == TDH_INTYPE_GUID && sz == 16) {
                /* As etw_value_format writes a GUID, without its dispatch. */
                if (json)
                    etw_strbuf_putc(out, '"');
                etw_format_guid(out, p + off);
                if (json)
                    etw_strbuf_putc(out, '"');
                off += sz;
                continue;
            }
            map_memo *m = pp->map_name ? map_slot(tei, pp) : NULL;
            const EVENT_MAP_INFO *map = m ? m->map : NULL;
            uint64_t text_key = 0;
            if (map && pp->countable && sz <= 4) {
                /* What the text depends on besides the plan property and its map. */
                uint32_t raw = 0;
                memcpy(&raw, p + off, sz);
                text_key = 1ull << 63 | (uint64_t)ptr << 48 | (uint64_t)esc << 40 | (uint64_t)sz << 32 | raw;
                if (m->text_key == text_key) {
                    etw_strbuf_append(out, m->text, m->text_len);
                    off += sz;
                    continue;
                }
            }
            size_t mark = out->len;
            etw_tdh_status st = etw_value_format(out, etw_fmt_flags_of_esc(esc), pp->in_type, pp->out_type, p + off,
                                                 sz, ptr, map, m ? m->size : 0);
            if (text_key && st == ETW_TDH_OK && !out->failed && out->len - mark <= sizeof m->text) {
                memcpy(m->text, out->data + mark, out->len - mark);
                m->text_len = (uint8_t)(out->len - mark);
                m->text_key = text_key;
            }
            if (st != ETW_TDH_OK) {
                etw_strbuf_puts(out, json ? "\"0x" : "0x");
                etw_strbuf_hex(out, p + off, sz);
                if (json)
                    etw_strbuf_putc(out, '"');
            }
        }
        off += sz;
    }
    *used = off;
    *wrote = !first;
    return 1;
partial:
    *used = off;
    *wrote = !first;
    return 0;
}

int etw_plan_format_flat(const etw_event_plan *pl, const TRACE_EVENT_INFO *tei, const uint8_t *p, size_t n,
                         unsigned ptr, int esc, etw_strbuf *out, size_t *used, int *wrote)
{
    switch (esc) {
    case ETW_ESC_JSON: return format_flat(pl, tei, p, n, ptr, ETW_ESC_JSON, out, used, wrote);
    case ETW_ESC_LINE: return format_flat(pl, tei, p, n, ptr, ETW_ESC_LINE, out, used, wrote);
    case ETW_ESC_CSV: return format_flat(pl, tei, p, n, ptr, ETW_ESC_CSV, out, used, wrote);
    default: return format_flat(pl, tei, p, n, ptr, ETW_ESC_NONE, out, used, wrote);
    }
}
