/* Deadlines for pthread_cond_timedwait and pthread_timedjoin_np, which take an absolute
 * CLOCK_REALTIME time: every wait on another thread has one. */
#ifndef ETWIRE_BASE_DEADLINE_H
#define ETWIRE_BASE_DEADLINE_H

#include <time.h>

/* ts = now + ms (CLOCK_REALTIME). */
static inline void etw_deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

#endif
