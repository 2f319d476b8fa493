/* The decoder's hooks on every session (session.h, etw_session_hooks): each delivered event is
 * shown to the schema learner before the consumer's callback runs, so a trace's embedded
 * schemas (KernelTraceControl EventInfo/EventMapInfo, EventSource manifests) are known before
 * the events that need them, whatever the callback does — as on Windows, where TDH answers for
 * any event of a merged trace. They are only kept raw here, and compiled when a lookup of their
 * provider needs them (tdh/sources/embedded_pending.h): a consumer that never decodes pays a
 * copy of a handful of records, and every other event three comparisons. TraceLogging
 * providers are noted too, for TdhEnumerateProviders (tdh_learned_tlg.h). */
#include "winapi/tdh_session_hooks.h"

#include "tdh/store/schema_lookup.h"
#include "winapi/tdh_learned_tlg.h"

/* A schema record (ManifestData id, MetaData provider) or an event with extended items (a
 * TraceLogging one has its schema there). */
__attribute__((noinline)) static void learn_from(const EVENT_RECORD *er)
{
    etw_metadata_capture(er);
    etw_tlg_learned_note(er);
}

static void learn(const EVENT_RECORD *er)
{
    if (__builtin_expect(!etw_metadata_candidate(er) && !er->ExtendedDataCount, 1))
        return;
    learn_from(er);
}

static const etw_session_hooks decoder_hooks = {learn};

void etw_tdh_install_session_hooks(etw_session *s)
{
    s->hooks = &decoder_hooks;
}
