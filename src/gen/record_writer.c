/* Encodes one planned record into buffer bytes, one function per header family, with the raw
 * layouts of etw-format.md §B.6-§B.8. Item and payload bytes come from the record's own seed,
 * so they never disturb the planner's random stream. */
#include <string.h>

#include <etwire/evntcons.h>

#include "base/bytes.h"
#include "gen/gen_internal.h"
#include "gen/gen_tables.h"

static void fill_random(etw_gen_rng *r, uint8_t *p, size_t n)
{
    while (n >= 8) {
        etw_wr64(p, etw_gen_next(r));
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = etw_gen_next(r);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* §B.7: PEBS index first, then the counters; their presence is in the version word. */
static void write_counters(const etw_gen_event *ev, etw_gen_rng *r, uint8_t *p)
{
    if (ev->pebs) {
        etw_wr64(p, etw_gen_next(r) & 0xFFFFFFFFFFull);
        p += 8;
    }
    for (unsigned i = 0; i < ev->pmc_count; i++, p += 8)
        etw_wr64(p, etw_gen_next(r) >> 20);
}

static uint16_t kernel_version_word(const etw_gen_event *ev)
{
    return (uint16_t)(ev->version | (ev->pmc_count << 8) | (ev->pebs ? 0x8000u : 0u));
}

/* §B.6.1 (SYSTEM 0x20 / compact 0x18) and §B.6.2 (PERFINFO 0x10). */
static void write_kernel(const etw_gen_event *ev, const etw_gen_detail *d, etw_gen_rng *r, uint8_t *p)
{
    etw_wr16(p, kernel_version_word(ev));
    p[2] = ev->header_type;
    p[3] = 0xC0;
    etw_wr16(p + 4, (uint16_t)ev->record_size);
    etw_wr16(p + 6, ev->hook_id);
    uint32_t fixed = 0x10;
    if (ev->header_type >= 0x10) {
        etw_wr64(p + 8, ev->timestamp);
    } else {
        etw_wr32(p + 8, ev->thread_id);
        etw_wr32(p + 0xC, ev->process_id);
        etw_wr64(p + 0x10, ev->timestamp);
        fixed = 0x18;
        if (ev->header_type <= 0x02) {
            etw_wr32(p + 0x18, d->kernel_time);
            etw_wr32(p + 0x1C, d->user_time);
            fixed = 0x20;
        }
    }
    write_counters(ev, r, p + fixed);
}

/* §B.6.3 EVENT_TRACE_HEADER and §B.6.4 EVENT_INSTANCE_GUID_HEADER. */
static void write_classic(const etw_gen_event *ev, const etw_gen_detail *d, uint8_t *p)
{
    etw_wr16(p, (uint16_t)ev->record_size);
    p[2] = ev->header_type;
    p[3] = 0xC0;
    p[4] = ev->opcode;
    p[5] = ev->level;
    etw_wr16(p + 6, ev->version);
    etw_wr32(p + 8, ev->thread_id);
    etw_wr32(p + 0xC, ev->process_id);
    etw_wr64(p + 0x10, ev->timestamp);
    etw_gen_write_guid(p + 0x18, &ev->provider);
    etw_wr32(p + 0x28, d->kernel_time);
    etw_wr32(p + 0x2C, d->user_time);
    if (ev->payload_offset == 0x48) {
        etw_wr32(p + 0x30, d->instance_id);
        etw_wr32(p + 0x34, d->parent_instance_id);
        etw_gen_write_guid(p + 0x38, &d->parent_guid);
    }
}

static void write_item_data(uint16_t type, uint16_t size, int is32, etw_gen_rng *r, uint8_t *p)
{
    switch (type) {
    case EVENT_HEADER_EXT_TYPE_SID: { /* S-1-5-18 or S-1-5-21-a-b-c-rid */
        uint8_t sub = size == 12 ? 1 : 5;
        p[0] = 1;
        p[1] = sub;
        memset(p + 2, 0, 5);
        p[7] = 5;
        if (sub == 1) {
            etw_wr32(p + 8, 18);
        } else {
            etw_wr32(p + 8, 21);
            for (int i = 1; i < 4; i++)
                etw_wr32(p + 8 + 4 * i, (uint32_t)etw_gen_next(r));
            etw_wr32(p + 24, 1000 + etw_gen_below(r, 50));
        }
        break;
    }
    case EVENT_HEADER_EXT_TYPE_TS_ID:
        etw_wr32(p, 1 + etw_gen_below(r, 3));
        break;
    case EVENT_HEADER_EXT_TYPE_STACK_TRACE32:
    case EVENT_HEADER_EXT_TYPE_STACK_TRACE64: {
        etw_wr64(p, etw_gen_below(r, 2) ? 0 : etw_gen_next(r));
        for (uint8_t *a = p + 8; a < p + size; a += is32 ? 4 : 8) {
            uint64_t v = etw_gen_next(r);
            if (is32)
                etw_wr32(a, 0x70000000u | ((uint32_t)v & 0x0FFFFFF0u));
            else
                etw_wr64(a, (v & 1 ? 0xFFFFF80000000000ull : 0x00007FF600000000ull) |
                                ((v >> 16) & 0xFFFFFFFF0ull));
        }
        break;
    }
    case EVENT_HEADER_EXT_TYPE_PROV_TRAITS:
        etw_gen_tl_traits(p);
        break;
    case EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL:
        etw_gen_tl_schema(p);
        break;
    default: /* RELATED_ACTIVITYID, EVENT_KEY, PROCESS_START_KEY: opaque values */
        fill_random(r, p, size);
        break;
    }
}

/* §B.6.6 EVENT_HEADER then §B.8 items: {u16 align8(8+DataSize), u16 type, u16 Linkage,
 * u16 DataSize, data, zero padding}. */
static void write_event_header(const etw_gen_event *ev, const etw_gen_detail *d, etw_gen_rng *r,
                               uint8_t *p)
{
    etw_wr16(p, (uint16_t)ev->record_size);
    p[2] = ev->header_type;
    p[3] = 0xC0;
    etw_wr16(p + 4, ev->flags);
    etw_wr16(p + 6, 0);
    etw_wr32(p + 8, ev->thread_id);
    etw_wr32(p + 0xC, ev->process_id);
    etw_wr64(p + 0x10, ev->timestamp);
    etw_gen_write_guid(p + 0x18, &ev->provider);
    etw_wr16(p + 0x28, ev->id);
    p[0x2A] = ev->version;
    p[0x2B] = ev->channel;
    p[0x2C] = ev->level;
    p[0x2D] = ev->opcode;
    etw_wr16(p + 0x2E, ev->task);
    etw_wr64(p + 0x30, ev->keyword);
    etw_wr32(p + 0x38, d->kernel_time);
    etw_wr32(p + 0x3C, d->user_time);
    etw_gen_write_guid(p + 0x40, &d->activity_id);
    uint8_t *it = p + 0x50;
    for (unsigned i = 0; i < ev->ext_count; i++) {
        uint16_t size = d->ext_sizes[i];
        uint16_t total = (uint16_t)etw_align8(8u + size);
        etw_wr16(it, total);
        etw_wr16(it + 2, ev->ext_types[i]);
        etw_wr16(it + 4, i + 1 < ev->ext_count ? 1 : 0);
        etw_wr16(it + 6, size);
        memset(it + 8, 0, total - 8u);
        write_item_data(ev->ext_types[i], size, ev->kind == ETW_GEN_KIND_EVENT32, r, it + 8);
        it += total;
    }
}

/* §B.6.5: items in OptionFlags order; the timestamp is usually not 8-byte aligned. */
static void write_message(const etw_gen_event *ev, const etw_gen_detail *d, uint8_t *p)
{
    etw_wr16(p, (uint16_t)ev->record_size);
    p[2] = 0;
    p[3] = 0x90;
    etw_wr16(p + 4, ev->hook_id);
    etw_wr16(p + 6, ev->flags);
    uint8_t *q = p + 8;
    if (ev->flags & ETW_GEN_MSG_SEQUENCE) {
        etw_wr32(q, d->msg_sequence);
        q += 4;
    }
    if (ev->flags & ETW_GEN_MSG_COMPONENTID) {
        etw_wr32(q, d->component_id);
        q += 4;
    } else if (ev->flags & ETW_GEN_MSG_GUID) {
        etw_gen_write_guid(q, &ev->provider);
        q += 16;
    }
    etw_wr64(q, ev->timestamp);
    q += 8;
    if (ev->flags & ETW_GEN_MSG_SYSTEMINFO) {
        etw_wr32(q, ev->thread_id);
        etw_wr32(q + 4, ev->process_id);
    }
}

void etw_gen_record_write(const etw_gen_event *ev, const etw_gen_detail *d, uint8_t *out)
{
    etw_gen_rng r = {d->data_seed};
    if (ev->kind & ETW_GEN_KINDS_KERNEL)
        write_kernel(ev, d, &r, out);
    else if (ev->kind & ETW_GEN_KINDS_CLASSIC)
        write_classic(ev, d, out);
    else if (ev->kind & (ETW_GEN_KIND_EVENT32 | ETW_GEN_KIND_EVENT64))
        write_event_header(ev, d, &r, out);
    else
        write_message(ev, d, out);
    uint8_t *pl = out + ev->payload_offset;
    fill_random(&r, pl, ev->payload_length);
    if (d->tracelogging) /* the schema's BINARY field: u16 count, then the bytes */
        etw_wr16(pl, (uint16_t)(ev->payload_length - 2));
    size_t end = etw_align8(ev->record_size);
    memset(out + ev->record_size, 0, end - ev->record_size);
}
