/* Relay frames: every type round-trips through encoder and decoder, at every split point of
 * the byte stream, and every malformed header or payload gives its own status code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "relay/wire/frame.h"
#include "relay/wire/msg.h"

#define BUF_LEN 200

/* A stream holding one frame of every type, in protocol order. */
static size_t build_stream(uint8_t *out, size_t cap, uint8_t *raw)
{
    size_t pos = 0;
    etw_relay_hello h = {.max_frame = 1 << 20, .max_in_flight = 8, .caps = 1, .instance = 0x1122334455667788ull};
    strcpy(h.source, "host-1.example");
    strcpy(h.session, "NT_Kernel_Logger");
    pos += etw_relay_encode_hello(out + pos, cap - pos, &h);
    etw_relay_welcome w = {.max_frame = ETW_RELAY_MAX_FRAME_DEFAULT, .max_in_flight = 4, .caps = 1, .next_seq = 7};
    pos += etw_relay_encode_welcome(out + pos, cap - pos, &w);
    for (int i = 0; i < BUF_LEN; i++)
        raw[i] = (uint8_t)(i * 7);
    pos += etw_relay_encode_buffer_prefix(out + pos, 42, BUF_LEN, 0, BUF_LEN);
    memcpy(out + pos, raw, BUF_LEN);
    pos += BUF_LEN;
    pos += etw_relay_encode_ack(out + pos, cap - pos, 43);
    pos += etw_relay_encode_end(out + pos, cap - pos, 43);
    pos += etw_relay_encode_ping(out + pos, cap - pos);
    pos += etw_relay_encode_close(out + pos, cap - pos, ETW_RELAY_CLOSE_SHUTDOWN, "bye");
    return pos;
}

static void check_frame(int index, const etw_relay_frame *f, const uint8_t *raw)
{
    static const uint8_t types[] = {ETW_RELAY_HELLO, ETW_RELAY_WELCOME, ETW_RELAY_BUFFER, ETW_RELAY_ACK,
                                    ETW_RELAY_END, ETW_RELAY_PING, ETW_RELAY_CLOSE};
    assert_int_equal(f->h.type, types[index]);
    uint64_t v;
    switch (f->h.type) {
    case ETW_RELAY_HELLO: {
        etw_relay_hello h;
        assert_int_equal(etw_relay_parse_hello(f->payload, f->h.length, &h), ETW_RELAY_OK);
        assert_string_equal(h.source, "host-1.example");
        assert_string_equal(h.session, "NT_Kernel_Logger");
        assert_int_equal(h.max_in_flight, 8);
        assert_true(h.instance == 0x1122334455667788ull);
        break;
    }
    case ETW_RELAY_WELCOME: {
        etw_relay_welcome w;
        assert_int_equal(etw_relay_parse_welcome(f->payload, f->h.length, &w), ETW_RELAY_OK);
        assert_int_equal(w.next_seq, 7);
        assert_int_equal(w.max_in_flight, 4);
        break;
    }
    case ETW_RELAY_BUFFER: {
        etw_relay_buffer b;
        assert_int_equal(etw_relay_parse_buffer(f->payload, f->h.length, f->h.flags, &b), ETW_RELAY_OK);
        assert_int_equal(b.seq, 42);
        assert_int_equal(b.data_len, BUF_LEN);
        assert_memory_equal(b.data, raw, BUF_LEN);
        break;
    }
    case ETW_RELAY_ACK:
    case ETW_RELAY_END:
        assert_int_equal(etw_relay_parse_u64(f->payload, f->h.length, &v), ETW_RELAY_OK);
        assert_int_equal(v, 43);
        break;
    case ETW_RELAY_CLOSE: {
        etw_relay_close c;
        assert_int_equal(etw_relay_parse_close(f->payload, f->h.length, &c), ETW_RELAY_OK);
        assert_int_equal(c.reason, ETW_RELAY_CLOSE_SHUTDOWN);
        assert_int_equal(c.text_len, 3);
        assert_memory_equal(c.text, "bye", 3);
        break;
    }
    default:
        assert_int_equal(f->h.length, 0);
    }
}

/* Feeds the stream in chunks cut at `a` and `b`, checking each frame as it completes; with
 * `direct`, BUFFER payload bytes are written straight into the target as the collector
 * receives them (etw_relay_decoder_direct), the rest fed. */
