/* A timeline of the compressed-file path's two threads, for finding where their overlap is lost
 * (docs/benchmarks.md, "Compressed traces: the two threads' overlap"). Compiled in only with
 * -DETWIRE_AHEAD_TIMELINE (e.g. CMAKE_C_FLAGS=-DETWIRE_AHEAD_TIMELINE); otherwise every macro
 * below is empty and the clock is never read. When compiled in, each thread records spans into
 * its own fixed array (no locks, no allocation), and at exit a summary goes to stderr: per
 * thread, the time in each activity, the take() outcomes, page faults, and a coarse strip of
 * what each thread did through the run. ETWIRE_AHEAD_TIMELINE_RAW=FILE also writes every span. */
#ifndef ETWIRE_ETL_DECOMPRESS_AHEAD_TIMELINE_H
#define ETWIRE_ETL_DECOMPRESS_AHEAD_TIMELINE_H

#include <stdint.h>

enum etw_tl_who { ETW_TL_READER, ETW_TL_THREAD };

enum etw_tl_kind {
    ETW_TL_OPEN,       /* reader: OpenTrace's index and first buffer, until the thread starts */
    ETW_TL_STARTING,   /* thread: from pthread_create to its first instruction */
    ETW_TL_READ,       /* either: pread of a buffer's stored bytes (the reader: the rest) */
    ETW_TL_HEAD,       /* reader: the source's next(), header read included */
    ETW_TL_POPULATE,   /* thread: faulting in a new block */
    ETW_TL_DECODE,     /* either: MS-XCA decoding of one buffer for the thread's slots */
    ETW_TL_SPIN,       /* thread: polling for a free slot */
    ETW_TL_SLEEP,      /* thread: asleep until slots are free */
    ETW_TL_WAIT,       /* reader: in take(), waiting for the thread's buffer */
    ETW_TL_TAKE,       /* reader: the whole of take() (waiting and helping included) */
    ETW_TL_ADD,        /* reader: the session taking a buffer the thread decoded */
    ETW_TL_ADD_DECODE, /* reader: the session taking a buffer it decodes itself */
    ETW_TL_SOURCE,     /* reader: the whole of the source's next() */
    ETW_TL_RUN,        /* reader: ProcessTrace's buffers, first next() to the last */
    ETW_TL_KINDS
};

/* take() outcomes and the thread's dropped and failed buffers (etw_ahead_counts), as marks. */
enum etw_tl_mark {
    ETW_TL_READY,
    ETW_TL_BUSY,
    ETW_TL_MISSED,
    ETW_TL_HELPED,
    ETW_TL_DROPPED,
    ETW_TL_FAILED,
    ETW_TL_MARKS
};

#ifdef ETWIRE_AHEAD_TIMELINE
uint64_t etw_tl_now(void);
void etw_tl_span(int who, int kind, uint64_t t0, uint64_t t1, uint32_t entry);
void etw_tl_mark(int mark, uint32_t entry);
/* The calling thread is the decompress-ahead thread (its page faults are its own). */
void etw_tl_thread_done(void);
#define ETW_TL_NOW() etw_tl_now()
#define ETW_TL_SPAN(who, kind, t0, entry) etw_tl_span((who), (kind), (t0), etw_tl_now(), (uint32_t)(entry))
#define ETW_TL_MARK(mark, entry) etw_tl_mark((mark), (uint32_t)(entry))
#define ETW_TL_THREAD_DONE() etw_tl_thread_done()
#else
#define ETW_TL_NOW() ((uint64_t)0)
#define ETW_TL_SPAN(who, kind, t0, entry) ((void)(t0))
#define ETW_TL_MARK(mark, entry) ((void)0)
#define ETW_TL_THREAD_DONE() ((void)0)
#endif

#endif
