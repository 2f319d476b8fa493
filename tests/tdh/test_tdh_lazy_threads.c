/* Lazy schema learning with several traces at once (ETWIRE_TEST_THREADS: also run under TSan).
 * Each thread stands for a session delivering on its own thread (its own decode scope): it keeps
 * schema records as the session hook does and decodes with them, while the others do the same
 * and another thread, outside any trace, looks up and lists providers. Every thread sees its own
 * newest schema and nobody else's; what the traces kept is freed when they end. */
#include "tdh_test_util.h"

#include <pthread.h>
#include <stdio.h>

#include <etwire/etwire.h>

#include "base/decode_scope.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/store/schema_lookup.h"

#define THREADS 3
#define ROUNDS 200

static const GUID app = {0x6b1a2c3d, 0x4e5f, 0x4a6b, {0x8c, 0x9d, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d}};

typedef struct worker {
    uint32_t scope;
    int failures;
} worker;

static int deliver(uint32_t scope, const char *field, LONGLONG when)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = app;
    b.hdr.EventDescriptor.Id = 5;
    b.hdr.ProviderNameOffset = etw_teib_str(&b, "App", SIZE_MAX);
    etw_teib_add(&b, -1, field, TDH_INTYPE_UINT32, 0);
    size_t size;
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, &size);
    etw_teib_free(&b);
    if (!t)
        return 0;
    EVENT_RECORD info = tdh_rec(0, t, size, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    info.EventHeader.ProviderId = etw_metadata_guid;
    info.EventHeader.EventDescriptor.Opcode = 32;
    info.EventHeader.TimeStamp.QuadPart = when;
    etw_decode_scope = scope;
    int kept = etw_metadata_capture(&info);
    free(t);
    return kept;
}

/* The name of the first field TDH gives for app's event 5 in this thread's scope, or "". */
static void first_field(char *out, size_t cap)
{
    static const uint8_t pay[4] = {42, 0, 0, 0};
    EVENT_RECORD r = tdh_rec(5, pay, 4, 0);
    r.EventHeader.ProviderId = app;
    out[0] = '\0';
    ULONG size = 0;
    if (TdhGetEventInformation(&r, 0, NULL, NULL, &size) != ERROR_INSUFFICIENT_BUFFER)
        return;
    TRACE_EVENT_INFO *t = malloc(size);
    if (t && TdhGetEventInformation(&r, 0, NULL, t, &size) == ERROR_SUCCESS && t->TopLevelPropertyCount) {
        const WCHAR *w = (const WCHAR *)(const void *)((const uint8_t *)t + t->EventPropertyInfoArray[0].NameOffset);
        size_t i = 0;
        for (; w[i] && i + 1 < cap; i++)
            out[i] = (char)w[i];
        out[i] = '\0';
    }
    free(t);
}

static void *trace_thread(void *arg)
{
    worker *w = arg;
    char want[32], got[32];
    for (int i = 0; i < ROUNDS; i++) {
        snprintf(want, sizeof want, "S%u_%d", (unsigned)w->scope, i);
        if (deliver(w->scope, want, i + 1) != 1)
            w->failures++;
        /* Every other round, a record that is only kept (compiled by the next round's lookup). */
        if (i % 2)
            continue;
        first_field(got, sizeof got);
        if (strcmp(got, want) != 0)
            w->failures++;
    }
    etw_decode_scope = 0;
    etw_tdh_forget_scope(w->scope);
    return NULL;
}

static void *outsider_thread(void *arg)
{
    int *failures = arg;
    char got[32];
    for (int i = 0; i < ROUNDS; i++) {
        first_field(got, sizeof got);
        if (got[0])
            (*failures)++; /* a trace's schema seen outside it */
        ULONG size = 0;
        if (TdhEnumerateProviders(NULL, &size) != ERROR_INSUFFICIENT_BUFFER)
            (*failures)++;
    }
    return NULL;
}

static void traces_on_their_own_threads(void **state)
{
    (void)state;
    etwire_tdh_reset();
    pthread_t th[THREADS + 1];
    worker w[THREADS];
    int outsider_failures = 0;
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (worker){etw_decode_scope_new(), 0};
        assert_int_equal(pthread_create(&th[i], NULL, trace_thread, &w[i]), 0);
    }
    assert_int_equal(pthread_create(&th[THREADS], NULL, outsider_thread, &outsider_failures), 0);
    for (unsigned i = 0; i <= THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (unsigned i = 0; i < THREADS; i++)
        assert_int_equal(w[i].failures, 0);
    assert_int_equal(outsider_failures, 0);
    assert_int_equal(etw_embedded_held_bytes(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(traces_on_their_own_threads, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