static int decode_split(const uint8_t *s, size_t n, size_t a, size_t b, const uint8_t *raw, int direct)
{
    static etw_relay_decoder d;
    uint8_t target[BUF_LEN + 64];
    etw_relay_decoder_init(&d, ETW_RELAY_MAX_FRAME_DEFAULT);
    size_t cuts[] = {0, a, b, n};
    int frames = 0;
    for (int c = 0; c < 3; c++) {
        size_t pos = cuts[c], end = cuts[c + 1];
        while (pos < end) {
            size_t used;
            etw_relay_frame f;
            uint8_t *dst;
            size_t due = direct ? etw_relay_decoder_direct(&d, &dst) : 0;
            int rc;
            if (due) {
                used = due < end - pos ? due : end - pos;
                memcpy(dst, s + pos, used);
                rc = etw_relay_decoder_direct_done(&d, used, &f);
            } else {
                rc = etw_relay_decoder_feed(&d, s + pos, end - pos, &used, &f);
            }
            pos += used;
            assert_true(rc > 0);
            if (rc == ETW_RELAY_NEED_TARGET) {
                assert_true(d.h.length <= sizeof target);
                etw_relay_decoder_set_target(&d, target);
            } else if (rc == ETW_RELAY_FRAME) {
                check_frame(frames++, &f, raw);
            }
        }
    }
    assert_true(etw_relay_decoder_idle(&d));
    return frames;
}

static void round_trip_every_split(void **state)
{
    uint8_t s[2048], raw[BUF_LEN];
    size_t n = build_stream(s, sizeof s, raw);
    assert_true(n > 300);
    for (int direct = 0; direct < 2; direct++) {
        for (size_t a = 0; a <= n; a++)
            assert_int_equal(decode_split(s, n, a, a, raw, direct), 7);
        /* Two cuts: every pair within the first frames plus a stride over the rest. */
        for (size_t a = 0; a <= n; a += 3)
            for (size_t b = a; b <= n; b += 5)
                assert_int_equal(decode_split(s, n, a, b, raw, direct), 7);
    }
    /* Outside a BUFFER payload nothing is direct, and claiming too much fails the decoder. */
    etw_relay_decoder d;
    etw_relay_decoder_init(&d, ETW_RELAY_MAX_FRAME_DEFAULT);
    uint8_t *dst, target[BUF_LEN + 64];
    assert_int_equal(etw_relay_decoder_direct(&d, &dst), 0);
    size_t used, buffer_at = 0;
    etw_relay_frame f;
    while (buffer_at < n && etw_relay_decoder_feed(&d, s + buffer_at, n - buffer_at, &used, &f) != ETW_RELAY_NEED_TARGET)
        buffer_at += used;
    buffer_at += used;
    etw_relay_decoder_set_target(&d, target);
    assert_int_equal(etw_relay_decoder_direct(&d, &dst), d.h.length);
    assert_ptr_equal(dst, target);
    assert_true(etw_relay_decoder_direct_done(&d, d.h.length + 1, &f) < 0);
}

static void byte_at_a_time(void **state)
{
    uint8_t s[2048], raw[BUF_LEN], target[BUF_LEN + 64];
    size_t n = build_stream(s, sizeof s, raw);
    etw_relay_decoder d;
    etw_relay_decoder_init(&d, ETW_RELAY_MAX_FRAME_DEFAULT);
    int frames = 0;
    for (size_t i = 0; i < n;) {
        size_t used;
        etw_relay_frame f;
        int rc = etw_relay_decoder_feed(&d, s + i, 1, &used, &f);
        i += used;
        if (rc == ETW_RELAY_NEED_TARGET) {
            /* Asked once, right after the header's last byte; no byte is taken meanwhile. */
            assert_int_equal(etw_relay_decoder_feed(&d, s + i, 1, &used, &f), ETW_RELAY_NEED_TARGET);
            assert_int_equal(used, 0);
            etw_relay_decoder_set_target(&d, target);
            continue;
        }
        assert_int_equal(used, 1);
        if (rc == ETW_RELAY_FRAME)
            check_frame(frames++, &f, raw);
    }
    assert_int_equal(frames, 7);
}

