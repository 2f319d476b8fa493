/* Fuzz target: the sender's protocol state machine (src/relay/wire/sender.h) fed arbitrary
 * collector bytes. Byte 0 splits the input into chunks (a new connection after every chunk
 * when its low bit is set), byte 1 picks the sender's situation (resume, a cut spool, END
 * already sent, buffers already numbered). Checks the sequence invariants after every feed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relay/wire/sender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const etw_relay_sender_sm *m, uint64_t acked_before)
{
    uint64_t top = m->next_seq > m->skip_to ? m->next_seq : m->skip_to;
    if (m->acked > top || m->window > m->want_window || (m->caps & ~m->want_caps))
        abort();
    if (m->state == ETW_RELAY_SND_STREAM && m->acked < acked_before && !m->welcomed)
        abort(); /* only a WELCOME may move the acknowledged count (and never below it) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk = data[0] >> 1 ? data[0] >> 1 : 1;
    int reconnect = data[0] & 1;
    uint8_t how = data[1];
    data += 2;
    size -= 2;
    etw_relay_sender_sm m;
    etw_relay_sender_sm_init(&m, 1 + (how & 15), (how >> 4) & 1);
    m.resume = (how >> 5) & 1;
    m.spool_cut = (how >> 6) & 1;
    for (unsigned i = 0; i < (how & 7u); i++)
        etw_relay_sender_sm_number(&m);
    etw_relay_sender_sm_connect(&m);
    if (how & 0x80)
        etw_relay_sender_sm_end_sent(&m);
    for (size_t pos = 0; pos < size; pos += chunk) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        uint64_t before = m.acked;
        m.welcomed = 0;
        int rc = etw_relay_sender_sm_feed(&m, data + pos, n);
        check(&m, before);
        if (rc != ETW_RELAY_OK && m.state != ETW_RELAY_SND_FAILED && m.state != ETW_RELAY_SND_DONE)
            abort();
        if (rc != ETW_RELAY_OK || reconnect) {
            if (m.state == ETW_RELAY_SND_DONE || m.fatal)
                break;
            etw_relay_sender_sm_lost(&m);
            etw_relay_sender_sm_connect(&m);
        }
    }
    return 0;
}
