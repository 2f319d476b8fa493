/* OpenSSL glue for the relay (see tls.h). Sockets are non-blocking: every SSL call that wants
 * to read or write waits in poll() with the caller's time limit, so a peer that stops
 * mid-record cannot hold a thread forever, and a handshake has one deadline for all of it.
 * OpenSSL talks to the socket through a BIO of ours that sends with MSG_NOSIGNAL: a peer that
 * closed its end can never raise SIGPIPE in a program embedding the relay. */
#include "relay/tls.h"

#include <stdio.h>
#include <string.h>

#ifdef ETWIRE_HAVE_OPENSSL
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/fd_io.h"

int relay_tls_available(void)
{
    return 1;
}

static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

/* The socket BIO without SIGPIPE: send(MSG_NOSIGNAL) and recv on the descriptor. */
static int nosig_write(BIO *b, const char *buf, int n)
{
    ssize_t w = send(BIO_get_fd(b, NULL), buf, (size_t)n, MSG_NOSIGNAL);
    BIO_clear_retry_flags(b);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)w;
}

static int nosig_read(BIO *b, char *buf, int n)
{
    ssize_t r = recv(BIO_get_fd(b, NULL), buf, (size_t)n, 0);
    BIO_clear_retry_flags(b);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)r;
}

static int nosig_puts(BIO *b, const char *s)
{
    return nosig_write(b, s, (int)strlen(s));
}

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static void nosig_init(void)
{
    /* Everything but reading and writing (fd get/set, flush, EOF) as the socket BIO does it. */
    const BIO_METHOD *sock = BIO_s_socket();
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "etwire relay socket");
    if (!m)
        return;
    BIO_meth_set_write(m, nosig_write);
    BIO_meth_set_read(m, nosig_read);
    BIO_meth_set_puts(m, nosig_puts);
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock));
    BIO_meth_set_create(m, BIO_meth_get_create(sock));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock));
    nosig_method = m;
}

/* Puts the connection's socket under ssl through the MSG_NOSIGNAL BIO; 0 or -1. */
static int attach_socket(SSL *ssl, int fd)
{
    pthread_once(&nosig_once, nosig_init);
    if (!nosig_method)
        return -1;
    BIO *b = BIO_new(nosig_method);
    if (!b)
        return -1;
    BIO_set_fd(b, fd, BIO_NOCLOSE);
    SSL_set_bio(ssl, b, b);
    return 0;
}

/* OpenSSL's reason for refusing the peer's certificate, noted during the handshake on this
 * thread (each connection's handshake runs on one thread). */
static _Thread_local long verify_error;

static int note_verify(int ok, X509_STORE_CTX *x)
{
    if (!ok && !verify_error)
        verify_error = X509_STORE_CTX_get_error(x);
    return ok;
}

void *relay_tls_ctx_new(int server, const relay_tls_files *f, char *err, size_t errlen)
{
    if (!f->cert || !f->key || !f->ca) {
        snprintf(err, errlen, "TLS needs --tls-cert, --tls-key and --tls-ca");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        ssl_error(err, errlen, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1) {
        ssl_error(err, errlen, f->cert);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, errlen, f->key);
    } else if (SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1) {
        ssl_error(err, errlen, f->ca);
    } else {
        /* Mutual authentication: the collector refuses a client without a certificate. */
        int mode = SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        SSL_CTX_set_verify(ctx, mode, note_verify);
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

void relay_tls_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

/* Runs an SSL operation until it completes, waiting for the socket as it asks. */
static int wait_for(relay_conn *c, int rc, int timeout_ms)
{
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_SSL) { /* keep the reason (a peer's alert says why it hung up) */
        unsigned long code = ERR_peek_error();
        if (code)
            ERR_error_string_n(code, c->why, sizeof c->why);
        ERR_clear_error();
    }
    struct pollfd p[2] = {{.fd = c->fd}, {.fd = c->wake_fd, .events = POLLIN}};
    if (e == SSL_ERROR_WANT_READ)
        p[0].events = POLLIN;
    else if (e == SSL_ERROR_WANT_WRITE)
        p[0].events = POLLOUT;
    else
        return -1;
    int wake = e == SSL_ERROR_WANT_READ && c->wake_fd >= 0; /* only a wait for data ends early */
    int n = poll(p, wake ? 2 : 1, timeout_ms);
    if (n > 0 && wake && p[1].revents) {
        etw_wake_drain(c->wake_fd);
        if (!p[0].revents)
            return 0;
    }
    return n > 0 ? 1 : n == 0 ? 0 : -1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why a handshake failed, with the certificate check's own reason when that was it. */
static void handshake_error(relay_conn *c, char *err, size_t errlen)
{
    long v = verify_error ? verify_error : SSL_get_verify_result(c->ssl);
    unsigned long e = ERR_peek_error();
    char buf[256] = "connection closed by the peer";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    else if (c->why[0]) /* wait_for took it off the queue */
        snprintf(buf, sizeof buf, "%s", c->why);
    ERR_clear_error();
    if (v != X509_V_OK)
        snprintf(err, errlen, "TLS handshake: certificate verify failed: %s (%s)",
                 X509_verify_cert_error_string(v), buf);
    else
        snprintf(err, errlen, "TLS handshake: %s", buf);
}

/* The whole handshake within timeout_ms: a peer trickling bytes gains nothing. */
static int handshake(relay_conn *c, int server, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = mono_ms() + timeout_ms;
    verify_error = 0;
    for (;;) {
        int rc = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
        if (rc == 1)
            return 0;
        int64_t left = deadline - mono_ms();
        int w = left > 0 ? wait_for(c, rc, (int)left) : 0;
        if (w <= 0) {
            if (w == 0 && SSL_get_error(c->ssl, rc) != SSL_ERROR_SSL)
                snprintf(err, errlen, "TLS handshake not complete within %d ms", timeout_ms);
            else
                handshake_error(c, err, errlen);
            return -1;
        }
    }
}

static int peer_identity(SSL *ssl, char *out, size_t outlen)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert)
        return -1;
    int found = 0;
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        if (len > 0 && (size_t)len < outlen && memchr(s, 0, (size_t)len) == NULL) {
            memcpy(out, s, (size_t)len);
            out[len] = 0;
            found = 1;
        }
    }
    GENERAL_NAMES_free(sans);
    if (!found) {
        int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)outlen);
        found = len > 0 && (size_t)len < outlen && strlen(out) == (size_t)len;
    }
    X509_free(cert);
    return found ? 0 : -1;
}