static int feed_all(const uint8_t *s, size_t n, uint32_t max)
{
    static etw_relay_decoder d;
    static uint8_t target[1 << 16];
    etw_relay_decoder_init(&d, max);
    size_t pos = 0;
    int rc = ETW_RELAY_NEED_MORE;
    while (pos < n) {
        size_t used;
        etw_relay_frame f;
        rc = etw_relay_decoder_feed(&d, s + pos, n - pos, &used, &f);
        pos += used;
        if (rc < 0)
            return rc;
        if (rc == ETW_RELAY_NEED_TARGET)
            etw_relay_decoder_set_target(&d, target);
    }
    return rc;
}

static void malformed_headers(void **state)
{
    uint8_t h[ETW_RELAY_HEADER_SIZE];
    etw_relay_header_format(h, ETW_RELAY_PING, 0, 0);
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_FRAME);
    h[0] = 'X';
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_E_MAGIC);
    etw_relay_header_format(h, ETW_RELAY_PING, 0, 0);
    h[4] = 2;
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_E_VERSION);
    etw_relay_header_format(h, 0, 0, 0);
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_E_TYPE);
    etw_relay_header_format(h, 8, 0, 0);
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_E_TYPE);
    etw_relay_header_format(h, ETW_RELAY_ACK, ETW_RELAY_FLAG_ZSTD, 8);
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_E_FLAGS);
    etw_relay_header_format(h, ETW_RELAY_BUFFER, 0x8000, 100);
    assert_int_equal(feed_all(h, sizeof h, 1000), ETW_RELAY_E_FLAGS);
    etw_relay_header_format(h, ETW_RELAY_ACK, 0, ETW_RELAY_CONTROL_MAX + 1);
    assert_int_equal(feed_all(h, sizeof h, 0), ETW_RELAY_E_TOO_LARGE);
    /* Oversized BUFFER lengths fail on the header, before any storage is asked for. */
    etw_relay_header_format(h, ETW_RELAY_BUFFER, 0, 0xFFFFFFFFu);
    assert_int_equal(feed_all(h, sizeof h, ETW_RELAY_MAX_FRAME_DEFAULT), ETW_RELAY_E_TOO_LARGE);
    etw_relay_header_format(h, ETW_RELAY_BUFFER, 0, 1001);
    assert_int_equal(feed_all(h, sizeof h, 1000), ETW_RELAY_E_TOO_LARGE);
    etw_relay_header_format(h, ETW_RELAY_BUFFER, 0, ETW_RELAY_BUFFER_BODY);
    assert_int_equal(feed_all(h, sizeof h, 1000), ETW_RELAY_E_LAYOUT);
    /* A failed decoder stays failed. */
    etw_relay_decoder d;
    size_t used;
    etw_relay_frame f;
    etw_relay_decoder_init(&d, 0);
    h[0] = 0;
    assert_int_equal(etw_relay_decoder_feed(&d, h, sizeof h, &used, &f), ETW_RELAY_E_MAGIC);
    etw_relay_header_format(h, ETW_RELAY_PING, 0, 0);
    assert_int_equal(etw_relay_decoder_feed(&d, h, sizeof h, &used, &f), ETW_RELAY_E_MAGIC);
    assert_int_equal(used, 0);
}

