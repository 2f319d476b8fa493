/* Where the decompress-ahead thread runs: on a processor other than the reader's
 * (decompress_ahead.c). Measured in the VM of docs/benchmarks.md (Linux 6.18, two vCPUs,
 * otherwise idle): left to the scheduler, a new thread was placed on its creator's processor
 * in half of the starts and stayed there for the whole run (the two threads took turns on one
 * vCPU while the other idled), and in the other half it started 1.2 ms late. Kept off the
 * reader's processor it started within 70-90 us every time, and the whole process took 8 ms
 * instead of 11 (docs/benchmarks.md, "Compressed traces: the two threads' overlap"). The
 * reader is the caller's thread and is never moved: when the scheduler moves it onto the
 * thread's processor (a wake-up after a futex wait can), the thread moves away instead. */
#ifndef ETWIRE_ETL_DECOMPRESS_AHEAD_CPU_H
#define ETWIRE_ETL_DECOMPRESS_AHEAD_CPU_H

#include <pthread.h>

typedef struct etw_ahead_cpu etw_ahead_cpu;

/* How many processors the calling thread may run on (its affinity: `taskset -c 0` gives 1,
 * where the thread could only take turns with the reader); the online count when the platform
 * cannot say. */
long etw_ahead_cpu_usable(void);

/* What the calling thread (the reader) may run on, for the thread to keep away from it; NULL
 * when the platform cannot say (the scheduler then places the thread). Free with free(). */
etw_ahead_cpu *etw_ahead_cpu_new(void);

/* Sets attr so that a thread created with it starts away from the caller's processor; 0 when
 * there is nowhere else to go (one processor allowed). */
int etw_ahead_cpu_away(etw_ahead_cpu *c, pthread_attr_t *attr);

/* The processor the calling thread runs on, -1 when unknown (cheap: glibc reads it from the
 * thread's rseq area or the vDSO). */
int etw_ahead_cpu_here(void);

/* Moves `thread` (the decompress-ahead thread) to the other processors the process may use
 * when it was last seen (thread_cpu) on the processor the reader runs on now (reader_cpu):
 * called by the thread between buffers, and by the reader when it takes one (a thread queued
 * behind the reader on one processor cannot move itself until the reader's time slice ends).
 * Either thread may call it; at most a few moves a run, should the scheduler keep moving the
 * reader after the thread. */
void etw_ahead_cpu_keep_apart(etw_ahead_cpu *c, pthread_t thread, int thread_cpu, int reader_cpu);

#endif
