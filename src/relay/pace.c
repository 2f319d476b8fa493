/* Pacing by buffer flush times (see pace.h). */
#include "relay/pace.h"

#include <time.h>

#include "base/bytes.h"
#include "base/clock.h"

#define BUFFER_HEADER 0x48u
#define FLUSH_TIME 0x10u   /* WMI_BUFFER_HEADER.TimeStamp (etw-format.md B.2) */
#define FILLED 0x30u       /* WMI_BUFFER_HEADER.Offset: valid bytes, header included */
#define SYSTEM_HEADER 0x20u /* SYSTEM_TRACE_HEADER: marker, size, hook, tid, pid, time, ... */

/* The header buffer's first record: the log-file header event, a SYSTEM header (marker flags
 * 0xC0, type 1 or 2, HookId 0) whose SystemTime is the session's start. NULL if buf is not a
 * header buffer; *record_size is the record's Packet.Size. */
static const uint8_t *header_event(const uint8_t *buf, uint32_t size, uint32_t *record_size)
{
    if (size < BUFFER_HEADER || etw_rd64(buf + FLUSH_TIME) != 0)
        return NULL;
    uint32_t filled = etw_rd32(buf + FILLED);
    if (filled > size || filled < BUFFER_HEADER + SYSTEM_HEADER)
        return NULL;
    const uint8_t *r = buf + BUFFER_HEADER;
    uint32_t marker = etw_rd32(r);
    uint32_t type = (marker >> 16) & 0xFF;
    if ((marker >> 24) != 0xC0 || (type != 1 && type != 2) || etw_rd16(r + 6) != 0)
        return NULL;
    uint32_t n = etw_rd16(r + 4);
    *record_size = n <= filled - BUFFER_HEADER ? n : 0;
    return r;
}

uint64_t relay_pace_buffer_time(const uint8_t *buf, uint32_t size)
{
    if (size < BUFFER_HEADER)
        return 0;
    uint64_t flushed = etw_rd64(buf + FLUSH_TIME);
    if (flushed)
        return flushed;
    uint32_t n;
    const uint8_t *r = header_event(buf, size, &n);
    return r ? etw_rd64(r + 0x10) : 0;
}

uint64_t relay_pace_header_frequency(const uint8_t *buf, uint32_t size)
{
    uint32_t n;
    const uint8_t *r = header_event(buf, size, &n);
    if (!r)
        return 0;
    /* TRACE_LOGFILE_HEADER64 after a type-2 header, ...32 after type 1 (etw-format.md A.8.5). */
    int is64 = ((etw_rd32(r) >> 16) & 0xFF) == 2;
    uint32_t need = SYSTEM_HEADER + (is64 ? 0x118u : 0x110u);
    if (n < need)
        return 0;
    const uint8_t *h = r + SYSTEM_HEADER;
    uint64_t perf_freq = etw_rd64(h + (is64 ? 0x100 : 0xF8));
    uint32_t clock_type = etw_rd32(h + (is64 ? 0x110 : 0x108));
    etw_clock c;
    etw_clock_init(&c, clock_type, perf_freq, etw_rd32(h + 0x34), 0, 0);
    return c.frequency;
}

double relay_pace_delay_at(relay_pace *p, const uint8_t *buf, uint32_t size, uint64_t frequency,
                           double now)
{
    if (p->rate <= 0)
        return 0;
    if (!p->frequency)
        p->frequency = relay_pace_header_frequency(buf, size);
    if (!frequency)
        frequency = p->frequency;
    uint64_t ts = frequency ? relay_pace_buffer_time(buf, size) : 0;
    if (ts == 0)
        return 0; /* no time: sent as soon as the one before */
    if (!p->started) {
        p->started = 1;
        p->ts_origin = ts;
        p->wall_origin = now;
        return 0;
    }
    if (ts <= p->ts_origin)
        return 0;
    double due = p->wall_origin + (double)(ts - p->ts_origin) / (double)frequency / p->rate;
    return due > now ? due - now : 0;
}

int relay_pace_delay_ms(relay_pace *p, const uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double s = relay_pace_delay_at(p, buf, size, clk->frequency, (double)ts.tv_sec + ts.tv_nsec / 1e9);
    double ms = s * 1000;
    return ms <= 0 ? 0 : ms >= 2e9 ? 2000000000 : (int)ms;
}
