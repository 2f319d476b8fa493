/* Keeping the decompress-ahead thread off the reader's processor (see decompress_ahead_cpu.h). */
#include "etl/decompress_ahead_cpu.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

/* A scheduler that keeps moving the reader onto the thread's processor is not followed
 * forever: each move costs the thread its cache. */
#define MAX_MOVES 8

#if defined(__linux__) && defined(CPU_SET)

struct etw_ahead_cpu {
    cpu_set_t allowed; /* the process's processors when the thread started */
    unsigned moves;    /* atomic: both threads may move the thread */
    int excluded;      /* atomic: the processor the thread was last kept off */
};

long etw_ahead_cpu_usable(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        return CPU_COUNT(&allowed);
    return sysconf(_SC_NPROCESSORS_ONLN);
}

etw_ahead_cpu *etw_ahead_cpu_new(void)
{
    etw_ahead_cpu *c = calloc(1, sizeof *c);
    if (c && sched_getaffinity(0, sizeof c->allowed, &c->allowed) != 0) {
        free(c);
        c = NULL;
    }
    if (c)
        c->excluded = -1;
    return c;
}

/* The processors allowed other than `cpu`, in *out; 0 when there are none. */
static int all_but(const etw_ahead_cpu *c, int cpu, cpu_set_t *out)
{
    *out = c->allowed;
    if (cpu >= 0 && cpu < CPU_SETSIZE)
        CPU_CLR(cpu, out);
    return CPU_COUNT(out) > 0;
}

int etw_ahead_cpu_away(etw_ahead_cpu *c, pthread_attr_t *attr)
{
    cpu_set_t away;
    int here = sched_getcpu();
    if (!c || here < 0 || !all_but(c, here, &away) ||
        pthread_attr_setaffinity_np(attr, sizeof away, &away) != 0)
        return 0;
    c->excluded = here; /* before the thread exists */
    return 1;
}

int etw_ahead_cpu_here(void)
{
    return sched_getcpu();
}

void etw_ahead_cpu_keep_apart(etw_ahead_cpu *c, pthread_t thread, int thread_cpu, int reader_cpu)
{
    cpu_set_t away;
    if (!c || reader_cpu < 0 || thread_cpu != reader_cpu ||
        __atomic_load_n(&c->excluded, __ATOMIC_RELAXED) == reader_cpu ||
        __atomic_fetch_add(&c->moves, 1, __ATOMIC_RELAXED) >= MAX_MOVES ||
        !all_but(c, reader_cpu, &away))
        return;
    __atomic_store_n(&c->excluded, reader_cpu, __ATOMIC_RELAXED);
    (void)pthread_setaffinity_np(thread, sizeof away, &away);
}

#else /* no processor affinity: the scheduler places the thread */

long etw_ahead_cpu_usable(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN);
}

etw_ahead_cpu *etw_ahead_cpu_new(void)
{
    return NULL;
}

int etw_ahead_cpu_away(etw_ahead_cpu *c, pthread_attr_t *attr)
{
    (void)c, (void)attr;
    return 0;
}

int etw_ahead_cpu_here(void)
{
    return -1;
}

void etw_ahead_cpu_keep_apart(etw_ahead_cpu *c, pthread_t thread, int thread_cpu, int reader_cpu)
{
    (void)c, (void)thread, (void)thread_cpu, (void)reader_cpu;
}

#endif
