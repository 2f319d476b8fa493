/* ETWIRE_TEST_THREADS: decoding from several threads at once while schemas are being learned
 * (the store's lock, the per-thread lookup memo, retired schemas never freed while in use). */
#include "tdh_test_util.h"

#include <pthread.h>
#include <stdatomic.h>

#include "base/bytes.h"
#include "tdh/store/schema_lookup.h"

#define THREADS 4
#define ROUNDS 2000

static const GUID process_guid = {0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};

/* cmocka's asserts must stay on the test's thread: workers count failures instead. */
static _Atomic int failures;

static void *decoder(void *arg)
{
    (void)arg;
    uint8_t thread_payload[8] = {7, 0, 0, 0, 9, 0, 0, 0};
    etw_strbuf out = {0};
    for (int i = 0; i < ROUNDS; i++) {
        /* A kernel event (built-in table), then test-provider events whose schemas the main
         * thread is storing meanwhile. */
        EVENT_RECORD k = tdh_rec(0, thread_payload, 8, EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
        k.EventHeader.ProviderId = process_guid;
        k.EventHeader.EventDescriptor.Opcode = 11; /* Terminate: ProcessId */
        k.EventHeader.EventDescriptor.Version = 2;
        etw_strbuf_reset(&out);
        if (etw_event_format_fields(&k, 1, &out) != 1 || strcmp(out.data, "\"ProcessId\":7") != 0)
            failures++;
        EVENT_RECORD r = tdh_rec((uint16_t)(i % 50), thread_payload, 8, 0);
        etw_strbuf_reset(&out);
        if (etw_event_format_fields(&r, 0, &out) && strcmp(out.data, "A=7; B=9") != 0)
            failures++;
    }
    etw_strbuf_free(&out);
    return NULL;
}

static void test_concurrent_decoding(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, decoder, NULL), 0);
    for (uint16_t id = 0; id < 50; id++) {
        etw_teib b;
        etw_teib_init(&b);
        etw_teib_add(&b, -1, "A", TDH_INTYPE_UINT32, 0);
        etw_teib_add(&b, -1, "B", TDH_INTYPE_UINT32, 0);
        tdh_store(&b, id); /* also replaces remembered misses the decoders left */
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_concurrent_decoding)};
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    etwire_tdh_reset();
    return test_exit(r);
}
