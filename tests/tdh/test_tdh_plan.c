/* Output plans (tdh/decode/event_plan.h) change nothing: on every corpus trace, each event's
 * provider name, event name and fields - JSON and text - come out the same through the plan
 * (names converted once, flat schemas formatted from the plan, the per-thread schema and map
 * memos) as through the long way (the store asked every time, names converted per event, the
 * general property walk), also with payloads cut short at every length; and names the plan
 * calls plain hold nothing JSON would escape. */
#include "tdh_test_util.h"

#include <stdio.h>

#include <etwire/etwire.h>

#include "collect.h"

/* Enough events of each trace to meet all its schemas; bounds the run under sanitizers. */
#define MAX_EVENTS_PER_FILE 40000

typedef struct compare {
    etw_strbuf a[3], b[3];
    unsigned long events, decoded, mismatches, cut_events;
    const char *file;
} compare;

static compare c;

static int needs_escape(const etw_strbuf *s)
{
    for (size_t i = 0; i < s->len; i++)
        if ((unsigned char)s->data[i] < 0x20 || s->data[i] == '"' || s->data[i] == '\\')
            return 1;
    return 0;
}

static const char *text(const etw_strbuf *s)
{
    return s->data ? s->data : "";
}

/* One event through the plan and the long way, in both formats; returns whether the planned
 * JSON fields hold an array. */
static int compare_one(const EVENT_RECORD *er, const char *what)
{
    int array = 0;
    for (int json = 0; json < 2; json++) {
        for (int i = 0; i < 3; i++) {
            etw_strbuf_reset(&c.a[i]);
            etw_strbuf_reset(&c.b[i]);
        }
        int plain = 0;
        int planned = etw_event_decode(er, json, &c.a[0], &c.a[1], &c.a[2], &plain);
        int unplanned = etw_event_decode_unplanned(er, json, &c.b[0], &c.b[1], &c.b[2]);
        c.decoded += (unsigned long)planned;
        int same = planned == unplanned;
        for (int i = 0; i < 3; i++)
            same = same && strcmp(text(&c.a[i]), text(&c.b[i])) == 0;
        if (plain && (needs_escape(&c.a[0]) || needs_escape(&c.a[1])))
            same = 0;
        if (!same && c.mismatches++ < 5)
            fprintf(stderr, "%s: event %lu%s (%s):\n  plan: %s/%s %s\n  walk: %s/%s %s\n", c.file, c.events, what,
                    json ? "json" : "text", text(&c.a[0]), text(&c.a[1]), text(&c.a[2]), text(&c.b[0]),
                    text(&c.b[1]), text(&c.b[2]));
        array |= json && strstr(text(&c.a[2]), ":[") != NULL;
    }
    return array;
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    if (c.events >= MAX_EVENTS_PER_FILE)
        return;
    c.events++;
    int array = compare_one(er, "");
    /* Payloads cut at every length: arrays (written by the plan when their elements are plain
     * integers) stop where the walk stops, at the same byte, with the same rest undecoded.
     * The first events with arrays of each trace, and every 1000th event for the scalars. */
    if ((array && c.cut_events < 40) || c.events % 1000 == 0) {
        c.cut_events += array;
        EVENT_RECORD cut = *er;
        for (USHORT len = 0; len < er->UserDataLength && len < 400; len++) {
            cut.UserDataLength = len;
            compare_one(&cut, " cut");
        }
    }
}

static void plan_matches_walk_on_corpus(void **state)
{
    (void)state;
    char **paths = NULL;
    size_t n = test_corpus_files(&paths);
    if (n == 0)
        TEST_SKIP("../shared/corpus is absent");
    unsigned long events = 0, decoded = 0;
    for (size_t i = 0; i < n; i++) {
        c.file = paths[i];
        c.events = c.decoded = c.cut_events = 0;
        ETW_OPEN_TRACE_OPTIONS opts = {0};
        opts.EventCallback = on_event;
        TRACE_LOGFILE_HEADER hdr;
        PROCESSTRACE_HANDLE h = etwire_trace_open_file(paths[i], &opts, &hdr);
        assert_true(h != INVALID_PROCESSTRACE_HANDLE);
        ProcessTrace(&h, 1, NULL, NULL);
        CloseTrace(h);
        events += c.events;
        decoded += c.decoded;
    }
    test_free_paths(paths, n);
    for (int i = 0; i < 3; i++) {
        etw_strbuf_free(&c.a[i]);
        etw_strbuf_free(&c.b[i]);
    }
    assert_int_equal(c.mismatches, 0);
    /* The corpus decodes almost entirely (README: 98.6%): the comparison saw real fields. */
    assert_true(events > 100000);
    assert_true(decoded > events); /* two formats per event, most of them decoded */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(plan_matches_walk_on_corpus, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
