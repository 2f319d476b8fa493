/* Every TDH in-type and out-type, formatted from hand-built one-field schemas. */
#include "tdh_test_util.h"

#include <stdio.h>

static uint16_t next_id = 1;

static void check(uint16_t in, uint16_t out, const void *p, size_t n, const char *text, const char *json)
{
    uint16_t id = next_id++;
    assert_string_equal(tdh_one(id, in, out, 0, p, n, 0, 0), text);
    if (json)
        assert_string_equal(tdh_one(id, in, out, 0, p, n, 1, 0), json);
}

static void test_integers(void **state)
{
    (void)state;
    uint8_t b = 0xFB;
    check(TDH_INTYPE_INT8, 0, &b, 1, "F=-5", "\"F\":-5");
    check(TDH_INTYPE_UINT8, 0, &b, 1, "F=251", NULL);
    uint8_t s[2] = {0xFE, 0xFF};
    check(TDH_INTYPE_INT16, 0, s, 2, "F=-2", NULL);
    check(TDH_INTYPE_UINT16, 0, s, 2, "F=65534", NULL);
    uint8_t i[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    check(TDH_INTYPE_INT32, 0, i, 4, "F=-1", NULL);
    check(TDH_INTYPE_UINT32, 0, i, 4, "F=4294967295", "\"F\":4294967295");
    check(TDH_INTYPE_HEXINT32, 0, i, 4, "F=0xffffffff", "\"F\":\"0xffffffff\"");
    uint8_t q[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    check(TDH_INTYPE_INT64, 0, q, 8, "F=-1", "\"F\":-1");
    check(TDH_INTYPE_UINT64, 0, q, 8, "F=18446744073709551615", "\"F\":\"18446744073709551615\"");
    check(TDH_INTYPE_HEXINT64, 0, q, 8, "F=0xffffffffffffffff", NULL);
    uint8_t small[8] = {42};
    check(TDH_INTYPE_UINT64, 0, small, 8, "F=42", "\"F\":42");
}

static void test_pointer_size(void **state)
{
    (void)state;
    uint8_t p[12] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 7, 0, 0, 0};
    etw_teib b;
    etw_teib_init(&b);
    etw_teib_add(&b, -1, "P", TDH_INTYPE_POINTER, 0);
    etw_teib_add(&b, -1, "N", TDH_INTYPE_UINT32, 0);
    tdh_store(&b, 900);
    EVENT_RECORD r64 = tdh_rec(900, p, 12, EVENT_HEADER_FLAG_64_BIT_HEADER);
    assert_string_equal(tdh_fmt(&r64, 0, NULL), "P=0x8070605040302010; N=7");
    EVENT_RECORD r32 = tdh_rec(900, p, 8, EVENT_HEADER_FLAG_32_BIT_HEADER);
    assert_string_equal(tdh_fmt(&r32, 0, NULL), "P=0x40302010; N=2154848336");
    check(TDH_INTYPE_SIZET, TDH_OUTTYPE_UNSIGNEDLONG, p, 8, "F=9255003132036915216", NULL);
}

static void test_float_bool(void **state)
{
    (void)state;
    float f = 1.5f;
    double d = -0.25;
    uint8_t fb[4], db[8];
    memcpy(fb, &f, 4);
    memcpy(db, &d, 8);
    check(TDH_INTYPE_FLOAT, 0, fb, 4, "F=1.5", "\"F\":1.5");
    check(TDH_INTYPE_DOUBLE, 0, db, 8, "F=-0.25", NULL);
    uint8_t t[4] = {1, 0, 0, 0}, z[4] = {0};
    check(TDH_INTYPE_BOOLEAN, 0, t, 4, "F=true", "\"F\":true");
    check(TDH_INTYPE_BOOLEAN, 0, z, 4, "F=false", NULL);
    check(TDH_INTYPE_UINT8, TDH_OUTTYPE_BOOLEAN, t, 1, "F=true", NULL);
}

static void test_strings(void **state)
{
    (void)state;
    const uint8_t w[] = {'H', 0, 'i', 0, 0xE9, 0, 0, 0};
    check(TDH_INTYPE_UNICODESTRING, 0, w, sizeof w, "F=Hi\xc3\xa9", "\"F\":\"Hi\xc3\xa9\"");
    /* Long runs (converted 8 units at a time) with a quote, a backslash, a control character,
     * a non-ASCII unit and a NUL at every position of an 8-unit block. */
    static const uint16_t specials[] = {'"', '\\', '\n', 0xE9, 0x7F, 0x80, 0};
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (unsigned at = 0; at < 19; at++) {
            uint8_t lw[48] = {0};
            char text[40], json[80];
            size_t tl = 0, jl = 0;
            for (unsigned i = 0; i < 20; i++) {
                uint16_t u = i == at ? specials[k] : (uint16_t)('a' + i);
                lw[2 * i] = (uint8_t)u;
                lw[2 * i + 1] = (uint8_t)(u >> 8);
                if (specials[k] == 0 && i >= at)
                    continue;
                if (u == 0xE9) {
                    text[tl++] = (char)0xc3, text[tl++] = (char)0xa9;
                    json[jl++] = (char)0xc3, json[jl++] = (char)0xa9;
                } else if (u == 0x80) {
                    text[tl++] = (char)0xc2, text[tl++] = (char)0x80;
                    json[jl++] = (char)0xc2, json[jl++] = (char)0x80;
                } else if (u == '\n') {
                    text[tl++] = '\n';
                    json[jl++] = '\\', json[jl++] = 'n';
                } else {
                    text[tl++] = (char)u;
                    if (u == '"' || u == '\\')
                        json[jl++] = '\\';
                    json[jl++] = (char)u;
                }
            }
            char want_text[64], want_json[96];
            snprintf(want_text, sizeof want_text, "F=%.*s", (int)tl, text);
            snprintf(want_json, sizeof want_json, "\"F\":\"%.*s\"", (int)jl, json);
            check(TDH_INTYPE_UNICODESTRING, 0, lw, 42, want_text, want_json);
        }
    }
    const uint8_t a[] = {'a', '"', 0x80, 0};
    check(TDH_INTYPE_ANSISTRING, 0, a, sizeof a, "F=a\"\xe2\x82\xac", "\"F\":\"a\\\"\xe2\x82\xac\"");
    const uint8_t u8[] = {0xC3, 0xA9, 0};
    check(TDH_INTYPE_ANSISTRING, TDH_OUTTYPE_UTF8, u8, sizeof u8, "F=\xc3\xa9", NULL);
    const uint8_t cw[] = {4, 0, 'o', 0, 'k', 0};
    check(TDH_INTYPE_MANIFEST_COUNTEDSTRING, 0, cw, sizeof cw, "F=ok", NULL);
    check(TDH_INTYPE_COUNTEDSTRING, 0, cw, sizeof cw, "F=ok", NULL);
    const uint8_t ca[] = {2, 0, 'o', 'k'};
    check(TDH_INTYPE_MANIFEST_COUNTEDANSISTRING, 0, ca, sizeof ca, "F=ok", NULL);
    check(TDH_INTYPE_COUNTEDANSISTRING, 0, ca, sizeof ca, "F=ok", NULL);
    const uint8_t rw[] = {0, 4, 'o', 0, 'k', 0};
    check(TDH_INTYPE_REVERSEDCOUNTEDSTRING, 0, rw, sizeof rw, "F=ok", NULL);
    const uint8_t ra[] = {0, 2, 'o', 'k'};
    check(TDH_INTYPE_REVERSEDCOUNTEDANSISTRING, 0, ra, sizeof ra, "F=ok", NULL);
    check(TDH_INTYPE_NONNULLTERMINATEDSTRING, 0, w, 4, "F=Hi", NULL);
    check(TDH_INTYPE_NONNULLTERMINATEDANSISTRING, 0, "xyz", 3, "F=xyz", NULL);
    check(TDH_INTYPE_UNICODECHAR, 0, w, 2, "F=H", NULL);
    check(TDH_INTYPE_ANSICHAR, 0, "Q", 1, "F=Q", NULL);
    check(TDH_INTYPE_UINT8, TDH_OUTTYPE_STRING, "Q", 1, "F=Q", NULL);
    check(TDH_INTYPE_UINT16, TDH_OUTTYPE_STRING, w, 2, "F=H", NULL);
    /* A missing terminator takes the rest of the payload. */
    check(TDH_INTYPE_UNICODESTRING, 0, w, 4, "F=Hi", NULL);
    /* Fixed length in characters; padding after the text's NUL is not shown. */
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_UNICODESTRING, 0, 4, w, sizeof w, 0, 0), "F=Hi\xc3\xa9");
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_ANSISTRING, 0, 2, "abc", 3, 0, 0), "F=ab");
}

