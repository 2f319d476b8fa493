/* Constant tables of the generator: GUIDs (kernel groups per etw-format.md §B.10.2, made-up
 * providers), HookIds per kernel header kind, header-type bytes, WPP option flags, and the
 * TraceLogging metadata blobs (§B.8). */
#ifndef ETWIRE_GEN_GEN_TABLES_H
#define ETWIRE_GEN_GEN_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "gen/gen_internal.h"

/* MESSAGE_TRACE_HEADER OptionFlags (§B.6.5). */
#define ETW_GEN_MSG_SEQUENCE 0x0001u
#define ETW_GEN_MSG_GUID 0x0002u
#define ETW_GEN_MSG_COMPONENTID 0x0004u
#define ETW_GEN_MSG_TIMESTAMP 0x0008u
#define ETW_GEN_MSG_SYSTEMINFO 0x0020u
#define ETW_GEN_MSG_POINTER32 0x0040u
#define ETW_GEN_MSG_POINTER64 0x0080u

#define ETW_GEN_KINDS_KERNEL 0x003Fu  /* SYSTEM, COMPACT, PERFINFO */
#define ETW_GEN_KINDS_CLASSIC 0x03C0u /* FULL, INSTANCE */

#define ETW_GEN_CLASSIC_PROVIDERS 3u
#define ETW_GEN_MANIFEST_PROVIDERS 4u
#define ETW_GEN_WPP_GUIDS 2u

typedef struct etw_gen_hook_list {
    const uint16_t *hooks;
    unsigned count;
} etw_gen_hook_list;

uint8_t etw_gen_kind_header_type(uint32_t kind);
const etw_gen_hook_list *etw_gen_hooks_for(uint32_t kind);
const GUID *etw_gen_group_guid(uint8_t group);
const GUID *etw_gen_classic_guid(unsigned i);
const GUID *etw_gen_manifest_guid(unsigned i);
const GUID *etw_gen_wpp_guid(unsigned i);
const GUID *etw_gen_tl_guid(void);
GUID etw_gen_random_guid(etw_gen_rng *r);
void etw_gen_write_guid(uint8_t *p, const GUID *g);

/* TraceLogging provider traits and event schema blobs (content of ext items 0x0C / 0x0B). */
size_t etw_gen_tl_traits_size(void);
size_t etw_gen_tl_schema_size(void);
void etw_gen_tl_traits(uint8_t *out);
void etw_gen_tl_schema(uint8_t *out);

#endif
