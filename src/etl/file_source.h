/* An .etl file as a producer of buffers, in flush order or per processor (docs/design.md 3.1:
 * a file is "a buffer stream whose producer is a file reader"). A first pass reads only the 72-byte buffer
 * headers to chain buffers by their size field (never trusting BuffersWritten, part E), to
 * order them by flush time (circular files wrap), to chain each processor's buffers (a
 * consumer that does not see buffers gets them per processor, as the merge needs them) and to
 * know each processor's last buffer, so the merge never waits for data that will not come.
 *
 * Buffers are then read with pread into blocks that are recycled as buffers complete, not
 * mapped: the few blocks in flight stay in cache and in the TLB, where a mapping touches a
 * new page for every 4 KiB of the file. Measured on the PerfView trace: the whole pipeline
 * runs in about half the time of the mmap reader it replaced (docs/benchmarks.md). Memory is
 * the buffers in flight, whatever the file size. */
#ifndef ETWIRE_ETL_FILE_SOURCE_H
#define ETWIRE_ETL_FILE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct etw_file_entry {
    uint64_t offset;
    uint64_t flush;
    uint32_t size;       /* bytes available to the buffer (clipped at end of file) */
    uint32_t used;       /* bytes up to its filled offset (all of it when compressed) */
    uint32_t next_same;  /* the same processor's next buffer in flush order (UINT32_MAX: none) */
    uint16_t proc;
    uint8_t last_of_proc;
    uint8_t taken;       /* read already (buffers may be read out of flush order) */
} etw_file_entry;

typedef struct etw_file_problem {
    etw_status status;
    uint64_t index;
    uint64_t offset;
    char detail[96];
} etw_file_problem;

#define ETW_FILE_PROBLEMS_KEPT 16

typedef struct etw_file_source {
    int fd;
    size_t size;
    etw_file_entry *entries;
    size_t count;
    size_t compressed;    /* buffers flagged compressed */
    size_t next;          /* the first entry in flush order not yet taken, or before it */
    uint32_t *proc_first; /* each processor's first data buffer (UINT32_MAX: none) */
    uint32_t *proc_next;  /* each processor's first buffer not yet taken, or before it */
    uint32_t nprocs;
    etw_file_problem problems[ETW_FILE_PROBLEMS_KEPT];
    size_t problem_count; /* may exceed ETW_FILE_PROBLEMS_KEPT; the rest are counted only */
    uint32_t block_size;  /* the largest buffer: any block holds any buffer */
    uint8_t **spare;      /* blocks free for the next read (room for every block) */
    size_t nblocks, nspare, capblocks;
    struct etw_file_arena {
        uint8_t *base;
        size_t bytes;
    } *arenas;            /* blocks are carved from these (unmapped by close) */
    size_t narenas, arena_used;
    int keep_blocks;      /* a consumer took a buffer reference: never reuse a block */
    int whole_buffers;    /* read each buffer whole, not only up to its filled offset */
    int head_only;        /* next() reads only the 72-byte header (see etw_file_source_finish) */
    struct etw_ahead *ahead; /* compressed buffers decompressed ahead (file_session.c) */
    size_t ahead_entry;   /* the entry just given to the session */
    uint8_t *ahead_block; /* its block from the thread, taken before the session asks */
    struct etw_session *session; /* the session reading this file (file_session.c) */
} etw_file_source;

/* Opens and indexes a file. A file whose first buffer cannot be read fails with the status and
 * a message naming the offset in err. */
etw_status etw_file_source_open(const char *path, etw_file_source **out, char *err, size_t errlen);
void etw_file_source_close(etw_file_source *f);
/* The next buffer of `processor` (UINT32_MAX, or a processor with none left: the next in
 * flush order), read into a block: returns 0 when there are no more. *n is how many bytes were
 * read (see whole_buffers). When the read fails, *p is NULL and *st says why (the entry is
 * still consumed). */
int etw_file_source_next(etw_file_source *f, uint32_t processor, const etw_file_entry **e,
                         const uint8_t **p, size_t *n, etw_status *st);
/* With head_only set, next() reads only a buffer's 72-byte header (*n is still the size it
 * would have read): a compressed buffer already decompressed ahead needs no more. finish reads
 * the rest of the buffer at p into its block, as next() would have. */
etw_status etw_file_source_finish(etw_file_source *f, const etw_file_entry *e, const uint8_t *p);
/* Reads the buffer at flush position pos (an entry index, as next() numbers them) again into a
 * block, as next() read it: a buffer whose events are out but whose callback must wait for
 * earlier-flushed buffers gives its block back and is read again when the callback is due.
 * *p is NULL when the read fails. */
etw_status etw_file_source_reread(etw_file_source *f, uint64_t pos, const uint8_t **p, size_t *n);
/* The next entry in flush order, marked taken, without reading it (NULL: none left): for a
 * caller that reads buffers into memory of its own with etw_file_source_read_into (the relay's
 * sender reads each one straight into the frame it goes out in, not into a block first). */
const etw_file_entry *etw_file_source_next_entry(etw_file_source *f);
/* Reads the first n bytes of e into dst; ETW_E_IO when they cannot all be read. */
etw_status etw_file_source_read_into(etw_file_source *f, const etw_file_entry *e, uint8_t *dst,
                                     size_t n);
/* The buffer at p (from next or reread) is finished with: its block is read into again. */
void etw_file_source_done(etw_file_source *f, const uint8_t *p);
/* Whether next() reads each buffer whole (the default) or only up to its filled offset, which
 * is all the events need: a buffer callback sees whole buffers, a consumer without one does
 * not pay for copying the unused end of partly filled buffers (1 MiB buffers flushed by a
 * timer are often mostly empty). */
void etw_file_source_whole_buffers(etw_file_source *f, int whole);
/* The flush position (entry index) of the first buffer not yet read; UINT64_MAX when all were. */
uint64_t etw_file_source_first_untaken(etw_file_source *f);
/* The next buffer is the first one again. */
void etw_file_source_rewind(etw_file_source *f);
/* From now on blocks are kept until close (buffer references outlive completion). */
void etw_file_source_keep_blocks(etw_file_source *f);

#endif
