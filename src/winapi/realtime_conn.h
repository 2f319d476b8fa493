/* The consumer's connection to a collector's live publisher (realtime_conn.c). */
#ifndef ETWIRE_WINAPI_REALTIME_CONN_H
#define ETWIRE_WINAPI_REALTIME_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/etwire.h>

#define ATTACH_DEADLINE_MS 10000
#define ALIVE_CHECK_MS 200 /* how soon a reader notices CloseTrace while the collector is quiet */

int64_t rt_mono_ms(void);
/* The handle is still open (CloseTrace not called). */
int rt_handle_alive(PROCESSTRACE_HANDLE h);
/* Reads exactly n bytes. Gives up at the deadline (-1: none), or when h (if not 0) was closed.
 * 0; -1 connection lost or deadline; -2 handle closed. */
int rt_read_full(int fd, uint8_t *p, size_t n, int64_t deadline, PROCESSTRACE_HANDLE h);
/* One whole frame, its body malloc'd (NULL when empty); the same results, why set on -1. */
int rt_read_frame(int fd, int64_t deadline, PROCESSTRACE_HANDLE h, uint8_t *type, uint8_t **body,
                  uint32_t *len, const char **why);
/* A LIST (body NULL) or SUBSCRIBE request; 0 or -1. */
int rt_send_request(int fd, uint8_t type, const char *body);
/* Connects to address, or $ETWIRE_LIVE, or the default; the socket, or -1 with the last error
 * set (a code and a message naming the address). */
int rt_connect_live(const char *address);

#endif
