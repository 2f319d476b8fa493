/* `send --rate` pacing, decided against a simulated clock: every decision of the pacer is fed
 * back as time waited, so the simulated replay must last the trace's own span divided by the
 * rate — from the session's start (the header event), not from the first flushed buffer. The
 * shutdown logger of the corpus waited eight hours between its start and its first full
 * buffer; before the fix its replay lasted 4.2 s at rate 1 instead of 29,524 s. Standard input
 * and raw files, whose header nobody read, were not paced at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/bytes.h"
#include "collect.h"
#include "gen_trace.h"
#include "relay/input.h"
#include "relay/pace.h"

#define SEND_COST 0.00001 /* simulated seconds each buffer takes to send */

typedef struct sim {
    relay_pace pace;
    double now, start;
    size_t buffers;
} sim;

static void sim_init(sim *s, double rate)
{
    memset(s, 0, sizeof *s);
    s->pace.rate = rate;
    s->now = s->start = 5000.0; /* any monotonic origin */
}

static void sim_buffer(sim *s, const uint8_t *buf, uint32_t size, uint64_t frequency)
{
    double wait = relay_pace_delay_at(&s->pace, buf, size, frequency, s->now);
    assert_true(wait >= 0);
    s->now += wait + SEND_COST;
    s->buffers++;
}

static int on_file_buffer(void *ctx, const uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    sim_buffer(ctx, buf, size, clk->frequency);
    return 0;
}

/* The simulated replay took span/rate, give or take the sending time of each buffer. */
static void assert_lasted(const sim *s, double span, double rate)
{
    double took = s->now - s->start, want = span / rate;
    double slack = 0.001 * want + SEND_COST * (double)(s->buffers + 1);
    if (took < want - slack || took > want + slack)
        fail_msg("replay at rate %g lasted %.6f s, the trace spans %.6f s (%.6f s at that rate)",
                 rate, took, span, want);
}

/* A generated trace whose buffers are all flushed at its end (no flush timer, buffers larger
 * than its events): the whole span lies between the header event and the first flush. */
static void test_generated_span_from_header_event(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(11, 3000);
    c.max_lag = 0;
    c.buffer_size = 1u << 20;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    uint64_t freq = etw_gen_ticks_per_second(&c);
    double span = (double)(t.summary.last_flush_ts - t.summary.first_ts) / (double)freq;
    assert_true(span > 0.01); /* else the test could not tell */
    const double rates[] = {1, 4, 0.25};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        sim s;
        sim_init(&s, rates[r]);
        for (size_t i = 0; i < t.buffers.n; i++)
            sim_buffer(&s, t.buffers.data[i], t.buffers.size[i], freq);
        assert_lasted(&s, span, rates[r]);
    }
    gen_trace_free(&t);
}

/* The same trace with a flush timer, through the file index as `send` reads it. */
static void test_generated_file_through_index(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(12, 20000);
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    uint64_t freq = etw_gen_ticks_per_second(&c);
    double span = (double)(t.summary.last_flush_ts - t.summary.first_ts) / (double)freq;
    sim s;
    sim_init(&s, 2);
    char err[256] = "";
    assert_int_equal(relay_input_index(t.path, 1, on_file_buffer, &s, err, sizeof err), 0);
    assert_int_equal(s.buffers, t.summary.buffers);
    assert_lasted(&s, span, 2);
    remove(t.path);
    gen_trace_free(&t);
}

/* Standard input and --raw files come without the header read: the pacer learns the clock from
 * the header buffer, for each clock type and both header layouts (32- and 64-bit). */
