/* One relay session's sender (see relay_sender.h). The queue holds whole frames (prefix and
 * raw buffer bytes) for every buffer not yet acknowledged, oldest first; it never exceeds the
 * window the collector granted, which bounds the sender's memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay_sender_impl.h"

int64_t relay_sender_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void relay_sender_note(relay_sender *s, const char *fmt, ...)
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

void relay_sender_drop_acked(relay_sender *s)
{
    while (s->count && s->q[s->head].seq < s->acked) {
        free(s->q[s->head].frame);
        s->q[s->head].frame = NULL;
        s->head = (s->head + 1) % s->o.window;
        s->count--;
    }
}

int relay_sender_push(relay_sender *s, const uint8_t *buf, uint32_t size)
{
    /* Room in the window first: ACKs free entries. */
    while (s->count >= s->window || s->count >= s->o.window) {
        if (relay_sender_connect(s) != 0)
            return -1;
        relay_sender_service(s, 1000);
    }
    if (s->next_seq < s->skip_to) {
        s->next_seq++;
        s->st.skipped++;
        return 0;
    }
    entry *e = &s->q[(s->head + s->count) % s->o.window];
    e->frame = malloc(ETW_RELAY_BUFFER_PREFIX + (size_t)size);
    if (!e->frame) {
        relay_sender_note(s, "out of memory");
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
        return relay_sender_connect(s);
    if (relay_sender_send_entry(s, e) != 0)
        return relay_sender_connect(s);
    relay_sender_service(s, 0);
    return 0;
}

int relay_sender_idle(relay_sender *s, int ms)
{
    int64_t end = relay_sender_now_ms() + ms;
    for (;;) {
        int64_t left = end - relay_sender_now_ms();
        if (left <= 0)
            return 0;
        if (relay_sender_connect(s) != 0)
            return -1;
        if (relay_sender_now_ms() - s->last_send_ms >= PING_EVERY_MS) {
            uint8_t ping[ETW_RELAY_HEADER_SIZE];
            relay_sender_send(s, ping, etw_relay_encode_ping(ping, sizeof ping));
        }
        relay_sender_service(s, left > 1000 ? 1000 : (int)left);
    }
}

int relay_sender_finish(relay_sender *s)
{
    int64_t deadline = relay_sender_now_ms() + (int64_t)s->o.retry_seconds * 1000 + IO_TIMEOUT_MS;
    while (!s->done) {
        if (relay_sender_connect(s) != 0)
            return -1;
        if (!s->ended) {
            uint8_t end[ETW_RELAY_HEADER_SIZE + 8];
            if (relay_sender_send(s, end, etw_relay_encode_end(end, sizeof end, s->next_seq)) != 0)
                continue;
            s->ended = 1;
        }
        if (relay_sender_service(s, 1000) == 0 && relay_sender_now_ms() > deadline) {
            relay_sender_note(s, "collector did not acknowledge the end of the session");
            return -1;
        }
        if (!s->connected && s->acked == s->next_seq && s->done)
            break;
    }
    relay_sender_disconnect(s);
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
    relay_sender_disconnect(s);
    while (s->count) {
        free(s->q[s->head].frame);
        s->head = (s->head + 1) % s->o.window;
        s->count--;
    }
    free(s->q);
    free(s->zbuf);
    free(s);
}
