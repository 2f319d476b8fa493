/* One relay session's sender (see sender.h). The queue holds whole frames (prefix and
 * raw buffer bytes) for every buffer not yet acknowledged, oldest first; it never exceeds the
 * window the collector granted, which bounds the sender's memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/sender_impl.h"
#include "relay/spool.h"

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
    etw_relay_sender_sm_init(&s->sm, s->o.window, 0);
    s->sm.window = s->o.window;
    s->sm.resume = o->resume;
    s->q = calloc(s->o.window, sizeof *s->q);
    if (!s->q) {
        free(s);
        return NULL;
    }
    relay_conn_init(&s->conn, -1);
    return s;
}

void relay_sender_attach_spool(relay_sender *s, struct relay_spool *sp, const struct relay_spool_info *info)
{
    s->sp = sp;
    if (info) {
        s->sm.next_seq = info->next_seq;
        s->sm.acked = s->queued_to = info->first_seq;
        s->sm.spool_cut = !info->ended;
    }
}

#define SPARE_BYTES (4u << 20)

/* An acknowledged frame of `size` bytes: kept for the next buffer, or freed. */
static void give_back(relay_sender *s, uint8_t *frame, size_t size)
{
    if (frame && size == s->spare_size && s->nspare < sizeof s->spare / sizeof s->spare[0] &&
        (s->nspare + 1) * size <= SPARE_BYTES) {
        s->spare[s->nspare++] = frame;
        return;
    }
    free(frame);
}

/* A frame of `size` bytes: one kept, or a new one. */
static uint8_t *frame_block(relay_sender *s, size_t size)
{
    if (size != s->spare_size) { /* buffers of another size from now on */
        while (s->nspare)
            free(s->spare[--s->nspare]);
        s->spare_size = size;
    }
    return s->nspare ? s->spare[--s->nspare] : malloc(size);
}

void relay_sender_drop_acked(relay_sender *s)
{
    while (s->count && s->q[s->head].seq < s->sm.acked) {
        entry *e = &s->q[s->head];
        if (s->sp) /* spooled frames come from the spool reader's blocks */
            free(e->frame);
        else
            give_back(s, e->frame, ETW_RELAY_BUFFER_PREFIX + (size_t)e->size);
        s->q[s->head].frame = NULL;
        s->head = (s->head + 1) % s->o.window;
        s->count--;
    }
    if (s->sp)
        relay_spool_trim(s->sp, s->sm.acked);
}

int relay_sender_pump(relay_sender *s)
{
    if (!s->sp)
        return 0;
    if (s->queued_to < s->sm.acked)
        s->queued_to = s->sm.acked;
    /* Only what the socket takes now: a slow collector must not hold up reading the input
     * into the spool (docs/wire-protocol.md, read-ahead); the rest goes as ACKs come. */
    while (s->connected && s->count < s->sm.window && s->count < s->o.window && s->queued_to < s->sm.next_seq &&
           relay_conn_writable(&s->conn)) {
        char err[sizeof s->err] = "";
        uint8_t *block;
        uint32_t size;
        if (relay_spool_read(s->sp, s->queued_to, ETW_RELAY_BUFFER_PREFIX, &block, &size, err, sizeof err) != 0) {
            relay_sender_note(s, "%s", err);
            s->sm.fatal = 1;
            return -1;
        }
        entry *e = &s->q[(s->head + s->count) % s->o.window];
        *e = (entry){.seq = s->queued_to++, .size = size, .frame = block};
        s->count++;
        if (relay_sender_send_entry(s, e) != 0)
            return 0; /* disconnected: the next connection resends the queue */
    }
    return 0;
}

/* push() with a spool: the buffer goes to disk, and into the window when it has room. */
static int push_spooled(relay_sender *s, const uint8_t *buf, uint32_t size)
{
    /* The disk bound: wait for ACKs (they trim whole segments) while the spool is full. */
    while (relay_spool_bytes(s->sp) >= s->o.spool_max && s->sm.acked < s->sm.next_seq) {
        if (relay_sender_connect(s) != 0)
            return -1;
        relay_sender_service(s, 1000);
        if (relay_sender_pump(s) != 0)
            return -1;
    }
    char err[sizeof s->err];
    if (relay_spool_append(s->sp, s->sm.next_seq, buf, size, err, sizeof err) != 0) {
        relay_sender_note(s, "%s", err);
        return -1;
    }
    etw_relay_sender_sm_number(&s->sm);
    s->st.buffers++;
    s->st.bytes += size;
    if (!s->connected) /* connecting resends the queue, then pumps this buffer too */
        return relay_sender_connect(s);
    relay_sender_service(s, 0);
    return relay_sender_pump(s);
}

/* Waits until the window has room for one more entry (ACKs free entries); 0 or -1. With a
 * spool the buffer goes to disk instead and the window fills from there. */
