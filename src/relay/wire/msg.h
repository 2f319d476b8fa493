/* Payloads of each relay frame type (docs/wire-protocol.md §3-§6): encoders that write a whole
 * frame into a caller's array, and parsers over (pointer, length) that reject any payload not
 * exactly its type's layout. Names are validated here because the collector turns them into
 * directory names. */
#ifndef ETWIRE_RELAY_MSG_H
#define ETWIRE_RELAY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "relay/wire/frame.h"

#define ETW_RELAY_NAME_MAX 128
#define ETW_RELAY_CLOSE_TEXT_MAX 1024
#define ETW_RELAY_CAP_ZSTD 0x0001u

typedef struct etw_relay_hello {
    uint32_t max_frame;
    uint32_t max_in_flight;
    uint32_t caps;
    uint64_t instance;
    char source[ETW_RELAY_NAME_MAX + 1];
    char session[ETW_RELAY_NAME_MAX + 1];
} etw_relay_hello;

typedef struct etw_relay_welcome {
    uint32_t max_frame;
    uint32_t max_in_flight;
    uint32_t caps;
    uint64_t next_seq;
} etw_relay_welcome;

typedef struct etw_relay_buffer {
    uint64_t seq;
    uint32_t raw_size;
    const uint8_t *data; /* raw or zstd bytes, per the frame's flags */
    uint32_t data_len;
} etw_relay_buffer;

typedef struct etw_relay_close {
    uint32_t reason;
    const char *text; /* not NUL-terminated; valid as long as the payload */
    uint16_t text_len;
} etw_relay_close;

/* Longest control frame any encoder below writes (a HELLO with two maximal names). */
#define ETW_RELAY_CONTROL_FRAME_MAX (ETW_RELAY_HEADER_SIZE + ETW_RELAY_CLOSE_TEXT_MAX + 6)
/* Header plus BUFFER body prefix, written before the buffer bytes. */
#define ETW_RELAY_BUFFER_PREFIX (ETW_RELAY_HEADER_SIZE + ETW_RELAY_BUFFER_BODY)

/* 1 if name is 1..128 bytes of [A-Za-z0-9._-] not starting with '.'. */
int etw_relay_name_valid(const char *name, size_t len);

/* Encoders return the frame's total size, or 0 if it does not fit or a field is invalid. */
size_t etw_relay_encode_hello(uint8_t *out, size_t cap, const etw_relay_hello *m);
size_t etw_relay_encode_welcome(uint8_t *out, size_t cap, const etw_relay_welcome *m);
size_t etw_relay_encode_ack(uint8_t *out, size_t cap, uint64_t acked);
size_t etw_relay_encode_end(uint8_t *out, size_t cap, uint64_t count);
size_t etw_relay_encode_close(uint8_t *out, size_t cap, uint32_t reason, const char *text);
size_t etw_relay_encode_ping(uint8_t *out, size_t cap);
/* Writes the BUFFER header and body prefix; data_len bytes of buffer data must follow. */
size_t etw_relay_encode_buffer_prefix(uint8_t out[ETW_RELAY_BUFFER_PREFIX], uint64_t seq,
                                      uint32_t raw_size, uint16_t flags, uint32_t data_len);

/* Parsers take the payload of a frame of the matching type; they return ETW_RELAY_OK or a
 * negative status. */
int etw_relay_parse_hello(const uint8_t *p, size_t n, etw_relay_hello *m);
int etw_relay_parse_welcome(const uint8_t *p, size_t n, etw_relay_welcome *m);
int etw_relay_parse_buffer(const uint8_t *p, size_t n, uint16_t flags, etw_relay_buffer *m);
int etw_relay_parse_u64(const uint8_t *p, size_t n, uint64_t *v); /* ACK and END */
int etw_relay_parse_close(const uint8_t *p, size_t n, etw_relay_close *m);

#endif
