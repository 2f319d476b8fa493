/* TdhEnumerateProviders and TdhEnumerateProvidersForDecodingSource (docs/api/tdh-providers.md)
 * on corpus traces: from a session's event callback they list what that trace taught - the
 * TraceLogging providers it delivered (primitive-types.etl, SelfDescribingSingleEvent.etl:
 * SchemaSource 3, the name TDH gives the event) and the providers of its embedded EventInfo
 * schemas (the pktmon capture, with the built-in schemas off) - and after ProcessTrace or
 * CloseTrace only the registered equivalents, whatever was decoded. Two sessions processed at
 * once on two threads each see only their own trace's (ETWIRE_TEST_THREADS). */
#include "tdh_test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include <etwire/etwire.h>

#include "collect.h"

#define MAX_GUIDS 64

/* filter -1: TdhEnumerateProviders; else TdhEnumerateProvidersForDecodingSource. */
static PROVIDER_ENUMERATION_INFO *enumerate(int filter)
{
    ULONG size = 0, need = 0;
    TDHSTATUS rc = filter < 0 ? TdhEnumerateProviders(NULL, &size)
                              : TdhEnumerateProvidersForDecodingSource((DECODING_SOURCE)filter, NULL, 0, &size);
    assert_int_equal(rc, ERROR_INSUFFICIENT_BUFFER);
    PROVIDER_ENUMERATION_INFO *p = malloc(size);
    assert_non_null(p);
    need = size;
    rc = filter < 0 ? TdhEnumerateProviders(p, &size)
                    : TdhEnumerateProvidersForDecodingSource((DECODING_SOURCE)filter, p, size, &need);
    assert_int_equal(rc, ERROR_SUCCESS);
    return p;
}

static const TRACE_PROVIDER_INFO *listed(const PROVIDER_ENUMERATION_INFO *p, const GUID *g)
{
    for (ULONG i = 0; i < p->NumberOfProviders; i++)
        if (!memcmp(&p->TraceProviderInfoArray[i].ProviderGuid, g, sizeof *g))
            return &p->TraceProviderInfoArray[i];
    return NULL;
}

static int wide_equal(const WCHAR *a, const WCHAR *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

typedef struct seen {
    GUID tlg[MAX_GUIDS]; /* providers of the TraceLogging events delivered so far */
    unsigned n_tlg, checks, names_equal;
    GUID watch;          /* a provider known only from the trace's embedded schemas */
    unsigned watch_events, watch_listed;
} seen;

static seen s;

static int is_tlg(const EVENT_RECORD *er)
{
    for (USHORT i = 0; i < er->ExtendedDataCount; i++)
        if (er->ExtendedData[i].ExtType == EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL)
            return 1;
    return 0;
}

static void WINAPI on_tlg_event(PEVENT_RECORD er)
{
    if (!is_tlg(er))
        return;
    unsigned i = 0;
    while (i < s.n_tlg && memcmp(&s.tlg[i], &er->EventHeader.ProviderId, sizeof(GUID)))
        i++;
    if (i == s.n_tlg && s.n_tlg < MAX_GUIDS)
        s.tlg[s.n_tlg++] = er->EventHeader.ProviderId;
    /* The TraceLogging list is exactly the providers delivered so far, and the full list has
     * each with source 3 and the name TDH gives this event. */
    PROVIDER_ENUMERATION_INFO *tlg = enumerate(DecodingSourceTlg), *all = enumerate(-1);
    assert_int_equal(tlg->NumberOfProviders, s.n_tlg);
    for (unsigned k = 0; k < s.n_tlg; k++)
        assert_non_null(listed(tlg, &s.tlg[k]));
    const TRACE_PROVIDER_INFO *p = listed(all, &er->EventHeader.ProviderId);
    assert_non_null(p);
    assert_int_equal(p->SchemaSource, DecodingSourceTlg);
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(er, 0, NULL, NULL, &size), ERROR_INSUFFICIENT_BUFFER);
    TRACE_EVENT_INFO *tei = malloc(size);
    assert_non_null(tei);
    assert_int_equal(TdhGetEventInformation(er, 0, NULL, tei, &size), ERROR_SUCCESS);
    assert_int_equal(tei->DecodingSource, DecodingSourceTlg);
    if (tei->ProviderNameOffset) {
        assert_true(wide_equal((const WCHAR *)((const uint8_t *)tei + tei->ProviderNameOffset),
                               (const WCHAR *)((const uint8_t *)all + p->ProviderNameOffset)));
        s.names_equal++;
    }
    s.checks++;
    free(tei);
    free(tlg);
    free(all);
}

