/* Decompressing a file's compressed buffers ahead, on a second thread, while the merge works
 * on the buffers before them (docs/benchmarks.md: on a compressed trace MS-XCA decoding was
 * about half of the events path).
 *
 * The thread guesses the order in which the reader will want buffers: a processor's next
 * buffer is wanted when the events of the one before it run out, i.e. around that one's flush
 * time. It reads and decompresses buffers in that order into a few slots (up to 2 MiB of
 * them), never more: memory stays a few buffers whatever the file. When they are full it
 * polls briefly, then sleeps until a quarter are free again (one wake-up per several buffers).
 * The reader takes a buffer's result when it reaches that buffer: ready; being decoded, then
 * it waits for it unless the thread seems off the processor (a busy machine), decoding the
 * thread's next buffer meanwhile when the wait would be long; else (not taken up by the thread
 * yet, a wrong guess) it gets NULL and decompresses the buffer itself; the thread then skips
 * it or drops its copy. When the thread falls behind, the two thus share the work. Either way
 * the bytes are those of etw_xca_decompress on the same input, so the output of a session
 * does not depend on the thread; a buffer the thread cannot decompress (corrupt, sizes out of
 * range, read error) also yields NULL, and the reader's own attempt reports it as before.
 *
 * The thread runs on a processor other than the reader's, and is moved off the reader's
 * whenever the two are found together (decompress_ahead_cpu.h): sharing one, they took turns.
 *
 * One reader thread calls take; start and stop are called by that thread too (or by the
 * thread that opens and closes the trace, never at the same time as take). */
#ifndef ETWIRE_ETL_DECOMPRESS_AHEAD_H
#define ETWIRE_ETL_DECOMPRESS_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "etl/file_source.h"

typedef struct etw_ahead etw_ahead;

/* Whether a session over a file with this many compressed buffers should decompress ahead:
 * ETWIRE_DECOMPRESS_AHEAD=0 never, =1 always; unset, when the process may run on a second
 * processor and the file has enough compressed buffers to pay for the thread (see
 * decompress_ahead.c). */
int etw_ahead_wanted(size_t compressed_buffers);

/* Starts the thread over the file's index (entries 1..count-1 in flush order, read with pread
 * on fd; the index must not change until stop). merged: the reader asks for each processor's
 * next buffer as the merge needs it (file_session.c), else in flush order. format is the
 * MS-XCA format number; out_size the session's buffer size, which bounds a decompressed buffer
 * and is the size of the blocks take returns. NULL when the thread or its memory cannot be
 * had (the reader then does all the work itself). */
etw_ahead *etw_ahead_start(int fd, const etw_file_entry *entries, size_t count, uint32_t nprocs,
                           int merged, int format, size_t out_size);

/* The merged flag a was started with. */
int etw_ahead_merged(const etw_ahead *a);

/* The decompressed buffer of entry `index`: a malloc'd block of out_size bytes holding the
 * 72-byte header and `filled - 72` decompressed bytes, which the caller now owns (free it with
 * free()); NULL when the thread has not decompressed this entry. Waits only for a buffer the
 * thread is decoding, and only while the thread can be on a processor (about 100 us at most).
 * Each entry is asked for at most once. */
uint8_t *etw_ahead_take(etw_ahead *a, size_t index);

/* Hands the thread a block of out_size bytes (one take returned, now unused) to decompress
 * into again: blocks then go round between the session and the thread instead of being
 * allocated by one and freed by the other (fresh memory faulted in: measured 660 page faults,
 * about 2 ms, per run of net.4.5.2.x86.etl). Returns 1 when the block was kept (the thread now
 * owns it), 0 when it has enough (the caller still owns it). */
int etw_ahead_give(etw_ahead *a, uint8_t *block);

/* Stops and joins the thread and frees everything not taken. NULL is allowed. */
void etw_ahead_stop(etw_ahead *a);

/* Waits until the thread can do no more for now (its slots full, or nothing left to take up),
 * so that tests know what is ready. */
void etw_ahead_settle(etw_ahead *a);

/* How take went, for benchmarks and tests. */
typedef struct etw_ahead_counts {
    uint64_t ready;   /* decompressed before it was asked for */
    uint64_t busy;    /* still being decompressed after a wait: the reader did it too */
    uint64_t missed;  /* not taken up by the thread: the reader decompressed it */
    uint64_t failed;  /* the thread could not decompress it: the reader tried itself */
    uint64_t dropped; /* decompressed, but given up as asked for far later than guessed */
    uint64_t helped;  /* decoded ahead by the reader while it waited for the thread */
} etw_ahead_counts;
etw_ahead_counts etw_ahead_counts_of(etw_ahead *a);

#endif
