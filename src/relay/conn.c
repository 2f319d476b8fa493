/* One collector connection (see collect.h): TLS handshake and identity check, then the
 * relay state machine fed from the socket. Reading stops while the session has its quota of
 * buffer bytes in flight (TCP flow control then holds the sender back); every wait is bounded,
 * so a slow or silent sender only ever occupies its own thread. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fd_io.h"
#include "relay/wire/collector.h"
#include "relay/collect.h"
#include "relay/net.h"
#include "relay/quota.h"
#include "relay/tls.h"
#include "relay/zstd.h"

#define IO_TIMEOUT_MS 10000
#define STORAGE_PAD 4 /* puts the ETW buffer after the 12-byte body prefix on an 8-byte boundary */
/* Large BUFFER payloads are received straight into their storage; what follows one (the next
 * frame's header and first bytes) is read into the connection's buffer, at most SMALL_READ
 * bytes, so little of the next payload is copied twice. */
#define BIG_FRAME 32768u
#define SMALL_READ 4096u
/* Buffers go to the session a batch at a time (sink.h); an empty socket makes a batch wait
 * this long for more before it goes, and then, while what went is not durable yet and there is
 * no wake-up descriptor, the wait for the sender is this short so that its ACK follows soon. */
#define BATCH_LINGER_MS 1
#define DURABLE_POLL_MS 2

typedef struct conn_state {
    relay_conn_job *job;
    relay_conn conn;
    char identity[256];
    char name[300];
    relay_sink *sink;
    etw_relay_collector col;
    uint64_t acked;
    int ack_due;
    int ended;
    uint32_t refuse_reason; /* CLOSE reason when HELLO is refused */
    relay_quota_src *qs;    /* the source's shared budgets */
    uint64_t q_mine;        /* this connection's bytes in flight as last reported to qs */
    uint32_t pending;       /* bytes of the BUFFER frame being read */
    int drained;            /* the last read found the socket empty: the sender sends nothing
                               now (it may wait for an ACK) */
    int wake[2];            /* the sink's writer and completions end this thread's wait for
                               data when an ACK is due (relay_sink_arm); -1 when none */
    int big_frames;         /* the last BUFFER frame was large: read its successors' headers in
                               small reads, their payloads straight into their storage */
    char err[512];
    relay_outcome outcome;  /* set where the cause is known; else from the CLOSE reason */
} conn_state;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int allowed(const relay_collect_cfg *cfg, const char *source)
{
    if (!cfg->allow)
        return 1;
    for (char **a = cfg->allow; *a; a++)
        if (!strcmp(*a, source))
            return 1;
    return 0;
}

static int on_hello(void *ctx, const etw_relay_hello *h, etw_relay_welcome *w)
{
    conn_state *c = ctx;
    const relay_collect_cfg *cfg = c->job->cfg;
    snprintf(c->name, sizeof c->name, "%s/%s", h->source, h->session);
    if (cfg->tls_ctx && strcmp(h->source, c->identity) != 0) {
        snprintf(c->err, sizeof c->err, "source '%s' does not match certificate '%s'", h->source, c->identity);
        return ETW_RELAY_E_REFUSED;
    }
    if (!allowed(cfg, h->source)) {
        snprintf(c->err, sizeof c->err, "source '%s' is not on the allow-list", h->source);
        return ETW_RELAY_E_REFUSED;
    }
    if (cfg->quota && !(c->qs = relay_quota_join(cfg->quota, h->source, c->err, sizeof c->err))) {
        c->refuse_reason = ETW_RELAY_CLOSE_RESOURCES;
        return ETW_RELAY_E_REFUSED;
    }
    if (relay_registry_acquire(c->job->reg, cfg, h->source, h->session, h->instance, &c->sink,
                               &c->refuse_reason, c->err, sizeof c->err) != ETW_RELAY_OK)
        return ETW_RELAY_E_REFUSED;
    w->next_seq = relay_sink_next_seq(c->sink);
    relay_sink_set_window(c->sink, w->max_in_flight);
    relay_sink_keep_storage(c->sink, 1);
    relay_sink_set_notify(c->sink, c->wake[1]);
    c->acked = w->next_seq;
    atomic_store(&c->job->authed, 1);
    atomic_fetch_add(&cfg->counters->authenticated, 1);
    if (cfg->verbose)
        relay_log("%s: %s connected, resuming at buffer %llu", c->job->peer, c->name,
                  (unsigned long long)w->next_seq);
    return ETW_RELAY_OK;
}

