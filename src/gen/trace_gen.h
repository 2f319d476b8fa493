/* The seeded trace generator: synthetic ETW buffers and .etl files laid out exactly as Windows
 * writes them (etw-format.md Part B), so tests, benchmarks and demos never need third-party
 * traces. Output is a pure function of the configuration (seed included); memory is
 * O(processors x buffer_size), independent of the event count, so huge traces stream.
 *
 * What a file looks like (docs/generator.md has the long version):
 *   buffer 0   BufferType HEADER, TimeStamp 0, FLUSH_MARKER: the log-file header event
 *              (SYSTEM header, HookId 0x0000, TRACE_LOGFILE_HEADER32/64 + two UTF-16 names),
 *              optionally followed by header-extension records (HookId 0x0005, 0x0050).
 *   buffer 1.. one processor's events each, written in flush-time order (§C.1): buffer
 *              TimeStamp non-decreasing along the file, per-processor SequenceNumber
 *              increasing, events in a buffer non-decreasing and <= its flush time, a
 *              processor's next buffer never older than its previous flush, and real
 *              cross-processor lag (slow processors flush old events late). */
#ifndef ETWIRE_GEN_TRACE_GEN_H
#define ETWIRE_GEN_TRACE_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/wintypes.h>

/* Record header kinds (etw-format.md §B.5). The 32/64 suffix is the producer's pointer size. */
enum {
    ETW_GEN_KIND_SYSTEM32 = 1u << 0,    /* SYSTEM_TRACE_HEADER, type 0x01 */
    ETW_GEN_KIND_SYSTEM64 = 1u << 1,    /* type 0x02 */
    ETW_GEN_KIND_COMPACT32 = 1u << 2,   /* compact SYSTEM_TRACE_HEADER, type 0x03 */
    ETW_GEN_KIND_COMPACT64 = 1u << 3,   /* type 0x04 */
    ETW_GEN_KIND_PERFINFO32 = 1u << 4,  /* PERFINFO_TRACE_HEADER 0x10, with PMC/PEBS (§B.7) */
    ETW_GEN_KIND_PERFINFO64 = 1u << 5,  /* 0x11 */
    ETW_GEN_KIND_FULL32 = 1u << 6,      /* EVENT_TRACE_HEADER 0x0A */
    ETW_GEN_KIND_FULL64 = 1u << 7,      /* 0x14 */
    ETW_GEN_KIND_INSTANCE32 = 1u << 8,  /* EVENT_INSTANCE_GUID_HEADER 0x0B */
    ETW_GEN_KIND_INSTANCE64 = 1u << 9,  /* 0x15 */
    ETW_GEN_KIND_EVENT32 = 1u << 10,    /* EVENT_HEADER 0xC012, with extended items (§B.8) */
    ETW_GEN_KIND_EVENT64 = 1u << 11,    /* 0xC013 */
    ETW_GEN_KIND_MESSAGE = 1u << 12,    /* MESSAGE_TRACE_HEADER (WPP) with OptionFlags items */
    ETW_GEN_KIND_COUNT = 13,
    ETW_GEN_KINDS_ALL = (1u << 13) - 1,
    ETW_GEN_KINDS_32 = 0x0555u | ETW_GEN_KIND_MESSAGE,
    ETW_GEN_KINDS_64 = 0x0AAAu | ETW_GEN_KIND_MESSAGE,
    /* Not selectable: marks the header-buffer records (log-file header, extensions). */
    ETW_GEN_KIND_HEADER = 1u << 31,
};

/* Clock types (TRACE_LOGFILE_HEADER.ReservedFlags, §B.13). */
enum { ETW_GEN_CLOCK_QPC = 1, ETW_GEN_CLOCK_SYSTEM = 2, ETW_GEN_CLOCK_CYCLES = 3 };

