/* Whole reads and writes on stream sockets with a deadline (see fd_io.h). Every wait is a
 * poll() bounded by the deadline; EINTR retries, EAGAIN (a non-blocking socket) waits for
 * readiness again, a short transfer goes on from where it stopped. */
#include "base/fd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t etw_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd (and readability of wake_fd, -1: none) until the deadline. */
static etw_fd_result wait_ready(int fd, short events, int64_t deadline, int wake_fd)
{
    for (;;) {
        int timeout = -1;
        if (deadline != ETW_FD_NO_DEADLINE) {
            int64_t left = deadline - etw_mono_ms();
            if (left <= 0)
                return ETW_FD_DEADLINE;
            timeout = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = wake_fd, .events = POLLIN}};
        int r = poll(p, wake_fd >= 0 ? 2 : 1, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return ETW_FD_LOST;
        }
        if (r == 0)
            continue; /* the deadline check above decides */
        if (wake_fd >= 0 && p[1].revents)
            return ETW_FD_WOKEN;
        if (p[0].revents & POLLNVAL)
            return ETW_FD_LOST;
        return ETW_FD_OK; /* ready, or an error/hang-up the transfer itself will report */
    }
}

etw_fd_result etw_fd_recv_all(int fd, void *p, size_t n, int64_t deadline, int wake_fd)
{
    uint8_t *at = p;
    while (n) {
        etw_fd_result w = wait_ready(fd, POLLIN, deadline, wake_fd);
        if (w != ETW_FD_OK)
            return w;
        ssize_t got = recv(fd, at, n, MSG_DONTWAIT);
        if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (got <= 0)
            return ETW_FD_LOST;
        at += got;
        n -= (size_t)got;
    }
    return ETW_FD_OK;
}

etw_fd_result etw_fd_sendv_all(int fd, struct iovec *iov, int count, int64_t deadline)
{
    int i = 0;
    while (i < count && iov[i].iov_len == 0)
        i++;
    while (i < count) {
        struct msghdr m = {.msg_iov = iov + i, .msg_iovlen = (size_t)(count - i)};
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return ETW_FD_LOST;
            etw_fd_result r = wait_ready(fd, POLLOUT, deadline, -1);
            if (r != ETW_FD_OK)
                return r;
            continue;
        }
        size_t left = (size_t)w;
        while (i < count && left >= iov[i].iov_len) {
            left -= iov[i].iov_len;
            i++;
        }
        if (i < count) {
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return ETW_FD_OK;
}

etw_fd_result etw_fd_send_all(int fd, const void *p, size_t n, int64_t deadline)
{
    struct iovec iov = {(void *)p, n};
    return etw_fd_sendv_all(fd, &iov, 1, deadline);
}

int etw_wake_pipe(int fds[2])
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -1;
    fds[0] = fds[1] = fd;
    return 0;
}

void etw_wake_close(int fds[2])
{
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0 && fds[1] != fds[0])
        close(fds[1]);
    fds[0] = fds[1] = -1;
}

void etw_wake_signal(int write_fd)
{
    uint64_t one = 1;
    ssize_t w;
    do
        w = write(write_fd, &one, sizeof one);
    while (w < 0 && errno == EINTR);
    /* EAGAIN: the counter is at its maximum, so it is readable already. */
}

void etw_wake_drain(int read_fd)
{
    uint64_t n;
    ssize_t r;
    do /* one read takes the whole count (not a semaphore eventfd) */
        r = read(read_fd, &n, sizeof n);
    while (r < 0 && errno == EINTR);
}
