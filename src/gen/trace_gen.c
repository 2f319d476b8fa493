/* The generator's simulation: a global clock advances, each event lands on one processor's
 * open buffer, and buffers are flushed when full, when their flush timer (max_lag) expires, or
 * at the end - and written in flush order, as ETW does (etw-format.md §C.1). Processors log at
 * very different rates, so a slow processor's buffer is flushed long after faster processors
 * flushed newer events: the cross-processor lag a consumer's merge must undo.
 *
 * The header event must state BuffersWritten and EndTime before any data buffer is emitted,
 * while memory must not grow with the event count. So the run is done twice from the same
 * seed: a sizing pass that only plans records, then the real pass that encodes and emits. */
#include <stdlib.h>
#include <string.h>

#include <etwire/evntrace.h>

#include "base/bytes.h"
#include "gen/gen_internal.h"

typedef struct proc_state {
    uint8_t *buf;               /* NULL in the sizing pass */
    uint32_t offset;            /* 0 = no open buffer */
    uint32_t weight;            /* cumulative selection weight */
    uint64_t seq, first_ts, last_ts;
} proc_state;

typedef struct gen_run {
    etw_gen_config c;
    const etw_gen_sinks *out;   /* NULL in the sizing pass */
    proc_state procs[64];
    uint64_t next_seq, data_buffers, last_flush, max_flushed_ts, deadline, index;
    uint64_t latest_flush;      /* the latest flush time of all sessions (the header's EndTime) */
    etw_gen_summary sum;
    int failed;
} gen_run;

static void update_deadline(gen_run *g)
{
    g->deadline = UINT64_MAX;
    if (!g->c.max_lag)
        return;
    for (unsigned i = 0; i < g->c.processors; i++) {
        const proc_state *p = &g->procs[i];
        uint64_t d = p->first_ts + g->c.max_lag;
        if (d < p->first_ts)
            d = UINT64_MAX;
        if (p->offset && d < g->deadline)
            g->deadline = d;
    }
}

static void flush(gen_run *g, unsigned cpu, uint64_t ts, uint16_t extra_flags)
{
    proc_state *p = &g->procs[cpu];
    if (ts < g->last_flush) /* cannot happen by construction; keep the file order sound */
        ts = g->last_flush;
    g->data_buffers++;
    uint16_t flags = extra_flags | (g->c.legacy_context ? 0 : ETW_BUFFER_FLAG_PROC_INDEX);
    if (g->c.lost_every && g->data_buffers % g->c.lost_every == 0) {
        flags |= ETW_BUFFER_FLAG_EVENTS_LOST;
        g->sum.lost_buffers++;
    }
    if (g->max_flushed_ts > p->first_ts) { /* older than something already flushed */
        g->sum.lagging_buffers++;
        if (g->max_flushed_ts - p->first_ts > g->sum.max_lag)
            g->sum.max_lag = g->max_flushed_ts - p->first_ts;
    }
    if (p->last_ts > g->max_flushed_ts)
        g->max_flushed_ts = p->last_ts;
    if (g->out && !g->failed) {
        etw_gen_buffer_info b = {g->c.buffer_size, p->offset, p->offset, ts, p->seq, (uint16_t)cpu,
                                 g->c.logger_id, flags, 0, g->c.legacy_context,
                                 g->c.seed ^ (p->seq * 0x9E3779B97F4A7C15ull) ^ 1};
        etw_gen_buffer_header(&b, p->buf);
        memset(p->buf + p->offset, 0xFF, g->c.buffer_size - p->offset);
        if (g->out->emit(p->buf, g->c.buffer_size, g->out->ctx))
            g->failed = 1;
    }
    g->sum.buffers++;
    g->last_flush = ts;
    if (ts > g->latest_flush)
        g->latest_flush = ts;
    p->offset = 0;
}

/* Flush timer: buffers whose first event is older than max_lag before `now` are flushed at
 * their deadline, earliest first, so flush times stay non-decreasing along the file. */
static void flush_expired(gen_run *g, uint64_t now)
{
    while (g->deadline < now) {
        unsigned best = 0;
        uint64_t best_first = UINT64_MAX;
        for (unsigned i = 0; i < g->c.processors; i++)
            if (g->procs[i].offset && g->procs[i].first_ts < best_first)
                best_first = g->procs[i].first_ts, best = i;
        flush(g, best, g->deadline, 0);
        update_deadline(g);
    }
}

static unsigned pick_processor(gen_run *g, etw_gen_rng *r)
{
    uint32_t x = etw_gen_below(r, g->procs[g->c.processors - 1].weight);
    unsigned i = 0;
    while (g->procs[i].weight <= x)
        i++;
    return i;
}