typedef struct etw_gen_config {
    uint64_t seed;
    unsigned processors;        /* 1..64 */
    unsigned pointer_size;      /* 4 or 8: TRACE_LOGFILE_HEADER32/64 (SYSTEM type 1/2) */
    unsigned clock_type;        /* ETW_GEN_CLOCK_* */
    uint64_t perf_freq;         /* QPC frequency; 0 = 10 MHz. 3,579,545 is the other classic */
    uint32_t cpu_mhz;           /* CpuSpeedInMHz (the cycle clock's rate); 0 = 2995 */
    uint32_t buffer_size;       /* 512 .. 16 MiB, multiple of 8; every buffer this size */
    uint64_t events;            /* data events after the header-buffer records */
    uint32_t kinds;             /* ETW_GEN_KIND_* mask; 0 = every kind of pointer_size */
    int legacy_context;         /* 1: buffer flag 0x20 clear, ClientContext {u8 proc, u8 8,
                                   u16 logger}, Windows 7 version numbers (Part E) */
    int saved_offset_zero_in_header; /* header buffer SavedOffset 0 (Part E) */
    uint32_t buffers_written_override; /* 0 = the real count (header buffer included) */
    uint32_t log_file_mode;     /* written to the header; 0 = EVENT_TRACE_FILE_MODE_SEQUENTIAL */
    unsigned lost_every;        /* every Nth data buffer (file order) gets EVENTS_LOST; 0 never */
    uint64_t max_lag;           /* flush timer, raw ticks: a buffer is flushed at most this long
                                   after its first event (bounds cross-processor lag);
                                   0 = flush only when full or at the end */
    unsigned idle_processors;   /* the highest-numbered processors log nothing; < processors */
    int header_extension_records; /* HookId 0x0005 and 0x0050 records after the header event,
                                     as far as they fit in buffer 0 (§B.9, Part E) */
    uint16_t logger_id;         /* ClientContext.LoggerId; 0 = 0x21 */
    unsigned append_sessions;   /* 0 or 1: one session. N: the events are split over N logging
                                   sessions appended to one file, as EVENT_TRACE_FILE_MODE_APPEND
                                   writes it (one header buffer; each session's buffers follow
                                   the previous session's, sequence numbers restart at 1) */
    uint64_t clock_step_back;   /* raw ticks the clock goes back when an appended session
                                   starts (a clock change, a reboot): its buffers then have
                                   flush times before the previous session's. Never below 1 */
} etw_gen_config;

/* seed 1, 4 processors, pointer size 8, QPC at 10 MHz, 64 KiB buffers, 10,000 events, every
 * 64-bit kind, max_lag = 0.25 s at 10 MHz (2,500,000 ticks; rescale with
 * etw_gen_ticks_per_second after changing the clock), header-extension records on. */
void etw_gen_config_default(etw_gen_config *c);
/* Raw clock rate of the configuration: perf_freq, 10^7 (system time) or cpu_mhz x 10^6. */
uint64_t etw_gen_ticks_per_second(const etw_gen_config *c);
/* NULL if the configuration is usable, else what is wrong with it. */
const char *etw_gen_config_check(const etw_gen_config *c);

/* One generated record, as a consumer must see it. Passed to the expect callback once per
 * record in generation order (header-buffer records first); valid during the call only. A
 * consumer delivers them sorted by (timestamp, processor, index) - see docs/generator.md. */
