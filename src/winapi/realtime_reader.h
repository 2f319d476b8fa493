/* A real-time handle's reader thread and the session it feeds (realtime_reader.c). */
#ifndef ETWIRE_WINAPI_REALTIME_READER_H
#define ETWIRE_WINAPI_REALTIME_READER_H

#include <stdint.h>

#include "session/session.h"

/* Every buffer handed to the session is preceded by its size (8 bytes), for the completion. */
#define RT_SIZE_PREFIX 8u

typedef struct rt_reader rt_reader;

/* A buffer-stream session fed by a reader of the subscribed connection fd (not started yet),
 * its completions the reader's, late buffers lost (lose_late); the header buffer of
 * header_size bytes counts as held. NULL when out of memory (fd untouched). */
etw_session *rt_reader_session_new(int fd, uint32_t header_size, rt_reader **out);
/* The session did not take the header buffer: nothing is held. */
void rt_reader_header_refused(rt_reader *r);
/* No reader thread will run: closes fd. The reader is freed once the session is gone too. */
void rt_reader_abandon(rt_reader *r);
/* Starts the reader thread for handle h; -1 when it cannot (then abandon it). */
int rt_reader_start(rt_reader *r, PROCESSTRACE_HANDLE h);
/* A copy of size bytes after RT_SIZE_PREFIX bytes holding the size, as the session's buffers
 * are (malloc'd; NULL when out of memory). */
uint8_t *rt_block_copy(const void *data, uint32_t size);

#endif
