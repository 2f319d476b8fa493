/* Sockets for etwire send / collect: a connection is a non-blocking TCP socket, optionally
 * wrapped in TLS (tls.c), read and written with explicit time limits so that a slow or
 * silent peer can only ever stall its own thread. */
#ifndef ETWIRE_RELAY_NET_H
#define ETWIRE_RELAY_NET_H

#include <stddef.h>
#include <sys/types.h>

typedef struct relay_conn {
    int fd;
    void *ssl; /* SSL * when the connection is TLS */
    char peer[64];
    char why[192]; /* TLS: what OpenSSL said when a read or write failed (an alert), or "" */
    int wake_fd;   /* readable: a read's wait for data ends early, returning 0 (-1: none) */
} relay_conn;

/* 0 when addr has the form "HOST:PORT", "[V6]:PORT" or ":PORT" with a port number 1..65535;
 * -1 with err filled otherwise (an address no retry would ever reach). */
int relay_addr_check(const char *addr, char *err, size_t errlen);
/* "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback). Returns a listening fd or -1 (err filled). */
int relay_listen(const char *addr, char *err, size_t errlen);
/* Waits up to timeout_ms for a connection; returns its fd, -1 on timeout or error. */
int relay_accept(int listen_fd, int timeout_ms, char *peer, size_t peerlen);
int relay_connect(const char *addr, int timeout_ms, char *err, size_t errlen);
/* The port a listening socket is bound to (for ":0"). */
int relay_local_port(int fd);

void relay_conn_init(relay_conn *c, int fd);
/* Reads up to n bytes within timeout_ms: > 0 bytes, 0 on timeout, -1 on EOF or error. */
ssize_t relay_conn_read(relay_conn *c, void *buf, size_t n, int timeout_ms);
/* Reads up to n1 bytes into dst1 and, only once dst1 is full, up to n2 more into dst2 (one
 * readv on plain TCP; TLS fills dst1 only): the collector receives a buffer's payload straight
 * into its storage and the next frame's header into its own buffer. Returns as
 * relay_conn_read. */
ssize_t relay_conn_read2(relay_conn *c, void *dst1, size_t n1, void *dst2, size_t n2, int timeout_ms);
/* True when bytes are ready to read without waiting (TLS may hold decrypted data). */
int relay_conn_pending(relay_conn *c);
/* True when a write would not wait now (room in the socket's send buffer). */
int relay_conn_writable(relay_conn *c);
/* Writes all n bytes within timeout_ms (per stall, not in total); 0 or -1. */
int relay_conn_write(relay_conn *c, const void *buf, size_t n, int timeout_ms);
void relay_conn_close(relay_conn *c);

#endif