/* Hands the staged buffers to the stream session: ETW_RELAY_OK, or ETW_RELAY_E_BUFFER with
 * c->err saying which buffer was refused or could not be saved. */
static int flush(conn_state *c)
{
    char err[400];
    if (relay_sink_flush(c->sink, err, sizeof err) == 0)
        return ETW_RELAY_OK;
    if (relay_sink_failed(c->sink)) /* the writer's message names its buffer */
        relay_sink_write_error(c->sink, c->err, sizeof c->err);
    else
        snprintf(c->err, sizeof c->err, "buffer %llu: %s", (unsigned long long)relay_sink_next_seq(c->sink), err);
    return ETW_RELAY_E_BUFFER;
}

/* Storage for a BUFFER frame's body: a block of a buffer already retired when the sink kept
 * one (frames of one session are mostly of one size), so no allocation per buffer. */
static uint8_t *on_alloc(void *ctx, uint32_t len)
{
    conn_state *c = ctx;
    c->pending = len;
    c->big_frames = len >= BIG_FRAME;
    if ((uint64_t)len + STORAGE_PAD > UINT32_MAX)
        return NULL;
    uint8_t *p = relay_sink_storage(c->sink, len + STORAGE_PAD);
    return p ? p + STORAGE_PAD : NULL;
}

static void on_release(void *ctx, uint8_t *storage)
{
    ((conn_state *)ctx)->pending = 0;
    free(storage - STORAGE_PAD);
}

/* A whole BUFFER frame: staged in the sink, handed to the stream session with the others of
 * its batch (relay_sink_flush: when the batch is full, when a decoding session has nothing
 * else left to do, or when the socket has nothing more now). */
static int on_buffer(void *ctx, const etw_relay_buffer *b, uint16_t flags, uint8_t *storage)
{
    conn_state *c = ctx;
    uint8_t *base = storage - STORAGE_PAD;
    uint32_t base_size = c->pending + STORAGE_PAD;
    const uint8_t *buf = b->data;
    c->pending = 0; /* from here on the sink counts it */
    if (flags & ETW_RELAY_FLAG_ZSTD) {
        /* raw_size was checked against the 16 MiB limit by the parser before this malloc. */
        uint8_t *raw = malloc(b->raw_size);
        if (!raw || relay_zstd_decompress(raw, b->raw_size, b->data, b->data_len) != 0) {
            free(raw);
            free(base);
            snprintf(c->err, sizeof c->err, "buffer %llu: zstd data does not decompress to %u bytes",
                     (unsigned long long)b->seq, b->raw_size);
            return ETW_RELAY_E_BUFFER;
        }
        free(base);
        base = raw;
        base_size = 0; /* not a block of the sink's size */
        buf = raw;
    }
    relay_sink_stage(c->sink, base, base_size, buf, b->raw_size);
    if (relay_sink_batch_full(c->sink) || relay_sink_hungry(c->sink))
        return flush(c);
    return ETW_RELAY_OK;
}

static void on_duplicate(void *ctx, uint64_t seq)
{
    ((conn_state *)ctx)->ack_due = 1;
}

static int on_end(void *ctx, uint64_t count)
{
    ((conn_state *)ctx)->ended = 1;
    return ETW_RELAY_OK;
}

static const etw_relay_collector_ops ops = {on_hello, on_alloc, on_release, on_buffer,
                                            on_duplicate, on_end, NULL};

