/* Matching events against the filters (event_filters.h): provider names resolve through
 * TdhEnumerateProviders (manifests, MOF and kernel classes loaded or built in) and a few
 * providers etwire knows by heart, once options are all read; names of providers learned only
 * from the trace itself (TraceLogging, embedded manifests) are compared with the event's
 * provider name, once per provider GUID. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "event_filters.h"
#include "tdh/decode/event_text.h"

/* UTF-16 (host order, NUL-terminated) equal to UTF-8 s, ignoring ASCII case. */
static int wide_equal_ascii_case(const WCHAR *w, const char *s)
{
    for (; *w && *s; w++, s++) {
        WCHAR a = *w;
        unsigned char b = (unsigned char)*s;
        if (a >= 'A' && a <= 'Z')
            a = (WCHAR)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return 0;
    }
    return *w == 0 && *s == 0;
}

static int names_match(const char *const *names, unsigned n, const char *s)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcasecmp(names[i], s))
            return 1;
    return 0;
}

/* Providers etwire reads specially (process context, packet export) whose schemas a trace
 * rarely carries: their names resolve even without a manifest. */
static const struct {
    const char *name;
    GUID guid;
} well_known[] = {
    {"Microsoft-Windows-Kernel-Process", {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}}},
    {"Microsoft-Windows-PktMon", {0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}}},
    {"Microsoft-Windows-NDIS-PacketCapture", {0x2ed6006e, 0x4729, 0x4609, {0xb4, 0x23, 0x3e, 0xe7, 0xbc, 0xd6, 0x78, 0xef}}},
};

static void add_provider(event_filter *f, const GUID *g)
{
    for (unsigned i = 0; i < f->n_providers; i++)
        if (etw_guid_equal(&f->providers[i], g))
            return;
    if (f->n_providers < sizeof f->providers / sizeof *f->providers)
        f->providers[f->n_providers++] = *g;
}

/* Every provider the schema sources know by one of the names given. */
static void resolve_names(event_filter *f)
{
    f->resolved = 1;
    if (!f->n_provider_names)
        return;
    for (size_t i = 0; i < sizeof well_known / sizeof *well_known; i++)
        if (names_match(f->provider_names, f->n_provider_names, well_known[i].name))
            add_provider(f, &well_known[i].guid);
    ULONG size = 0;
    if (TdhEnumerateProviders(NULL, &size) != ERROR_INSUFFICIENT_BUFFER || size == 0)
        return;
    PROVIDER_ENUMERATION_INFO *info = malloc(size);
    if (!info)
        return;
    if (TdhEnumerateProviders(info, &size) == ERROR_SUCCESS) {
        for (ULONG i = 0; i < info->NumberOfProviders; i++) {
            const TRACE_PROVIDER_INFO *p = &info->TraceProviderInfoArray[i];
            if (p->ProviderNameOffset >= size)
                continue;
            const WCHAR *name = (const WCHAR *)(const void *)((const char *)info + p->ProviderNameOffset);
            for (unsigned k = 0; k < f->n_provider_names; k++)
                if (wide_equal_ascii_case(name, f->provider_names[k]))
                    add_provider(f, &p->ProviderGuid);
        }
    }
    free(info);
}

/* The event's provider name against the names given (once per provider, when its schema is
 * known; providers without a schema are asked again, as the trace may teach it later). */
static int provider_name_matches(event_filter *f, const EVENT_RECORD *er, etw_strbuf *provider, etw_strbuf *event)
{
    const GUID *g = &er->EventHeader.ProviderId;
    for (unsigned i = 0; i < f->n_name_cache; i++)
        if (etw_guid_equal(&f->name_cache[i], g))
            return f->name_cache_match[i];
    etw_strbuf_reset(provider);
    etw_strbuf_reset(event);
    int known = etw_event_describe(er, provider, event);
    int match = provider->data && names_match(f->provider_names, f->n_provider_names, provider->data);
    if (known && f->n_name_cache < 256) {
        f->name_cache[f->n_name_cache] = *g;
        f->name_cache_match[f->n_name_cache++] = (unsigned char)match;
    }
    return match;
}

