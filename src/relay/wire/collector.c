/* Collector-side protocol rules for one connection (see wire/collector.h). */
#include "relay/wire/collector.h"

#include <string.h>

void etw_relay_collector_init(etw_relay_collector *c, const etw_relay_collector_ops *ops,
                              void *ctx, uint32_t max_frame, uint32_t max_in_flight, uint32_t caps)
{
    memset(c, 0, offsetof(etw_relay_collector, dec));
    c->ops = ops;
    c->ctx = ctx;
    c->max_frame = max_frame < ETW_RELAY_MAX_FRAME_DEFAULT ? ETW_RELAY_MAX_FRAME_DEFAULT : max_frame;
    c->max_in_flight = max_in_flight ? max_in_flight : 1;
    c->caps = caps;
    c->state = ETW_RELAY_COL_HELLO;
    etw_relay_decoder_init(&c->dec, c->max_frame);
}

static int fail(etw_relay_collector *c, int status)
{
    if (c->state != ETW_RELAY_COL_FAILED) {
        c->state = ETW_RELAY_COL_FAILED;
        c->error = status;
    }
    return c->error;
}

static int on_hello(etw_relay_collector *c, const etw_relay_frame *f)
{
    etw_relay_hello h;
    int st = etw_relay_parse_hello(f->payload, f->h.length, &h);
    if (st != ETW_RELAY_OK)
        return st;
    etw_relay_welcome *w = &c->welcome;
    w->max_frame = c->max_frame;
    w->max_in_flight = h.max_in_flight < c->max_in_flight ? h.max_in_flight : c->max_in_flight;
    w->caps = h.caps & c->caps;
    w->next_seq = 0;
    st = c->ops->hello ? c->ops->hello(c->ctx, &h, w) : ETW_RELAY_OK;
    if (st != ETW_RELAY_OK)
        return st < 0 ? st : ETW_RELAY_E_REFUSED;
    c->max_in_flight = w->max_in_flight ? w->max_in_flight : 1;
    c->caps = w->caps;
    c->next_seq = c->acked = w->next_seq;
    c->state = ETW_RELAY_COL_STREAM;
    c->welcome_due = 1;
    return ETW_RELAY_OK;
}

static int on_buffer(etw_relay_collector *c, const etw_relay_frame *f)
{
    uint8_t *storage = c->pending;
    c->pending = NULL;
    etw_relay_buffer b;
    int st = etw_relay_parse_buffer(f->payload, f->h.length, f->h.flags, &b);
    if (st == ETW_RELAY_OK && (f->h.flags & ETW_RELAY_FLAG_ZSTD) && !(c->caps & ETW_RELAY_CAP_ZSTD))
        st = ETW_RELAY_E_FLAGS;
    if (st == ETW_RELAY_OK && b.seq > c->next_seq)
        st = ETW_RELAY_E_SEQUENCE;
    if (st == ETW_RELAY_OK && b.seq < c->next_seq) {
        /* A resend that crossed an ACK: already held, never processed twice. */
        c->duplicates++;
        c->ops->release(c->ctx, storage);
        if (c->ops->duplicate)
            c->ops->duplicate(c->ctx, b.seq);
        return ETW_RELAY_OK;
    }
    if (st == ETW_RELAY_OK && b.seq - c->acked >= c->max_in_flight)
        st = ETW_RELAY_E_WINDOW;
    if (st != ETW_RELAY_OK) {
        c->ops->release(c->ctx, storage);
        return st;
    }
    c->next_seq++;
    st = c->ops->buffer(c->ctx, &b, f->h.flags, storage);
    return st < 0 ? st : ETW_RELAY_OK;
}

static int on_end(etw_relay_collector *c, const etw_relay_frame *f)
{
    uint64_t count;
    int st = etw_relay_parse_u64(f->payload, f->h.length, &count);
    if (st != ETW_RELAY_OK)
        return st;
    if (count != c->next_seq)
        return ETW_RELAY_E_SEQUENCE;
    c->state = ETW_RELAY_COL_ENDED;
    st = c->ops->end ? c->ops->end(c->ctx, count) : ETW_RELAY_OK;
    return st < 0 ? st : ETW_RELAY_OK;
}

