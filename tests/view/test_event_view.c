/* dump's views of one event (programs/etwire/event_view.c): the provider and event names come
 * from schemas a trace carries (TraceLogging, EventSource manifests) as often as from ours, so
 * they are untrusted text. A name holding a line break or another control character must not
 * break a text line or a CSV row, nor a JSON string; names without one are copied as they are.
 * Pinned on a schema whose names hold a newline, a control character, a quote, a comma and DEL,
 * in text, CSV and JSON. */
#include "../tdh/tdh_test_util.h"

#include "event_view.h"

/* Stores a schema for event `id` with these names and one UINT32 field "N", and formats the
 * event (payload 7) in each view. */
typedef struct views {
    etw_strbuf text, csv, json;
} views;

static void format_named(views *v, uint16_t id, const char *provider, const char *task)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderNameOffset = etw_teib_str(&b, provider, SIZE_MAX);
    b.hdr.TaskNameOffset = etw_teib_str(&b, task, SIZE_MAX);
    etw_teib_add(&b, -1, "N", TDH_INTYPE_UINT32, TDH_OUTTYPE_NULL);
    tdh_store(&b, id);
    static const uint8_t payload[4] = {7, 0, 0, 0};
    EVENT_RECORD r = tdh_rec(id, payload, sizeof payload, 0);
    memset(v, 0, sizeof *v);
    event_view_text(&v->text, &r);
    event_view_csv(&v->csv, &r);
    event_view_json(&v->json, &r);
    assert_false(v->text.failed || v->csv.failed || v->json.failed);
}

static void free_views(views *v)
{
    etw_strbuf_free(&v->text);
    etw_strbuf_free(&v->csv);
    etw_strbuf_free(&v->json);
}

/* No byte below 0x20 (and in text and CSV no DEL, which JSON allows in a string): the line is
 * one line whatever the names held. */
static void assert_one_line(const etw_strbuf *s, int json)
{
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (c < 0x20 || (c == 0x7F && !json))
            fail_msg("byte 0x%02x at %zu of \"%s\"", c, i, s->data);
    }
}

static void names_with_control_characters_are_escaped(void **state)
{
    (void)state;
    views v;
    format_named(&v, 1, "Evil\nProvider", "Ta\x01sk \"q\",\x7F");
    assert_one_line(&v.text, 0);
    assert_one_line(&v.csv, 0);
    assert_one_line(&v.json, 1);
    assert_non_null(strstr(v.text.data, " Evil\\nProvider/Ta\\x01sk \"q\",\\x7f N=7"));
    assert_non_null(strstr(v.csv.data, ",\"Evil\\nProvider\",\"Ta\\x01sk \"\"q\"\",\\x7f\","));
    assert_non_null(strstr(v.json.data, "\"provider\":\"Evil\\nProvider\""));
    assert_non_null(strstr(v.json.data, "\"event\":\"Ta\\u0001sk \\\"q\\\",\x7F\""));
    free_views(&v);
}

/* A quote or comma alone needs escaping in CSV and JSON but not on a text line. */
static void quotes_alone_stay_on_a_text_line(void **state)
{
    (void)state;
    views v;
    format_named(&v, 2, "Quo\"ted,Provider", "Plain");
    assert_non_null(strstr(v.text.data, " Quo\"ted,Provider/Plain N=7"));
    assert_non_null(strstr(v.csv.data, ",\"Quo\"\"ted,Provider\",\"Plain\","));
    assert_non_null(strstr(v.json.data, "\"provider\":\"Quo\\\"ted,Provider\""));
    free_views(&v);
}

static void plain_names_are_copied(void **state)
{
    (void)state;
    views v;
    format_named(&v, 3, "Test-Provider", "Work");
    assert_non_null(strstr(v.text.data, " Test-Provider/Work N=7"));
    assert_non_null(strstr(v.csv.data, ",\"Test-Provider\",\"Work\","));
    assert_non_null(strstr(v.json.data, "\"provider\":\"Test-Provider\""));
    assert_non_null(strstr(v.json.data, "\"event\":\"Work\""));
    free_views(&v);
}

static int release_teardown(void **state)
{
    event_view_release();
    return tdh_reset_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(names_with_control_characters_are_escaped, release_teardown),
        cmocka_unit_test_teardown(quotes_alone_stay_on_a_text_line, release_teardown),
        cmocka_unit_test_teardown(plain_names_are_copied, release_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