/* "Process/Start" matches --event Process/Start, --event Start and --event Process. */
static int event_name_matches(const event_filter *f, const char *name)
{
    if (names_match(f->event_names, f->n_event_names, name))
        return 1;
    const char *slash = strchr(name, '/');
    if (!slash)
        return 0;
    if (names_match(f->event_names, f->n_event_names, slash + 1))
        return 1;
    for (unsigned i = 0; i < f->n_event_names; i++)
        if (strlen(f->event_names[i]) == (size_t)(slash - name) &&
            !strncasecmp(f->event_names[i], name, (size_t)(slash - name)))
            return 1;
    return 0;
}

static int process_matches(const event_filter *f, const char *name)
{
    if (!name[0])
        return 0;
    size_t n = strlen(name);
    for (unsigned i = 0; i < f->n_processes; i++) {
        const char *want = f->processes[i];
        size_t w = strlen(want);
        if (!strcasecmp(want, name))
            return 1;
        /* "svchost" matches "svchost.exe". */
        if (n == w + 4 && !strncasecmp(want, name, w) && !strcasecmp(name + w, ".exe"))
            return 1;
    }
    return 0;
}

static int uint_in(const unsigned *v, unsigned n, unsigned x)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* event_filter_match past its no-filter case (which every event takes when nothing is filtered). */
static __attribute__((noinline)) int match_filtered(event_filter *f, const EVENT_RECORD *er)
{
    const EVENT_HEADER *h = &er->EventHeader;
    if (f->n_processes && !f->tracker) {
        f->tracker = etwire_process_tracker_create();
        f->owns_tracker = f->tracker != NULL;
    }
    if (f->owns_tracker)
        etwire_process_tracker_add(f->tracker, er);
    /* Schema events embedded in merged traces are learned even when filtered out, so the
     * events they describe still decode. */
    etwire_tdh_observe(er);
    if (!f->resolved) {
        resolve_names(f);
        f->pass_all = !event_filter_active(f);
    }
    if (f->has_level && h->EventDescriptor.Level > f->level)
        return 0;
    /* As ETW's MatchAnyKeyword: events with no keyword at all pass. */
    if (f->has_keyword && h->EventDescriptor.Keyword && !(h->EventDescriptor.Keyword & f->keyword))
        return 0;
    if (f->n_pids && !uint_in(f->pids, f->n_pids, etwire_process_tracker_pid(f->tracker, er)) &&
        !uint_in(f->pids, f->n_pids, h->ProcessId))
        return 0;
    if (f->n_tids && !uint_in(f->tids, f->n_tids, h->ThreadId))
        return 0;
    if (f->n_processes && !process_matches(f, etwire_process_tracker_name(f->tracker, er)))
        return 0;
    if (!f->scratch && (f->n_provider_names || f->n_event_names)) {
        f->scratch = calloc(2, sizeof *f->scratch);
        if (!f->scratch)
            return 0;
    }
    etw_strbuf *provider = f->scratch ? &f->scratch[0] : NULL, *event = f->scratch ? &f->scratch[1] : NULL;
    int ok = 1;
    if (f->n_providers || f->n_provider_names) {
        ok = 0;
        for (unsigned i = 0; i < f->n_providers && !ok; i++)
            ok = etw_guid_equal(&f->providers[i], &h->ProviderId);
        if (!ok && f->n_provider_names)
            ok = provider_name_matches(f, er, provider, event);
    }
    if (ok && (f->n_event_ids || f->n_event_names)) {
        ok = uint_in(f->event_ids, f->n_event_ids, h->EventDescriptor.Id);
        if (!ok && f->n_event_names) {
            etw_strbuf_reset(provider);
            etw_strbuf_reset(event);
            etw_event_describe(er, provider, event);
            ok = event->data && event_name_matches(f, event->data);
        }
    }
    return ok;
}


int event_filter_match(event_filter *f, const EVENT_RECORD *er)
{
    if (f->pass_all) {
        etwire_tdh_observe(er); /* as below: schema events are learned */
        return 1;
    }
    return match_filtered(f, er);
}
