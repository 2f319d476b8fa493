/* An .etl file as a producer of buffers in flush order (docs/design.md 3.1: a file is "a
 * buffer stream whose producer is a file reader"). The file is memory-mapped; a first pass
 * reads only the 72-byte buffer headers to chain buffers by their size field (never trusting
 * BuffersWritten, part E), to order them by flush time (circular files wrap), and to know each
 * processor's last buffer, so the merge never waits for data that will not come. */
#ifndef ETWIRE_ETL_FILE_SOURCE_H
#define ETWIRE_ETL_FILE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct etw_file_entry {
    uint64_t offset;
    uint64_t flush;
    uint32_t size;       /* bytes available to the buffer (clipped at end of file) */
    uint16_t proc;
    uint8_t last_of_proc;
} etw_file_entry;

typedef struct etw_file_problem {
    etw_status status;
    uint64_t index;
    uint64_t offset;
    char detail[96];
} etw_file_problem;

#define ETW_FILE_PROBLEMS_KEPT 16
#define ETW_FILE_POPULATE_MAX (64ull << 20) /* map smaller files populated */
#define ETW_FILE_GIVE_BACK_RUN (4ull << 20)  /* release completed pages in runs this long */

typedef struct etw_file_source {
    int fd;
    const uint8_t *map;
    size_t size;
    etw_file_entry *entries;
    size_t count;
    size_t next;
    etw_file_problem problems[ETW_FILE_PROBLEMS_KEPT];
    size_t problem_count; /* may exceed ETW_FILE_PROBLEMS_KEPT; the rest are counted only */
    uint64_t done_lo, done_hi; /* completed bytes not yet given back */
} etw_file_source;

/* Opens and indexes a file. A file whose first buffer cannot be read fails with the status and
 * a message naming the offset in err. */
etw_status etw_file_source_open(const char *path, etw_file_source **out, char *err, size_t errlen);
void etw_file_source_close(etw_file_source *f);
/* A buffer's events were all delivered: its pages may go back to the kernel. */
void etw_file_source_done(etw_file_source *f, uint64_t offset, uint64_t size);
/* The next buffer in flush order; returns 0 when there are no more. */
int etw_file_source_next(etw_file_source *f, const etw_file_entry **e, const uint8_t **p);

#endif
