/* Schemas kept in packs, consulted when nothing the trace taught or the user loaded knows an
 * event: the schema store's packs (ETW_SRC_STORE) and then the built-in pack (ETW_SRC_BUILTIN),
 * in that order (issue 10's precedence). A lookup that finds a schema here rebuilds it once
 * and stores it in the schema cache under the event's key, so every later event of that key
 * costs exactly what a manifest-loaded schema costs. */
#ifndef ETWIRE_TDH_PACK_SOURCES_H
#define ETWIRE_TDH_PACK_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/store/pack_read.h"

/* Registers an opened pack as a schema source of rank source (ETW_SRC_STORE; the built-in
 * pack registers itself). The pack and its bytes must stay valid until etw_pack_sources_clear
 * removes it. Returns 0 when the table of sources is full. */
int etw_pack_sources_add(const etw_pack *pk, uint8_t source);
/* Forgets every registered pack of rank source (not the built-in one). */
void etw_pack_sources_clear(uint8_t source);

/* The schema of (provider, kind, a = id or opcode, b = version) from the first pack that has
 * the exact key; else, when at_most, from the first that has an older version of the event.
 * Returns a malloc'd blob and its rank in *source, or NULL. */
TRACE_EVENT_INFO *etw_pack_sources_event(const GUID *provider, uint8_t kind, uint16_t a, uint16_t b, int at_most,
                                         size_t *size, uint8_t *source);
/* The map named by UTF-16LE bytes for provider, malloc'd, or NULL. */
EVENT_MAP_INFO *etw_pack_sources_map(const GUID *provider, const uint8_t *name, size_t name_bytes, size_t *size,
                                     uint8_t *source);
/* The provider's name from the first pack that knows it (NUL-terminated UTF-8 inside the
 * pack), or NULL. */
const char *etw_pack_sources_provider_name(const GUID *provider);

/* Calls fn for every provider with events in a registered pack, then in the built-in pack
 * (a provider in several is reported by each). fn must not call back in. */
void etw_pack_sources_each_provider(void (*fn)(const GUID *guid, const char *name, void *ctx), void *ctx);

/* Built-in schemas on or off (etwire_tdh_use_builtin_schemas); the environment variable
 * ETWIRE_BUILTIN_SCHEMAS=0 turns them off until this is called. */
void etw_builtin_pack_enable(int enable);
/* The built-in pack, opened on first use; NULL if disabled or not usable. */
const etw_pack *etw_builtin_pack(void);

#endif