static int corpus_trace(const char *rel, char *out, size_t n)
{
    const char *path = test_corpus_file(rel);
    if (path)
        snprintf(out, n, "%s", path);
    return path != NULL;
}

/* Processes path with cb; checks after ProcessTrace and after CloseTrace that none of the
 * watched TraceLogging providers is listed any more. */
static void process(const char *path, PEVENT_RECORD_CALLBACK cb)
{
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = cb;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &opts, &hdr);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    for (int closed = 0; closed < 2; closed++) {
        PROVIDER_ENUMERATION_INFO *tlg = enumerate(DecodingSourceTlg), *all = enumerate(-1);
        assert_int_equal(tlg->NumberOfProviders, 0);
        for (unsigned k = 0; k < s.n_tlg; k++)
            assert_null(listed(all, &s.tlg[k]));
        free(tlg);
        free(all);
        if (!closed)
            CloseTrace(h);
    }
}

static void tracelogging_providers_listed_while_processed(void **state)
{
    (void)state;
    char path[1024];
    static const char *const traces[] = {"traceevent/primitive-types.etl", "traceevent/SelfDescribingSingleEvent.etl"};
    unsigned ran = 0;
    for (unsigned i = 0; i < 2; i++) {
        if (!corpus_trace(traces[i], path, sizeof path))
            continue;
        memset(&s, 0, sizeof s);
        process(path, on_tlg_event);
        assert_true(s.n_tlg >= 1);
        assert_true(s.checks >= 1);
        assert_int_equal(s.names_equal, s.checks);
        ran++;
    }
    if (!ran)
        TEST_SKIP("the corpus traces are absent");
}

static void WINAPI on_pktmon_event(PEVENT_RECORD er)
{
    if (memcmp(&er->EventHeader.ProviderId, &s.watch, sizeof(GUID)) || er->EventHeader.EventDescriptor.Id != 160)
        return;
    s.watch_events++;
    ULONG size = 0;
    if (TdhGetEventInformation(er, 0, NULL, NULL, &size) != ERROR_INSUFFICIENT_BUFFER)
        return;
    PROVIDER_ENUMERATION_INFO *all = enumerate(-1), *xml = enumerate(DecodingSourceXMLFile);
    const TRACE_PROVIDER_INFO *p = listed(all, &s.watch);
    if (p && listed(xml, &s.watch) && p->SchemaSource == DecodingSourceXMLFile)
        s.watch_listed++;
    free(all);
    free(xml);
}

static void embedded_schemas_listed_while_processed(void **state)
{
    (void)state;
    char path[1024];
    if (!corpus_trace("pktmon/demikernel-PktMon-compressed.etl", path, sizeof path))
        TEST_SKIP("the corpus traces are absent");
    etwire_tdh_reset();
    etwire_tdh_use_builtin_schemas(0); /* so that only the trace's own schemas know pktmon */
    memset(&s, 0, sizeof s);
    s.watch = (GUID){0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}};
    PROVIDER_ENUMERATION_INFO *before = enumerate(-1);
    assert_null(listed(before, &s.watch));
    process(path, on_pktmon_event);
    assert_int_equal(s.watch_events, 114);
    assert_int_equal(s.watch_listed, 114);
    PROVIDER_ENUMERATION_INFO *after = enumerate(-1);
    assert_null(listed(after, &s.watch));
    /* The same registered equivalents as before the trace. */
    assert_int_equal(after->NumberOfProviders, before->NumberOfProviders);
    free(before);
    free(after);
    etwire_tdh_use_builtin_schemas(1);
    etwire_tdh_reset();
}

/* One of two sessions processed at once: the TraceLogging list seen in its callbacks holds
 * exactly the providers of its own trace delivered so far, also while the other session's are
 * noted. No cmocka asserts off the main thread: failures are counted. */
typedef struct concurrent {
    char path[1024];
    GUID mine[MAX_GUIDS];
    unsigned n_mine, checks, failures, met;
    ULONG rc;
} concurrent;

static pthread_mutex_t meet_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cv = PTHREAD_COND_INITIALIZER;
static unsigned arrived;

/* Waits (30 s at most) until both sessions have delivered a TraceLogging event. */
static int meet_other(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&meet_mu);
    arrived++;
    pthread_cond_broadcast(&meet_cv);
    int rc = 0;
    while (arrived < 2 && rc == 0)
        rc = pthread_cond_timedwait(&meet_cv, &meet_mu, &deadline);
    int met = arrived >= 2;
    pthread_mutex_unlock(&meet_mu);
    return met;
}