static int send_ack(conn_state *c)
{
    uint64_t done = relay_sink_durable(c->sink);
    if (done == c->acked && !c->ack_due)
        return 0;
    uint8_t f[ETW_RELAY_HEADER_SIZE + 8];
    c->ack_due = 0;
    c->acked = done;
    etw_relay_collector_acked(&c->col, done);
    return relay_conn_write(&c->conn, f, etw_relay_encode_ack(f, sizeof f, done), IO_TIMEOUT_MS);
}

/* ACKs are coalesced (docs/wire-protocol.md §6): one once a quarter of the window is durable
 * and unacknowledged, or whenever the sender has nothing more in flight to read (it may be
 * waiting for the window) and the last batch went, so a fast sender costs one ACK per
 * several buffers. */
static int ack_wanted(conn_state *c)
{
    if (c->ack_due)
        return 1;
    uint64_t done = relay_sink_durable(c->sink);
    if (done == c->acked)
        return 0;
    uint32_t window = c->col.welcome.max_in_flight ? c->col.welcome.max_in_flight : 1;
    return done - c->acked >= (window / 4 ? window / 4 : 1) || (c->drained && !relay_sink_staged(c->sink));
}

/* How long to wait for the sender when its socket is empty: staged buffers wait a moment for
 * more; while what was taken is not yet durable, until the next ACK is due (the sink signals
 * the wake-up descriptor; without one, briefly); otherwise up to 200 ms (the deadlines are looked at
 * in between). 0: do not wait, an ACK is due already. *armed: relay_sink_disarm afterwards. */
static int wait_for_sender_ms(conn_state *c, int *armed)
{
    *armed = 0;
    if (!c->sink)
        return 200;
    if (relay_sink_staged(c->sink))
        return BATCH_LINGER_MS;
    uint64_t taken = relay_sink_next_seq(c->sink);
    if (relay_sink_durable(c->sink) >= taken)
        return 200;
    uint32_t window = c->col.welcome.max_in_flight ? c->col.welcome.max_in_flight : 1;
    uint64_t at = c->acked + (window / 4 ? window / 4 : 1);
    if (!relay_sink_arm(c->sink, at < taken ? at : taken))
        return 0;
    if (c->wake[1] < 0) { /* nothing will signal: look again soon */
        relay_sink_disarm(c->sink);
        return DURABLE_POLL_MS;
    }
    *armed = 1;
    return 200;
}

/* Half the window unacknowledged: a sender waits for ACKs soon, so batches go at once. */
static int unacked_high(conn_state *c)
{
    uint32_t window = c->col.welcome.max_in_flight ? c->col.welcome.max_in_flight : 1;
    return relay_sink_next_seq(c->sink) + relay_sink_staged(c->sink) - c->acked >= window / 2;
}

static void send_close(conn_state *c, uint32_t reason, const char *text)
{
    uint8_t f[ETW_RELAY_CONTROL_FRAME_MAX];
    relay_conn_write(&c->conn, f, etw_relay_encode_close(f, sizeof f, reason, text), 1000);
}

/* True while the session holds its quota, or its source all of the source's: stop reading
 * and let TCP push back. Reports this connection's bytes in flight to the source. */
static int behind(conn_state *c)
{
    const relay_collect_cfg *cfg = c->job->cfg;
    if (!c->sink)
        return 0;
    uint64_t mine = relay_sink_bytes_in_flight(c->sink) + c->pending;
    int source_ok = !c->qs || relay_quota_may_read(c->qs, &c->q_mine, mine);
    return mine >= cfg->max_memory || !source_ok;
}

/* Reads and processes until the session ends, fails, idles out or the collector stops.
 * Returns the CLOSE reason to send. */
