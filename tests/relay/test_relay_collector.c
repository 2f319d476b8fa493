/* The collector-side state machine: handshake, in-order delivery, duplicate drop, window and
 * sequence errors, END, CLOSE, quota refusal; storage is always given back exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "relay/wire/collector.h"

typedef struct fixture {
    int allocs, releases, buffers, duplicates, ends, closes;
    uint64_t seqs[64];
    int refuse_hello, refuse_alloc;
    uint64_t next_seq;
} fixture;

static int on_hello(void *ctx, const etw_relay_hello *h, etw_relay_welcome *w)
{
    fixture *f = ctx;
    w->next_seq = f->next_seq;
    return f->refuse_hello ? ETW_RELAY_E_REFUSED : ETW_RELAY_OK;
}

static uint8_t *on_alloc(void *ctx, uint32_t len)
{
    fixture *f = ctx;
    if (f->refuse_alloc)
        return NULL;
    f->allocs++;
    return malloc(len);
}

static void on_release(void *ctx, uint8_t *p)
{
    fixture *f = ctx;
    f->releases++;
    free(p);
}

static int on_buffer(void *ctx, const etw_relay_buffer *b, uint16_t flags, uint8_t *storage)
{
    fixture *f = ctx;
    assert_true(b->data[0] == (uint8_t)b->seq);
    f->seqs[f->buffers++ & 63] = b->seq;
    on_release(ctx, storage);
    return ETW_RELAY_OK;
}

static void on_dup(void *ctx, uint64_t seq) { ((fixture *)ctx)->duplicates++; }
static int on_end(void *ctx, uint64_t n) { ((fixture *)ctx)->ends++; return ETW_RELAY_OK; }
static void on_close(void *ctx, const etw_relay_close *c) { ((fixture *)ctx)->closes++; }

static const etw_relay_collector_ops ops = {on_hello, on_alloc, on_release, on_buffer, on_dup, on_end, on_close};

static size_t hello(uint8_t *out, uint32_t window)
{
    etw_relay_hello h = {.max_frame = 1 << 20, .max_in_flight = window, .instance = 9};
    strcpy(h.source, "src");
    strcpy(h.session, "ses");
    return etw_relay_encode_hello(out, 1024, &h);
}

static size_t buffer(uint8_t *out, uint64_t seq)
{
    size_t n = etw_relay_encode_buffer_prefix(out, seq, 100, 0, 100);
    memset(out + n, (uint8_t)seq, 100);
    return n + 100;
}

static int run(fixture *f, const uint8_t *s, size_t n, size_t split, uint32_t window)
{
    static etw_relay_collector c;
    etw_relay_collector_init(&c, &ops, f, 0, window, 0);
    int st = etw_relay_collector_feed(&c, s, split);
    if (st == ETW_RELAY_OK)
        st = etw_relay_collector_feed(&c, s + split, n - split);
    etw_relay_collector_reset(&c);
    assert_int_equal(f->allocs, f->releases);
    return st;
}

static void whole_session_every_split(void **state)
{
    uint8_t s[4096];
    size_t n = hello(s, 16);
    for (uint64_t i = 0; i < 5; i++)
        n += buffer(s + n, i);
    n += buffer(s + n, 3); /* a resend that crossed an ACK */
    n += etw_relay_encode_ping(s + n, 64);
    n += etw_relay_encode_end(s + n, 64, 5);
    n += etw_relay_encode_close(s + n, 1024, ETW_RELAY_CLOSE_DONE, NULL);
    for (size_t split = 0; split <= n; split++) {
        fixture f = {0};
        assert_int_equal(run(&f, s, n, split, 16), ETW_RELAY_OK);
        assert_int_equal(f.buffers, 5);
        assert_int_equal(f.duplicates, 1);
        assert_int_equal(f.ends, 1);
        assert_int_equal(f.closes, 1);
        for (int i = 0; i < 5; i++)
            assert_int_equal(f.seqs[i], i);
    }
}

