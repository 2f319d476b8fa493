/* Chooses what each generated record says: header kind, ids, descriptor, extended items and
 * sizes. Distributions are loosely modelled on real traces (Part E: mostly small payloads,
 * a few large ones, TraceLogging items on some EVENT_HEADER events, PMC counters on some
 * PERFINFO samples) while still hitting every branch a consumer has. */
#include <string.h>

#include <etwire/evntcons.h>

#include "base/bytes.h"
#include "gen/gen_internal.h"
#include "gen/gen_tables.h"

static uint32_t pick_kind(etw_gen_rng *r, uint32_t kinds)
{
    unsigned n = 0;
    for (uint32_t k = kinds; k; k &= k - 1)
        n++;
    unsigned pick = etw_gen_below(r, n);
    for (uint32_t k = kinds;; k &= k - 1)
        if (pick-- == 0)
            return k & (~k + 1);
}

/* A handful of processes with a few threads each, plus the System process (pid 4) for kernel
 * events, so per-thread/process views in consumers have something to group. */
static void pick_ids(etw_gen_rng *r, etw_gen_event *ev, int kernel)
{
    if (kernel && etw_gen_below(r, 4) == 0) {
        ev->process_id = 4;
        ev->thread_id = 8 + 4 * etw_gen_below(r, 16);
        return;
    }
    uint32_t proc = etw_gen_below(r, 6);
    ev->process_id = 4 * (1000 + 277 * proc);
    ev->thread_id = ev->process_id + 4 * (1 + etw_gen_below(r, 4));
}

/* Mostly small, sometimes a few hundred bytes, rarely several KiB (benchmarks need bulk). */
static uint32_t pick_payload(etw_gen_rng *r)
{
    uint32_t u = etw_gen_below(r, 100);
    if (u < 60)
        return etw_gen_below(r, 65);
    if (u < 96)
        return 64 + etw_gen_below(r, 337);
    return 400 + etw_gen_below(r, 3601);
}

static void plan_kernel(etw_gen_rng *r, etw_gen_event *ev)
{
    const etw_gen_hook_list *list = etw_gen_hooks_for(ev->kind);
    ev->hook_id = list->hooks[etw_gen_below(r, list->count)];
    ev->provider = *etw_gen_group_guid((uint8_t)(ev->hook_id >> 8));
    ev->opcode = (uint8_t)ev->hook_id;
    ev->version = (uint8_t)(2 + etw_gen_below(r, 4));
    if (ev->kind & (ETW_GEN_KIND_PERFINFO32 | ETW_GEN_KIND_PERFINFO64)) {
        /* §B.7: counters on some samples; the PEBS index only on context switches (0x0524). */
        ev->version = 2;
        if (etw_gen_below(r, 10) < 4)
            ev->pmc_count = 1 + etw_gen_below(r, 4);
        ev->pebs = ev->hook_id == 0x0524 && etw_gen_below(r, 3) == 0;
        ev->thread_id = ev->process_id = UINT32_MAX;
    } else if (ev->kind & (ETW_GEN_KIND_SYSTEM32 | ETW_GEN_KIND_SYSTEM64)) {
        if (etw_gen_below(r, 20) == 0) /* sechost accepts counters on SYSTEM headers too */
            ev->pmc_count = 1 + etw_gen_below(r, 2);
    }
    if (ev->pebs)
        ev->ext_types[ev->ext_count++] = EVENT_HEADER_EXT_TYPE_PEBS_INDEX;
    if (ev->pmc_count)
        ev->ext_types[ev->ext_count++] = EVENT_HEADER_EXT_TYPE_PMC_COUNTERS;
    uint32_t fixed = ev->header_type >= 0x10 ? 0x10 : ev->header_type >= 0x03 ? 0x18 : 0x20;
    ev->payload_offset = fixed + 8u * (uint32_t)ev->pebs + 8u * ev->pmc_count;
}