static int await_room(relay_sender *s)
{
    while (!(s->sp && s->sm.next_seq >= s->sm.skip_to) &&
           (s->count >= s->sm.window || s->count >= s->o.window)) {
        if (relay_sender_connect(s) != 0)
            return -1;
        relay_sender_service(s, 1000);
    }
    return 0;
}

uint8_t *relay_sender_reserve(relay_sender *s, uint32_t size)
{
    /* Waiting before the caller reads the buffer keeps what is in memory to the window (and
     * the frame being filled). */
    if (await_room(s) != 0)
        return NULL;
    s->reserved = frame_block(s, ETW_RELAY_BUFFER_PREFIX + (size_t)size);
    if (!s->reserved) {
        relay_sender_note(s, "out of memory");
        return NULL;
    }
    s->reserved_size = size;
    return s->reserved + ETW_RELAY_BUFFER_PREFIX;
}

void relay_sender_cancel(relay_sender *s)
{
    give_back(s, s->reserved, ETW_RELAY_BUFFER_PREFIX + (size_t)s->reserved_size);
    s->reserved = NULL;
}

int relay_sender_commit(relay_sender *s)
{
    uint8_t *frame = s->reserved;
    uint32_t size = s->reserved_size;
    s->reserved = NULL;
    if (s->sp && s->sm.next_seq >= s->sm.skip_to) { /* on disk; the queue reads it back */
        int rc = push_spooled(s, frame + ETW_RELAY_BUFFER_PREFIX, size);
        give_back(s, frame, ETW_RELAY_BUFFER_PREFIX + (size_t)size);
        return rc;
    }
    /* Again: a reconnect while the caller filled the frame (pacing keeps the connection
     * served) may have brought a smaller window. */
    if (await_room(s) != 0) {
        give_back(s, frame, ETW_RELAY_BUFFER_PREFIX + (size_t)size);
        return -1;
    }
    if (s->sm.next_seq < s->sm.skip_to) {
        s->sm.next_seq++;
        s->st.skipped++;
        give_back(s, frame, ETW_RELAY_BUFFER_PREFIX + (size_t)size);
        return 0;
    }
    entry *e = &s->q[(s->head + s->count) % s->o.window];
    e->frame = frame;
    e->seq = etw_relay_sender_sm_number(&s->sm);
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

int relay_sender_push(relay_sender *s, const uint8_t *buf, uint32_t size)
{
    uint8_t *payload = relay_sender_reserve(s, size);
    if (!payload)
        return -1;
    memcpy(payload, buf, size);
    return relay_sender_commit(s);
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
        if (relay_sender_pump(s) != 0)
            return -1;
    }
}

int relay_sender_finish(relay_sender *s)
{
    if (s->sp && !s->sm.spool_cut) { /* a cut spool learns its count from the collector */
        char err[sizeof s->err];
        if (relay_spool_append_end(s->sp, s->sm.next_seq, err, sizeof err) != 0) {
            relay_sender_note(s, "%s", err);
            return -1;
        }
    }
    /* The time limit counts from the last progress: a spooled backlog may take long to drain. */
    int64_t limit = (int64_t)s->o.retry_seconds * 1000 + IO_TIMEOUT_MS;
    int64_t deadline = relay_sender_now_ms() + limit;
    uint64_t seen = s->sm.acked;
    while (s->sm.state != ETW_RELAY_SND_DONE) {
        if (relay_sender_connect(s) != 0)
            return -1;
        if (s->sm.state == ETW_RELAY_SND_DONE)
            break;
        if (relay_sender_pump(s) != 0)
            return -1;
        /* END follows the last buffer; with a spool, once every buffer left the disk. */
        if (!s->sm.end_sent && s->connected && (!s->sp || s->queued_to >= s->sm.next_seq)) {
            uint8_t end[ETW_RELAY_HEADER_SIZE + 8];
            if (relay_sender_send(s, end, etw_relay_encode_end(end, sizeof end, s->sm.next_seq)) != 0)
                continue;
            etw_relay_sender_sm_end_sent(&s->sm);
        }
        if (s->sm.acked != seen) {
            seen = s->sm.acked;
            deadline = relay_sender_now_ms() + limit;
        }
        if (relay_sender_service(s, 1000) == 0 && relay_sender_now_ms() > deadline) {
            relay_sender_note(s, "collector did not acknowledge the end of the session");
            return -1;
        }
        if (!s->connected && s->sm.acked == s->sm.next_seq && (s->sm.state == ETW_RELAY_SND_DONE))
            break;
    }
    relay_sender_disconnect(s);
    /* §6: the spool goes only after the collector acknowledged the END. */
    relay_spool_remove(s->sp);
    s->sp = NULL;
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
    free(s->reserved); /* a reservation neither committed nor cancelled */
    while (s->count) {
        free(s->q[s->head].frame);
        s->head = (s->head + 1) % s->o.window;
        s->count--;
    }
    relay_spool_close(s->sp); /* kept on disk for the next run */
    while (s->nspare)
        free(s->spare[--s->nspare]);
    free(s->q);
    free(s->zbuf);
    free(s);
}
