/* dump's text and CSV lines are escaped by the decoders as they write (ETW_ESC_LINE and
 * ETW_ESC_CSV through etw_event_decoding_fields) instead of by a pass over the finished line:
 * the bytes must be those of that pass. On every corpus event (and payloads cut at every
 * length), each line mode gives the plain text escaped byte by byte by dump's rules - or, where
 * the decoder says it cannot escape (WPP, keys that need escaping), the plain text itself; the
 * escaped text never holds a NUL. Then the rules pinned on a hand-built TraceLogging event with
 * control characters, CR/LF, tab, quotes, commas, backslashes, DEL, non-ASCII and a lone
 * surrogate, in text, JSON, the text line and the CSV field. */
#include "tdh_test_util.h"

#include <stdio.h>

#include <etwire/etwire.h>

#include "base/bytes.h"
#include "collect.h"
#include "tdh/decode/text_out.h"
#include "escape_ref.h"

/* Enough events of each trace to meet all its schemas; bounds the run under sanitizers. */
#define MAX_EVENTS_PER_FILE 40000

typedef struct tally {
    etw_strbuf plain, got, want;
    unsigned long events, mismatches, escaped_differs, fallback;
    const char *file;
} tally;

static tally c;

static const char *text(const etw_strbuf *s)
{
    return s->data ? s->data : "";
}

static void check_one(const EVENT_RECORD *er, const char *what)
{
    etw_event_decoding dc;
    etw_event_decoding_begin(&dc, er);
    etw_strbuf_reset(&c.plain);
    int decoded = etw_event_decoding_fields(&dc, ETW_ESC_NONE, &c.plain);
    for (int esc = ETW_ESC_LINE; esc <= ETW_ESC_CSV; esc++) {
        etw_strbuf_reset(&c.got);
        etw_strbuf_reset(&c.want);
        int got_decoded = etw_event_decoding_fields(&dc, esc, &c.got);
        int same = got_decoded == decoded;
        if (etw_event_decoding_escapes(&dc)) {
            escape_ref_line(&c.want, text(&c.plain), c.plain.len, esc == ETW_ESC_CSV);
            same = same && !memchr(text(&c.got), 0, c.got.len);
        } else {
            etw_strbuf_append(&c.want, text(&c.plain), c.plain.len);
            c.fallback++;
        }
        same = same && c.got.len == c.want.len && memcmp(text(&c.got), text(&c.want), c.want.len) == 0;
        c.escaped_differs += c.got.len != c.plain.len || memcmp(text(&c.got), text(&c.plain), c.got.len) != 0;
        if (!same && c.mismatches++ < 5)
            fprintf(stderr, "%s: event %lu%s (%s):\n  got:  %s\n  want: %s\n", c.file, c.events, what,
                    esc == ETW_ESC_CSV ? "csv" : "line", text(&c.got), text(&c.want));
    }
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    if (c.events >= MAX_EVENTS_PER_FILE)
        return;
    c.events++;
    check_one(er, "");
    /* Payloads cut at every length: fields stop part way, the rest shown undecoded. */
    if (c.events % 1000 == 0) {
        EVENT_RECORD cut = *er;
        for (USHORT len = 0; len < er->UserDataLength && len < 400; len++) {
            cut.UserDataLength = len;
            check_one(&cut, " cut");
        }
    }
}

