/* TLS 1.3 with mutual authentication for the relay (docs/wire-protocol.md §8), on OpenSSL.
 * Without ETWIRE_HAVE_OPENSSL every entry point fails with a message, and only the explicit
 * plain-TCP mode works. */
#ifndef ETWIRE_RELAY_TLS_H
#define ETWIRE_RELAY_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "relay/net.h"

typedef struct relay_tls_files {
    const char *cert; /* our certificate chain (PEM) */
    const char *key;  /* its private key (PEM) */
    const char *ca;   /* the CA that must have issued the peer's certificate (PEM) */
} relay_tls_files;

int relay_tls_available(void);
/* Contexts: server = collector (requires a client certificate), client = sender. */
void *relay_tls_ctx_new(int server, const relay_tls_files *f, char *err, size_t errlen);
void relay_tls_ctx_free(void *ctx);
/* Server handshake; identity receives the client certificate's first DNS subjectAltName, or
 * its subject CN. */
int relay_tls_accept(void *ctx, relay_conn *c, int timeout_ms, char *identity, size_t idlen,
                     char *err, size_t errlen);
/* Client handshake; the collector's certificate must name `host` (DNS name or IP address). */
int relay_tls_connect(void *ctx, relay_conn *c, const char *host, int timeout_ms, char *err,
                      size_t errlen);
int relay_tls_pending(relay_conn *c);
ssize_t relay_tls_read(relay_conn *c, void *buf, size_t n, int timeout_ms);
int relay_tls_write(relay_conn *c, const void *buf, size_t n, int timeout_ms);
void relay_tls_free(relay_conn *c);
/* Frees this thread's TLS library state now (its error queue), so that a thread finishing
 * while the process exits leaves nothing for the library's exit handler to race with. */
void relay_tls_thread_end(void);

#endif
