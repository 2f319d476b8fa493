/* The sender's connection (see sender_impl.h): connect with back-off, TLS, HELLO and
 * WELCOME, resending what the collector does not hold, and reading its ACKs. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/sender_impl.h"
#include "relay/tls.h"
#include "relay/zstd.h"

void relay_sender_disconnect(relay_sender *s)
{
    if (s->connected || s->conn.fd >= 0)
        relay_conn_close(&s->conn);
    s->connected = 0;
    etw_relay_sender_sm_lost(&s->sm);
}

int relay_sender_send(relay_sender *s, const void *p, size_t n)
{
    if (relay_conn_write(&s->conn, p, n, IO_TIMEOUT_MS) != 0) {
        relay_sender_note(s, "connection lost while sending%s%s", s->conn.why[0] ? ": " : "", s->conn.why);
        relay_sender_disconnect(s);
        return -1;
    }
    s->st.wire_bytes += n;
    s->last_send_ms = relay_sender_now_ms();
    return 0;
}

int relay_sender_send_entry(relay_sender *s, entry *e)
{
    uint8_t *raw = e->frame + ETW_RELAY_BUFFER_PREFIX;
    if (s->sm.caps & ETW_RELAY_CAP_ZSTD) {
        size_t z = relay_zstd_compress(s->zbuf + ETW_RELAY_BUFFER_PREFIX, s->zcap - ETW_RELAY_BUFFER_PREFIX, raw, e->size, 3);
        if (z > 0) {
            etw_relay_encode_buffer_prefix(s->zbuf, e->seq, e->size, ETW_RELAY_FLAG_ZSTD, (uint32_t)z);
            e->sent = 1;
            return relay_sender_send(s, s->zbuf, ETW_RELAY_BUFFER_PREFIX + z);
        }
    }
    etw_relay_encode_buffer_prefix(e->frame, e->seq, e->size, 0, e->size);
    e->sent = 1;
    return relay_sender_send(s, e->frame, ETW_RELAY_BUFFER_PREFIX + e->size);
}

/* Feeds what the collector sent to the state machine; -1 ends the connection. */
static int feed(relay_sender *s, const uint8_t *p, size_t n)
{
    int rc = etw_relay_sender_sm_feed(&s->sm, p, n);
    relay_sender_drop_acked(s);
    s->st.acked = s->sm.acked;
    if (rc == ETW_RELAY_OK)
        return 0;
    if (s->sm.state != ETW_RELAY_SND_DONE)
        relay_sender_note(s, "%s", s->sm.why);
    return -1;
}

/* Reads and handles what the collector sent, waiting at most timeout_ms for the first byte. */
int relay_sender_service(relay_sender *s, int timeout_ms)
{
    uint8_t buf[8192];
    if (!s->connected)
        return -1;
    /* Spooled buffers wait for room in the socket: wake for that as well as for ACKs. */
    if (timeout_ms > 0 && s->sp && s->queued_to < s->sm.next_seq && s->count < s->sm.window &&
        !relay_conn_pending(&s->conn)) {
        struct pollfd p = {.fd = s->conn.fd, .events = POLLIN | POLLOUT};
        if (poll(&p, 1, timeout_ms) > 0 && !(p.revents & POLLIN))
            return 0;
        timeout_ms = 0;
    }
    ssize_t got = relay_conn_read(&s->conn, buf, sizeof buf, timeout_ms);
    if (got == 0)
        return 0;
    if (got < 0) {
        if (s->sm.state != ETW_RELAY_SND_DONE)
            relay_sender_note(s, "connection closed by the collector");
        relay_sender_disconnect(s);
        return -1;
    }
    if (feed(s, buf, (size_t)got) != 0) {
        relay_sender_disconnect(s);
        return -1;
    }
    return 0;
}

