/* Lazy schema learning (issue 11; src/tdh/sources/embedded_pending.h): schema records a session
 * delivers are only kept raw, and compiled by the first lookup that needs them. What TDH answers
 * must not change: a schema is there for the event right after its record, the newest record
 * of a provider wins, a record kept after a lookup that missed is seen by the next lookup (memos
 * are told), a manifest whose XML describes another provider than the one that logged it is
 * still found, and past the bound records are compiled at once. On real traces:
 * test_tdh_lazy_corpus.c. */
#include "tdh_test_util.h"

#include <stdio.h>

#include <etwire/etwire.h>

#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/manifest.h"
#include "tdh/store/schema_lookup.h"

static const GUID app = {0x6b1a2c3d, 0x4e5f, 0x4a6b, {0x8c, 0x9d, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d}};
static const GUID other = {0x7c2b3d4e, 0x5f60, 0x4b7c, {0x9d, 0xae, 0x1f, 0x20, 0x3b, 0x4c, 0x5d, 0x6e}};

#define SCOPE 4242u

/* A MetaData EventInfo record describing provider's event 5 v0 with one UINT32 field. */
static TRACE_EVENT_INFO *event_info(const GUID *provider, const char *field, size_t *size)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = *provider;
    b.hdr.EventDescriptor.Id = 5;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, "App", SIZE_MAX);
    etw_teib_add(&b, -1, field, TDH_INTYPE_UINT32, 0);
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, size);
    etw_teib_free(&b);
    assert_non_null(t);
    return t;
}

static LONGLONG delivered;

