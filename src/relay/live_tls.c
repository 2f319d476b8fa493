/* Remote live subscribers over TLS (docs/api/live.md). Both sides reuse the local protocol code
 * unchanged through a socketpair: a bridge thread moves bytes between the TLS connection and
 * its end of the pair, and the publisher (live.c) or the consumer's reader (libetwire's
 * realtime.c, through the connector registered by etwire_relay_live_use_tls) works on the
 * other end as on a unix socket. Back-pressure carries through: a bridge blocked writing to a
 * slow peer stops reading its pair, so the publisher's queue for that subscriber fills and
 * drops, exactly as for a local one. */
#include "relay/live_tls.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <etwire/relay.h>

#include "base/deadline.h"
#include "base/fd_io.h"
#include "relay/net.h"
#include "relay/tls.h"

#define HANDSHAKE_MS 10000
#define WRITE_DEADLINE_MS 30000

void relay_live_bridge(relay_conn *c, int pair)
{
    static const size_t size = 64 * 1024;
    uint8_t *buf = malloc(size);
    while (buf) {
        if (!relay_tls_pending(c)) {
            struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = pair, .events = POLLIN}};
            if (poll(p, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            if ((p[0].revents | p[1].revents) & POLLNVAL)
                break;
            if (p[1].revents) {
                ssize_t n = recv(pair, buf, size, 0);
                if (n <= 0 || relay_tls_write(c, buf, (size_t)n, WRITE_DEADLINE_MS) != 0)
                    break;
            }
            if (!p[0].revents)
                continue;
        }
        ssize_t n = relay_tls_read(c, buf, size, 0);
        if (n < 0 || (n > 0 && etw_fd_send_all(pair, buf, (size_t)n, etw_mono_ms() + WRITE_DEADLINE_MS) != ETW_FD_OK))
            break;
        if (n == 0 && !relay_tls_pending(c)) {
            /* readable yet nothing decrypted: a partial record, or the peer closed */
            char probe;
            if (recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
                break;
        }
    }
    free(buf);
    shutdown(pair, SHUT_RDWR);
}

/* ---- the consumer's side: a connector for libetwire --------------------------------------- */

static void *client_tls_ctx;

typedef struct client_bridge {
    struct client_bridge *next;
    relay_conn c;
    int pair;
    pthread_t thread;
    int done; /* (bridges_mu) the thread let go of everything: joining it is immediate */
} client_bridge;

/* The bridges not yet joined. A bridge's thread frees its connection and its own OpenSSL
 * thread state, then marks itself done; it is joined on the next connect or at exit. At exit
 * the running ones are cut and awaited (5 s at most) and all done ones joined, before
 * OpenSSL's own exit handler (registered before ours, so run after it) frees what they use:
 * a thread still inside OpenSSL while that handler runs leaks its error state (LeakSanitizer
 * fails the run) or waits on a lock the handler destroyed. */
static pthread_mutex_t bridges_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bridges_cv = PTHREAD_COND_INITIALIZER;
static client_bridge *bridges;
static int exit_handler_set;

static void *client_bridge_main(void *arg)
{
    client_bridge *b = arg;
    relay_live_bridge(&b->c, b->pair);
    pthread_mutex_lock(&bridges_mu); /* end_bridges never shuts down a descriptor reused since */
    close(b->pair);
    relay_tls_free(&b->c);
    relay_conn_close(&b->c);
    pthread_mutex_unlock(&bridges_mu);
    relay_tls_thread_end();
    pthread_mutex_lock(&bridges_mu);
    b->done = 1;
    pthread_cond_broadcast(&bridges_cv);
    pthread_mutex_unlock(&bridges_mu);
    return NULL;
}

/* Joins and frees the bridges whose thread is done. */
static void join_done_bridges(void)
{
    client_bridge *done = NULL;
    pthread_mutex_lock(&bridges_mu);
    for (client_bridge **pp = &bridges; *pp;) {
        client_bridge *b = *pp;
        if (b->done) {
            *pp = b->next;
            b->next = done;
            done = b;
        } else {
            pp = &b->next;
        }
    }
    pthread_mutex_unlock(&bridges_mu);
    while (done) {
        client_bridge *n = done->next;
        pthread_join(done->thread, NULL);
        free(done);
        done = n;
    }
}

static int all_bridges_done(void)
{
    for (client_bridge *b = bridges; b; b = b->next)
        if (!b->done)
            return 0;
    return 1;
}

static void end_bridges(void)
{
    struct timespec ts;
    etw_deadline_in(&ts, 5000);
    pthread_mutex_lock(&bridges_mu);
    for (client_bridge *b = bridges; b; b = b->next)
        if (b->c.fd >= 0)
            shutdown(b->c.fd, SHUT_RDWR);
    while (!all_bridges_done())
        if (pthread_cond_timedwait(&bridges_cv, &bridges_mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&bridges_mu);
    join_done_bridges(); /* one still running past the deadline stays detached from us */
}

/* "tls:HOST:PORT" (or "HOST:PORT"): a mutually authenticated TLS connection, bridged. */
static int connect_tls(const char *address, ULONG *code, char *msg, size_t msglen, void *ctx)
{
    (void)ctx;
    join_done_bridges();
    const char *addr = strncmp(address, "tls:", 4) == 0 ? address + 4 : address;
    char err[256] = "", host[256];
    int fd = relay_connect(addr, HANDSHAKE_MS, err, sizeof err);
    if (fd < 0) {
        *code = ERROR_CONNECTION_REFUSED;
        snprintf(msg, msglen, "cannot reach the collector at %s: %s", address, err);
        return -1;
    }
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = 0;
    if (host[0] == '[') { /* [V6]:PORT */
        memmove(host, host + 1, strlen(host));
        char *end = strchr(host, ']');
        if (end)
            *end = 0;
    }
    client_bridge *b = calloc(1, sizeof *b);
    if (!b) {
        close(fd);
        *code = ERROR_NOT_ENOUGH_MEMORY;
        return -1;
    }
    relay_conn_init(&b->c, fd);
    int pair[2];
    if (relay_tls_connect(client_tls_ctx, &b->c, host, HANDSHAKE_MS, err, sizeof err) != 0) {
        *code = ERROR_ACCESS_DENIED;
        snprintf(msg, msglen, "TLS with the collector at %s: %s", address, err);
        relay_tls_free(&b->c);
        relay_conn_close(&b->c);
        free(b);
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        *code = ERROR_NOT_ENOUGH_MEMORY;
        snprintf(msg, msglen, "socketpair: %s", strerror(errno));
        relay_tls_free(&b->c);
        relay_conn_close(&b->c);
        free(b);
        return -1;
    }
    b->pair = pair[0];
    pthread_mutex_lock(&bridges_mu);
    int rc = pthread_create(&b->thread, NULL, client_bridge_main, b);
    if (rc == 0) {
        b->next = bridges;
        bridges = b;
    }
    pthread_mutex_unlock(&bridges_mu);
    if (rc != 0) {
        close(pair[0]);
        close(pair[1]);
        relay_tls_free(&b->c);
        relay_conn_close(&b->c);
        free(b);
        *code = ERROR_NOT_ENOUGH_MEMORY;
        return -1;
    }
    return pair[1];
}

ETWIRE_RELAY_API int etwire_relay_live_use_tls(const char *TlsCert, const char *TlsKey,
                                               const char *TlsCa, char *err, size_t errlen)
{
    relay_tls_files f = {TlsCert, TlsKey, TlsCa};
    void *ctx = relay_tls_ctx_new(0, &f, err, errlen);
    if (!ctx)
        return -1;
    pthread_mutex_lock(&bridges_mu);
    if (!exit_handler_set)
        exit_handler_set = atexit(end_bridges) == 0;
    pthread_mutex_unlock(&bridges_mu);
    void *old = client_tls_ctx;
    client_tls_ctx = ctx;
    etwire_live_set_connector(connect_tls, NULL);
    if (old)
        relay_tls_ctx_free(old); /* connections made with it hold their own references */
    return 0;
}