static void malformed_payloads(void **state)
{
    uint8_t p[600] = {0};
    etw_relay_hello h;
    etw_relay_welcome w;
    etw_relay_buffer b;
    etw_relay_close c;
    uint64_t v;
    assert_int_equal(etw_relay_parse_hello(p, 19, &h), ETW_RELAY_E_LAYOUT);
    /* max_frame below 4096 and a zero window are layout errors. */
    assert_int_equal(etw_relay_parse_hello(p, 22, &h), ETW_RELAY_E_LAYOUT);
    p[1] = 0x10; /* max_frame 4096 */
    p[4] = 1;
    assert_int_equal(etw_relay_parse_hello(p, 20, &h), ETW_RELAY_E_LAYOUT); /* no names */
    p[20] = 0;
    assert_int_equal(etw_relay_parse_hello(p, 22, &h), ETW_RELAY_E_NAME); /* empty name */
    p[20] = 3;
    memcpy(p + 21, "a/b", 3);
    p[24] = 1;
    p[25] = 'x';
    assert_int_equal(etw_relay_parse_hello(p, 26, &h), ETW_RELAY_E_NAME);
    memcpy(p + 21, "abc", 3);
    assert_int_equal(etw_relay_parse_hello(p, 26, &h), ETW_RELAY_OK);
    assert_int_equal(etw_relay_parse_hello(p, 27, &h), ETW_RELAY_E_LAYOUT); /* trailing byte */
    p[24] = 200;
    assert_int_equal(etw_relay_parse_hello(p, 26, &h), ETW_RELAY_E_LAYOUT); /* name past end */
    memcpy(p + 21, "..x", 3);
    p[24] = 1;
    assert_int_equal(etw_relay_parse_hello(p, 26, &h), ETW_RELAY_E_NAME);

    memset(p, 0, sizeof p);
    assert_int_equal(etw_relay_parse_welcome(p, 19, &w), ETW_RELAY_E_LAYOUT);
    assert_int_equal(etw_relay_parse_welcome(p, 20, &w), ETW_RELAY_E_LAYOUT); /* limits too low */

    assert_int_equal(etw_relay_parse_buffer(p, 12, 0, &b), ETW_RELAY_E_LAYOUT);
    p[8] = 71;
    assert_int_equal(etw_relay_parse_buffer(p, 12 + 71, 0, &b), ETW_RELAY_E_BUFFER_SIZE);
    p[8] = 0;
    p[11] = 0x02; /* 32 MiB */
    assert_int_equal(etw_relay_parse_buffer(p, 100, ETW_RELAY_FLAG_ZSTD, &b), ETW_RELAY_E_BUFFER_SIZE);
    p[11] = 0;
    p[8] = 80;
    assert_int_equal(etw_relay_parse_buffer(p, 12 + 79, 0, &b), ETW_RELAY_E_LAYOUT);
    assert_int_equal(etw_relay_parse_buffer(p, 12 + 80, 0, &b), ETW_RELAY_OK);
    assert_int_equal(etw_relay_parse_buffer(p, 12 + 20, ETW_RELAY_FLAG_ZSTD, &b), ETW_RELAY_OK);

    assert_int_equal(etw_relay_parse_u64(p, 7, &v), ETW_RELAY_E_LAYOUT);
    assert_int_equal(etw_relay_parse_u64(p, 9, &v), ETW_RELAY_E_LAYOUT);
    assert_int_equal(etw_relay_parse_close(p, 5, &c), ETW_RELAY_E_LAYOUT);
    p[4] = 4;
    assert_int_equal(etw_relay_parse_close(p, 9, &c), ETW_RELAY_E_LAYOUT);
    assert_int_equal(etw_relay_parse_close(p, 10, &c), ETW_RELAY_OK);
}

static void encoders_refuse_bad_input(void **state)
{
    uint8_t out[2048];
    etw_relay_hello h = {.max_frame = 1 << 20, .max_in_flight = 1};
    strcpy(h.source, "ok");
    strcpy(h.session, "bad name");
    assert_int_equal(etw_relay_encode_hello(out, sizeof out, &h), 0);
    strcpy(h.session, "good");
    assert_int_equal(etw_relay_encode_hello(out, 10, &h), 0);
    assert_true(etw_relay_encode_hello(out, sizeof out, &h) > 0);
    assert_int_equal(etw_relay_encode_ack(out, 19, 1), 0);
    assert_int_equal(etw_relay_encode_buffer_prefix(out, 0, 100, 0, 0), 0);
    /* Every status has a name, a message and a CLOSE reason. */
    for (int s = 0; s >= ETW_RELAY_STATUS_MIN; s--) {
        assert_string_not_equal(etw_relay_status_name(s), "UNKNOWN");
        assert_true(etw_relay_status_close_reason(s) < ETW_RELAY_CLOSE_COUNT_);
    }
    assert_string_equal(etw_relay_status_name(1), "UNKNOWN");
    assert_string_equal(etw_relay_close_reason_name(99), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_split),
        cmocka_unit_test(byte_at_a_time),
        cmocka_unit_test(malformed_headers),
        cmocka_unit_test(malformed_payloads),
        cmocka_unit_test(encoders_refuse_bad_input),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