typedef struct etw_gen_event {
    uint64_t index;             /* generation order, 0 = the log-file header event */
    uint64_t timestamp;         /* raw clock */
    uint32_t processor;
    uint32_t kind;              /* one ETW_GEN_KIND_* bit, or ETW_GEN_KIND_HEADER */
    uint8_t header_type;        /* byte 2 of the record's first DWORD (0 for MESSAGE) */
    uint32_t thread_id;         /* UINT32_MAX if the header has none (PERFINFO, MESSAGE
                                   without SYSTEMINFO) */
    uint32_t process_id;
    GUID provider;              /* stored GUID; kernel group GUID for SYSTEM/COMPACT/PERFINFO
                                   (§B.10.2); EventTraceGuid for header records; for MESSAGE
                                   with a component id instead of a GUID: {id, 0, 0, 0...} */
    uint16_t hook_id;           /* SYSTEM/COMPACT/PERFINFO HookId; MESSAGE: MessageNumber */
    uint16_t id;                /* EVENT_HEADER descriptor fields (opcode/level/version also */
    uint8_t version;            /* for classic and kernel headers, §B.10.1) */
    uint8_t channel;
    uint8_t level;
    uint8_t opcode;
    uint16_t task;
    uint64_t keyword;
    uint16_t flags;             /* EVENT_HEADER.Flags as stored; MESSAGE: OptionFlags */
    unsigned ext_count;         /* EVENT_HEADER extended items, or PEBS+PMC items (§B.7) */
    uint16_t ext_types[8];
    unsigned pmc_count;         /* PERFINFO/SYSTEM counters */
    int pebs;
    uint64_t buffer_sequence;   /* SequenceNumber of the buffer holding it */
    uint32_t record_offset;     /* offset of the record in that buffer */
    uint32_t record_size;       /* size field of the record (unaligned) */
    uint32_t payload_offset;    /* user data offset inside the record */
    uint32_t payload_length;
    const uint8_t *record;      /* the encoded record (record_size bytes) */
} etw_gen_event;

typedef struct etw_gen_summary {
    uint64_t buffers;           /* including the header buffer */
    uint64_t events;            /* including the header-buffer records */
    uint64_t header_records;
    uint64_t kind_counts[ETW_GEN_KIND_COUNT]; /* data events per kind bit */
    uint64_t bytes;             /* buffers x buffer_size */
    uint64_t first_ts, last_ts; /* header event timestamp; latest event timestamp */
    uint64_t last_flush_ts;     /* TimeStamp of the last buffer */
    uint64_t start_time, end_time, boot_time; /* FILETIMEs written to the header */
    uint64_t perf_freq;
    uint64_t lost_buffers;      /* buffers flagged EVENTS_LOST */
    uint64_t max_lag;           /* largest (latest event of earlier-flushed buffers - first
                                   event of a buffer); > 0 means the merge is exercised */
    uint64_t lagging_buffers;   /* buffers holding events older than earlier-flushed ones */
    uint64_t memory_bytes;      /* bytes the generator allocated */
} etw_gen_summary;

typedef int (*etw_gen_emit_fn)(const uint8_t *buf, size_t len, void *ctx);
typedef void (*etw_gen_expect_fn)(const etw_gen_event *ev, void *ctx);

typedef struct etw_gen_sinks {
    etw_gen_emit_fn emit;       /* each buffer in file order; nonzero return stops with -1 */
    etw_gen_expect_fn expect;   /* optional */
    void *ctx;
    etw_gen_summary *summary;   /* optional, filled on success */
} etw_gen_sinks;

/* Calls emit for each buffer, header buffer first. Returns 0, or -1 on bad configuration,
 * allocation failure or an emit failure. */
int etw_gen_run(const etw_gen_config *c, etw_gen_emit_fn emit, void *ctx);
int etw_gen_run_ex(const etw_gen_config *c, const etw_gen_sinks *sinks);
/* Writes the .etl file; summary may be NULL. Returns 0 or -1 (errno set on I/O failure). */
int etw_gen_write_file(const etw_gen_config *c, const char *path);
int etw_gen_write_file_ex(const etw_gen_config *c, const char *path, etw_gen_summary *summary);
/* An emit function that fwrite()s to the FILE * passed as ctx. */
int etw_gen_emit_stdio(const uint8_t *buf, size_t len, void *ctx);

/* "SYSTEM64", "EVENT32", "MESSAGE", "HEADER", ...; parse returns 0 for an unknown name. */
const char *etw_gen_kind_name(uint32_t kind);
uint32_t etw_gen_kind_parse(const char *name);

#endif