static uint32_t serve(conn_state *c, int64_t hello_deadline)
{
    const relay_collect_cfg *cfg = c->job->cfg;
    uint8_t buf[65536];
    int64_t last_rx = now_ms(), rate_start = last_rx;
    int64_t frame_start = 0; /* when the frame being read began (0: between frames) */
    uint64_t rate_bytes = 0;
    while (!c->ended) {
        int64_t t = now_ms();
        /* Deadlines, not timeouts: a byte now and then does not keep a connection alive. */
        if (c->col.state == ETW_RELAY_COL_HELLO && t > hello_deadline) {
            snprintf(c->err, sizeof c->err, "no HELLO within %d ms of connecting", cfg->handshake_ms);
            c->outcome = RELAY_OUT_HELLO_DEADLINE;
            return ETW_RELAY_CLOSE_IDLE;
        }
        if (frame_start && t - frame_start > cfg->frame_deadline_ms) {
            snprintf(c->err, sizeof c->err, "frame not complete %d ms after its first byte (stream offset %llu)",
                     cfg->frame_deadline_ms, (unsigned long long)c->col.dec.frame_offset);
            c->outcome = RELAY_OUT_FRAME_DEADLINE;
            return ETW_RELAY_CLOSE_IDLE;
        }
        if (atomic_load(cfg->stop))
            return ETW_RELAY_CLOSE_SHUTDOWN;
        if (c->sink && ack_wanted(c) && send_ack(c) != 0) {
            c->outcome = RELAY_OUT_DISCONNECTED;
            return ETW_RELAY_CLOSE_PROTOCOL;
        }
        int64_t now = now_ms();
        /* Our own pauses are not the sender's silence: they restart the idle clock. */
        if (behind(c)) {
            if (flush(c) != ETW_RELAY_OK) /* what is staged must be processed to retire */
                return etw_relay_status_close_reason(ETW_RELAY_E_BUFFER);
            if (send_ack(c) != 0) { /* before waiting: the sender may be waiting for it */
                c->outcome = RELAY_OUT_DISCONNECTED;
                return ETW_RELAY_CLOSE_PROTOCOL;
            }
            /* Its own quota full: reading resumes once an eighth of it is free (one wake-up for
             * many retired buffers, not one each). */
            if (relay_sink_bytes_in_flight(c->sink) >= cfg->max_memory)
                relay_sink_wait_below(c->sink, cfg->max_memory - cfg->max_memory / 8, 100);
            else if (relay_sink_in_flight(c->sink) || !c->qs)
                relay_sink_wait(c->sink, 100);
            else /* only the source's other sessions hold memory: their completions free it */
                relay_quota_wait(c->qs, 100);
            last_rx = now_ms();
            if (frame_start)
                frame_start = last_rx;
            continue;
        }
        if (cfg->max_rate && rate_bytes * 1000 > cfg->max_rate * (uint64_t)(now - rate_start + 1)) {
            nanosleep(&(struct timespec){0, 20000000L}, NULL);
            last_rx = now_ms();
            if (frame_start)
                frame_start = last_rx;
            continue;
        }
        int wait = c->qs ? relay_quota_rate_wait_ms(c->qs) : 0;
        if (wait > 0) { /* the source's byte rate is used up, by this or its other sessions */
            nanosleep(&(struct timespec){wait / 1000, (long)(wait % 1000) * 1000000L}, NULL);
            relay_quota_throttled(c->qs, wait);
            last_rx = now_ms();
            if (frame_start)
                frame_start = last_rx;
            continue;
        }
        if (c->sink && relay_sink_failed(c->sink)) { /* the .etl writer stopped */
            relay_sink_write_error(c->sink, c->err, sizeof c->err);
            c->outcome = RELAY_OUT_FAILED;
            return etw_relay_status_close_reason(ETW_RELAY_E_BUFFER);
        }
        uint8_t *dst;
        size_t due = etw_relay_collector_direct(&c->col, &dst);
        size_t room = c->big_frames ? SMALL_READ : sizeof buf;
        /* First without waiting; when the socket is empty, a staged batch waits a moment for
         * more (a sender that streams sends the next buffer within that), then goes to the
         * session; then this thread waits for the sender, briefly while what it took is not
         * yet durable (its ACK may be what the sender waits for). */
        int armed = 0, wait_ms = c->drained ? wait_for_sender_ms(c, &armed) : 0;
        if (c->drained && !wait_ms)
            continue; /* an ACK is due: it goes first */
        ssize_t got = due ? relay_conn_read2(&c->conn, dst, due, buf, room, wait_ms)
                          : relay_conn_read(&c->conn, buf, room, wait_ms);
        if (armed)
            relay_sink_disarm(c->sink);
        if (got < 0) {
            snprintf(c->err, sizeof c->err, "connection closed by the sender");
            return ETW_RELAY_CLOSE_COUNT_; /* nobody to tell */
        }
        if (got == 0 && c->sink && relay_sink_staged(c->sink) && (c->drained || unacked_high(c))) {
            if (flush(c) != ETW_RELAY_OK)
                return etw_relay_status_close_reason(ETW_RELAY_E_BUFFER);
            c->drained = 1;
            continue;
        }
        if (got == 0 && !c->drained) {
            c->drained = 1;
            continue;
        }
        if (got == 0) {
            if (now_ms() - last_rx > cfg->idle_ms) {
                snprintf(c->err, sizeof c->err, "idle for %d ms", cfg->idle_ms);
                return ETW_RELAY_CLOSE_IDLE;
            }
            continue;
        }
        /* A plain socket that gave less than asked for is empty now: the next read waits
         * (saves a readv that would only say so). */
        c->drained = !c->conn.ssl && (size_t)got < due + room;
        last_rx = now_ms();
        if (!frame_start)
            frame_start = last_rx;
        rate_bytes += (uint64_t)got;
        if (c->qs)
            relay_quota_rate_take(c->qs, (uint64_t)got);
        size_t direct = (size_t)got < due ? (size_t)got : due;
        int st = direct ? etw_relay_collector_direct_done(&c->col, direct) : ETW_RELAY_OK;
        if (st == ETW_RELAY_OK && (size_t)got > direct)
            st = etw_relay_collector_feed(&c->col, buf, (size_t)got - direct);
        if (c->col.welcome_due) {
            uint8_t f[ETW_RELAY_HEADER_SIZE + 20];
            c->col.welcome_due = 0;
            if (relay_conn_write(&c->conn, f, etw_relay_encode_welcome(f, sizeof f, &c->col.welcome), IO_TIMEOUT_MS) != 0)
                return ETW_RELAY_CLOSE_COUNT_;
        }
        if (st == ETW_RELAY_E_CLOSED || c->col.state == ETW_RELAY_COL_CLOSED)
            return ETW_RELAY_CLOSE_COUNT_;
        if (etw_relay_decoder_idle(&c->col.dec))
            frame_start = 0;
        if (st != ETW_RELAY_OK) {
            if (!c->err[0])
                snprintf(c->err, sizeof c->err, "%s at stream offset %llu", etw_relay_status_message(st),
                         (unsigned long long)c->col.dec.offset);
            if (st == ETW_RELAY_E_REFUSED) {
                c->outcome = RELAY_OUT_HELLO_REFUSED;
                return c->refuse_reason;
            }
            return etw_relay_status_close_reason(st);
        }
    }
    /* END: drain the stream, then acknowledge everything. */
    if (flush(c) != ETW_RELAY_OK)
        return etw_relay_status_close_reason(ETW_RELAY_E_BUFFER);
    relay_sink_end(c->sink);
    send_ack(c);
    return ETW_RELAY_CLOSE_DONE;
}

