/* Fuzz target: the relay frame decoder and every payload parser. The first input byte picks
 * the chunk size, so the same frames are also decoded across arbitrary splits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relay/wire/frame.h"
#include "relay/wire/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_payload(const etw_relay_frame *f)
{
    etw_relay_hello h;
    etw_relay_welcome w;
    etw_relay_buffer b;
    etw_relay_close c;
    uint64_t v;
    switch (f->h.type) {
    case ETW_RELAY_HELLO:
        if (etw_relay_parse_hello(f->payload, f->h.length, &h) == ETW_RELAY_OK) {
            uint8_t out[ETW_RELAY_CONTROL_FRAME_MAX];
            if (etw_relay_encode_hello(out, sizeof out, &h) != ETW_RELAY_HEADER_SIZE + f->h.length)
                abort(); /* a parsed HELLO must re-encode to the same size */
        }
        break;
    case ETW_RELAY_WELCOME:
        (void)etw_relay_parse_welcome(f->payload, f->h.length, &w);
        break;
    case ETW_RELAY_BUFFER:
        (void)etw_relay_parse_buffer(f->payload, f->h.length, f->h.flags, &b);
        break;
    case ETW_RELAY_ACK:
    case ETW_RELAY_END:
        (void)etw_relay_parse_u64(f->payload, f->h.length, &v);
        break;
    case ETW_RELAY_CLOSE:
        (void)etw_relay_parse_close(f->payload, f->h.length, &c);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;
    static etw_relay_decoder d;
    /* A small BUFFER limit keeps the fuzzer's allocations small; the checks are the same. */
    etw_relay_decoder_init(&d, 1u << 16);
    uint8_t *target = NULL;
    size_t pos = 0;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk, used = 0;
        etw_relay_frame f;
        int rc = etw_relay_decoder_feed(&d, data + pos, n, &used, &f);
        pos += used;
        if (rc < 0)
            break;
        if (rc == ETW_RELAY_NEED_TARGET) {
            free(target);
            target = malloc(d.h.length);
            if (!target)
                break;
            etw_relay_decoder_set_target(&d, target);
        } else if (rc == ETW_RELAY_FRAME) {
            parse_payload(&f);
        } else if (used == 0) {
            abort(); /* no progress without a reason would be a hang */
        }
    }
    free(target);
    return 0;
}
