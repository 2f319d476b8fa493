/* Internals of relay_sender shared by its two files: sender.c (the queue and the
 * public calls) and sender_link.c (connecting, the handshake, sending and reading). */
#ifndef ETWIRE_RELAY_SENDER_IMPL_H
#define ETWIRE_RELAY_SENDER_IMPL_H

#include <stdint.h>

#include "relay/wire/frame.h"
#include "relay/wire/msg.h"
#include "relay/wire/sender.h"
#include "relay/net.h"
#include "relay/sender.h"

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
    etw_relay_sender_sm sm; /* the protocol: sequence numbers, WELCOME, ACKs, CLOSE */
    entry *q; /* ring of o.window entries */
    uint32_t head, count;
    uint8_t *zbuf;
    size_t zcap;
    /* Frames of acknowledged buffers, kept for the next ones of the same size (no allocation,
     * and no fresh pages to fault in, per buffer): at most 32 of them, 4 MiB (sender.c). */
    uint8_t *spare[32];
    uint32_t nspare;
    size_t spare_size;
    uint8_t *reserved;      /* the frame relay_sender_reserve handed out, until commit/cancel */
    uint32_t reserved_size; /* its buffer's bytes */
    int64_t last_send_ms;
    struct relay_spool *sp; /* --spool: buffers are read back from disk into the queue */
    uint64_t queued_to;     /* with a spool: one past the newest buffer in the queue */
    relay_sender_stats st;
    char err[256];
};

int64_t relay_sender_now_ms(void);
void relay_sender_note(relay_sender *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void relay_sender_drop_acked(relay_sender *s);
void relay_sender_disconnect(relay_sender *s);
/* Writes bytes on the connection; on failure disconnects and returns -1. */
int relay_sender_send(relay_sender *s, const void *p, size_t n);
/* Sends one queued buffer (zstd-compressed when negotiated and smaller). */
int relay_sender_send_entry(relay_sender *s, entry *e);
/* Reads what the collector sent (ACK, CLOSE, PING), waiting at most timeout_ms. */
int relay_sender_service(relay_sender *s, int timeout_ms);
/* With a spool: loads buffers from disk into the window and sends them; -1 on a spool error. */
int relay_sender_pump(relay_sender *s);
/* Connects (again) with back-off and resends the queue; -1 when giving up. */
int relay_sender_connect(relay_sender *s);

#endif