static void line_modes_match_escaping_after_on_corpus(void **state)
{
    (void)state;
    char **paths = NULL;
    size_t n = test_corpus_files(&paths);
    if (n == 0)
        TEST_SKIP("../shared/corpus is absent");
    unsigned long events = 0;
    for (size_t i = 0; i < n; i++) {
        c.file = paths[i];
        c.events = 0;
        ETW_OPEN_TRACE_OPTIONS opts = {0};
        opts.EventCallback = on_event;
        TRACE_LOGFILE_HEADER hdr;
        PROCESSTRACE_HANDLE h = etwire_trace_open_file(paths[i], &opts, &hdr);
        assert_true(h != INVALID_PROCESSTRACE_HANDLE);
        ProcessTrace(&h, 1, NULL, NULL);
        CloseTrace(h);
        events += c.events;
    }
    test_free_paths(paths, n);
    etw_strbuf_free(&c.plain);
    etw_strbuf_free(&c.got);
    etw_strbuf_free(&c.want);
    assert_int_equal(c.mismatches, 0);
    assert_true(events > 100000);
    /* Real strings needed escaping (the corpus has control characters and, in CSV, quotes in
     * its fields: 735 events and modes), and the decoder's own escaping covered nearly every
     * event. */
    assert_true(c.escaped_differs > 100);
    assert_true(c.fallback < events / 4);
}

typedef struct blob {
    uint8_t b[512];
    size_t n;
} blob;

static void put(blob *x, const void *p, size_t n)
{
    assert_true(x->n + n <= sizeof x->b);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}
static void put8(blob *x, uint8_t v) { put(x, &v, 1); }
static void put16(blob *x, uint16_t v) { uint8_t b[2]; etw_wr16(b, v); put(x, b, 2); }
static void put32(blob *x, uint32_t v) { uint8_t b[4]; etw_wr32(b, v); put(x, b, 4); }
static void puts0(blob *x, const char *s) { put(x, s, strlen(s) + 1); }

/* A TraceLogging event: a UTF-16 string, a Windows-1252 string, a UTF-8 string, a number and a
 * UTF-16 character, with the field names given (the second and third may need escaping). */
typedef struct tl_event {
    blob meta, traits, pay;
    EVENT_HEADER_EXTENDED_DATA_ITEM ext[2];
    EVENT_RECORD r;
} tl_event;

static void tl_build(tl_event *e, const char *name2, const char *name3)
{
    memset(e, 0, sizeof *e);
    blob *m = &e->meta;
    m->n = 2;
    put8(m, 0);
    puts0(m, "Ev");
    puts0(m, "S"); put8(m, TDH_INTYPE_UNICODESTRING);
    puts0(m, name2); put8(m, TDH_INTYPE_ANSISTRING);
    puts0(m, name3); put8(m, TDH_INTYPE_ANSISTRING | 0x80); put8(m, TDH_OUTTYPE_UTF8);
    puts0(m, "N"); put8(m, TDH_INTYPE_UINT32);
    puts0(m, "Ch"); put8(m, TDH_INTYPE_UINT16 | 0x80); put8(m, 0x02); /* TraceLogging's out-type STRING */
    etw_wr16(m->b, (uint16_t)m->n);
    blob *t = &e->traits;
    t->n = 2;
    puts0(t, "EscProvider");
    etw_wr16(t->b, (uint16_t)t->n);
    static const uint16_t s[] = {'x', 0x01, '"', 'y', ',', '\\', 0x7F, '\r', '\n', '\t', 0xE9, 0xD83D, 0xDE00, 0xD800, 'z', 0};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        put16(&e->pay, s[i]);
    puts0(&e->pay, "p\"q\x7f\x85");
    puts0(&e->pay, "\xc3\xa9\"\n");
    put32(&e->pay, 42);
    put16(&e->pay, '"');
    e->ext[0].ExtType = EVENT_HEADER_EXT_TYPE_PROV_TRAITS;
    e->ext[0].DataSize = (USHORT)t->n;
    e->ext[0].DataPtr = (ULONGLONG)(uintptr_t)t->b;
    e->ext[1].ExtType = EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL;
    e->ext[1].DataSize = (USHORT)m->n;
    e->ext[1].DataPtr = (ULONGLONG)(uintptr_t)m->b;
    e->r = tdh_rec(0, e->pay.b, e->pay.n, 0);
    e->r.EventHeader.Flags |= EVENT_HEADER_FLAG_EXTENDED_INFO;
    e->r.ExtendedData = e->ext;
    e->r.ExtendedDataCount = 2;
}

