/* Whole reads and writes on stream sockets with a deadline (fd_io.c): the one place that loops
 * over short transfers, EINTR and EAGAIN for the live consumer (libetwire) and the live
 * publisher and its TLS bridges (libetwire-relay). A read may also wait on a wake-up
 * descriptor, so another thread can end it at once (CloseTrace ending a real-time reader). */
#ifndef ETWIRE_BASE_FD_IO_H
#define ETWIRE_BASE_FD_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define ETW_FD_NO_DEADLINE INT64_C(-1)

typedef enum etw_fd_result {
    ETW_FD_OK = 0,
    ETW_FD_LOST = -1,     /* the peer closed the connection, or it failed */
    ETW_FD_WOKEN = -2,    /* the wake-up descriptor became readable */
    ETW_FD_DEADLINE = -3  /* the deadline passed first */
} etw_fd_result;

/* CLOCK_MONOTONIC in milliseconds: what deadlines are given in. */
int64_t etw_mono_ms(void);

/* Receives exactly n bytes from the socket fd. Waits until deadline (etw_mono_ms() time, or
 * ETW_FD_NO_DEADLINE), and returns ETW_FD_WOKEN as soon as wake_fd (-1: none) is readable. */
etw_fd_result etw_fd_recv_all(int fd, void *p, size_t n, int64_t deadline, int wake_fd);

/* Sends all of the iov[0..count) on the socket fd (without SIGPIPE: a peer that went away is
 * ETW_FD_LOST), waiting for room until deadline. iov is consumed (bases and lengths move). */
etw_fd_result etw_fd_sendv_all(int fd, struct iovec *iov, int count, int64_t deadline);

/* etw_fd_sendv_all of one block. */
etw_fd_result etw_fd_send_all(int fd, const void *p, size_t n, int64_t deadline);

/* A wake-up descriptor for etw_fd_recv_all's wake_fd: fds[0] to wait on, fds[1] to write to
 * (close-on-exec, non-blocking). One eventfd serves as both ends, so a connection costs one
 * descriptor for it, not two: close it with etw_wake_close. 0, or -1 with errno set. */
int etw_wake_pipe(int fds[2]);
/* Closes what etw_wake_pipe opened (each descriptor once) and sets both ends to -1. */
void etw_wake_close(int fds[2]);
/* Makes the wake-up end readable (once is enough; a full pipe is already readable). */
void etw_wake_signal(int write_fd);
/* Empties the wake-up end, so the next wait sleeps until the next signal. */
void etw_wake_drain(int read_fd);

#endif