static void plan_classic(etw_gen_rng *r, etw_gen_event *ev, etw_gen_detail *d)
{
    ev->provider = *etw_gen_classic_guid(etw_gen_below(r, ETW_GEN_CLASSIC_PROVIDERS));
    ev->opcode = (uint8_t)etw_gen_below(r, 40);
    ev->level = (uint8_t)etw_gen_below(r, 6);
    ev->version = (uint8_t)etw_gen_below(r, 4);
    ev->payload_offset = 0x30;
    if (ev->kind & (ETW_GEN_KIND_INSTANCE32 | ETW_GEN_KIND_INSTANCE64)) {
        d->instance_id = 1 + etw_gen_below(r, 1000);
        d->parent_instance_id = etw_gen_below(r, 2) ? d->instance_id - 1 : 0;
        d->parent_guid = *etw_gen_classic_guid(etw_gen_below(r, ETW_GEN_CLASSIC_PROVIDERS));
        ev->ext_types[ev->ext_count++] = EVENT_HEADER_EXT_TYPE_INSTANCE_INFO;
        ev->payload_offset = 0x48;
    }
}

static void add_item(etw_gen_event *ev, etw_gen_detail *d, uint16_t type, uint16_t size)
{
    d->ext_sizes[ev->ext_count] = size;
    ev->ext_types[ev->ext_count++] = type;
}

/* §B.8: items after the 0x50-byte header, each align8(8 + DataSize) bytes. */
static void plan_event_header(etw_gen_rng *r, etw_gen_event *ev, etw_gen_detail *d, uint32_t max)
{
    int is32 = ev->kind == ETW_GEN_KIND_EVENT32;
    if (etw_gen_below(r, 10) == 0)
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID, 16);
    if (etw_gen_below(r, 10) == 0)
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_SID, etw_gen_below(r, 2) ? 12 : 28);
    if (etw_gen_below(r, 12) == 0)
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_TS_ID, 4);
    if (etw_gen_below(r, 20) == 0)
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_EVENT_KEY, 8);
    if (etw_gen_below(r, 20) == 0)
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_PROCESS_START_KEY, 8);
    if (etw_gen_below(r, 10) == 0) {
        uint16_t depth = (uint16_t)(1 + etw_gen_below(r, 32));
        add_item(ev, d, is32 ? EVENT_HEADER_EXT_TYPE_STACK_TRACE32 : EVENT_HEADER_EXT_TYPE_STACK_TRACE64,
                 (uint16_t)(8 + depth * (is32 ? 4 : 8)));
    }
    d->tracelogging = etw_gen_below(r, 7) == 0;
    if (d->tracelogging) { /* observed order: traits (Linkage 1) then schema (last) */
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_PROV_TRAITS, (uint16_t)etw_gen_tl_traits_size());
        add_item(ev, d, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, (uint16_t)etw_gen_tl_schema_size());
    }
    for (;;) { /* drop trailing items until the record fits a small buffer */
        uint32_t off = 0x50;
        for (unsigned i = 0; i < ev->ext_count; i++)
            off += (uint32_t)etw_align8(8u + d->ext_sizes[i]);
        if (off + (d->tracelogging ? 2u : 0u) <= max || ev->ext_count == 0) {
            ev->payload_offset = off;
            break;
        }
        if (ev->ext_types[ev->ext_count - 1] == EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL) {
            ev->ext_count -= 2;
            d->tracelogging = 0;
        } else {
            ev->ext_count--;
        }
    }
    ev->flags = ev->ext_count ? EVENT_HEADER_FLAG_EXTENDED_INFO : 0;
    if (d->tracelogging) { /* TraceLogging: channel 11, id/opcode 0, provider from traits */
        ev->provider = *etw_gen_tl_guid();
        ev->channel = 11;
        ev->level = 5;
        ev->keyword = 0x0000200000000000ull;
        return;
    }
    ev->provider = *etw_gen_manifest_guid(etw_gen_below(r, ETW_GEN_MANIFEST_PROVIDERS));
    ev->id = (uint16_t)(1 + etw_gen_below(r, 120));
    ev->version = (uint8_t)etw_gen_below(r, 3);
    static const uint8_t channels[] = {0, 0, 16, 17};
    ev->channel = channels[etw_gen_below(r, 4)];
    ev->level = (uint8_t)(1 + etw_gen_below(r, 5));
    ev->opcode = (uint8_t)etw_gen_below(r, 12);
    ev->task = (uint16_t)etw_gen_below(r, 30);
    ev->keyword = (etw_gen_next(r) & 0xFFull) | ((uint64_t)etw_gen_below(r, 2) << 63);
}

