/* Fuzz target: a collector connection fed arbitrary bytes, split into chunks by the first
 * input byte, with an ACK after every chunk. Checks storage is handed back exactly once and
 * sequence numbers delivered are consecutive. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/wire/collector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int outstanding;
static uint64_t expected;

static int on_hello(void *ctx, const etw_relay_hello *h, etw_relay_welcome *w)
{
    /* The instance picks where a resumed session starts, exercising duplicate drops. */
    w->next_seq = h->instance & 7;
    expected = w->next_seq;
    return (h->instance & 0x100) ? ETW_RELAY_E_REFUSED : ETW_RELAY_OK;
}

static uint8_t *on_alloc(void *ctx, uint32_t len)
{
    if (len > (1u << 20))
        return NULL; /* the fuzzer's quota */
    uint8_t *p = malloc(len);
    if (p)
        outstanding++;
    return p;
}

static void on_release(void *ctx, uint8_t *p)
{
    outstanding--;
    free(p);
}

static int on_buffer(void *ctx, const etw_relay_buffer *b, uint16_t flags, uint8_t *storage)
{
    if (b->seq != expected++)
        abort();
    int refuse = b->data_len > 1000 && b->data[0] == 0xEE;
    on_release(ctx, storage);
    return refuse ? ETW_RELAY_E_BUFFER : ETW_RELAY_OK;
}

static const etw_relay_collector_ops ops = {on_hello, on_alloc, on_release, on_buffer, NULL, NULL, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] * 16 + 1;
    data++;
    size--;
    static etw_relay_collector c;
    outstanding = 0;
    etw_relay_collector_init(&c, &ops, NULL, 0, 4, ETW_RELAY_CAP_ZSTD);
    /* Odd chunk sizes receive BUFFER payloads straight into their storage, as the collector
     * does with large frames: the same bytes must give the same results either way. */
    int direct = chunk & 16;
    for (size_t pos = 0; pos < size;) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        uint8_t *dst;
        size_t due = direct ? etw_relay_collector_direct(&c, &dst) : 0;
        int st;
        if (due) {
            n = n < due ? n : due;
            memcpy(dst, data + pos, n);
            st = etw_relay_collector_direct_done(&c, n);
        } else {
            st = etw_relay_collector_feed(&c, data + pos, n);
        }
        pos += n;
        if (st != ETW_RELAY_OK)
            break;
        etw_relay_collector_acked(&c, c.next_seq);
    }
    etw_relay_collector_reset(&c);
    if (outstanding != 0)
        abort();
    return 0;
}
