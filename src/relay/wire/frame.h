/* Relay frames (docs/wire-protocol.md §2): the 12-byte header and an incremental decoder that
 * accepts the byte stream split anywhere. Pure: no sockets, no allocation. Control frames land
 * in the decoder's own 4 KiB; for a BUFFER frame the decoder stops after the header, once its
 * length has passed the limit, and asks the caller for storage of exactly that length. */
#ifndef ETWIRE_RELAY_FRAME_H
#define ETWIRE_RELAY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "relay/wire/status.h"

#define ETW_RELAY_VERSION 1
#define ETW_RELAY_HEADER_SIZE 12
#define ETW_RELAY_CONTROL_MAX 4096u
/* The largest ETW buffer Windows allows (EVENT_TRACE_PROPERTIES.BufferSize), and the smallest
 * BUFFER frame limit a collector may announce: such a buffer plus the BUFFER body prefix. */
#define ETW_RELAY_MAX_ETW_BUFFER (16u << 20)
#define ETW_RELAY_MIN_ETW_BUFFER 72u
#define ETW_RELAY_BUFFER_BODY 12u
#define ETW_RELAY_MAX_FRAME_DEFAULT (ETW_RELAY_MAX_ETW_BUFFER + 16u)

enum {
    ETW_RELAY_HELLO = 1,
    ETW_RELAY_WELCOME = 2,
    ETW_RELAY_BUFFER = 3,
    ETW_RELAY_ACK = 4,
    ETW_RELAY_END = 5,
    ETW_RELAY_CLOSE = 6,
    ETW_RELAY_PING = 7,
};
#define ETW_RELAY_FLAG_ZSTD 0x0001u

typedef struct etw_relay_header {
    uint8_t version;
    uint8_t type;
    uint16_t flags;
    uint32_t length;
} etw_relay_header;

/* A complete frame; payload points into decoder or caller storage and stays valid until the
 * next feed call (control frames) or as long as the caller keeps its storage (BUFFER). */
typedef struct etw_relay_frame {
    etw_relay_header h;
    const uint8_t *payload;
    uint64_t offset; /* stream offset of the frame header, for diagnostics */
} etw_relay_frame;

void etw_relay_header_format(uint8_t out[ETW_RELAY_HEADER_SIZE], uint8_t type, uint16_t flags,
                             uint32_t length);
/* Checks a header against the limits of §2; max_buffer_payload bounds BUFFER frames. */
int etw_relay_header_parse(const uint8_t *p, size_t n, uint32_t max_buffer_payload,
                           etw_relay_header *out);

/* Progress values of etw_relay_decoder_feed (errors are negative etw_relay_status). */
enum {
    ETW_RELAY_NEED_MORE = 1,   /* every input byte consumed, no frame yet */
    ETW_RELAY_NEED_TARGET = 2, /* BUFFER header read: call etw_relay_decoder_set_target */
    ETW_RELAY_FRAME = 3,       /* *out holds a complete frame */
};

typedef struct etw_relay_decoder {
    uint32_t max_buffer_payload;
    int state;
    int error;
    uint32_t hdr_got;
    uint32_t got;
    uint8_t hdr[ETW_RELAY_HEADER_SIZE];
    etw_relay_header h;
    uint8_t *target;
    uint64_t offset;       /* bytes consumed since init */
    uint64_t frame_offset; /* where the current frame began */
    uint8_t control[ETW_RELAY_CONTROL_MAX];
} etw_relay_decoder;

void etw_relay_decoder_init(etw_relay_decoder *d, uint32_t max_buffer_payload);
/* Consumes bytes from p[0..n) and stops at the first frame, target request or error;
 * *used says how many bytes were taken. After an error every later call fails. */
int etw_relay_decoder_feed(etw_relay_decoder *d, const uint8_t *p, size_t n, size_t *used,
                           etw_relay_frame *out);
/* Storage for the pending BUFFER frame's d->h.length payload bytes; the caller keeps it. */
void etw_relay_decoder_set_target(etw_relay_decoder *d, uint8_t *target);
/* While a BUFFER frame's payload is being read into the caller's storage: where its next byte
 * goes (*dst) and how many are still due; 0 otherwise. The caller may receive straight into
 * it (no copy through its own read buffer), then report with etw_relay_decoder_direct_done. */
size_t etw_relay_decoder_direct(const etw_relay_decoder *d, uint8_t **dst);
/* n bytes (at most what _direct returned) were written at *dst: ETW_RELAY_FRAME with *out
 * once the payload is complete, else ETW_RELAY_NEED_MORE. */
int etw_relay_decoder_direct_done(etw_relay_decoder *d, size_t n, etw_relay_frame *out);
/* True between frames (nothing partial buffered): a clean place for the stream to end. */
int etw_relay_decoder_idle(const etw_relay_decoder *d);

#endif
