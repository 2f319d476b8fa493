/* TraceLogging providers a trace session has delivered events of, per decode scope
 * (base/decode_scope.h): TdhEnumerateProviders lists them while the session's callbacks run on
 * the calling thread, until CloseTrace (docs/api/tdh-providers.md). Bounded: at most
 * ETW_TLG_LEARNED_MAX providers over all open sessions; more are not listed. */
#ifndef ETWIRE_WINAPI_TDH_LEARNED_TLG_H
#define ETWIRE_WINAPI_TDH_LEARNED_TLG_H

#include <stdint.h>

#include <etwire/evntcons.h>

#define ETW_TLG_LEARNED_MAX 4096

/* Notes er's provider, with the name its PROV_TRAITS item gives, under the calling thread's
 * decode scope; er is a TraceLogging event. */
void etw_tlg_learned_add(const EVENT_RECORD *er);

/* Every delivered event comes here: only a TraceLogging event (one with an EVENT_SCHEMA_TL
 * extended item) goes further. */
static inline void etw_tlg_learned_note(const EVENT_RECORD *er)
{
    const EVENT_HEADER_EXTENDED_DATA_ITEM *x = er->ExtendedData;
    for (USHORT i = 0, n = x ? er->ExtendedDataCount : 0; i < n; i++) {
        if (x[i].ExtType == EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL) {
            etw_tlg_learned_add(er);
            return;
        }
    }
}
/* Calls fn for each provider noted under scope (name "" when the event had no traits). fn
 * must not call back in. */
void etw_tlg_learned_each(uint32_t scope, void (*fn)(const GUID *g, const char *name, void *ctx), void *ctx);
/* Forgets a scope's providers (its session is gone). */
void etw_tlg_learned_forget(uint32_t scope);

#endif
