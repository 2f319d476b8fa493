/* Shared pieces of the trace generator: the pseudo-random source, the per-record details that
 * the public etw_gen_event does not carry, and the record planner/encoder entry points. */
#ifndef ETWIRE_GEN_GEN_INTERNAL_H
#define ETWIRE_GEN_GEN_INTERNAL_H

#include <stdint.h>

#include "gen/trace_gen.h"

/* splitmix64: tiny, fast, and every seed (including 0) gives a full-period stream. */
typedef struct etw_gen_rng {
    uint64_t s;
} etw_gen_rng;

static inline uint64_t etw_gen_next(etw_gen_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n = 0 gives 0), by multiply-shift: no modulo bias worth caring about. */
static inline uint32_t etw_gen_below(etw_gen_rng *r, uint32_t n)
{
    return (uint32_t)(((etw_gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Size limits of one record: the u16 size fields (§B.5) and an empty buffer's room. */
#define ETW_GEN_BUFFER_HEADER 72u
#define ETW_GEN_RECORD_MAX 0xFFF8u

/* What the encoder needs beyond etw_gen_event. Item and payload bytes are derived from
 * data_seed when written, so planning (and the sizing-only first pass) stays cheap. */
typedef struct etw_gen_detail {
    uint32_t kernel_time, user_time;
    GUID activity_id;
    uint32_t instance_id, parent_instance_id;
    GUID parent_guid;
    uint32_t msg_sequence, component_id;
    uint16_t ext_sizes[8];      /* DataSize of each extended item */
    int tracelogging;           /* payload starts with a u16 count (matches the TL schema) */
    uint64_t data_seed;
} etw_gen_detail;

/* Fills ev's content fields (kind, ids, descriptor, items, sizes; not timestamp, processor,
 * index or placement) and d, for one of the kinds in `kinds`, such that record_size <=
 * max_record. pointer_size picks the MESSAGE POINTER32/64 option flag. */
void etw_gen_plan_event(etw_gen_rng *r, uint32_t kinds, unsigned pointer_size, uint32_t max_record,
                        etw_gen_event *ev, etw_gen_detail *d);
/* Encodes ev (timestamp included) into out[0 .. align8(record_size)), padding zeroed. */
void etw_gen_record_write(const etw_gen_event *ev, const etw_gen_detail *d, uint8_t *out);

/* Header-buffer records (§B.9). */
typedef struct etw_gen_header_info {
    const etw_gen_config *cfg;
    uint64_t ts;                /* raw clock at start_time */
    uint64_t start_time, end_time, boot_time, perf_freq;
    uint32_t buffers_written, events_lost;
} etw_gen_header_info;

/* Writes the header event and (if configured) the extension records at buf + 72, calling
 * expect per record. Returns the filled offset (end of the last aligned record). */
uint32_t etw_gen_header_records(const etw_gen_header_info *h, uint8_t *buf,
                                etw_gen_expect_fn expect, void *ctx, uint64_t *count);

/* Writes the 72-byte buffer header (§B.2). */
typedef struct etw_gen_buffer_info {
    uint32_t size, saved_offset, offset;
    uint64_t timestamp, sequence;
    uint16_t processor, logger_id, flags, type;
    int legacy_context;
    uint64_t stale;             /* seed for the stale-pointer fields; 0 = zero them */
} etw_gen_buffer_info;
void etw_gen_buffer_header(const etw_gen_buffer_info *b, uint8_t *buf);

extern const GUID etw_gen_event_trace_guid;

#endif
