/* Plain TCP for the relay (see net.h); TLS reads and writes go through tls.c. */
#include "relay/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/fd_io.h"
#include "relay/tls.h"

static int split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1])
        return -1;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        h = "127.0.0.1";
        hl = strlen(h);
    }
    if (hl >= hostlen || strlen(colon + 1) >= portlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    strcpy(port, colon + 1);
    return 0;
}

int relay_addr_check(const char *addr, char *err, size_t errlen)
{
    char host[256], port[16], *end = "";
    long n = 0;
    if (split_addr(addr, host, sizeof host, port, sizeof port) == 0)
        n = strtol(port, &end, 10);
    if (n < 1 || n > 65535 || *end) {
        snprintf(err, errlen, "bad address '%s' (want HOST:PORT)", addr);
        return -1;
    }
    return 0;
}

static int resolve(const char *addr, int passive, struct addrinfo **out, char *err, size_t errlen)
{
    char host[256], port[16];
    if (split_addr(addr, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errlen, "bad address '%s' (want HOST:PORT)", addr);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
    int rc = getaddrinfo(host, port, &hints, out);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
        return -1;
    }
    return 0;
}

static void set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int one = 1;
    /* Every write is one or more whole frames: no reason to wait for coalescing. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int relay_listen(const char *addr, char *err, size_t errlen)
{
    struct addrinfo *ai;
    if (resolve(addr, 1, &ai, err, errlen) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int relay_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int relay_accept(int listen_fd, int timeout_ms, char *peer, size_t peerlen)
{
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    snprintf(peer, peerlen, "%s:%d", host, port);
    set_nonblocking(fd);
    return fd;
}

int relay_connect(const char *addr, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo *ai;
    if (resolve(addr, 0, &ai, err, errlen) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        set_nonblocking(fd);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int so = ETIMEDOUT;
            socklen_t sl = sizeof so;
            if (poll(&p, 1, timeout_ms) == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
            errno = so;
        } else {
            errno = 0;
        }
        if (errno != 0) {
            snprintf(err, errlen, "connect %s: %s", addr, strerror(errno));
            close(fd);
            fd = -1;
        }
    } else {
        snprintf(err, errlen, "socket: %s", strerror(errno));
    }
    freeaddrinfo(ai);
    return fd;
}

void relay_conn_init(relay_conn *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->wake_fd = -1;
}

int relay_conn_pending(relay_conn *c)
{
    return c->ssl ? relay_tls_pending(c) : 0;
}

ssize_t relay_conn_read2(relay_conn *c, void *dst1, size_t n1, void *dst2, size_t n2, int timeout_ms)
{
    if (c->ssl)
        return relay_tls_read(c, dst1, n1, timeout_ms);
    struct iovec iov[2] = {{dst1, n1}, {dst2, n2}};
    for (;;) {
        ssize_t got = readv(c->fd, iov, n2 ? 2 : 1);
        if (got > 0)
            return got;
        if (got == 0)
            return -1;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (timeout_ms == 0) /* a look, not a wait: no poll() to say what readv said */
            return 0;
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->wake_fd, .events = POLLIN}};
        int rc = poll(p, c->wake_fd >= 0 ? 2 : 1, timeout_ms);
        if (rc == 0)
            return 0;
        if (rc > 0 && c->wake_fd >= 0 && p[1].revents) { /* woken: the wait ends now */
            etw_wake_drain(c->wake_fd);
            if (!p[0].revents)
                return 0;
        }
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

ssize_t relay_conn_read(relay_conn *c, void *buf, size_t n, int timeout_ms)
{
    return relay_conn_read2(c, buf, n, NULL, 0, timeout_ms);
}

int relay_conn_writable(relay_conn *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    return c->fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

int relay_conn_write(relay_conn *c, const void *buf, size_t n, int timeout_ms)
{
    if (c->ssl)
        return relay_tls_write(c, buf, n, timeout_ms);
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t put = send(c->fd, p, n, MSG_NOSIGNAL);
        if (put > 0) {
            p += put;
            n -= (size_t)put;
            continue;
        }
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
        if (poll(&pf, 1, timeout_ms) <= 0)
            return -1; /* a peer that reads nothing for that long is given up */
    }
    return 0;
}

void relay_conn_close(relay_conn *c)
{
    if (c->ssl)
        relay_tls_free(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