static void test_guid_time_sid(void **state)
{
    (void)state;
    const uint8_t g[16] = {0x44, 0x33, 0x22, 0x11, 0x66, 0x55, 0x88, 0x77, 1, 2, 3, 4, 5, 6, 7, 8};
    check(TDH_INTYPE_GUID, 0, g, 16, "F=11223344-5566-7788-0102-030405060708",
          "\"F\":\"11223344-5566-7788-0102-030405060708\"");
    /* 2021-09-09T14:59:35.7912345Z as FILETIME. */
    uint64_t ft = 132756731757912345ull;
    uint8_t fb[8];
    for (int i = 0; i < 8; i++)
        fb[i] = (uint8_t)(ft >> (8 * i));
    check(TDH_INTYPE_FILETIME, 0, fb, 8, "F=2021-09-09T14:59:35.7912345Z", NULL);
    check(TDH_INTYPE_UINT64, TDH_OUTTYPE_DATETIME, fb, 8, "F=2021-09-09T14:59:35.7912345Z", NULL);
    const uint8_t st[16] = {0xE5, 7, 9, 0, 4, 0, 9, 0, 14, 0, 59, 0, 35, 0, 30, 0};
    check(TDH_INTYPE_SYSTEMTIME, 0, st, 16, "F=2021-09-09T14:59:35.030", NULL);
    const uint8_t sid[12] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
    check(TDH_INTYPE_SID, 0, sid, 12, "F=S-1-5-18", NULL);
    uint8_t w64[28] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80};
    memcpy(w64 + 16, sid, 12);
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_WBEMSID, 0, 0, w64, 28, 0, EVENT_HEADER_FLAG_64_BIT_HEADER), "F=S-1-5-18");
    uint8_t w32[20] = {0x10, 0x20, 0x30, 0x40};
    memcpy(w32 + 8, sid, 12);
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_WBEMSID, 0, 0, w32, 20, 0, EVENT_HEADER_FLAG_32_BIT_HEADER), "F=S-1-5-18");
    uint8_t none[4] = {0};
    check(TDH_INTYPE_WBEMSID, 0, none, 4, "F=", NULL);
}

