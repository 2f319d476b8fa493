/* The sender side of one relay session (docs/wire-protocol.md §4-§7) as a pure state machine,
 * like the collector's (collector.h): bytes from the collector in, decisions out. It checks
 * the WELCOME against what this sender holds (resume, a spool cut short), every ACK against
 * the buffers numbered so far, and classifies each CLOSE: done, worth another connection, or
 * final. The caller owns the socket, the queue of unacknowledged buffers and the spool; after
 * each feed it drops what `acked` covers. A fuzz target drives it with arbitrary bytes. */
#ifndef ETWIRE_RELAY_WIRE_SENDER_H
#define ETWIRE_RELAY_WIRE_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "relay/wire/frame.h"
#include "relay/wire/msg.h"

enum { ETW_RELAY_SND_IDLE, ETW_RELAY_SND_WELCOME, ETW_RELAY_SND_STREAM, ETW_RELAY_SND_DONE,
       ETW_RELAY_SND_FAILED };

typedef struct etw_relay_sender_sm {
    int state;
    /* Set by the caller before connecting. */
    int resume;            /* the instance is an earlier run's: skip what the collector holds */
    int spool_cut;         /* a reloaded spool without END: the collector may hold more */
    uint32_t want_window;  /* the window and capabilities this sender asks for */
    uint32_t want_caps;
    /* Sequence numbers: the collector holds every buffer below acked; next_seq is the number
     * the next buffer gets; buffers below skip_to are held already (re-read, not sent). */
    uint64_t acked, next_seq, skip_to;
    uint32_t window, caps; /* negotiated by the WELCOME */
    int welcomed;          /* a WELCOME arrived in the last feed: resend the queue */
    int cut;               /* ... and it moved next_seq up (spool_cut): requeue from there */
    int end_sent;          /* END sent on this connection */
    int end_ever;          /* END sent on some connection */
    int fatal;             /* FAILED for good: another connection would fail the same way */
    uint32_t close_reason; /* the collector's CLOSE reason (ETW_RELAY_CLOSE_COUNT_: none) */
    char why[320];         /* what went wrong, for the sender's message */
    etw_relay_decoder dec;
} etw_relay_sender_sm;

void etw_relay_sender_sm_init(etw_relay_sender_sm *m, uint32_t window, uint32_t caps);
/* A new connection: HELLO is being sent; the decoder starts afresh. */
void etw_relay_sender_sm_connect(etw_relay_sender_sm *m);
/* Feeds bytes from the collector; ETW_RELAY_OK, or a negative status when the connection
 * must end (state FAILED or DONE; why says what happened). */
int etw_relay_sender_sm_feed(etw_relay_sender_sm *m, const uint8_t *p, size_t n);
/* The caller numbered one more buffer (returns its number). */
uint64_t etw_relay_sender_sm_number(etw_relay_sender_sm *m);
/* The caller wrote END on the connection. */
void etw_relay_sender_sm_end_sent(etw_relay_sender_sm *m);
/* The connection is gone (without DONE). */
void etw_relay_sender_sm_lost(etw_relay_sender_sm *m);

#endif
