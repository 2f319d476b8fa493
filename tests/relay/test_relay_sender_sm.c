/* The sender's protocol state machine (src/relay/wire/sender.h) driven with frames the real
 * encoders write: WELCOME against resume and cut spools, ACK bounds, and how each CLOSE is
 * classified (done, retry, final). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "relay/wire/sender.h"

static uint8_t f[ETW_RELAY_CONTROL_FRAME_MAX];

static int welcome(etw_relay_sender_sm *m, uint64_t next, uint32_t window, uint32_t caps)
{
    etw_relay_welcome w = {.max_frame = ETW_RELAY_MAX_FRAME_DEFAULT, .max_in_flight = window, .caps = caps,
                           .next_seq = next};
    return etw_relay_sender_sm_feed(m, f, etw_relay_encode_welcome(f, sizeof f, &w));
}

static int ack(etw_relay_sender_sm *m, uint64_t v)
{
    return etw_relay_sender_sm_feed(m, f, etw_relay_encode_ack(f, sizeof f, v));
}

static int close_frame(etw_relay_sender_sm *m, uint32_t reason)
{
    return etw_relay_sender_sm_feed(m, f, etw_relay_encode_close(f, sizeof f, reason, "why"));
}

static void numbered(etw_relay_sender_sm *m, int n)
{
    for (int i = 0; i < n; i++)
        etw_relay_sender_sm_number(m);
}

static void test_welcome_negotiates(void **state)
{
    etw_relay_sender_sm m;
    etw_relay_sender_sm_init(&m, 64, ETW_RELAY_CAP_ZSTD);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 0, 16, ETW_RELAY_CAP_ZSTD | 0x8), ETW_RELAY_OK);
    assert_int_equal(m.state, ETW_RELAY_SND_STREAM);
    assert_int_equal(m.window, 16);
    assert_int_equal(m.caps, ETW_RELAY_CAP_ZSTD);
    numbered(&m, 5);
    assert_int_equal(ack(&m, 3), ETW_RELAY_OK);
    assert_int_equal(m.acked, 3);
    assert_int_not_equal(ack(&m, 2), ETW_RELAY_OK); /* backwards */
    assert_int_equal(m.state, ETW_RELAY_SND_FAILED);
    assert_false(m.fatal); /* a new connection may do better */
}

static void test_ack_beyond_numbered_fails(void **state)
{
    etw_relay_sender_sm m;
    etw_relay_sender_sm_init(&m, 8, 0);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(ack(&m, 0), ETW_RELAY_E_STATE); /* before WELCOME */
    etw_relay_sender_sm_lost(&m);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 0, 8, 0), ETW_RELAY_OK);
    numbered(&m, 2);
    assert_int_not_equal(ack(&m, 3), ETW_RELAY_OK);
}

static void test_resume_and_cut_spool(void **state)
{
    etw_relay_sender_sm m;
    etw_relay_sender_sm_init(&m, 8, 0);
    m.resume = 1;
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 40, 8, 0), ETW_RELAY_OK);
    assert_int_equal(m.skip_to, 40); /* re-read, not resent */
    assert_int_equal(ack(&m, 40), ETW_RELAY_OK);

    etw_relay_sender_sm_init(&m, 8, 0);
    m.spool_cut = 1;
    numbered(&m, 10);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 11, 8, 0), ETW_RELAY_OK);
    assert_true(m.cut);
    assert_int_equal(m.next_seq, 11);

    etw_relay_sender_sm_init(&m, 8, 0); /* neither: the collector holds more than we ever had */
    numbered(&m, 3);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 4, 8, 0), ETW_RELAY_E_SEQUENCE);
    assert_true(m.fatal);
}

static void test_close_classified(void **state)
{
    static const struct {
        uint32_t reason;
        int fatal;
    } cases[] = {{ETW_RELAY_CLOSE_BUSY, 0},     {ETW_RELAY_CLOSE_RESOURCES, 0}, {ETW_RELAY_CLOSE_IDLE, 0},
                 {ETW_RELAY_CLOSE_AUTH, 1},     {ETW_RELAY_CLOSE_VERSION, 1},   {ETW_RELAY_CLOSE_BAD_BUFFER, 1},
                 {ETW_RELAY_CLOSE_COMPLETE, 1}, {ETW_RELAY_CLOSE_DONE, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        etw_relay_sender_sm m;
        etw_relay_sender_sm_init(&m, 8, 0);
        etw_relay_sender_sm_connect(&m);
        numbered(&m, 1);
        assert_int_equal(close_frame(&m, cases[i].reason), ETW_RELAY_E_CLOSED);
        assert_int_equal(m.state, ETW_RELAY_SND_FAILED); /* DONE too: no END was sent */
        assert_int_equal(m.fatal, cases[i].fatal);
        assert_int_equal(m.close_reason, cases[i].reason);
    }
}

static void test_done_and_complete_after_end(void **state)
{
    etw_relay_sender_sm m;
    etw_relay_sender_sm_init(&m, 8, 0);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 0, 8, 0), ETW_RELAY_OK);
    numbered(&m, 2);
    etw_relay_sender_sm_end_sent(&m);
    assert_int_equal(ack(&m, 2), ETW_RELAY_OK);
    assert_int_equal(close_frame(&m, ETW_RELAY_CLOSE_DONE), ETW_RELAY_E_CLOSED);
    assert_int_equal(m.state, ETW_RELAY_SND_DONE);

    /* The final ACK was lost with the connection; the next HELLO is told COMPLETE. */
    etw_relay_sender_sm_init(&m, 8, 0);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(welcome(&m, 0, 8, 0), ETW_RELAY_OK);
    numbered(&m, 2);
    etw_relay_sender_sm_end_sent(&m);
    etw_relay_sender_sm_lost(&m);
    etw_relay_sender_sm_connect(&m);
    assert_int_equal(close_frame(&m, ETW_RELAY_CLOSE_COMPLETE), ETW_RELAY_E_CLOSED);
    assert_int_equal(m.state, ETW_RELAY_SND_DONE);
    assert_int_equal(m.acked, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welcome_negotiates),
        cmocka_unit_test(test_ack_beyond_numbered_fails),
        cmocka_unit_test(test_resume_and_cut_spool),
        cmocka_unit_test(test_close_classified),
        cmocka_unit_test(test_done_and_complete_after_end),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
