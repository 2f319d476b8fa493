/* The decoder's hooks on every session (session.h, etw_session_hooks): each delivered event is
 * shown to the schema learner before the consumer's callback runs, so a trace's embedded
 * schemas (KernelTraceControl EventInfo/EventMapInfo, EventSource manifests) are known before
 * the events that need them, whatever the callback does — as on Windows, where TDH answers for
 * any event of a merged trace. TraceLogging providers are noted too, for TdhEnumerateProviders
 * (tdh_learned_tlg.h). */
#include "winapi/tdh_session_hooks.h"

#include "tdh/store/schema_lookup.h"
#include "winapi/tdh_learned_tlg.h"

static void learn(const EVENT_RECORD *er)
{
    etw_metadata_observe(er);
    etw_tlg_learned_note(er);
}

static const etw_session_hooks decoder_hooks = {learn};

void etw_tdh_install_session_hooks(etw_session *s)
{
    s->hooks = &decoder_hooks;
}
