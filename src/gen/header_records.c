/* The header buffer's records (etw-format.md §B.9) and the 72-byte buffer header (§B.2). */
#include <string.h>

#include <etwire/evntrace.h>

#include "base/bytes.h"
#include "gen/gen_internal.h"
#include "gen/gen_tables.h"

static const char logger_name[] = "EtwireGen";
static const char file_name[] = "C:\\etwire\\gen.etl";

/* Writes an ASCII string as UTF-16LE; returns bytes written including the NUL. */
static size_t put_utf16(uint8_t *p, const char *s, size_t max_units)
{
    size_t i = 0;
    for (; s[i] && i + 1 < max_units; i++)
        etw_wr16(p + 2 * i, (uint8_t)s[i]);
    etw_wr16(p + 2 * i, 0);
    return 2 * (i + 1);
}

/* TIME_ZONE_INFORMATION (172 bytes, §A.8.5): a UTC+1 zone with European DST rules. */
static void put_time_zone(uint8_t *z)
{
    memset(z, 0, 172);
    etw_wr32(z, (uint32_t)-60);
    put_utf16(z + 4, "Synthetic Standard Time", 32);
    etw_wr16(z + 0x44 + 2, 10); /* StandardDate: last (5th) Sunday of October, 03:00 */
    etw_wr16(z + 0x44 + 6, 5);
    etw_wr16(z + 0x44 + 8, 3);
    put_utf16(z + 0x58, "Synthetic Daylight Time", 32);
    etw_wr16(z + 0x98 + 2, 3); /* DaylightDate: last Sunday of March, 02:00 */
    etw_wr16(z + 0x98 + 6, 5);
    etw_wr16(z + 0x98 + 8, 2);
    etw_wr32(z + 0xA8, (uint32_t)-60);
}

/* TRACE_LOGFILE_HEADER32/64 (§A.8.5): identical up to LoggerName, then the pointer-sized
 * fields shift everything after them by 8 bytes. Returns the structure size. */
static uint32_t put_logfile_header(const etw_gen_header_info *h, uint8_t *p)
{
    const etw_gen_config *c = h->cfg;
    int p64 = c->pointer_size == 8;
    memset(p, 0, p64 ? 0x118 : 0x110);
    etw_wr32(p, c->buffer_size);
    if (c->legacy_context) { /* Windows 7 SP1, layout 1.5 */
        p[4] = 6, p[5] = 1, p[6] = 1, p[7] = 5;
        etw_wr32(p + 8, 7601);
    } else { /* Windows 10; layout 2.0 once buffers exceed 1 MiB */
        p[4] = 10, p[5] = 0;
        p[6] = c->buffer_size > (1u << 20) ? 2 : 1;
        p[7] = c->buffer_size > (1u << 20) ? 0 : 5;
        etw_wr32(p + 8, 19041);
    }
    etw_wr32(p + 0x0C, c->processors);
    etw_wr64(p + 0x10, h->end_time);
    etw_wr32(p + 0x18, 156250);
    etw_wr32(p + 0x1C, 0);
    etw_wr32(p + 0x20, c->log_file_mode);
    etw_wr32(p + 0x24, h->buffers_written);
    etw_wr32(p + 0x28, 1);
    etw_wr32(p + 0x2C, c->pointer_size);
    etw_wr32(p + 0x30, h->events_lost);
    etw_wr32(p + 0x34, c->cpu_mhz);
    /* LoggerName/LogFileName hold HAL timer-source numbers in files, not pointers. */
    uint32_t o = 0x38;
    if (p64) {
        etw_wr64(p + o, 5);
        etw_wr64(p + o + 8, 10);
        o += 16;
    } else {
        etw_wr32(p + o, 5);
        etw_wr32(p + o + 4, 10);
        o += 8;
    }
    put_time_zone(p + o);
    o += 172 + 4;
    etw_wr64(p + o, h->boot_time);
    etw_wr64(p + o + 8, h->perf_freq);
    etw_wr64(p + o + 16, h->start_time);
    etw_wr32(p + o + 24, c->clock_type);
    etw_wr32(p + o + 28, 0);
    return o + 32;
}

static uint32_t put_system_header(uint8_t *p, const etw_gen_header_info *h, uint16_t hook,
                                  uint32_t size)
{
    etw_wr16(p, 2);
    p[2] = h->cfg->pointer_size == 8 ? 0x02 : 0x01;
    p[3] = 0xC0;
    etw_wr16(p + 4, (uint16_t)size);
    etw_wr16(p + 6, hook);
    etw_wr32(p + 8, 0x1F4C);
    etw_wr32(p + 0xC, 0x1E20);
    etw_wr64(p + 0x10, h->ts);
    etw_wr32(p + 0x18, 0);
    etw_wr32(p + 0x1C, 0);
    return 0x20;
}