static void WINAPI on_concurrent_event(PEVENT_RECORD er)
{
    concurrent *c = er->UserContext;
    if (!is_tlg(er))
        return;
    unsigned i = 0;
    while (i < c->n_mine && memcmp(&c->mine[i], &er->EventHeader.ProviderId, sizeof(GUID)))
        i++;
    if (i == c->n_mine && c->n_mine < MAX_GUIDS)
        c->mine[c->n_mine++] = er->EventHeader.ProviderId;
    if (!c->met)
        c->met = meet_other() ? 1 : 2;
    ULONG size = 0, need = 0;
    if (TdhEnumerateProvidersForDecodingSource(DecodingSourceTlg, NULL, 0, &size) != ERROR_INSUFFICIENT_BUFFER) {
        c->failures++;
        return;
    }
    PROVIDER_ENUMERATION_INFO *p = malloc(size);
    if (!p || TdhEnumerateProvidersForDecodingSource(DecodingSourceTlg, p, size, &need) != ERROR_SUCCESS ||
        p->NumberOfProviders != c->n_mine) {
        c->failures++;
    } else {
        for (unsigned k = 0; k < c->n_mine; k++)
            if (!listed(p, &c->mine[k]))
                c->failures++;
    }
    c->checks++;
    free(p);
}

static void *process_concurrently(void *arg)
{
    concurrent *c = arg;
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = on_concurrent_event;
    opts.EventCallbackContext = c;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(c->path, &opts, &hdr);
    c->rc = h == INVALID_PROCESSTRACE_HANDLE ? etwire_last_error() : ProcessTrace(&h, 1, NULL, NULL);
    if (h != INVALID_PROCESSTRACE_HANDLE)
        CloseTrace(h);
    return NULL;
}

static void sessions_see_only_their_own(void **state)
{
    (void)state;
    static concurrent c[2];
    memset(c, 0, sizeof c);
    if (!corpus_trace("traceevent/primitive-types.etl", c[0].path, sizeof c[0].path) ||
        !corpus_trace("traceevent/SelfDescribingSingleEvent.etl", c[1].path, sizeof c[1].path))
        TEST_SKIP("the corpus traces are absent");
    arrived = 0;
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, process_concurrently, &c[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c[i].rc, ERROR_SUCCESS);
        assert_int_equal(c[i].met, 1); /* both sessions were open at once */
        assert_true(c[i].n_mine >= 1 && c[i].checks >= 1);
        assert_int_equal(c[i].failures, 0);
    }
    /* The two traces have no TraceLogging provider in common. */
    for (unsigned a = 0; a < c[0].n_mine; a++)
        for (unsigned b = 0; b < c[1].n_mine; b++)
            assert_memory_not_equal(&c[0].mine[a], &c[1].mine[b], sizeof(GUID));
}

/* The decoding-source lists partition the full one; bad arguments are refused. */
static void decoding_sources(void **state)
{
    (void)state;
    PROVIDER_ENUMERATION_INFO *all = enumerate(-1);
    ULONG total = 0;
    for (int f = DecodingSourceXMLFile; f < DecodingSourceMax; f++) {
        PROVIDER_ENUMERATION_INFO *one = enumerate(f);
        for (ULONG i = 0; i < one->NumberOfProviders; i++) {
            const TRACE_PROVIDER_INFO *p = listed(all, &one->TraceProviderInfoArray[i].ProviderGuid);
            assert_non_null(p);
            assert_int_equal(p->SchemaSource, (ULONG)f);
        }
        if (f == DecodingSourceWPP || f == DecodingSourceTlg) /* no session is being processed */
            assert_int_equal(one->NumberOfProviders, 0);
        total += one->NumberOfProviders;
        free(one);
    }
    assert_int_equal(total, all->NumberOfProviders);
    assert_true(all->NumberOfProviders > 900); /* the built-in pack and the kernel classes */
    free(all);
    ULONG need = 0;
    assert_int_equal(TdhEnumerateProvidersForDecodingSource(DecodingSourceMax, NULL, 0, &need), ERROR_INVALID_PARAMETER);
    assert_int_equal(TdhEnumerateProvidersForDecodingSource(DecodingSourceXMLFile, NULL, 0, NULL), ERROR_INVALID_PARAMETER);
    assert_int_equal(TdhEnumerateProviders(NULL, NULL), ERROR_INVALID_PARAMETER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tracelogging_providers_listed_while_processed),
        cmocka_unit_test(embedded_schemas_listed_while_processed),
        cmocka_unit_test(sessions_see_only_their_own),
        cmocka_unit_test(decoding_sources),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