static void test_raw_stream_learns_clock(void **state)
{
    (void)state;
    const struct { unsigned pointer_size, clock; } kinds[] = {
        {8, ETW_GEN_CLOCK_QPC}, {4, ETW_GEN_CLOCK_CYCLES}, {8, ETW_GEN_CLOCK_SYSTEM}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        etw_gen_config c = gen_config(13 + k, 3000);
        c.pointer_size = kinds[k].pointer_size;
        c.kinds = 0;
        c.clock_type = kinds[k].clock;
        c.max_lag = 0;
        c.buffer_size = 1u << 20;
        assert_null(etw_gen_config_check(&c));
        gen_trace t;
        assert_int_equal(gen_trace_make(&c, &t), 0);
        assert_int_equal(gen_trace_write_file(&t), 0);
        uint64_t freq = etw_gen_ticks_per_second(&c);
        double span = (double)(t.summary.last_flush_ts - t.summary.first_ts) / (double)freq;
        sim s;
        sim_init(&s, 0.5);
        FILE *f = fopen(t.path, "rb");
        assert_non_null(f);
        char err[256] = "";
        assert_int_equal(relay_input_stream(f, on_file_buffer, &s, err, sizeof err), 0);
        fclose(f);
        assert_true(s.pace.frequency == freq);
        assert_lasted(&s, span, 0.5);
        remove(t.path);
        gen_trace_free(&t);
    }
}

static void test_corpus_shutdown_logger(void **state)
{
    (void)state;
    const char *path = TEST_NEED_CORPUS_FILE("airbus-etl-parser/ShutdownPerfDiagLogger.etl");
    /* Its span as `etwire stats` reports it: 09:03:47.7445790 .. 17:15:51.6538124. */
    const double span = 29523.9092334;
    const double rates[] = {1, 1000};
    for (size_t r = 0; r < 2; r++) {
        sim s;
        sim_init(&s, rates[r]);
        char err[256] = "";
        assert_int_equal(relay_input_index(path, 1, on_file_buffer, &s, err, sizeof err), 0);
        assert_int_equal(s.buffers, 49);
        assert_lasted(&s, span, rates[r]);
    }
}

/* No rate, no clock, no time: never a wait. A header buffer too short for its header event
 * has no time. */
static void test_no_pacing_without_time(void **state)
{
    (void)state;
    uint8_t buf[0x48 + 0x20] = {0};
    etw_wr32(buf, sizeof buf);
    etw_wr32(buf + 0x30, sizeof buf);
    etw_wr32(buf + 0x48, 0xC0020000u | 0x20);
    etw_wr64(buf + 0x48 + 0x10, 777);
    assert_int_equal(relay_pace_buffer_time(buf, sizeof buf), 777);
    assert_int_equal(relay_pace_buffer_time(buf, sizeof buf - 1), 0); /* filled > size */
    etw_wr32(buf + 0x30, 0x48 + 0x1F);
    assert_int_equal(relay_pace_buffer_time(buf, sizeof buf), 0);
    etw_wr32(buf + 0x30, sizeof buf);
    etw_wr16(buf + 0x48 + 6, 5); /* not the log-file header event */
    assert_int_equal(relay_pace_buffer_time(buf, sizeof buf), 0);
    etw_wr64(buf + 0x10, 1000); /* a flush time wins */
    assert_int_equal(relay_pace_buffer_time(buf, sizeof buf), 1000);

    relay_pace off = {.rate = 0};
    assert_true(relay_pace_delay_at(&off, buf, sizeof buf, 10000000, 1.0) == 0);
    relay_pace p = {.rate = 1};
    assert_true(relay_pace_delay_at(&p, buf, sizeof buf, 10000000, 1.0) == 0); /* the origin */
    etw_wr64(buf + 0x10, 1000 + 30000000); /* 3 s later */
    assert_true(relay_pace_delay_at(&p, buf, sizeof buf, 0, 1.0) == 0);         /* no clock */
    double d = relay_pace_delay_at(&p, buf, sizeof buf, 10000000, 1.5);
    assert_true(d > 2.4999 && d < 2.5001);
    etw_wr64(buf + 0x10, 500); /* before the origin: now */
    assert_true(relay_pace_delay_at(&p, buf, sizeof buf, 10000000, 1.5) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_span_from_header_event),
        cmocka_unit_test(test_generated_file_through_index),
        cmocka_unit_test(test_raw_stream_learns_clock),
        cmocka_unit_test(test_corpus_shutdown_logger),
        cmocka_unit_test(test_no_pacing_without_time),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