/* The event's fields in one mode; *escapes what the decoder said. */
static const char *fields_as(const EVENT_RECORD *r, int esc, int *escapes)
{
    static etw_strbuf sb;
    etw_event_decoding dc;
    etw_event_decoding_begin(&dc, r);
    etw_strbuf_reset(&sb);
    assert_int_equal(etw_event_decoding_fields(&dc, esc, &sb), 1);
    *escapes = etw_event_decoding_escapes(&dc);
    return sb.data ? sb.data : "";
}

static void rules_pinned_on_an_event(void **state)
{
    (void)state;
    tl_event e;
    tl_build(&e, "A", "U");
    int escapes = 0;
    /* "\xef\xbf\xbd": U+FFFD for the lone surrogate; "\xe2\x80\xa6": Windows-1252's 0x85. */
    assert_string_equal(fields_as(&e.r, ETW_ESC_NONE, &escapes),
                        "S=x\x01\"y,\\\x7f\r\n\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz; "
                        "A=p\"q\x7f\xe2\x80\xa6; U=\xc3\xa9\"\n; N=42; Ch=\"");
    assert_int_equal(escapes, 1);
    assert_string_equal(fields_as(&e.r, ETW_ESC_JSON, &escapes),
                        "\"S\":\"x\\u0001\\\"y,\\\\\x7f\\r\\n\\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz\","
                        "\"A\":\"p\\\"q\x7f\xe2\x80\xa6\",\"U\":\"\xc3\xa9\\\"\\n\",\"N\":42,\"Ch\":\"\\\"\"");
    assert_string_equal(fields_as(&e.r, ETW_ESC_LINE, &escapes),
                        "S=x\\x01\"y,\\\\x7f\\x0d\\n\\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz; "
                        "A=p\"q\\x7f\xe2\x80\xa6; U=\xc3\xa9\"\\n; N=42; Ch=\"");
    assert_string_equal(fields_as(&e.r, ETW_ESC_CSV, &escapes),
                        "S=x\\x01\"\"y,\\\\x7f\\x0d\\n\\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz; "
                        "A=p\"\"q\\x7f\xe2\x80\xa6; U=\xc3\xa9\"\"\\n; N=42; Ch=\"\"");
}

/* Field names that need escaping: the decoder writes the plain text in the line modes and says
 * so; the caller escapes it afterwards (dump's escape_in_place), which gives the same line. */
static void keys_to_escape_fall_back(void **state)
{
    (void)state;
    tl_event e;
    tl_build(&e, "K\"ey", "T\tab");
    int escapes = 1;
    const char *plain = "S=x\x01\"y,\\\x7f\r\n\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz; "
                        "K\"ey=p\"q\x7f\xe2\x80\xa6; T\tab=\xc3\xa9\"\n; N=42; Ch=\"";
    assert_string_equal(fields_as(&e.r, ETW_ESC_NONE, &escapes), plain);
    assert_int_equal(escapes, 0);
    assert_string_equal(fields_as(&e.r, ETW_ESC_LINE, &escapes), plain);
    assert_string_equal(fields_as(&e.r, ETW_ESC_CSV, &escapes), plain);
    /* JSON escapes its keys itself, as always. */
    assert_string_equal(fields_as(&e.r, ETW_ESC_JSON, &escapes),
                        "\"S\":\"x\\u0001\\\"y,\\\\\x7f\\r\\n\\t\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz\","
                        "\"K\\\"ey\":\"p\\\"q\x7f\xe2\x80\xa6\",\"T\\tab\":\"\xc3\xa9\\\"\\n\",\"N\":42,\"Ch\":\"\\\"\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(line_modes_match_escaping_after_on_corpus, tdh_reset_teardown),
        cmocka_unit_test_teardown(rules_pinned_on_an_event, tdh_reset_teardown),
        cmocka_unit_test_teardown(keys_to_escape_fall_back, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