/* One data event at time t. */
static void place_event(gen_run *g, etw_gen_rng *r, uint64_t t)
{
    etw_gen_event ev;
    etw_gen_detail d;
    flush_expired(g, t);
    unsigned cpu = pick_processor(g, r);
    uint32_t max_record = g->c.buffer_size - ETW_GEN_BUFFER_HEADER;
    if (max_record > ETW_GEN_RECORD_MAX)
        max_record = ETW_GEN_RECORD_MAX;
    etw_gen_plan_event(r, g->c.kinds, g->c.pointer_size, max_record, &ev, &d);
    uint32_t size8 = (uint32_t)etw_align8(ev.record_size);
    proc_state *p = &g->procs[cpu];
    if (p->offset && p->offset + size8 > g->c.buffer_size) {
        flush(g, cpu, t, 0);
        update_deadline(g);
    }
    if (!p->offset) {
        p->offset = ETW_GEN_BUFFER_HEADER;
        p->seq = g->next_seq++;
        p->first_ts = t;
        update_deadline(g);
    }
    ev.index = g->index++;
    ev.timestamp = t;
    ev.processor = cpu;
    ev.buffer_sequence = p->seq;
    ev.record_offset = p->offset;
    if (g->out) {
        etw_gen_record_write(&ev, &d, p->buf + p->offset);
        ev.record = p->buf + p->offset;
        if (g->out->expect)
            g->out->expect(&ev, g->out->ctx);
    }
    p->offset += size8;
    p->last_ts = t;
    for (unsigned k = 0; k < ETW_GEN_KIND_COUNT; k++)
        if (ev.kind == 1u << k)
            g->sum.kind_counts[k]++;
    g->sum.events++;
}

uint64_t etw_gen_ticks_per_second(const etw_gen_config *c)
{
    return c->clock_type == ETW_GEN_CLOCK_SYSTEM ? 10000000u
           : c->clock_type == ETW_GEN_CLOCK_CYCLES ? (uint64_t)(c->cpu_mhz ? c->cpu_mhz : 2995) * 1000000u
                                                   : (c->perf_freq ? c->perf_freq : 10000000u);
}

/* Raw ticks to 100 ns units without overflow (freq < 2^37, so rem * 10^7 < 2^61). */
static uint64_t ticks_to_100ns(uint64_t ticks, uint64_t freq)
{
    return ticks / freq * 10000000u + ticks % freq * 10000000u / freq;
}

static void setup_clock(gen_run *g, etw_gen_header_info *h)
{
    etw_gen_rng r = {g->c.seed ^ 0x5EED0C10C4ull};
    uint64_t freq = etw_gen_ticks_per_second(&g->c);
    uint64_t uptime = 3600 + etw_gen_below(&r, 3 * 86400);     /* seconds since boot */
    /* 2024-01-01T00:00:00Z plus up to a year, at a random sub-second instant. */
    h->start_time = 133485408000000000ull + (uint64_t)etw_gen_below(&r, 365 * 86400) * 10000000u +
                    etw_gen_below(&r, 10000000);
    h->boot_time = h->start_time - uptime * 10000000u;
    h->perf_freq = g->c.perf_freq;
    /* QPC and cycle counters count from boot; the system-time clock is the FILETIME itself. */
    uint32_t sub = etw_gen_below(&r, freq > UINT32_MAX ? UINT32_MAX : (uint32_t)freq);
    h->ts = g->c.clock_type == ETW_GEN_CLOCK_SYSTEM ? h->start_time : uptime * freq + sub;
}

/* Every open buffer is flushed at `end`, as a logging session does when it stops. */
static void flush_all(gen_run *g, uint64_t end)
{
    for (unsigned i = 0; i < g->c.processors; i++)
        if (g->procs[i].offset)
            flush(g, i, end, ETW_BUFFER_FLAG_FLUSH_MARKER);
    g->deadline = UINT64_MAX;
}

/* An appended session starts: the previous one stopped (its buffers flushed), the clock went
 * back by clock_step_back, and the new session numbers its buffers from 1 again (as the
 * sdiag-win7 appended files in the corpus do). Its flush times restart below the previous
 * session's: the file's flush order goes backwards once. */
static uint64_t start_appended_session(gen_run *g, uint64_t t)
{
    flush_all(g, t + 1);
    t = t + 1 > g->c.clock_step_back ? t + 1 - g->c.clock_step_back : 1;
    g->last_flush = t;
    g->max_flushed_ts = 0;
    g->next_seq = 1;
    return t;
}