/* Delivers (as the session hook does) a MetaData record teaching provider's event 5. */
static int deliver_info(const GUID *provider, const char *field)
{
    size_t size;
    TRACE_EVENT_INFO *t = event_info(provider, field, &size);
    EVENT_RECORD info = tdh_rec(0, t, size, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    info.EventHeader.ProviderId = etw_metadata_guid;
    info.EventHeader.EventDescriptor.Opcode = 32;
    info.EventHeader.TimeStamp.QuadPart = ++delivered; /* another event, wherever it lies */
    etw_decode_scope = SCOPE;
    int kept = etw_metadata_capture(&info);
    etw_decode_scope = 0;
    free(t);
    return kept;
}

/* Event 5 of provider with payload 42, formatted in the test scope. */
static const char *decode(const GUID *provider, int *ok)
{
    static const uint8_t pay[4] = {42, 0, 0, 0};
    EVENT_RECORD r = tdh_rec(5, pay, 4, 0);
    r.EventHeader.ProviderId = *provider;
    etw_decode_scope = SCOPE;
    const char *s = tdh_fmt(&r, 0, ok);
    etw_decode_scope = 0;
    return s;
}

static void kept_raw_then_compiled_in_order(void **state)
{
    (void)state;
    etwire_tdh_reset();
    int ok = 0;
    /* A lookup that misses first (its answer is memoized), then records for two providers,
     * interleaved: each provider's newest wins, and one provider's lookup leaves the other's
     * records uncompiled. */
    decode(&app, &ok);
    decode(&app, &ok); /* the miss is remembered now, and memoized */
    assert_false(ok);
    assert_int_equal(deliver_info(&other, "OtherOld"), 1);
    assert_int_equal(deliver_info(&app, "AppOld"), 1);
    assert_int_equal(deliver_info(&other, "OtherNew"), 1);
    assert_int_equal(deliver_info(&app, "AppNew"), 1);
    size_t before = etw_embedded_pending_bytes();
    assert_true(before > 0);
    assert_string_equal(decode(&app, &ok), "AppNew=42");
    assert_true(ok);
    size_t after = etw_embedded_pending_bytes();
    assert_true(after > 0 && after < before);
    assert_string_equal(decode(&other, &ok), "OtherNew=42");
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    /* A later record of a compiled provider: the next lookup sees it. */
    assert_int_equal(deliver_info(&app, "AppLater"), 1);
    assert_string_equal(decode(&app, &ok), "AppLater=42");
    /* The same record again, right after itself: not kept twice. */
    assert_int_equal(deliver_info(&app, "AppTwice"), 1);
    size_t once = etw_embedded_pending_bytes();
    assert_int_equal(deliver_info(&app, "AppTwice"), 1);
    assert_int_equal(etw_embedded_pending_bytes(), once);
    assert_string_equal(decode(&app, &ok), "AppTwice=42");
    /* Only in its own trace. */
    EVENT_RECORD r = tdh_rec(5, "\x2a\0\0\0", 4, 0);
    r.EventHeader.ProviderId = app;
    ULONG size = 0;
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    etw_tdh_forget_scope(SCOPE);
}

static void forgotten_with_the_trace(void **state)
{
    (void)state;
    etwire_tdh_reset();
    assert_int_equal(deliver_info(&app, "Never"), 1);
    assert_true(etw_embedded_pending_bytes() > 0);
    etw_tdh_forget_scope(SCOPE);
    assert_int_equal(etw_embedded_held_bytes(), 0);
    int ok = 1;
    decode(&app, &ok);
    assert_false(ok);
    /* etwire_tdh_reset drops kept records too. */
    assert_int_equal(deliver_info(&app, "Reset"), 1);
    etwire_tdh_reset();
    assert_int_equal(etw_embedded_held_bytes(), 0);
    decode(&app, &ok);
    assert_false(ok);
}

static void past_the_bound_compiled_at_once(void **state)
{
    (void)state;
    etwire_tdh_reset();
    etw_embedded_set_max_bytes(1);
    assert_int_equal(deliver_info(&app, "Eager"), 1);
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    int ok = 0;
    assert_string_equal(decode(&app, &ok), "Eager=42");
    /* A record kept under a larger bound, then one past it: both compiled, in order. */
    etw_embedded_set_max_bytes(600);
    assert_int_equal(deliver_info(&app, "Kept"), 1);
    assert_true(etw_embedded_pending_bytes() > 0);
    etw_embedded_set_max_bytes(1);
    assert_int_equal(deliver_info(&app, "Over"), 1);
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    assert_string_equal(decode(&app, &ok), "Over=42");
    etw_embedded_set_max_bytes(0);
    etw_tdh_forget_scope(SCOPE);
}

/* An EventSource manifest describing provider described, logged by emitter. */
static void deliver_manifest(const GUID *emitter, const GUID *described, const char *field)
{
    char g[40], xml[1024];
    etw_guid_format(described, g);
    int n = snprintf(xml, sizeof xml,
                     "<instrumentationManifest xmlns='http://schemas.microsoft.com/win/2004/08/events'>"
                     "<instrumentation><events><provider name='Lazy-Source' guid='{%s}' symbol='L'>"
                     "<templates><template tid='T'><data name='%s' inType='win:UInt32'/></template></templates>"
                     "<events><event value='5' version='0' template='T'/></events>"
                     "</provider></events></instrumentation></instrumentationManifest>",
                     g, field);
    uint8_t pay[1100];
    const uint8_t env[8] = {1, 1, 0, 0x5B, 1, 0, 0, 0}; /* XML, v1.0, one chunk, chunk 0 */
    memcpy(pay, env, 8);
    memcpy(pay + 8, xml, (size_t)n);
    EVENT_RECORD r = tdh_rec(0xFFFE, pay, 8 + (size_t)n, 0);
    r.EventHeader.ProviderId = *emitter;
    r.EventHeader.EventDescriptor.Opcode = 0xFE;
    r.EventHeader.EventDescriptor.Task = 0xFFFE;
    r.EventHeader.EventDescriptor.Version = 1;
    r.EventHeader.TimeStamp.QuadPart = ++delivered;
    etw_decode_scope = SCOPE;
    assert_int_equal(etw_metadata_capture(&r), 1);
    etw_decode_scope = 0;
}

static void manifests_kept_until_looked_up(void **state)
{
    (void)state;
    etwire_tdh_reset();
    int ok = 1;
    /* The provider's events come before its manifest (it is logged late): they find nothing,
     * and the first one after it finds it. */
    decode(&app, &ok);
    decode(&app, &ok);
    assert_false(ok);
    deliver_manifest(&app, &app, "FromManifest");
    assert_true(etw_embedded_pending_bytes() > 0);
    assert_string_equal(decode(&app, &ok), "FromManifest=42");
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    /* The ManifestData event itself is named from it. */
    EVENT_RECORD md = tdh_rec(0xFFFE, "", 0, 0);
    md.EventHeader.ProviderId = app;
    md.EventHeader.EventDescriptor.Version = 1;
    etw_strbuf prov = {0}, name = {0};
    etw_decode_scope = SCOPE;
    assert_int_equal(etw_event_describe(&md, &prov, &name), 1);
    etw_decode_scope = 0;
    assert_string_equal(prov.data, "Lazy-Source");
    assert_string_equal(name.data, "ManifestData");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    /* Logged again (EventSource does): compiling it again would change nothing, so it is not
     * kept; after another record of its provider, it is. */
    deliver_manifest(&app, &app, "FromManifest");
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    assert_int_equal(deliver_info(&app, "Between"), 1);
    size_t one = etw_embedded_pending_bytes();
    deliver_manifest(&app, &app, "FromManifest");
    assert_true(etw_embedded_pending_bytes() > one);
    assert_string_equal(decode(&app, &ok), "Between=42"); /* EventInfo ranks above a manifest */
    /* Logged by app but describing other: a lookup of other (or of anything) compiles it. A
     * MetaData record of other kept before it still wins: by precedence, not by order. */
    assert_int_equal(deliver_info(&other, "OtherInfo"), 1);
    deliver_manifest(&app, &other, "OtherFromManifest");
    assert_string_equal(decode(&other, &ok), "OtherInfo=42");
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    deliver_manifest(&app, &other, "Foreign");
    assert_string_equal(decode(&app, &ok), "Between=42");
    assert_int_equal(etw_embedded_pending_bytes(), 0);
    etw_tdh_forget_scope(SCOPE);
    etwire_tdh_reset();
    deliver_manifest(&app, &other, "Foreign");
    decode(&app, &ok);
    assert_false(ok);
    assert_string_equal(decode(&other, &ok), "Foreign=42");
    etw_tdh_forget_scope(SCOPE);
}

static int sole(const char *xml, GUID *g)
{
    return etw_manifest_sole_provider((const uint8_t *)xml, strlen(xml), g);
}

static void which_provider_a_manifest_describes(void **state)
{
    (void)state;
    GUID g;
    const GUID want = {0x2e5dba47, 0xa3d2, 0x4d16, {0x8e, 0xe0, 0x66, 0x71, 0xff, 0xdc, 0xd7, 0xb5}};
    assert_int_equal(sole("<e><provider name='x' guid=\"{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}\">"
                          "<event/></provider></e>", &g), 1);
    assert_memory_equal(&g, &want, sizeof g);
    assert_int_equal(sole("<e><win:provider guid='2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5'/></e>", &g), 1);
    assert_memory_equal(&g, &want, sizeof g);
    /* What only a parser can tell is left to it. */
    assert_int_equal(sole("<e/>", &g), 0);
    assert_int_equal(sole("<e><provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'/>"
                          "<provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b6}'/></e>", &g), 0);
    assert_int_equal(sole("<!-- x --><e><provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'/></e>", &g), 0);
    assert_int_equal(sole("<e><provider guid='&#x7B;2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'/></e>", &g), 0);
    assert_int_equal(sole("<e><provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}' a:guid='{x}'/></e>", &g), 0);
    assert_int_equal(sole("<e><provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}\"/></e>", &g), 0);
    assert_int_equal(sole("<e><provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'", &g), 0);
    assert_int_equal(sole("<e><provider\tguid='\n{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'/></e>", &g), 0);
    /* A longer name is another element; a '<' in a value counts as a tag (over-approximation). */
    assert_int_equal(sole("<e><providers/><provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'/></e>", &g), 1);
    assert_int_equal(sole("<e a='<provider guid=\"{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b6}\">'>"
                          "<provider guid='{2e5dba47-a3d2-4d16-8ee0-6671ffdcd7b5}'/></e>", &g), 0);
    static const uint8_t utf16[] = {'<', 0, 'p', 0, 'r', 0, 'o', 0};
    assert_int_equal(etw_manifest_sole_provider(utf16, sizeof utf16, &g), 0);
}

static int teardown(void **state)
{
    etw_embedded_set_max_bytes(0);
    etw_tdh_forget_scope(SCOPE);
    return tdh_reset_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(kept_raw_then_compiled_in_order, teardown),
        cmocka_unit_test_teardown(forgotten_with_the_trace, teardown),
        cmocka_unit_test_teardown(past_the_bound_compiled_at_once, teardown),
        cmocka_unit_test_teardown(manifests_kept_until_looked_up, teardown),
        cmocka_unit_test(which_provider_a_manifest_describes),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