static void report(const etw_gen_header_info *h, uint8_t *buf, uint32_t off, uint16_t hook,
                   uint64_t *count, etw_gen_expect_fn expect, void *ctx)
{
    etw_gen_event ev;
    memset(&ev, 0, sizeof ev);
    ev.index = (*count)++;
    ev.timestamp = h->ts;
    ev.kind = ETW_GEN_KIND_HEADER;
    ev.header_type = buf[off + 2];
    ev.thread_id = 0x1F4C;
    ev.process_id = 0x1E20;
    ev.provider = etw_gen_event_trace_guid;
    ev.hook_id = hook;
    ev.opcode = (uint8_t)hook;
    ev.version = 2;
    ev.record_offset = off;
    ev.record_size = etw_rd16(buf + off + 4);
    ev.payload_offset = 0x20;
    ev.payload_length = ev.record_size - 0x20;
    ev.record = buf + off;
    if (expect)
        expect(&ev, ctx);
}

uint32_t etw_gen_header_records(const etw_gen_header_info *h, uint8_t *buf,
                                etw_gen_expect_fn expect, void *ctx, uint64_t *count)
{
    uint32_t off = ETW_GEN_BUFFER_HEADER;
    uint8_t *p = buf + off;
    uint32_t n = 0x20 + put_logfile_header(h, p + 0x20);
    n += (uint32_t)put_utf16(p + n, logger_name, 64);
    n += (uint32_t)put_utf16(p + n, file_name, 64);
    put_system_header(p, h, 0x0000, n);
    memset(p + n, 0, etw_align8(n) - n);
    report(h, buf, off, 0x0000, count, expect, ctx);
    off += (uint32_t)etw_align8(n);
    if (!h->cfg->header_extension_records)
        return off;
    /* HookId 0x0005: 8 group-mask ULONGs and the kernel event version. */
    if (off + 0x20 + 36 <= h->cfg->buffer_size) {
        p = buf + off;
        put_system_header(p, h, 0x0005, 0x20 + 36);
        memset(p + 0x20, 0, 40);
        etw_wr32(p + 0x20, 0x00000007);
        etw_wr32(p + 0x24, 0x00000400);
        etw_wr32(p + 0x40, 2);
        report(h, buf, off, 0x0005, count, expect, ctx);
        off += (uint32_t)etw_align8(0x20 + 36);
    }
    /* HookId 0x0050 partition information, v0: version, reserved, type, QPC offset, 2 GUIDs. */
    if (off + 0x20 + 48 <= h->cfg->buffer_size) {
        p = buf + off;
        put_system_header(p, h, 0x0050, 0x20 + 48);
        memset(p + 0x20, 0, 48);
        etw_wr32(p + 0x24, 1);
        etw_gen_write_guid(p + 0x30, etw_gen_classic_guid(0));
        report(h, buf, off, 0x0050, count, expect, ctx);
        off += 0x20 + 48;
    }
    return off;
}

void etw_gen_buffer_header(const etw_gen_buffer_info *b, uint8_t *buf)
{
    memset(buf, 0, ETW_GEN_BUFFER_HEADER);
    etw_wr32(buf, b->size);
    etw_wr32(buf + 0x04, b->saved_offset);
    /* CurrentOffset is volatile; closed file buffers often show BufferSize + SavedOffset. */
    etw_wr32(buf + 0x08, b->stale ? b->size + b->offset : 0);
    etw_wr64(buf + 0x10, b->timestamp);
    etw_wr64(buf + 0x18, b->sequence);
    if (b->legacy_context) { /* {u8 ProcessorNumber, u8 Alignment = 8, u16 LoggerId} */
        buf[0x28] = (uint8_t)b->processor;
        buf[0x29] = 8;
    } else {
        etw_wr16(buf + 0x28, b->processor);
    }
    etw_wr16(buf + 0x2A, b->logger_id);
    etw_wr32(buf + 0x2C, 3); /* ETW_BUFFER_STATE Flush */
    etw_wr32(buf + 0x30, b->offset);
    etw_wr16(buf + 0x34, b->flags);
    etw_wr16(buf + 0x36, b->type);
    if (b->stale) { /* stale kernel pointers, as in real files: consumers must ignore them */
        etw_gen_rng r = {b->stale};
        etw_wr64(buf + 0x20, 0xFFFFC00000000000ull | (etw_gen_next(&r) & 0x00003FFFFFFFF000ull));
        etw_wr64(buf + 0x38, 0xFFFFC00000000000ull | (etw_gen_next(&r) & 0x00003FFFFFFFFFC0ull));
        etw_wr64(buf + 0x40, 0xFFFFC00000000000ull | (etw_gen_next(&r) & 0x00003FFFFFFFFFC0ull));
    }
}
