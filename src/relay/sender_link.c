/* The sender's connection (see relay_sender_impl.h): connect with back-off, TLS, HELLO and
 * WELCOME, resending what the collector does not hold, and reading its ACKs. */
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
    s->ended = 0;
}

int relay_sender_send(relay_sender *s, const void *p, size_t n)
{
    if (relay_conn_write(&s->conn, p, n, IO_TIMEOUT_MS) != 0) {
        relay_sender_note(s, "connection lost while sending");
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
    if (s->caps & ETW_RELAY_CAP_ZSTD) {
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

/* Handles one frame from the collector; -1 ends the connection. */
static int on_frame(relay_sender *s, const etw_relay_frame *f)
{
    uint64_t v;
    etw_relay_close c;
    switch (f->h.type) {
    case ETW_RELAY_ACK:
        if (etw_relay_parse_u64(f->payload, f->h.length, &v) != ETW_RELAY_OK || v < s->acked ||
            v > (s->next_seq > s->skip_to ? s->next_seq : s->skip_to)) {
            relay_sender_note(s, "bad ACK from the collector");
            return -1;
        }
        s->acked = v;
        s->st.acked = v;
        relay_sender_drop_acked(s);
        return 0;
    case ETW_RELAY_PING:
        return 0;
    case ETW_RELAY_CLOSE:
        if (etw_relay_parse_close(f->payload, f->h.length, &c) != ETW_RELAY_OK)
            c.reason = ETW_RELAY_CLOSE_PROTOCOL, c.text_len = 0, c.text = "";
        if (c.reason == ETW_RELAY_CLOSE_DONE && s->ended && s->acked == s->next_seq) {
            s->done = 1;
        } else if (c.reason == ETW_RELAY_CLOSE_COMPLETE && s->end_sent) {
            /* Our END completed it; only the last ACK was lost with a connection. */
            s->acked = s->next_seq;
            s->done = 1;
        } else {
            relay_sender_note(s, "collector closed: %s %.*s", etw_relay_close_reason_name(c.reason), (int)c.text_len, c.text);
            /* Refusals that another try would get again. */
            if (c.reason == ETW_RELAY_CLOSE_AUTH || c.reason == ETW_RELAY_CLOSE_VERSION ||
                c.reason == ETW_RELAY_CLOSE_COMPLETE || c.reason == ETW_RELAY_CLOSE_BAD_BUFFER)
                s->fatal = 1;
        }
        return -1;
    default:
        relay_sender_note(s, "unexpected frame type %u from the collector", f->h.type);
        return -1;
    }
}

/* Reads and handles what the collector sent, waiting at most timeout_ms for the first byte. */
int relay_sender_service(relay_sender *s, int timeout_ms)
{
    uint8_t buf[8192];
    if (!s->connected)
        return -1;
    ssize_t got = relay_conn_read(&s->conn, buf, sizeof buf, timeout_ms);
    if (got == 0)
        return 0;
    if (got < 0) {
        if (!s->done)
            relay_sender_note(s, "connection closed by the collector");
        relay_sender_disconnect(s);
        return -1;
    }
    size_t pos = 0;
    while (pos < (size_t)got) {
        size_t used;
        etw_relay_frame f;
        int rc = etw_relay_decoder_feed(&s->dec, buf + pos, (size_t)got - pos, &used, &f);
        pos += used;
        if (rc < 0 || rc == ETW_RELAY_NEED_TARGET) {
            relay_sender_note(s, "bad frame from the collector: %s", etw_relay_status_message(rc < 0 ? rc : ETW_RELAY_E_STATE));
            relay_sender_disconnect(s);
            return -1;
        }
        if (rc == ETW_RELAY_FRAME && on_frame(s, &f) != 0) {
            relay_sender_disconnect(s);
            return -1;
        }
    }
    return 0;
}

/* Reads frames until WELCOME (or refusal) arrives. */
static int await_welcome(relay_sender *s, etw_relay_welcome *w)
{
    uint8_t buf[ETW_RELAY_CONTROL_FRAME_MAX];
    int64_t deadline = relay_sender_now_ms() + IO_TIMEOUT_MS;
    while (relay_sender_now_ms() < deadline) {
        ssize_t got = relay_conn_read(&s->conn, buf, 1, 500); /* byte-wise: later bytes stay unread */
        if (got < 0) {
            relay_sender_note(s, "collector closed the connection during the handshake");
            return -1;
        }
        size_t used;
        etw_relay_frame f;
        int rc = got ? etw_relay_decoder_feed(&s->dec, buf, 1, &used, &f) : ETW_RELAY_NEED_MORE;
        if (rc < 0 || rc == ETW_RELAY_NEED_TARGET) {
            relay_sender_note(s, "bad handshake frame from the collector");
            return -1;
        }
        if (rc != ETW_RELAY_FRAME)
            continue;
        if (f.h.type == ETW_RELAY_WELCOME && etw_relay_parse_welcome(f.payload, f.h.length, w) == ETW_RELAY_OK)
            return 0;
        if (f.h.type == ETW_RELAY_CLOSE)
            on_frame(s, &f);
        else
            relay_sender_note(s, "unexpected frame during the handshake");
        return -1;
    }
    relay_sender_note(s, "no WELCOME from the collector");
    return -1;
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
    etw_relay_decoder_init(&s->dec, 0);
    etw_relay_hello h = {.max_frame = ETW_RELAY_CONTROL_MAX, .max_in_flight = s->o.window,
                         .caps = s->o.zstd && relay_zstd_available() ? ETW_RELAY_CAP_ZSTD : 0,
                         .instance = s->o.instance};
    snprintf(h.source, sizeof h.source, "%s", s->o.source);
    snprintf(h.session, sizeof h.session, "%s", s->o.session);
    uint8_t frame[ETW_RELAY_CONTROL_FRAME_MAX];
    size_t n = etw_relay_encode_hello(frame, sizeof frame, &h);
    etw_relay_welcome w;
    s->connected = 1;
    if (n == 0 || relay_sender_send(s, frame, n) != 0 || await_welcome(s, &w) != 0) {
        relay_sender_disconnect(s);
        return -1;
    }
    if (w.next_seq > s->next_seq && s->o.resume) {
        /* This run re-reads the input of an earlier one (same instance): skip what is held. */
        s->skip_to = w.next_seq;
    } else if (w.next_seq > s->next_seq && s->spool_cut) {
        /* A reloaded spool lost its torn tail, which the collector holds: end after it. */
        s->next_seq = s->queued_to = w.next_seq;
    } else if (w.next_seq > s->next_seq || w.next_seq < s->acked) {
        relay_sender_note(s, "collector expects buffer %llu but this sender holds %llu..%llu",
             (unsigned long long)w.next_seq, (unsigned long long)s->acked, (unsigned long long)s->next_seq);
        s->fatal = 1;
        relay_sender_disconnect(s);
        return -1;
    }
    s->acked = w.next_seq;
    s->st.acked = w.next_seq;
    relay_sender_drop_acked(s);
    s->window = w.max_in_flight < s->o.window ? w.max_in_flight : s->o.window;
    s->caps = w.caps & h.caps;
    if ((s->caps & ETW_RELAY_CAP_ZSTD) && !s->zbuf) {
        s->zcap = ETW_RELAY_BUFFER_PREFIX + ETW_RELAY_MAX_ETW_BUFFER + (ETW_RELAY_MAX_ETW_BUFFER >> 7) + 1024;
        s->zbuf = malloc(s->zcap);
        if (!s->zbuf)
            s->caps = 0;
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
                s->o.source, s->o.session, s->o.to, (unsigned long long)w.next_seq, s->count);
    return relay_sender_pump(s); /* with a spool: fill the window from disk */
}

/* Connects (again) with back-off; -1 once retry_seconds pass without success. */
int relay_sender_connect(relay_sender *s)
{
    int64_t deadline = relay_sender_now_ms() + (int64_t)s->o.retry_seconds * 1000;
    int delay = 100;
    while (!s->connected && !s->done) {
        if (s->fatal)
            return -1;
        if (connect_once(s) == 0 || s->done)
            break;
        if (s->fatal || relay_sender_now_ms() + delay > deadline)
            return -1;
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        delay = delay < 2000 ? delay * 2 : 2000;
        s->st.reconnects++;
    }
    return 0;
}