/* The whole simulation; with g->out NULL it only sizes (no bytes, no callbacks). */
static void simulate(gen_run *g, uint64_t ts0)
{
    etw_gen_rng r = {g->c.seed ^ 0xE7E27AC3ull};
    uint64_t freq = etw_gen_ticks_per_second(&g->c);
    uint32_t mean = (uint32_t)(freq / 200000u); /* about 5 us between events */
    if (mean < 1)
        mean = 1;
    uint32_t total = 0;
    for (unsigned i = 0; i < g->c.processors; i++) {
        /* Heavily skewed rates: processor 0 is busy, high numbers trickle (lag). */
        if (i < g->c.processors - g->c.idle_processors)
            total += 1 + 1024 / ((i + 1) * (i + 1));
        g->procs[i].weight = total;
    }
    uint64_t t = ts0;
    g->last_flush = ts0;
    unsigned sessions = g->c.append_sessions > 1 ? g->c.append_sessions : 1;
    uint64_t per_session = g->c.events / sessions;
    for (uint64_t n = 0; n < g->c.events && !g->failed; n++) {
        if (n && n % per_session == 0 && n / per_session < sessions)
            t = start_appended_session(g, t);
        t += 1 + etw_gen_below(&r, 2 * mean);
        if (etw_gen_below(&r, 16) == 0)
            t -= 1; /* equal timestamps happen, across and within processors */
        place_event(g, &r, t);
        g->sum.last_ts = t;
    }
    flush_all(g, g->c.events ? t + 1 : ts0);
    g->sum.last_flush_ts = g->last_flush;
}

static void init_run(gen_run *g, const etw_gen_config *c)
{
    memset(g, 0, sizeof *g);
    g->c = *c;
    if (!g->c.kinds)
        g->c.kinds = g->c.pointer_size == 4 ? ETW_GEN_KINDS_32 : ETW_GEN_KINDS_64;
    if (!g->c.perf_freq)
        g->c.perf_freq = 10000000;
    if (!g->c.cpu_mhz)
        g->c.cpu_mhz = 2995;
    if (!g->c.log_file_mode)
        g->c.log_file_mode = EVENT_TRACE_FILE_MODE_SEQUENTIAL |
                             (g->c.append_sessions > 1 ? EVENT_TRACE_FILE_MODE_APPEND : 0);
    if (!g->c.logger_id)
        g->c.logger_id = 0x21;
    g->next_seq = 1;
    g->deadline = UINT64_MAX;
}

int etw_gen_run_ex(const etw_gen_config *c, const etw_gen_sinks *out)
{
    if (etw_gen_config_check(c) || !out || !out->emit)
        return -1;
    gen_run *g = malloc(sizeof *g);
    if (!g)
        return -1;
    etw_gen_header_info h;
    init_run(g, c);
    h.cfg = &g->c;
    setup_clock(g, &h);
    simulate(g, h.ts); /* sizing pass */
    uint64_t freq = etw_gen_ticks_per_second(&g->c);
    h.end_time = h.start_time + ticks_to_100ns(g->latest_flush > h.ts ? g->latest_flush - h.ts : 0, freq);
    h.buffers_written = g->c.buffers_written_override ? g->c.buffers_written_override
                                                      : (uint32_t)(g->sum.buffers + 1);
    h.events_lost = (uint32_t)g->sum.lost_buffers;

    etw_gen_config cfg = g->c;
    init_run(g, &cfg);
    g->out = out;
    int rc = 0;
    unsigned active = g->c.processors - g->c.idle_processors;
    for (unsigned i = 0; i < active && !rc; i++) {
        g->procs[i].buf = malloc(g->c.buffer_size);
        rc = g->procs[i].buf ? 0 : -1;
        g->sum.memory_bytes += g->c.buffer_size;
    }
    if (!rc) { /* buffer 0, built in processor 0's buffer before any data is placed */
        uint8_t *b = g->procs[0].buf;
        uint32_t off = etw_gen_header_records(&h, b, out->expect, out->ctx, &g->index);
        etw_gen_buffer_info bi = {g->c.buffer_size, g->c.saved_offset_zero_in_header ? 0 : off, off,
                                  0, 0, 0, g->c.logger_id,
                                  (uint16_t)(ETW_BUFFER_FLAG_FLUSH_MARKER |
                                             (g->c.legacy_context ? 0 : ETW_BUFFER_FLAG_PROC_INDEX)),
                                  4 /* ETW_BUFFER_TYPE_HEADER */, g->c.legacy_context, 0};
        etw_gen_buffer_header(&bi, b);
        memset(b + off, 0xFF, g->c.buffer_size - off);
        g->sum.header_records = g->sum.events = g->index;
        g->sum.buffers = 1;
        if (out->emit(b, g->c.buffer_size, out->ctx))
            rc = -1;
    }
    if (!rc) {
        simulate(g, h.ts);
        rc = g->failed ? -1 : 0;
    }
    for (unsigned i = 0; i < active; i++)
        free(g->procs[i].buf);
    if (!rc && out->summary) {
        g->sum.bytes = g->sum.buffers * g->c.buffer_size;
        g->sum.first_ts = h.ts;
        if (!g->c.events)
            g->sum.last_ts = h.ts;
        g->sum.start_time = h.start_time;
        g->sum.end_time = h.end_time;
        g->sum.boot_time = h.boot_time;
        g->sum.perf_freq = h.perf_freq;
        g->sum.memory_bytes += sizeof *g;
        *out->summary = g->sum;
    }
    free(g);
    return rc;
}