/* The outcome a connection is counted under: the cause where serve() knew it, else what the
 * CLOSE reason says. */
static relay_outcome outcome_of(const conn_state *c, uint32_t reason)
{
    if (c->outcome != RELAY_OUT_COUNT_)
        return c->outcome;
    switch (reason) {
    case ETW_RELAY_CLOSE_DONE:
        return RELAY_OUT_COMPLETED;
    case ETW_RELAY_CLOSE_SHUTDOWN:
        return RELAY_OUT_SHUTDOWN;
    case ETW_RELAY_CLOSE_IDLE:
        return RELAY_OUT_IDLE;
    case ETW_RELAY_CLOSE_COUNT_: /* nobody to tell: the sender left, or the socket broke */
        return RELAY_OUT_DISCONNECTED;
    default:
        return RELAY_OUT_INVALID;
    }
}

void *relay_collect_conn_main(void *arg)
{
    relay_conn_job *job = arg;
    const relay_collect_cfg *cfg = job->cfg;
    pthread_setname_np(pthread_self(), "etw-conn"); /* per-thread CPU in top, perf */
    conn_state *c = calloc(1, sizeof *c);
    if (!c) {
        atomic_fetch_add(&cfg->counters->outcome[RELAY_OUT_FAILED], 1);
        close(job->fd);
        atomic_store(&job->finished, 1);
        return NULL;
    }
    c->job = job;
    c->refuse_reason = ETW_RELAY_CLOSE_AUTH;
    c->outcome = RELAY_OUT_COUNT_;
    relay_conn_init(&c->conn, job->fd);
    if (etw_wake_pipe(c->wake) != 0) /* short of descriptors: ACKs then follow brief waits */
        c->wake[0] = c->wake[1] = -1;
    c->conn.wake_fd = c->wake[0];
    snprintf(c->name, sizeof c->name, "(no HELLO yet)");
    uint32_t reason = ETW_RELAY_CLOSE_COUNT_;
    int64_t hello_deadline = now_ms() + cfg->handshake_ms;
    if (cfg->tls_ctx && relay_tls_accept(cfg->tls_ctx, &c->conn, cfg->handshake_ms, c->identity,
                                         sizeof c->identity, c->err, sizeof c->err) != 0) {
        relay_log("%s: refused: %s", job->peer, c->err);
        c->outcome = RELAY_OUT_HANDSHAKE;
    } else {
        etw_relay_collector_init(&c->col, &ops, c, 0, cfg->window, cfg->caps);
        reason = serve(c, hello_deadline);
        if (c->sink) { /* buffers received whole before the end go to the session too */
            char err[400];
            if (relay_sink_flush(c->sink, err, sizeof err) != 0 && cfg->verbose)
                relay_log("%s: %s: %s", job->peer, c->name, err);
            /* Saved before the sender hears of the close: what it sees on disk then is all. */
            relay_sink_wait_written(c->sink, IO_TIMEOUT_MS);
        }
        if (reason == ETW_RELAY_CLOSE_SHUTDOWN && c->sink) {
            /* SIGTERM: drain what was received, acknowledge it all, then say goodbye. */
            relay_sink_end(c->sink);
            send_ack(c);
        }
        if (reason < ETW_RELAY_CLOSE_COUNT_)
            send_close(c, reason, reason == ETW_RELAY_CLOSE_DONE ? NULL : c->err);
        etw_relay_collector_reset(&c->col);
        if (reason != ETW_RELAY_CLOSE_DONE && reason != ETW_RELAY_CLOSE_SHUTDOWN && c->err[0])
            relay_log("%s: %s: closed (%s): %s", job->peer, c->name,
                      reason < ETW_RELAY_CLOSE_COUNT_ ? etw_relay_close_reason_name(reason) : "by peer", c->err);
        else if (cfg->verbose)
            relay_log("%s: %s: %s after %llu buffers (%llu duplicates dropped)", job->peer, c->name,
                      reason == ETW_RELAY_CLOSE_DONE ? "session complete" : "closed",
                      (unsigned long long)c->col.next_seq, (unsigned long long)c->col.duplicates);
    }
    if (c->sink) {
        relay_sink_set_notify(c->sink, -1); /* before the pipe closes */
        relay_sink_keep_storage(c->sink, 0); /* a session without a connection keeps no spares */
        relay_sink_add_receive_cpu(c->sink, relay_thread_cpu_ns());
        relay_registry_release(job->reg, cfg, c->sink, reason == ETW_RELAY_CLOSE_DONE);
    }
    relay_quota_leave(cfg->quota, c->qs, &c->q_mine);
    atomic_fetch_add(&cfg->counters->outcome[outcome_of(c, reason)], 1);
    relay_conn_close(&c->conn);
    etw_wake_close(c->wake);
    free(c);
    atomic_store(&job->finished, 1);
    if (job->wake_fd >= 0) /* the loop also wakes by itself */
        etw_wake_signal(job->wake_fd);
    return NULL;
}
