/* The sender's protocol state machine (see sender.h). */
#include "relay/wire/sender.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int failed(etw_relay_sender_sm *m, int status, int fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int failed(etw_relay_sender_sm *m, int status, int fatal, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof m->why, fmt, ap);
    va_end(ap);
    m->state = ETW_RELAY_SND_FAILED;
    m->fatal |= fatal;
    return status;
}

void etw_relay_sender_sm_init(etw_relay_sender_sm *m, uint32_t window, uint32_t caps)
{
    memset(m, 0, sizeof *m);
    m->want_window = window;
    m->want_caps = caps;
    m->close_reason = ETW_RELAY_CLOSE_COUNT_;
}

void etw_relay_sender_sm_connect(etw_relay_sender_sm *m)
{
    m->state = ETW_RELAY_SND_WELCOME;
    m->end_sent = 0;
    m->welcomed = m->cut = 0;
    m->close_reason = ETW_RELAY_CLOSE_COUNT_;
    m->why[0] = 0;
    etw_relay_decoder_init(&m->dec, 0); /* the collector sends control frames only */
}

uint64_t etw_relay_sender_sm_number(etw_relay_sender_sm *m)
{
    return m->next_seq++;
}

void etw_relay_sender_sm_end_sent(etw_relay_sender_sm *m)
{
    m->end_sent = 1;
    m->end_ever = 1;
}

void etw_relay_sender_sm_lost(etw_relay_sender_sm *m)
{
    if (m->state != ETW_RELAY_SND_DONE && !m->fatal)
        m->state = ETW_RELAY_SND_IDLE;
    m->end_sent = 0;
}

static int on_welcome(etw_relay_sender_sm *m, const etw_relay_frame *f)
{
    etw_relay_welcome w;
    if (m->state != ETW_RELAY_SND_WELCOME)
        return failed(m, ETW_RELAY_E_STATE, 0, "WELCOME in the middle of a session");
    if (etw_relay_parse_welcome(f->payload, f->h.length, &w) != ETW_RELAY_OK)
        return failed(m, ETW_RELAY_E_LAYOUT, 0, "bad WELCOME from the collector");
    if (w.next_seq > m->next_seq && m->resume) {
        m->skip_to = w.next_seq; /* this run re-reads an earlier one's input: skip what is held */
    } else if (w.next_seq > m->next_seq && m->spool_cut) {
        m->next_seq = w.next_seq; /* a reloaded spool lost its torn tail, which the collector holds */
        m->cut = 1;
    } else if (w.next_seq > m->next_seq || w.next_seq < m->acked) {
        return failed(m, ETW_RELAY_E_SEQUENCE, 1, "collector expects buffer %llu but this sender holds %llu..%llu",
                      (unsigned long long)w.next_seq, (unsigned long long)m->acked,
                      (unsigned long long)m->next_seq);
    }
    m->acked = w.next_seq;
    m->window = w.max_in_flight < m->want_window ? w.max_in_flight : m->want_window;
    if (m->window == 0)
        m->window = 1;
    m->caps = w.caps & m->want_caps;
    m->welcomed = 1;
    m->state = ETW_RELAY_SND_STREAM;
    return ETW_RELAY_OK;
}

static int on_ack(etw_relay_sender_sm *m, const etw_relay_frame *f)
{
    uint64_t v;
    uint64_t top = m->next_seq > m->skip_to ? m->next_seq : m->skip_to;
    if (m->state != ETW_RELAY_SND_STREAM)
        return failed(m, ETW_RELAY_E_STATE, 0, "ACK before WELCOME");
    if (etw_relay_parse_u64(f->payload, f->h.length, &v) != ETW_RELAY_OK || v < m->acked || v > top)
        return failed(m, ETW_RELAY_E_SEQUENCE, 0, "bad ACK from the collector");
    m->acked = v;
    return ETW_RELAY_OK;
}

static int on_close(etw_relay_sender_sm *m, const etw_relay_frame *f)
{
    etw_relay_close c;
    if (etw_relay_parse_close(f->payload, f->h.length, &c) != ETW_RELAY_OK)
        c = (etw_relay_close){.reason = ETW_RELAY_CLOSE_PROTOCOL, .text = "", .text_len = 0};
    m->close_reason = c.reason;
    if (c.reason == ETW_RELAY_CLOSE_DONE && m->end_sent && m->acked == m->next_seq) {
        m->state = ETW_RELAY_SND_DONE;
        return ETW_RELAY_E_CLOSED;
    }
    if (c.reason == ETW_RELAY_CLOSE_COMPLETE && m->end_ever) {
        /* Our END completed it; only the last ACK was lost with a connection. */
        m->acked = m->next_seq;
        m->state = ETW_RELAY_SND_DONE;
        return ETW_RELAY_E_CLOSED;
    }
    /* Refusals another connection would get again. */
    int fatal = c.reason == ETW_RELAY_CLOSE_AUTH || c.reason == ETW_RELAY_CLOSE_VERSION ||
                c.reason == ETW_RELAY_CLOSE_COMPLETE || c.reason == ETW_RELAY_CLOSE_BAD_BUFFER;
    return failed(m, ETW_RELAY_E_CLOSED, fatal, "collector closed: %s %.*s", etw_relay_close_reason_name(c.reason),
                  (int)c.text_len, c.text);
}

int etw_relay_sender_sm_feed(etw_relay_sender_sm *m, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    if (m->state == ETW_RELAY_SND_FAILED || m->state == ETW_RELAY_SND_DONE || m->state == ETW_RELAY_SND_IDLE)
        return n ? failed(m, ETW_RELAY_E_STATE, 0, "bytes after the session's end") : ETW_RELAY_OK;
    while (pos < n) {
        size_t used;
        etw_relay_frame f;
        int rc = etw_relay_decoder_feed(&m->dec, p + pos, n - pos, &used, &f);
        pos += used;
        if (rc < 0)
            return failed(m, rc, 0, "bad frame from the collector: %s", etw_relay_status_message(rc));
        if (rc == ETW_RELAY_NEED_TARGET)
            return failed(m, ETW_RELAY_E_STATE, 0, "BUFFER frame from the collector");
        if (rc != ETW_RELAY_FRAME)
            continue;
        int st;
        switch (f.h.type) {
        case ETW_RELAY_WELCOME:
            st = on_welcome(m, &f);
            break;
        case ETW_RELAY_ACK:
            st = on_ack(m, &f);
            break;
        case ETW_RELAY_PING:
            st = ETW_RELAY_OK;
            break;
        case ETW_RELAY_CLOSE:
            st = on_close(m, &f);
            break;
        default:
            st = failed(m, ETW_RELAY_E_STATE, 0, "unexpected frame type %u from the collector", f.h.type);
        }
        if (st != ETW_RELAY_OK)
            return st;
    }
    return ETW_RELAY_OK;
}