int relay_tls_accept(void *ctx, relay_conn *c, int timeout_ms, char *identity, size_t idlen,
                     char *err, size_t errlen)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl || attach_socket(c->ssl, c->fd) != 0) {
        ssl_error(err, errlen, "SSL_new");
        return -1;
    }
    if (handshake(c, 1, timeout_ms, err, errlen) != 0)
        return -1;
    if (peer_identity(c->ssl, identity, idlen) != 0) {
        snprintf(err, errlen, "client certificate names no usable identity");
        return -1;
    }
    return 0;
}

int relay_tls_connect(void *ctx, relay_conn *c, const char *host, int timeout_ms, char *err,
                      size_t errlen)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl || attach_socket(c->ssl, c->fd) != 0) {
        ssl_error(err, errlen, "SSL_new");
        return -1;
    }
    unsigned char ip[16];
    X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
        X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    else {
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
        SSL_set_tlsext_host_name(c->ssl, host);
    }
    return handshake(c, 0, timeout_ms, err, errlen);
}

int relay_tls_pending(relay_conn *c)
{
    return SSL_pending(c->ssl) > 0;
}

ssize_t relay_tls_read(relay_conn *c, void *buf, size_t n, int timeout_ms)
{
    int want = n > (1u << 30) ? (1 << 30) : (int)n;
    for (;;) {
        int rc = SSL_read(c->ssl, buf, want);
        if (rc > 0)
            return rc;
        int w = wait_for(c, rc, timeout_ms);
        if (w <= 0)
            return w == 0 ? 0 : -1;
    }
}

int relay_tls_write(relay_conn *c, const void *buf, size_t n, int timeout_ms)
{
    const unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        int rc = SSL_write(c->ssl, p, chunk);
        if (rc > 0) {
            p += rc;
            n -= (size_t)rc;
            continue;
        }
        if (wait_for(c, rc, timeout_ms) <= 0) {
            if (!c->why[0]) { /* the peer hung up: an alert it sent first may say why */
                unsigned char b[256];
                ERR_clear_error();
                if (SSL_read(c->ssl, b, sizeof b) <= 0 && ERR_peek_error())
                    ERR_error_string_n(ERR_get_error(), c->why, sizeof c->why);
                ERR_clear_error();
            }
            return -1;
        }
    }
    return 0;
}

void relay_tls_thread_end(void)
{
    OPENSSL_thread_stop();
}

void relay_tls_free(relay_conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
}

#else /* !ETWIRE_HAVE_OPENSSL */

int relay_tls_available(void)
{
    return 0;
}

void *relay_tls_ctx_new(int server, const relay_tls_files *f, char *err, size_t errlen)
{
    snprintf(err, errlen, "this etwire was built without OpenSSL: only --plain (loopback tests) works");
    return NULL;
}

void relay_tls_ctx_free(void *ctx) {}

int relay_tls_accept(void *ctx, relay_conn *c, int timeout_ms, char *identity, size_t idlen,
                     char *err, size_t errlen)
{
    snprintf(err, errlen, "no TLS support");
    return -1;
}

int relay_tls_connect(void *ctx, relay_conn *c, const char *host, int timeout_ms, char *err,
                      size_t errlen)
{
    snprintf(err, errlen, "no TLS support");
    return -1;
}

int relay_tls_pending(relay_conn *c) { return 0; }
ssize_t relay_tls_read(relay_conn *c, void *buf, size_t n, int timeout_ms) { return -1; }
int relay_tls_write(relay_conn *c, const void *buf, size_t n, int timeout_ms) { return -1; }
void relay_tls_free(relay_conn *c) { c->ssl = NULL; }
void relay_tls_thread_end(void) {}

#endif
