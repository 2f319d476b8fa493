/* The consumer's connection to a collector's live publisher (realtime_conn.c). */
#ifndef ETWIRE_WINAPI_REALTIME_CONN_H
#define ETWIRE_WINAPI_REALTIME_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/etwire.h>

#include "base/fd_io.h"

#define ATTACH_DEADLINE_MS 10000
#define FRAME_DEADLINE_MS 30000 /* the rest of a frame once its header arrived */

/* One whole frame, its body malloc'd (NULL when empty) after `prefix` bytes left for the
 * caller (the body is at *block + prefix; free(*block)). The header is awaited until deadline
 * (ETW_FD_NO_DEADLINE: a quiet session may stay quiet), the body until then too, or at most
 * FRAME_DEADLINE_MS after the header; wake_fd (-1: none) readable ends the wait at once.
 * 0; -1 connection lost, malformed or deadline (why set); -2 woken. */
int rt_read_frame(int fd, int64_t deadline, int wake_fd, size_t prefix, uint8_t *type,
                  uint8_t **block, uint32_t *len, const char **why);
/* A LIST (body NULL) or SUBSCRIBE request; 0 or -1. */
int rt_send_request(int fd, uint8_t type, const char *body);
/* Connects to address, or $ETWIRE_LIVE, or the default; the socket, or -1 with the last error
 * set (a code and a message naming the address). */
int rt_connect_live(const char *address);

#endif