/* Reads until the state machine has the WELCOME (or a refusal). */
static int await_welcome(relay_sender *s)
{
    uint8_t buf[8192];
    int64_t deadline = relay_sender_now_ms() + IO_TIMEOUT_MS;
    while (s->sm.state == ETW_RELAY_SND_WELCOME) {
        int64_t left = deadline - relay_sender_now_ms();
        if (left <= 0) {
            relay_sender_note(s, "no WELCOME from the collector");
            return -1;
        }
        ssize_t got = relay_conn_read(&s->conn, buf, sizeof buf, (int)left);
        if (got < 0) {
            relay_sender_note(s, "collector closed the connection during the handshake%s%s",
                              s->conn.why[0] ? ": " : "", s->conn.why);
            return -1;
        }
        if (got > 0 && feed(s, buf, (size_t)got) != 0)
            return -1;
    }
    return 0;
}

static int connect_once(relay_sender *s)
{
    char err[256];
    int fd = relay_connect(s->o.to, 5000, err, sizeof err);
    if (fd < 0) {
        relay_sender_note(s, "%s", err);
        return -1;
    }
    relay_conn_init(&s->conn, fd);
    if (s->o.tls_ctx && relay_tls_connect(s->o.tls_ctx, &s->conn, s->o.tls_host, IO_TIMEOUT_MS, err, sizeof err) != 0) {
        relay_sender_note(s, "%s", err);
        relay_conn_close(&s->conn);
        return -1;
    }
    s->sm.want_caps = s->o.zstd && relay_zstd_available() ? ETW_RELAY_CAP_ZSTD : 0;
    etw_relay_sender_sm_connect(&s->sm);
    etw_relay_hello h = {.max_frame = ETW_RELAY_CONTROL_MAX, .max_in_flight = s->o.window,
                         .caps = s->sm.want_caps, .instance = s->o.instance};
    snprintf(h.source, sizeof h.source, "%s", s->o.source);
    snprintf(h.session, sizeof h.session, "%s", s->o.session);
    uint8_t frame[ETW_RELAY_CONTROL_FRAME_MAX];
    size_t n = etw_relay_encode_hello(frame, sizeof frame, &h);
    s->connected = 1;
    if (n == 0 || relay_sender_send(s, frame, n) != 0 || await_welcome(s) != 0) {
        relay_sender_disconnect(s);
        return -1;
    }
    if (s->sm.cut)
        s->queued_to = s->sm.next_seq;
    if ((s->sm.caps & ETW_RELAY_CAP_ZSTD) && !s->zbuf) {
        s->zcap = ETW_RELAY_BUFFER_PREFIX + ETW_RELAY_MAX_ETW_BUFFER + (ETW_RELAY_MAX_ETW_BUFFER >> 7) + 1024;
        s->zbuf = malloc(s->zcap);
        if (!s->zbuf)
            s->sm.caps = 0;
    }
    /* Resend what the collector does not hold, in order. */
    for (uint32_t i = 0; i < s->count; i++) {
        entry *e = &s->q[(s->head + i) % s->o.window];
        s->st.resent += e->sent;
        if (relay_sender_send_entry(s, e) != 0)
            return -1;
    }
    if (s->o.verbose)
        fprintf(stderr, "etwire send: %s/%s connected to %s, resuming at buffer %llu (%u resent)\n",
                s->o.source, s->o.session, s->o.to, (unsigned long long)s->sm.acked, s->count);
    return relay_sender_pump(s); /* with a spool: fill the window from disk */
}

/* Connects (again) with back-off; -1 once retry_seconds pass without success. */
int relay_sender_connect(relay_sender *s)
{
    int64_t deadline = relay_sender_now_ms() + (int64_t)s->o.retry_seconds * 1000;
    int delay = 100;
    while (!s->connected && s->sm.state != ETW_RELAY_SND_DONE) {
        if (s->sm.fatal)
            return -1;
        if (connect_once(s) == 0 || (s->sm.state == ETW_RELAY_SND_DONE))
            break;
        if (s->sm.fatal || relay_sender_now_ms() + delay > deadline)
            return -1;
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        delay = delay < 2000 ? delay * 2 : 2000;
        s->st.reconnects++;
    }
    return 0;
}

