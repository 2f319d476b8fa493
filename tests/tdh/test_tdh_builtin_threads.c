/* ETWIRE_TEST_THREADS: first lookups in the built-in schema pack from several threads at once
 * (opening the pack once, rebuilding schemas and maps, caching them under the store's lock):
 * every thread must get the same decoding as one thread alone. */
#include "tdh_test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 200

static const GUID clr = {0xe13c0d23, 0xccbc, 0x4e12, {0x93, 0x1b, 0xd9, 0xcc, 0x2e, 0xee, 0x27, 0xe4}};
static const uint8_t gc_start[] = {7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0};
static char expected[4][256];
static _Atomic int failures;

static EVENT_RECORD event(unsigned which)
{
    /* GC/Start of versions 0..3 (v0 has no ClrInstanceID and takes a shorter payload). */
    EVENT_RECORD r = tdh_rec(1, gc_start, which == 0 ? 8 : sizeof gc_start, 0);
    r.EventHeader.ProviderId = clr;
    r.EventHeader.EventDescriptor.Version = (UCHAR)which;
    r.EventHeader.EventDescriptor.Opcode = 1;
    return r;
}

static void format(unsigned which, etw_strbuf *out)
{
    EVENT_RECORD r = event(which);
    etw_strbuf_reset(out);
    etw_event_format_fields(&r, 1, out);
}

static void *decoder(void *arg)
{
    unsigned first = (unsigned)(uintptr_t)arg;
    etw_strbuf out = {0};
    for (int i = 0; i < ROUNDS; i++) {
        unsigned which = (first + (unsigned)i) % 4;
        format(which, &out);
        if (!out.data || strcmp(out.data, expected[which]) != 0)
            failures++;
    }
    etw_strbuf_free(&out);
    return NULL;
}

static void concurrent_first_lookups(void **state)
{
    (void)state;
    etw_strbuf out = {0};
    for (unsigned w = 0; w < 4; w++) {
        format(w, &out);
        snprintf(expected[w], sizeof expected[w], "%s", out.data ? out.data : "");
    }
    etw_strbuf_free(&out);
    assert_non_null(strstr(expected[1], "\"Reason\":\"Induced\""));
    etwire_tdh_reset(); /* the threads race for the first lookups again */
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, decoder, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(concurrent_first_lookups, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
