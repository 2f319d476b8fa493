/* Constant tables of the generator (see gen_tables.h). Kernel group GUIDs are the real ones
 * (etw-format.md §B.10.2) so consumers map HookIds exactly as for Windows files; provider GUIDs
 * of user-mode events are made up for this project. */
#include <string.h>

#include "base/bytes.h"
#include "gen/gen_tables.h"

const GUID etw_gen_event_trace_guid = /* EventTraceGuid, group 0 (header records) */
    {0x68FDD900, 0x4A3E, 0x11D1, {0x84, 0xF4, 0x00, 0x00, 0xF8, 0x04, 0x64, 0xE3}};

static const struct {
    uint8_t group;
    GUID guid;
} groups[] = {
    {0x01, {0x3D6FA8D4, 0xFE05, 0x11D0, {0x9D, 0xDA, 0x00, 0xC0, 0x4F, 0xD7, 0xBA, 0x7C}}}, /* DiskIo */
    {0x03, {0x3D6FA8D0, 0xFE05, 0x11D0, {0x9D, 0xDA, 0x00, 0xC0, 0x4F, 0xD7, 0xBA, 0x7C}}}, /* Process */
    {0x04, {0x90CBDC39, 0x4A3E, 0x11D1, {0x84, 0xF4, 0x00, 0x00, 0xF8, 0x04, 0x64, 0xE3}}}, /* FileIo */
    {0x05, {0x3D6FA8D1, 0xFE05, 0x11D0, {0x9D, 0xDA, 0x00, 0xC0, 0x4F, 0xD7, 0xBA, 0x7C}}}, /* Thread */
    {0x06, {0x9A280AC0, 0xC8E0, 0x11D1, {0x84, 0xE2, 0x00, 0xC0, 0x4F, 0xB9, 0x98, 0xA2}}}, /* TcpIp */
    {0x09, {0xAE53722E, 0xC863, 0x11D2, {0x86, 0x59, 0x00, 0xC0, 0x4F, 0xA3, 0x21, 0xA1}}}, /* Registry */
    {0x0F, {0xCE1DBFB4, 0x137E, 0x4DA6, {0x87, 0xB0, 0x3F, 0x59, 0xAA, 0x10, 0x2C, 0xBC}}}, /* PerfInfo */
    {0x14, {0x2CB15D1D, 0x5FC1, 0x11D2, {0xAB, 0xE1, 0x00, 0xA0, 0xC9, 0x11, 0xF5, 0x18}}}, /* ImageLoad */
    {0x18, {0xDEF2FE46, 0x7BD6, 0x4B80, {0xBD, 0x94, 0xF5, 0x7F, 0xE2, 0x0D, 0x0C, 0xE3}}}, /* StackWalk */
};

/* HookId = group << 8 | type. Process 0x0A (legacy image load) is avoided on purpose: it maps
 * to ImageLoadGuid, not the process group (§B.10.2 special case). */
static const uint16_t system_hooks[] = {0x0301, 0x0302, 0x0303, 0x0501, 0x0502, 0x010A,
                                        0x010B, 0x0440, 0x0443, 0x060A, 0x090A, 0x140A};
static const uint16_t compact_hooks[] = {0x0524, 0x0532, 0x0F2E};
static const uint16_t perfinfo_hooks[] = {0x0F2E, 0x0F42, 0x0F43, 0x0524, 0x0524, 0x1820};
static const etw_gen_hook_list hook_lists[] = {
    {system_hooks, sizeof system_hooks / sizeof system_hooks[0]},
    {compact_hooks, sizeof compact_hooks / sizeof compact_hooks[0]},
    {perfinfo_hooks, sizeof perfinfo_hooks / sizeof perfinfo_hooks[0]},
};

static const GUID classic[ETW_GEN_CLASSIC_PROVIDERS] = {
    {0x5E7C1A01, 0x2B3D, 0x4C11, {0x9A, 0x0E, 0x45, 0x74, 0x77, 0x69, 0x72, 0x01}},
    {0x5E7C1A02, 0x2B3D, 0x4C11, {0x9A, 0x0E, 0x45, 0x74, 0x77, 0x69, 0x72, 0x02}},
    {0x5E7C1A03, 0x2B3D, 0x4C11, {0x9A, 0x0E, 0x45, 0x74, 0x77, 0x69, 0x72, 0x03}},
};
static const GUID manifest[ETW_GEN_MANIFEST_PROVIDERS] = {
    {0x6A1F0B01, 0x7D20, 0x4E55, {0x8B, 0x31, 0x45, 0x74, 0x77, 0x69, 0x72, 0x11}},
    {0x6A1F0B02, 0x7D20, 0x4E55, {0x8B, 0x31, 0x45, 0x74, 0x77, 0x69, 0x72, 0x12}},
    {0x6A1F0B03, 0x7D20, 0x4E55, {0x8B, 0x31, 0x45, 0x74, 0x77, 0x69, 0x72, 0x13}},
    {0x6A1F0B04, 0x7D20, 0x4E55, {0x8B, 0x31, 0x45, 0x74, 0x77, 0x69, 0x72, 0x14}},
};
static const GUID wpp[ETW_GEN_WPP_GUIDS] = {
    {0x7B2E3C01, 0x1A2B, 0x4F66, {0xA4, 0x52, 0x45, 0x74, 0x77, 0x69, 0x72, 0x21}},
    {0x7B2E3C02, 0x1A2B, 0x4F66, {0xA4, 0x52, 0x45, 0x74, 0x77, 0x69, 0x72, 0x22}},
};
static const GUID tl_provider =
    {0x8C3F4D01, 0x3B4C, 0x4077, {0xB5, 0x63, 0x45, 0x74, 0x77, 0x69, 0x72, 0x31}};
