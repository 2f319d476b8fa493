/* The frame header and the incremental decoder (docs/wire-protocol.md §2). The decoder is a
 * three-state machine (header, waiting for a target, payload) that copies at most what the
 * caller gave it, so any split of the byte stream yields the same frames. */
#include "relay/wire/frame.h"

#include <string.h>

#include "base/bytes.h"

enum { ST_HEADER, ST_TARGET, ST_PAYLOAD, ST_FAILED };

static const uint8_t magic[4] = {'E', 'T', 'W', 'R'};

void etw_relay_header_format(uint8_t out[ETW_RELAY_HEADER_SIZE], uint8_t type, uint16_t flags,
                             uint32_t length)
{
    memcpy(out, magic, 4);
    out[4] = ETW_RELAY_VERSION;
    out[5] = type;
    etw_wr16(out + 6, flags);
    etw_wr32(out + 8, length);
}

int etw_relay_header_parse(const uint8_t *p, size_t n, uint32_t max_buffer_payload,
                           etw_relay_header *out)
{
    if (n < ETW_RELAY_HEADER_SIZE)
        return ETW_RELAY_E_LAYOUT;
    if (memcmp(p, magic, 4) != 0)
        return ETW_RELAY_E_MAGIC;
    if (p[4] != ETW_RELAY_VERSION)
        return ETW_RELAY_E_VERSION;
    out->version = p[4];
    out->type = p[5];
    out->flags = etw_rd16(p + 6);
    out->length = etw_rd32(p + 8);
    if (out->type < ETW_RELAY_HELLO || out->type > ETW_RELAY_PING)
        return ETW_RELAY_E_TYPE;
    uint16_t allowed = out->type == ETW_RELAY_BUFFER ? ETW_RELAY_FLAG_ZSTD : 0;
    if (out->flags & ~allowed)
        return ETW_RELAY_E_FLAGS;
    if (out->type == ETW_RELAY_BUFFER) {
        if (out->length > max_buffer_payload)
            return ETW_RELAY_E_TOO_LARGE;
        /* The body prefix plus at least one byte: a zero-length buffer is never valid. */
        if (out->length <= ETW_RELAY_BUFFER_BODY)
            return ETW_RELAY_E_LAYOUT;
    } else if (out->length > ETW_RELAY_CONTROL_MAX) {
        return ETW_RELAY_E_TOO_LARGE;
    }
    return ETW_RELAY_OK;
}

void etw_relay_decoder_init(etw_relay_decoder *d, uint32_t max_buffer_payload)
{
    memset(d, 0, offsetof(etw_relay_decoder, control));
    d->max_buffer_payload = max_buffer_payload;
    d->state = ST_HEADER;
}

static int fail(etw_relay_decoder *d, int status)
{
    d->state = ST_FAILED;
    d->error = status;
    return status;
}

static int finish(etw_relay_decoder *d, etw_relay_frame *out)
{
    out->h = d->h;
    out->payload = d->target;
    out->offset = d->frame_offset;
    d->state = ST_HEADER;
    d->hdr_got = 0;
    d->got = 0;
    d->target = NULL;
    return ETW_RELAY_FRAME;
}

static int header_done(etw_relay_decoder *d, etw_relay_frame *out)
{
    int st = etw_relay_header_parse(d->hdr, sizeof d->hdr, d->max_buffer_payload, &d->h);
    if (st != ETW_RELAY_OK)
        return fail(d, st);
    d->got = 0;
    if (d->h.type == ETW_RELAY_BUFFER) {
        d->state = ST_TARGET;
        return ETW_RELAY_NEED_TARGET;
    }
    d->target = d->control;
    d->state = ST_PAYLOAD;
    if (d->h.length == 0)
        return finish(d, out);
    return 0;
}

int etw_relay_decoder_feed(etw_relay_decoder *d, const uint8_t *p, size_t n, size_t *used,
                           etw_relay_frame *out)
{
    size_t pos = 0;
    int rc = ETW_RELAY_NEED_MORE;
    *used = 0;
    if (d->state == ST_FAILED)
        return d->error ? d->error : ETW_RELAY_E_FAILED;
    if (d->state == ST_TARGET)
        return ETW_RELAY_NEED_TARGET;
    while (pos < n) {
        if (d->state == ST_HEADER) {
            if (d->hdr_got == 0)
                d->frame_offset = d->offset + pos;
            size_t take = ETW_RELAY_HEADER_SIZE - d->hdr_got;
            if (take > n - pos)
                take = n - pos;
            memcpy(d->hdr + d->hdr_got, p + pos, take);
            d->hdr_got += (uint32_t)take;
            pos += take;
            if (d->hdr_got < ETW_RELAY_HEADER_SIZE)
                break;
            rc = header_done(d, out);
            if (rc != 0)
                break;
            rc = ETW_RELAY_NEED_MORE;
        } else {
            size_t take = d->h.length - d->got;
            if (take > n - pos)
                take = n - pos;
            memcpy(d->target + d->got, p + pos, take);
            d->got += (uint32_t)take;
            pos += take;
            if (d->got == d->h.length) {
                rc = finish(d, out);
                break;
            }
        }
    }
    d->offset += pos;
    *used = pos;
    return rc;
}

void etw_relay_decoder_set_target(etw_relay_decoder *d, uint8_t *target)
{
    if (d->state != ST_TARGET)
        return;
    d->target = target;
    d->state = ST_PAYLOAD;
}

size_t etw_relay_decoder_direct(const etw_relay_decoder *d, uint8_t **dst)
{
    if (d->state != ST_PAYLOAD || d->h.type != ETW_RELAY_BUFFER)
        return 0;
    *dst = d->target + d->got;
    return d->h.length - d->got;
}

int etw_relay_decoder_direct_done(etw_relay_decoder *d, size_t n, etw_relay_frame *out)
{
    if (d->state != ST_PAYLOAD || d->h.type != ETW_RELAY_BUFFER || n > d->h.length - d->got)
        return fail(d, ETW_RELAY_E_FAILED); /* a caller bug: never silently */
    d->got += (uint32_t)n;
    d->offset += n;
    return d->got == d->h.length ? finish(d, out) : ETW_RELAY_NEED_MORE;
}

int etw_relay_decoder_idle(const etw_relay_decoder *d)
{
    return d->state == ST_HEADER && d->hdr_got == 0;
}
