/* The live-subscription protocol's state machine (src/relay/wire/live_proto.h): what a
 * consumer accepts in each state, and the collector's checks of a request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "relay/wire/live_proto.h"

static uint8_t buffer72[72];

static void setup_buffer(void)
{
    memset(buffer72, 0, sizeof buffer72);
    buffer72[0] = 72; /* BufferSize, little-endian */
}

static void header_roundtrip_and_limits(void **state)
{
    (void)state;
    uint8_t h[ETW_LIVE_HEADER_SIZE];
    uint8_t type;
    uint32_t len;
    const char *why = NULL;
    etw_live_header_format(h, ETW_LIVE_BUFFER, 65536);
    assert_int_equal(etw_live_header_parse(h, sizeof h, &type, &len, &why), 0);
    assert_int_equal(type, ETW_LIVE_BUFFER);
    assert_int_equal(len, 65536);
    etw_live_header_format(h, ETW_LIVE_DROPPED, ETW_LIVE_MAX_CONTROL + 1); /* control too long */
    assert_int_equal(etw_live_header_parse(h, sizeof h, &type, &len, &why), -1);
    etw_live_header_format(h, ETW_LIVE_BUFFER, ETW_LIVE_MAX_BUFFER + 1);
    assert_int_equal(etw_live_header_parse(h, sizeof h, &type, &len, &why), -1);
    etw_live_header_format(h, 99, 0);
    assert_int_equal(etw_live_header_parse(h, sizeof h, &type, &len, &why), -1);
    etw_live_header_format(h, ETW_LIVE_END, 4);
    h[0] = 'X';
    assert_int_equal(etw_live_header_parse(h, sizeof h, &type, &len, &why), -1);
    assert_int_equal(etw_live_header_parse(h, 7, &type, &len, &why), -1);
}

static void client_sequence(void **state)
{
    (void)state;
    setup_buffer();
    etw_live_client c;
    etw_live_msg m;
    const char *why;
    uint8_t attached[80];
    memset(attached, 0, 8);
    attached[0] = 42;
    memcpy(attached + 8, buffer72, 72);
    etw_live_client_init(&c, 0);
    /* Nothing before ATTACHED but a refusal. */
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_BUFFER, buffer72, 72, &m, &why), -1);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_ATTACHED, attached, 79, &m, &why), -1);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_ATTACHED, attached, 80, &m, &why), 0);
    assert_int_equal(m.instance, 42);
    assert_int_equal(m.size, 72);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_BUFFER, buffer72, 72, &m, &why), 0);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_BUFFER, buffer72, 71, &m, &why), -1);
    uint8_t d[8] = {5};
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_DROPPED, d, 8, &m, &why), 0);
    assert_int_equal(m.dropped_new, 5);
    d[0] = 9;
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_DROPPED, d, 8, &m, &why), 0);
    assert_int_equal(m.dropped_new, 4);
    d[0] = 3; /* backwards */
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_DROPPED, d, 8, &m, &why), -1);
    uint8_t refused[8] = {0x69, 0x10};
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_REFUSED, refused, 8, &m, &why), -1);
    uint8_t end[4] = {ETW_LIVE_END_SENDER};
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_END, end, 4, &m, &why), 0);
    assert_int_equal(c.state, ETW_LIVE_C_DONE);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_BUFFER, buffer72, 72, &m, &why), -1);
    assert_int_equal(c.buffers, 1);

    etw_live_client_init(&c, 0);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_REFUSED, refused, 8, &m, &why), 0);
    assert_int_equal(m.code, 4201);
    assert_int_equal(m.size, 4);
    etw_live_client_init(&c, 1);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_ATTACHED, attached, 80, &m, &why), -1);
    etw_live_client_init(&c, 1);
    assert_int_equal(etw_live_client_frame(&c, ETW_LIVE_SESSIONS, (const uint8_t *)"a/b\n", 4, &m, &why), 0);
}

static void server_requests(void **state)
{
    (void)state;
    etw_live_request r;
    const char *why;
    assert_int_equal(etw_live_server_request(ETW_LIVE_LIST, NULL, 0, &r, &why), 0);
    assert_true(r.list);
    assert_int_equal(etw_live_server_request(ETW_LIVE_SUBSCRIBE, (const uint8_t *)"web01/Kernel-1", 14, &r, &why), 0);
    assert_string_equal(r.source, "web01");
    assert_string_equal(r.session, "Kernel-1");
    const char *bad[] = {"web01", "/x", "x/", "a/b/c", "a b/c", "a/\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(etw_live_server_request(ETW_LIVE_SUBSCRIBE, (const uint8_t *)bad[i],
                                                 (uint32_t)strlen(bad[i]), &r, &why), -1);
    char longname[300];
    memset(longname, 'a', sizeof longname);
    longname[129] = '/';
    assert_int_equal(etw_live_server_request(ETW_LIVE_SUBSCRIBE, (const uint8_t *)longname, 140, &r, &why), -1);
    assert_int_equal(etw_live_server_request(ETW_LIVE_BUFFER, NULL, 0, &r, &why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_roundtrip_and_limits),
        cmocka_unit_test(client_sequence),
        cmocka_unit_test(server_requests),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