/* §B.6.5: optional items in OptionFlags order; a timestamp is always carried so the record
 * can be placed in time (WPP always asks for one). */
static void plan_message(etw_gen_rng *r, etw_gen_event *ev, etw_gen_detail *d, unsigned psize)
{
    uint16_t f = ETW_GEN_MSG_TIMESTAMP | (psize == 4 ? ETW_GEN_MSG_POINTER32 : ETW_GEN_MSG_POINTER64);
    uint32_t off = 8;
    if (etw_gen_below(r, 2)) {
        f |= ETW_GEN_MSG_SEQUENCE;
        d->msg_sequence = (uint32_t)etw_gen_next(r);
        off += 4;
    }
    if (etw_gen_below(r, 10) < 3) {
        f |= ETW_GEN_MSG_COMPONENTID;
        d->component_id = etw_gen_below(r, 64);
        ev->provider.Data1 = d->component_id; /* the project's convention (format/record.c) */
        off += 4;
    } else {
        f |= ETW_GEN_MSG_GUID;
        ev->provider = *etw_gen_wpp_guid(etw_gen_below(r, ETW_GEN_WPP_GUIDS));
        off += 16;
    }
    off += 8;
    if (etw_gen_below(r, 20) < 17) {
        f |= ETW_GEN_MSG_SYSTEMINFO;
        off += 8;
    } else {
        ev->thread_id = ev->process_id = UINT32_MAX;
    }
    ev->flags = f;
    ev->hook_id = ev->id = (uint16_t)(10 + etw_gen_below(r, 40));
    ev->payload_offset = off;
}

void etw_gen_plan_event(etw_gen_rng *r, uint32_t kinds, unsigned pointer_size, uint32_t max_record,
                        etw_gen_event *ev, etw_gen_detail *d)
{
    memset(ev, 0, sizeof *ev);
    memset(d, 0, sizeof *d);
    ev->kind = pick_kind(r, kinds);
    ev->header_type = etw_gen_kind_header_type(ev->kind);
    int kernel = (ev->kind & ETW_GEN_KINDS_KERNEL) != 0;
    pick_ids(r, ev, kernel);
    d->kernel_time = etw_gen_below(r, 5000);
    d->user_time = etw_gen_below(r, 5000);
    d->data_seed = etw_gen_next(r);
    if (kernel)
        plan_kernel(r, ev);
    else if (ev->kind & ETW_GEN_KINDS_CLASSIC)
        plan_classic(r, ev, d);
    else if (ev->kind & (ETW_GEN_KIND_EVENT32 | ETW_GEN_KIND_EVENT64))
        plan_event_header(r, ev, d, max_record);
    else
        plan_message(r, ev, d, pointer_size);
    if (ev->kind & (ETW_GEN_KIND_EVENT32 | ETW_GEN_KIND_EVENT64) && etw_gen_below(r, 2))
        d->activity_id = etw_gen_random_guid(r);
    uint32_t len = pick_payload(r);
    if (d->tracelogging && len < 2)
        len = 2;
    if (len > max_record - ev->payload_offset)
        len = max_record - ev->payload_offset;
    ev->payload_length = len;
    ev->record_size = ev->payload_offset + len;
}