static int dispatch(etw_relay_collector *c, const etw_relay_frame *f)
{
    c->frames++;
    if (f->h.type == ETW_RELAY_CLOSE) {
        etw_relay_close cl;
        int st = etw_relay_parse_close(f->payload, f->h.length, &cl);
        if (st != ETW_RELAY_OK)
            return st;
        c->state = ETW_RELAY_COL_CLOSED;
        if (c->ops->close)
            c->ops->close(c->ctx, &cl);
        return ETW_RELAY_OK;
    }
    switch (c->state) {
    case ETW_RELAY_COL_HELLO:
        return f->h.type == ETW_RELAY_HELLO ? on_hello(c, f) : ETW_RELAY_E_STATE;
    case ETW_RELAY_COL_STREAM:
        if (f->h.type == ETW_RELAY_BUFFER)
            return on_buffer(c, f);
        if (f->h.type == ETW_RELAY_END)
            return on_end(c, f);
        return f->h.type == ETW_RELAY_PING && f->h.length == 0 ? ETW_RELAY_OK : ETW_RELAY_E_STATE;
    case ETW_RELAY_COL_ENDED:
        return f->h.type == ETW_RELAY_PING && f->h.length == 0 ? ETW_RELAY_OK : ETW_RELAY_E_STATE;
    default:
        return ETW_RELAY_E_STATE;
    }
}

int etw_relay_collector_feed(etw_relay_collector *c, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    if (c->state == ETW_RELAY_COL_FAILED)
        return c->error;
    while (pos < n) {
        if (c->state == ETW_RELAY_COL_CLOSED)
            return ETW_RELAY_E_CLOSED; /* nothing may follow CLOSE */
        size_t used = 0;
        etw_relay_frame f;
        int rc = etw_relay_decoder_feed(&c->dec, p + pos, n - pos, &used, &f);
        pos += used;
        if (rc < 0)
            return fail(c, rc);
        if (rc == ETW_RELAY_NEED_TARGET) {
            /* The length passed the limit; outside the stream state (before HELLO, after END)
             * the frame is refused before anything is allocated. */
            uint8_t *storage = c->state == ETW_RELAY_COL_STREAM ? c->ops->alloc(c->ctx, c->dec.h.length) : NULL;
            if (!storage)
                return fail(c, c->state == ETW_RELAY_COL_STREAM ? ETW_RELAY_E_RESOURCES : ETW_RELAY_E_STATE);
            c->pending = storage;
            etw_relay_decoder_set_target(&c->dec, storage);
            continue;
        }
        if (rc == ETW_RELAY_FRAME) {
            int st = f.h.type == ETW_RELAY_BUFFER ? on_buffer(c, &f) : dispatch(c, &f);
            if (f.h.type == ETW_RELAY_BUFFER)
                c->frames++;
            if (st != ETW_RELAY_OK)
                return fail(c, st);
        }
    }
    return ETW_RELAY_OK;
}

size_t etw_relay_collector_direct(etw_relay_collector *c, uint8_t **dst)
{
    if (c->state != ETW_RELAY_COL_STREAM)
        return 0;
    return etw_relay_decoder_direct(&c->dec, dst);
}

int etw_relay_collector_direct_done(etw_relay_collector *c, size_t n)
{
    if (c->state == ETW_RELAY_COL_FAILED)
        return c->error;
    etw_relay_frame f;
    int rc = etw_relay_decoder_direct_done(&c->dec, n, &f);
    if (rc < 0)
        return fail(c, rc);
    if (rc == ETW_RELAY_FRAME) {
        int st = on_buffer(c, &f);
        c->frames++;
        if (st != ETW_RELAY_OK)
            return fail(c, st);
    }
    return ETW_RELAY_OK;
}

void etw_relay_collector_acked(etw_relay_collector *c, uint64_t acked)
{
    if (acked > c->acked && acked <= c->next_seq)
        c->acked = acked;
}

void etw_relay_collector_reset(etw_relay_collector *c)
{
    if (c->pending) {
        c->ops->release(c->ctx, c->pending);
        c->pending = NULL;
    }
}
