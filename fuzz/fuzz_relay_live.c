/* Fuzz target: the live-subscription protocol (src/relay/wire/live_proto.h). Byte 0 picks the
 * side: the collector reading one request, or a consumer after SUBSCRIBE or LIST reading
 * whatever a collector sends; the rest is a byte stream cut into frames by their headers.
 * Checks the state machine's invariants after every frame: nothing is accepted after the end,
 * buffers are whole ETW buffers inside the frame, drop counts never go backwards. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/wire/live_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t side = data[0];
    data++;
    size--;
    etw_live_client c;
    etw_live_client_init(&c, side & 1);
    size_t pos = 0;
    while (size - pos >= ETW_LIVE_HEADER_SIZE) {
        uint8_t type;
        uint32_t len;
        const char *why = NULL;
        if (etw_live_header_parse(data + pos, size - pos, &type, &len, &why) != 0) {
            if (!why)
                abort();
            break;
        }
        pos += ETW_LIVE_HEADER_SIZE;
        if (len > size - pos)
            break; /* a connection cut mid-frame */
        const uint8_t *body = data + pos;
        pos += len;
        if (side & 2) { /* the collector's side: one request, then the connection is done */
            etw_live_request r;
            if (etw_live_server_request(type, body, len, &r, &why) == 0 && !r.list &&
                (!r.source[0] || !r.session[0] || strlen(r.source) > 128 || strlen(r.session) > 128))
                abort();
            break;
        }
        etw_live_client_state before = c.state;
        uint64_t dropped = c.dropped;
        etw_live_msg m;
        int rc = etw_live_client_frame(&c, type, body, len, &m, &why);
        if (rc != 0) {
            if (!why)
                abort();
            break;
        }
        if (before == ETW_LIVE_C_DONE || c.dropped < dropped)
            abort();
        if (m.data && (m.data < body || m.data + m.size > body + len))
            abort();
        if ((type == ETW_LIVE_BUFFER || type == ETW_LIVE_ATTACHED) &&
            (m.size < ETW_LIVE_MIN_BUFFER ||
             ((uint32_t)m.data[0] | (uint32_t)m.data[1] << 8 | (uint32_t)m.data[2] << 16 |
              (uint32_t)m.data[3] << 24) != m.size))
            abort();
    }
    return 0;
}
