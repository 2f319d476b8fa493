/* One relay session's sender (see relay_sender.h). The queue holds whole frames (prefix and
 * raw buffer bytes) for every buffer not yet acknowledged, oldest first; it never exceeds the
 * window the collector granted, which bounds the sender's memory. */
#include "relay_sender.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/relay_frame.h"
#include "relay/relay_msg.h"
#include "relay_net.h"
#include "relay_tls.h"
#include "relay_zstd.h"

#define IO_TIMEOUT_MS 30000
#define PING_EVERY_MS 10000

typedef struct entry {
    uint64_t seq;
    uint32_t size; /* raw buffer bytes, stored at frame + ETW_RELAY_BUFFER_PREFIX */
    int sent;      /* went out on some connection already: sending again is a resend */
    uint8_t *frame;
} entry;

struct relay_sender {
    relay_sender_opts o;
    relay_conn conn;
    int connected;
    uint32_t window;
    uint32_t caps;
    entry *q; /* ring of o.window entries */
    uint32_t head, count;
    uint64_t next_seq;  /* number the next pushed buffer gets */
    uint64_t acked;     /* collector holds every seq below */
    int ended;          /* END sent on this connection */
    int done;           /* CLOSE DONE received */
    int fatal;
    uint8_t *zbuf;
    size_t zcap;
    int64_t last_send_ms;
    relay_sender_stats st;
    etw_relay_decoder dec;
    char err[256];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note(relay_sender *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    if (s->o.verbose)
        fprintf(stderr, "etwire send: %s/%s: %s\n", s->o.source, s->o.session, s->err);
}

relay_sender *relay_sender_create(const relay_sender_opts *o)
{
    relay_sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->o = *o;
    if (s->o.window == 0)
        s->o.window = 64;
    s->window = s->o.window;
    s->q = calloc(s->o.window, sizeof *s->q);
    if (!s->q) {
        free(s);
        return NULL;
    }
    relay_conn_init(&s->conn, -1);
    return s;
}

static void drop_acked(relay_sender *s)
{
    while (s->count && s->q[s->head].seq < s->acked) {
        free(s->q[s->head].frame);
        s->q[s->head].frame = NULL;
        s->head = (s->head + 1) % s->o.window;
        s->count--;
    }
}

static void disconnect(relay_sender *s)
{
    if (s->connected || s->conn.fd >= 0)
        relay_conn_close(&s->conn);
    s->connected = 0;
    s->ended = 0;
}

static int send_bytes(relay_sender *s, const void *p, size_t n)
{
    if (relay_conn_write(&s->conn, p, n, IO_TIMEOUT_MS) != 0) {
        note(s, "connection lost while sending");
        disconnect(s);
        return -1;
    }
    s->st.wire_bytes += n;
    s->last_send_ms = now_ms();
    return 0;
}

static int send_entry(relay_sender *s, entry *e)
{
    uint8_t *raw = e->frame + ETW_RELAY_BUFFER_PREFIX;
    if (s->caps & ETW_RELAY_CAP_ZSTD) {
        size_t z = relay_zstd_compress(s->zbuf + ETW_RELAY_BUFFER_PREFIX, s->zcap - ETW_RELAY_BUFFER_PREFIX, raw, e->size, 3);
        if (z > 0) {
            etw_relay_encode_buffer_prefix(s->zbuf, e->seq, e->size, ETW_RELAY_FLAG_ZSTD, (uint32_t)z);
            e->sent = 1;
            return send_bytes(s, s->zbuf, ETW_RELAY_BUFFER_PREFIX + z);
        }
    }
    etw_relay_encode_buffer_prefix(e->frame, e->seq, e->size, 0, e->size);
    e->sent = 1;
    return send_bytes(s, e->frame, ETW_RELAY_BUFFER_PREFIX + e->size);
}

/* Handles one frame from the collector; -1 ends the connection. */
static int on_frame(relay_sender *s, const etw_relay_frame *f)
{
    uint64_t v;
    etw_relay_close c;
    switch (f->h.type) {
    case ETW_RELAY_ACK:
        if (etw_relay_parse_u64(f->payload, f->h.length, &v) != ETW_RELAY_OK || v > s->next_seq || v < s->acked) {
            note(s, "bad ACK from the collector");
            return -1;
        }
        s->acked = v;
        s->st.acked = v;
        drop_acked(s);
        return 0;
    case ETW_RELAY_PING:
        return 0;
    case ETW_RELAY_CLOSE:
        if (etw_relay_parse_close(f->payload, f->h.length, &c) != ETW_RELAY_OK)
            c.reason = ETW_RELAY_CLOSE_PROTOCOL, c.text_len = 0, c.text = "";
        if (c.reason == ETW_RELAY_CLOSE_DONE && s->ended && s->acked == s->next_seq) {
            s->done = 1;
        } else {
            note(s, "collector closed: %s %.*s", etw_relay_close_reason_name(c.reason), (int)c.text_len, c.text);
            if (c.reason == ETW_RELAY_CLOSE_AUTH || c.reason == ETW_RELAY_CLOSE_VERSION)
                s->fatal = 1;
        }
        return -1;
    default:
        note(s, "unexpected frame type %u from the collector", f->h.type);
        return -1;
    }
}

/* Reads and handles what the collector sent, waiting at most timeout_ms for the first byte. */
static int service(relay_sender *s, int timeout_ms)
{
    uint8_t buf[8192];
    if (!s->connected)
        return -1;
    ssize_t got = relay_conn_read(&s->conn, buf, sizeof buf, timeout_ms);
    if (got == 0)
        return 0;
    if (got < 0) {
        if (!s->done)
            note(s, "connection closed by the collector");
        disconnect(s);
        return -1;
    }
    size_t pos = 0;
    while (pos < (size_t)got) {
        size_t used;
        etw_relay_frame f;
        int rc = etw_relay_decoder_feed(&s->dec, buf + pos, (size_t)got - pos, &used, &f);
        pos += used;
        if (rc < 0 || rc == ETW_RELAY_NEED_TARGET) {
            note(s, "bad frame from the collector: %s", etw_relay_status_message(rc < 0 ? rc : ETW_RELAY_E_STATE));
            disconnect(s);
            return -1;
        }
        if (rc == ETW_RELAY_FRAME && on_frame(s, &f) != 0) {
            disconnect(s);
            return -1;
        }
    }
    return 0;
}

/* Reads frames until WELCOME (or refusal) arrives. */
static int await_welcome(relay_sender *s, etw_relay_welcome *w)
{
    uint8_t buf[ETW_RELAY_CONTROL_FRAME_MAX];
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    while (now_ms() < deadline) {
        ssize_t got = relay_conn_read(&s->conn, buf, 1, 500); /* byte-wise: later bytes stay unread */
        if (got < 0) {
            note(s, "collector closed the connection during the handshake");
            return -1;
        }
        size_t used;
        etw_relay_frame f;
        int rc = got ? etw_relay_decoder_feed(&s->dec, buf, 1, &used, &f) : ETW_RELAY_NEED_MORE;
        if (rc < 0 || rc == ETW_RELAY_NEED_TARGET) {
            note(s, "bad handshake frame from the collector");
            return -1;
        }
        if (rc != ETW_RELAY_FRAME)
            continue;
        if (f.h.type == ETW_RELAY_WELCOME && etw_relay_parse_welcome(f.payload, f.h.length, w) == ETW_RELAY_OK)
            return 0;
        if (f.h.type == ETW_RELAY_CLOSE)
            on_frame(s, &f);
        else
            note(s, "unexpected frame during the handshake");
        return -1;
    }
    note(s, "no WELCOME from the collector");
    return -1;
}

static int connect_once(relay_sender *s)
{
    char err[256];
    int fd = relay_connect(s->o.to, 5000, err, sizeof err);
    if (fd < 0) {
        note(s, "%s", err);
        return -1;
    }
    relay_conn_init(&s->conn, fd);
    if (s->o.tls_ctx && relay_tls_connect(s->o.tls_ctx, &s->conn, s->o.tls_host, IO_TIMEOUT_MS, err, sizeof err) != 0) {
        note(s, "%s", err);
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
    if (n == 0 || send_bytes(s, frame, n) != 0 || await_welcome(s, &w) != 0) {
        disconnect(s);
        return -1;
    }
    if (w.next_seq > s->next_seq || w.next_seq < s->acked) {
        note(s, "collector expects buffer %llu but this sender holds %llu..%llu",
             (unsigned long long)w.next_seq, (unsigned long long)s->acked, (unsigned long long)s->next_seq);
        s->fatal = 1;
        disconnect(s);
        return -1;
    }
    s->acked = w.next_seq;
    s->st.acked = w.next_seq;
    drop_acked(s);
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
        if (send_entry(s, e) != 0)
            return -1;
    }
    if (s->o.verbose)
        fprintf(stderr, "etwire send: %s/%s connected to %s, resuming at buffer %llu (%u resent)\n",
                s->o.source, s->o.session, s->o.to, (unsigned long long)w.next_seq, s->count);
    return 0;
}

/* Connects (again) with back-off; -1 once retry_seconds pass without success. */
static int ensure_connected(relay_sender *s)
{
    int64_t deadline = now_ms() + (int64_t)s->o.retry_seconds * 1000;
    int delay = 100;
    while (!s->connected) {
        if (s->fatal)
            return -1;
        if (connect_once(s) == 0)
            break;
        if (s->fatal || now_ms() + delay > deadline)
            return -1;
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        delay = delay < 2000 ? delay * 2 : 2000;
        s->st.reconnects++;
    }
    return 0;
}

int relay_sender_push(relay_sender *s, const uint8_t *buf, uint32_t size)
{
    /* Room in the window first: ACKs free entries. */
    while (s->count >= s->window || s->count >= s->o.window) {
        if (ensure_connected(s) != 0)
            return -1;
        service(s, 1000);
    }
    entry *e = &s->q[(s->head + s->count) % s->o.window];
    e->frame = malloc(ETW_RELAY_BUFFER_PREFIX + (size_t)size);
    if (!e->frame) {
        note(s, "out of memory");
        return -1;
    }
    memcpy(e->frame + ETW_RELAY_BUFFER_PREFIX, buf, size);
    e->seq = s->next_seq++;
    e->size = size;
    e->sent = 0;
    s->count++;
    s->st.buffers++;
    s->st.bytes += size;
    if (!s->connected) /* connecting resends the whole queue, this entry included */
        return ensure_connected(s);
    if (send_entry(s, e) != 0)
        return ensure_connected(s);
    service(s, 0);
    return 0;
}

int relay_sender_idle(relay_sender *s, int ms)
{
    int64_t end = now_ms() + ms;
    for (;;) {
        int64_t left = end - now_ms();
        if (left <= 0)
            return 0;
        if (ensure_connected(s) != 0)
            return -1;
        if (now_ms() - s->last_send_ms >= PING_EVERY_MS) {
            uint8_t ping[ETW_RELAY_HEADER_SIZE];
            send_bytes(s, ping, etw_relay_encode_ping(ping, sizeof ping));
        }
        service(s, left > 1000 ? 1000 : (int)left);
    }
}

int relay_sender_finish(relay_sender *s)
{
    int64_t deadline = now_ms() + (int64_t)s->o.retry_seconds * 1000 + IO_TIMEOUT_MS;
    while (!s->done) {
        if (ensure_connected(s) != 0)
            return -1;
        if (!s->ended) {
            uint8_t end[ETW_RELAY_HEADER_SIZE + 8];
            if (send_bytes(s, end, etw_relay_encode_end(end, sizeof end, s->next_seq)) != 0)
                continue;
            s->ended = 1;
        }
        if (service(s, 1000) == 0 && now_ms() > deadline) {
            note(s, "collector did not acknowledge the end of the session");
            return -1;
        }
        if (!s->connected && s->acked == s->next_seq && s->done)
            break;
    }
    disconnect(s);
    return 0;
}

const relay_sender_stats *relay_sender_get_stats(const relay_sender *s)
{
    return &s->st;
}

const char *relay_sender_error(const relay_sender *s)
{
    return s->err;
}

void relay_sender_destroy(relay_sender *s)
{
    if (!s)
        return;
    disconnect(s);
    while (s->count) {
        free(s->q[s->head].frame);
        s->head = (s->head + 1) % s->o.window;
        s->count--;
    }
    free(s->q);
    free(s->zbuf);
    free(s);
}
