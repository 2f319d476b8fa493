/* The collector side of one relay connection (docs/wire-protocol.md §4-§7) as a pure state
 * machine: bytes in, callbacks out. It enforces the handshake order, the frame limits, the
 * sequence and window rules and drops duplicates; the caller owns sockets, files, the
 * buffer-stream session and the memory behind each BUFFER frame. A fuzz target drives it with
 * arbitrary bytes. */
#ifndef ETWIRE_RELAY_COLLECTOR_H
#define ETWIRE_RELAY_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "relay/wire/frame.h"
#include "relay/wire/msg.h"

typedef struct etw_relay_collector_ops {
    /* HELLO: fill *w (its max_frame and max_in_flight are preset to the collector's limits,
     * clamped to the sender's) and return ETW_RELAY_OK, or an error status to refuse. */
    int (*hello)(void *ctx, const etw_relay_hello *h, etw_relay_welcome *w);
    /* Storage for a BUFFER frame payload of len bytes (already checked against max_frame), or
     * NULL when the source's quota is exhausted. */
    uint8_t *(*alloc)(void *ctx, uint32_t len);
    /* Storage no longer needed (a duplicate, or a frame cut short by an error). */
    void (*release)(void *ctx, uint8_t *storage);
    /* The next buffer in order; storage passes to the callee, which releases it. A negative
     * return refuses the buffer and fails the connection. */
    int (*buffer)(void *ctx, const etw_relay_buffer *b, uint16_t flags, uint8_t *storage);
    /* A duplicate was dropped: the caller should answer with an ACK. */
    void (*duplicate)(void *ctx, uint64_t seq);
    /* END with a matching count. */
    int (*end)(void *ctx, uint64_t count);
    /* The peer sent CLOSE. */
    void (*close)(void *ctx, const etw_relay_close *c);
} etw_relay_collector_ops;

enum { ETW_RELAY_COL_HELLO, ETW_RELAY_COL_STREAM, ETW_RELAY_COL_ENDED, ETW_RELAY_COL_CLOSED,
       ETW_RELAY_COL_FAILED };

typedef struct etw_relay_collector {
    const etw_relay_collector_ops *ops;
    void *ctx;
    uint32_t max_frame;
    uint32_t max_in_flight;
    uint32_t caps;
    int state;
    int error;
    uint64_t next_seq;   /* next sequence number expected */
    uint64_t acked;      /* last ACK value sent (the window's base) */
    uint64_t duplicates;
    uint64_t frames;
    uint8_t *pending;    /* storage of the BUFFER frame being read */
    int welcome_due;     /* HELLO accepted: the caller sends `welcome` and clears this */
    etw_relay_welcome welcome;
    etw_relay_decoder dec;
} etw_relay_collector;

void etw_relay_collector_init(etw_relay_collector *c, const etw_relay_collector_ops *ops,
                              void *ctx, uint32_t max_frame, uint32_t max_in_flight, uint32_t caps);
/* Feeds received bytes; returns ETW_RELAY_OK when all were consumed, or an error status (the
 * caller then sends CLOSE with etw_relay_status_close_reason and closes). */
int etw_relay_collector_feed(etw_relay_collector *c, const uint8_t *p, size_t n);
/* Receiving a BUFFER payload straight into its storage (frame.h, etw_relay_decoder_direct):
 * where the next bytes go and how many are due (0: feed bytes through _feed instead); then
 * _direct_done with how many were written, which delivers the buffer once it is complete.
 * Same results as passing those bytes to _feed. */
size_t etw_relay_collector_direct(etw_relay_collector *c, uint8_t **dst);
int etw_relay_collector_direct_done(etw_relay_collector *c, size_t n);
/* The caller sent an ACK with this value (moves the window). */
void etw_relay_collector_acked(etw_relay_collector *c, uint64_t acked);
/* Releases the storage of a frame cut short (call before discarding the collector). */
void etw_relay_collector_reset(etw_relay_collector *c);

#endif