static void test_network_and_codes(void **state)
{
    (void)state;
    const uint8_t port[2] = {0x1F, 0x90};
    check(TDH_INTYPE_UINT16, TDH_OUTTYPE_PORT, port, 2, "F=8080", "\"F\":8080");
    const uint8_t ip4[4] = {192, 168, 1, 2};
    check(TDH_INTYPE_UINT32, TDH_OUTTYPE_IPV4, ip4, 4, "F=192.168.1.2", "\"F\":\"192.168.1.2\"");
    uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8};
    ip6[15] = 1;
    check(TDH_INTYPE_BINARY, TDH_OUTTYPE_IPV6, ip6, 16, "F=2001:db8::1", NULL);
    uint8_t sa4[16] = {2, 0, 0x00, 0x50, 10, 0, 0, 1};
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_BINARY, TDH_OUTTYPE_SOCKETADDRESS, 16, sa4, 16, 0, 0), "F=10.0.0.1:80");
    uint8_t sa6[28] = {23, 0, 0x01, 0xBB};
    sa6[8 + 15] = 1;
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_BINARY, TDH_OUTTYPE_SOCKETADDRESS, 28, sa6, 28, 0, 0), "F=[::1]:443");
    const uint8_t code[4] = {0x05, 0x40, 0x00, 0x80};
    check(TDH_INTYPE_INT32, TDH_OUTTYPE_HRESULT, code, 4, "F=0x80004005", "\"F\":\"0x80004005\"");
    check(TDH_INTYPE_UINT32, TDH_OUTTYPE_NTSTATUS, code, 4, "F=0x80004005", NULL);
    check(TDH_INTYPE_UINT32, TDH_OUTTYPE_WIN32ERROR, code, 4, "F=0x80004005", NULL);
    check(TDH_INTYPE_UINT8, TDH_OUTTYPE_HEXINT8, code, 1, "F=0x5", NULL);
    check(TDH_INTYPE_UINT16, TDH_OUTTYPE_HEXINT16, code, 2, "F=0x4005", NULL);
    check(TDH_INTYPE_UINT32, TDH_OUTTYPE_PID, code, 4, "F=2147500037", NULL);
    const uint8_t bin[3] = {0xDE, 0xAD, 0x01};
    assert_string_equal(tdh_one(next_id++, TDH_INTYPE_BINARY, 0, 3, bin, 3, 0, 0), "F=0xdead01");
    const uint8_t cbin[5] = {3, 0, 0xDE, 0xAD, 0x01};
    check(TDH_INTYPE_MANIFEST_COUNTEDBINARY, 0, cbin, 5, "F=0xdead01", "\"F\":\"0xdead01\"");
    const uint8_t hd[7] = {3, 0, 0, 0, 0xDE, 0xAD, 0x01};
    check(TDH_INTYPE_HEXDUMP, 0, hd, 7, "F=0xdead01", NULL);
    const uint8_t js[] = "{\"a\":1}";
    check(TDH_INTYPE_ANSISTRING, TDH_OUTTYPE_JSON, js, sizeof js, "F={\"a\":1}", "\"F\":\"{\\\"a\\\":1}\"");
}

static void test_unknown_pairing_uses_default(void **state)
{
    (void)state;
    const uint8_t v[4] = {7, 0, 0, 0};
    check(TDH_INTYPE_UINT32, TDH_OUTTYPE_GUID, v, 4, "F=7", NULL);
    check(TDH_INTYPE_INT32, 0, v, 4, "F=7", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),         cmocka_unit_test(test_pointer_size),
        cmocka_unit_test(test_float_bool),       cmocka_unit_test(test_strings),
        cmocka_unit_test(test_guid_time_sid),    cmocka_unit_test(test_network_and_codes),
        cmocka_unit_test(test_unknown_pairing_uses_default),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, tdh_reset_teardown));
}
