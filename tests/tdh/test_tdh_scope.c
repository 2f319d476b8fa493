/* What a trace teaches the decoder (embedded EventMetadata, EventSource manifests) stays that
 * trace's: two traces that describe the same provider/id/version differently each decode with
 * their own schema, a trace without the schema does not borrow another's, and a destroyed
 * session's schemas are gone. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <sys/stat.h>

#include <etwire/etwire.h>

#include "base/decode_scope.h"
#include "tdh/store/schema_lookup.h"

static const GUID app = {0x5c09e7a1, 0x3b2d, 0x4e6f, {0x90, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70}};

/* A MetaData EventInfo record (opcode 32) describing app's event 5 v0 with one UINT32 field. */
static TRACE_EVENT_INFO *schema_with_field(const char *field, size_t *size)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = app;
    b.hdr.EventDescriptor.Id = 5;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, "App", SIZE_MAX);
    b.hdr.TaskNameOffset = etw_teib_str(&b, "Work", SIZE_MAX);
    etw_teib_add(&b, -1, field, TDH_INTYPE_UINT32, 0);
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, size);
    etw_teib_free(&b);
    assert_non_null(t);
    return t;
}

static void teach(uint32_t scope, const char *field)
{
    size_t size;
    TRACE_EVENT_INFO *t = schema_with_field(field, &size);
    EVENT_RECORD info = tdh_rec(0, t, size, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    info.EventHeader.ProviderId = etw_metadata_guid;
    info.EventHeader.EventDescriptor.Opcode = 32;
    etw_decode_scope = scope;
    assert_int_equal(etwire_tdh_observe(&info), 1);
    etw_decode_scope = 0;
    free(t);
}

static const char *decode_in(uint32_t scope, int *ok)
{
    static const uint8_t pay[4] = {42, 0, 0, 0};
    EVENT_RECORD r = tdh_rec(5, pay, 4, 0);
    r.EventHeader.ProviderId = app;
    etw_decode_scope = scope;
    const char *s = tdh_fmt(&r, 0, ok);
    etw_decode_scope = 0;
    return s;
}

static void test_scopes_do_not_mix(void **state)
{
    (void)state;
    etwire_tdh_reset();
    teach(101, "FromTraceA");
    teach(202, "FromTraceB");
    int ok = 0;
    assert_string_equal(decode_in(101, &ok), "FromTraceA=42");
    assert_true(ok);
    assert_string_equal(decode_in(202, &ok), "FromTraceB=42");
    assert_true(ok);
    /* A third trace that carried no schema, and code outside any trace, find none. */
    decode_in(303, &ok);
    assert_false(ok);
    decode_in(0, &ok);
    assert_false(ok);
    /* Trace A's session ends: its schema goes, B's stays. */
    etw_tdh_forget_scope(101);
    decode_in(101, &ok);
    assert_false(ok);
    assert_string_equal(decode_in(202, &ok), "FromTraceB=42");
    /* Learned outside any trace: process-wide, seen from every scope without its own. */
    teach(0, "Global");
    assert_string_equal(decode_in(0, &ok), "Global=42");
    assert_string_equal(decode_in(303, &ok), "Global=42");
    assert_string_equal(decode_in(202, &ok), "FromTraceB=42");
    etwire_tdh_reset();
}

/* --- the same through real sessions: two handles on a merged trace in one ProcessTrace --- */

typedef struct per_trace {
    uint32_t scope;
    int scope_changed;
    long events, decoded;
} per_trace;

static void WINAPI on_event(PEVENT_RECORD rec)
{
    per_trace *t = rec->UserContext;
    if (t->scope == 0)
        t->scope = etw_decode_scope;
    else if (t->scope != etw_decode_scope)
        t->scope_changed = 1;
    etw_strbuf prov = {0}, name = {0};
    t->events++;
    t->decoded += etw_event_describe(rec, &prov, &name);
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
}

static void count_learned(const etw_schema_key *key, const etw_schema *s, void *ctx)
{
    (void)s;
    if (key->scope)
        ++*(long *)ctx;
}

static long learned_entries(void)
{
    long n = 0;
    etw_schema_each(count_learned, &n);
    return n;
}

static PROCESSTRACE_HANDLE open_with(const char *path, per_trace *t)
{
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    o.EventCallback = on_event;
    o.EventCallbackContext = t;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    return h;
}

static void test_sessions_scope_what_they_teach(void **state)
{
    (void)state;
    const char *path = TEST_NEED_CORPUS_FILE("traceevent/net.4.5.2.x86.etl");
    etwire_tdh_reset();
    per_trace alone = {0};
    PROCESSTRACE_HANDLE h = open_with(path, &alone);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    assert_true(learned_entries() > 0); /* the session still exists: its schemas too */
    CloseTrace(h);
    assert_int_equal(learned_entries(), 0);

    per_trace a = {0}, b = {0};
    PROCESSTRACE_HANDLE hs[2] = {open_with(path, &a), open_with(path, &b)};
    assert_int_equal(ProcessTrace(hs, 2, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(hs[0]);
    CloseTrace(hs[1]);
    assert_int_equal(learned_entries(), 0);
    printf("alone: %ld of %ld events named by a schema; together: %ld and %ld\n", alone.decoded, alone.events,
           a.decoded, b.decoded);
    /* Each session decodes exactly as much as the trace did alone, each under its own scope. */
    assert_true(a.scope != 0 && b.scope != 0 && a.scope != b.scope);
    assert_false(a.scope_changed || b.scope_changed);
    assert_int_equal(a.events, alone.events);
    assert_int_equal(a.decoded, alone.decoded);
    assert_int_equal(b.decoded, alone.decoded);
    etwire_tdh_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes_do_not_mix),
        cmocka_unit_test(test_sessions_scope_what_they_teach),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
