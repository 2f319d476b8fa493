/* TraceLogging providers a trace session has delivered events of, per decode scope
 * (base/decode_scope.h): TdhEnumerateProviders lists them while the session's callbacks run on
 * the calling thread, until CloseTrace (docs/api/tdh-providers.md). Bounded: at most
 * ETW_TLG_LEARNED_MAX providers over all open sessions; more are not listed. */
#ifndef ETWIRE_WINAPI_TDH_LEARNED_TLG_H
#define ETWIRE_WINAPI_TDH_LEARNED_TLG_H

#include <stdint.h>

#include <etwire/evntcons.h>

#define ETW_TLG_LEARNED_MAX 4096

/* Notes er's provider when er is a TraceLogging event (an EVENT_SCHEMA_TL extended item),
 * with the name its PROV_TRAITS item gives, under the calling thread's decode scope. */
void etw_tlg_learned_note(const EVENT_RECORD *er);
/* Calls fn for each provider noted under scope (name "" when the event had no traits). fn
 * must not call back in. */
void etw_tlg_learned_each(uint32_t scope, void (*fn)(const GUID *g, const char *name, void *ctx), void *ctx);
/* Forgets a scope's providers (its session is gone). */
void etw_tlg_learned_forget(uint32_t scope);

#endif