static void resume_drops_what_is_held(void **state)
{
    uint8_t s[4096];
    size_t n = hello(s, 16);
    for (uint64_t i = 0; i < 6; i++)
        n += buffer(s + n, i);
    fixture f = {.next_seq = 4};
    assert_int_equal(run(&f, s, n, n, 16), ETW_RELAY_OK);
    assert_int_equal(f.duplicates, 4);
    assert_int_equal(f.buffers, 2);
    assert_int_equal(f.seqs[0], 4);
}

static void protocol_errors(void **state)
{
    uint8_t s[4096];
    fixture f = {0};
    size_t n = buffer(s, 0); /* BUFFER before HELLO: refused before any allocation */
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_STATE);
    assert_int_equal(f.allocs, 0);

    n = etw_relay_encode_ack(s, 64, 1);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_STATE);

    n = hello(s, 4);
    n += hello(s + n, 4);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_STATE);

    n = hello(s, 4);
    n += buffer(s + n, 1); /* gap */
    memset(&f, 0, sizeof f);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_SEQUENCE);

    n = hello(s, 2); /* window of two, nothing acknowledged */
    for (uint64_t i = 0; i < 3; i++)
        n += buffer(s + n, i);
    memset(&f, 0, sizeof f);
    assert_int_equal(run(&f, s, n, n, 8), ETW_RELAY_E_WINDOW);
    assert_int_equal(f.buffers, 2);

    n = hello(s, 4);
    n += buffer(s + n, 0);
    n += etw_relay_encode_end(s + n, 64, 2);
    memset(&f, 0, sizeof f);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_SEQUENCE);

    n = hello(s, 4);
    n += etw_relay_encode_end(s + n, 64, 0);
    n += buffer(s + n, 0); /* after END */
    memset(&f, 0, sizeof f);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_STATE);

    n = hello(s, 4);
    n += etw_relay_encode_close(s + n, 64, 0, "x");
    n += etw_relay_encode_ping(s + n, 64);
    memset(&f, 0, sizeof f);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_CLOSED);

    n = hello(s, 4);
    memset(&f, 0, sizeof f);
    f.refuse_hello = 1;
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_REFUSED);

    n = hello(s, 4);
    n += buffer(s + n, 0);
    memset(&f, 0, sizeof f);
    f.refuse_alloc = 1;
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_RESOURCES);

    /* zstd was not negotiated (caps 0). */
    n = hello(s, 4);
    size_t p = etw_relay_encode_buffer_prefix(s + n, 0, 100, ETW_RELAY_FLAG_ZSTD, 20);
    memset(s + n + p, 0, 20);
    n += p + 20;
    memset(&f, 0, sizeof f);
    assert_int_equal(run(&f, s, n, n, 4), ETW_RELAY_E_FLAGS);
}

static void ack_moves_window(void **state)
{
    uint8_t s[4096];
    fixture f = {0};
    etw_relay_collector c;
    etw_relay_collector_init(&c, &ops, &f, 0, 2, 0);
    size_t n = hello(s, 2);
    n += buffer(s + n, 0);
    n += buffer(s + n, 1);
    assert_int_equal(etw_relay_collector_feed(&c, s, n), ETW_RELAY_OK);
    etw_relay_collector_acked(&c, 5); /* beyond what was received: ignored */
    n = buffer(s, 2);
    assert_int_equal(etw_relay_collector_feed(&c, s, n), ETW_RELAY_E_WINDOW);
    etw_relay_collector_init(&c, &ops, &f, 0, 2, 0);
    n = hello(s, 2);
    n += buffer(s + n, 0);
    n += buffer(s + n, 1);
    assert_int_equal(etw_relay_collector_feed(&c, s, n), ETW_RELAY_OK);
    etw_relay_collector_acked(&c, 1);
    n = buffer(s, 2);
    assert_int_equal(etw_relay_collector_feed(&c, s, n), ETW_RELAY_OK);
    etw_relay_collector_reset(&c);
    assert_int_equal(f.allocs, f.releases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_session_every_split),
        cmocka_unit_test(resume_drops_what_is_held),
        cmocka_unit_test(protocol_errors),
        cmocka_unit_test(ack_moves_window),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