static const GUID tl_group =
    {0x8C3F4D02, 0x3B4C, 0x4077, {0xB5, 0x63, 0x45, 0x74, 0x77, 0x69, 0x72, 0x32}};

uint8_t etw_gen_kind_header_type(uint32_t kind)
{
    static const uint8_t types[ETW_GEN_KIND_COUNT] = {0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x0A,
                                                      0x14, 0x0B, 0x15, 0x12, 0x13, 0x00};
    for (unsigned i = 0; i < ETW_GEN_KIND_COUNT; i++)
        if (kind == 1u << i)
            return types[i];
    return 0x02; /* header records: SYSTEM; callers pick 1/2 themselves */
}

const etw_gen_hook_list *etw_gen_hooks_for(uint32_t kind)
{
    if (kind & (ETW_GEN_KIND_SYSTEM32 | ETW_GEN_KIND_SYSTEM64))
        return &hook_lists[0];
    if (kind & (ETW_GEN_KIND_COMPACT32 | ETW_GEN_KIND_COMPACT64))
        return &hook_lists[1];
    return &hook_lists[2];
}

const GUID *etw_gen_group_guid(uint8_t group)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (groups[i].group == group)
            return &groups[i].guid;
    return &etw_gen_event_trace_guid;
}

const GUID *etw_gen_classic_guid(unsigned i) { return &classic[i % ETW_GEN_CLASSIC_PROVIDERS]; }
const GUID *etw_gen_manifest_guid(unsigned i) { return &manifest[i % ETW_GEN_MANIFEST_PROVIDERS]; }
const GUID *etw_gen_wpp_guid(unsigned i) { return &wpp[i % ETW_GEN_WPP_GUIDS]; }
const GUID *etw_gen_tl_guid(void) { return &tl_provider; }

GUID etw_gen_random_guid(etw_gen_rng *r)
{
    uint64_t a = etw_gen_next(r), b = etw_gen_next(r);
    GUID g;
    g.Data1 = (uint32_t)a;
    g.Data2 = (uint16_t)(a >> 32);
    g.Data3 = (uint16_t)(a >> 48);
    for (int i = 0; i < 8; i++)
        g.Data4[i] = (uint8_t)(b >> (8 * i));
    return g;
}

/* GUIDs are stored in the Windows in-memory layout: Data1..3 little-endian (§A.1). */
void etw_gen_write_guid(uint8_t *p, const GUID *g)
{
    etw_wr32(p, g->Data1);
    etw_wr16(p + 4, g->Data2);
    etw_wr16(p + 6, g->Data3);
    memcpy(p + 8, g->Data4, 8);
}

/* Provider traits (§B.8, etw-decoding §2.3): u16 size, UTF-8 name, one group trait. */
static const char tl_name[] = "Etwire.Synthetic.TraceLogging";
size_t etw_gen_tl_traits_size(void) { return 2 + sizeof tl_name + 19; }
void etw_gen_tl_traits(uint8_t *out)
{
    etw_wr16(out, (uint16_t)etw_gen_tl_traits_size());
    memcpy(out + 2, tl_name, sizeof tl_name);
    uint8_t *t = out + 2 + sizeof tl_name;
    etw_wr16(t, 19);
    t[2] = 1; /* ETW_PROVIDER_TRAIT_TYPE Group */
    etw_gen_write_guid(t + 3, &tl_group);
}

/* Event schema (etw-decoding §2.2): u16 size, tag byte 0, event name, one field "Data" of
 * in-type BINARY (14), whose payload is a u16 byte count and the bytes (§2.5). */
static const uint8_t tl_schema[] = {'S', 'y', 'n', 't', 'h', 'e', 't', 'i', 'c', 'E', 'v', 'e',
                                    'n', 't', 0, 'D', 'a', 't', 'a', 0, 0x0E};
size_t etw_gen_tl_schema_size(void) { return 3 + sizeof tl_schema; }
void etw_gen_tl_schema(uint8_t *out)
{
    etw_wr16(out, (uint16_t)etw_gen_tl_schema_size());
    out[2] = 0;
    memcpy(out + 3, tl_schema, sizeof tl_schema);
}
