/* Frame payload encoders and exact-layout parsers (docs/wire-protocol.md §3-§6). */
#include "relay/wire/msg.h"

#include <string.h>

#include "base/bytes.h"

static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int etw_relay_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > ETW_RELAY_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static size_t put_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *body, size_t len)
{
    if (len > ETW_RELAY_CONTROL_MAX || cap < ETW_RELAY_HEADER_SIZE + len)
        return 0;
    etw_relay_header_format(out, type, 0, (uint32_t)len);
    if (len)
        memcpy(out + ETW_RELAY_HEADER_SIZE, body, len);
    return ETW_RELAY_HEADER_SIZE + len;
}

size_t etw_relay_encode_hello(uint8_t *out, size_t cap, const etw_relay_hello *m)
{
    uint8_t body[20 + 2 * (1 + ETW_RELAY_NAME_MAX)];
    size_t src = bounded_len(m->source, sizeof m->source), ses = bounded_len(m->session, sizeof m->session);
    if (!etw_relay_name_valid(m->source, src) || !etw_relay_name_valid(m->session, ses))
        return 0;
    etw_wr32(body, m->max_frame);
    etw_wr32(body + 4, m->max_in_flight);
    etw_wr32(body + 8, m->caps);
    etw_wr64(body + 12, m->instance);
    size_t pos = 20;
    body[pos++] = (uint8_t)src;
    memcpy(body + pos, m->source, src);
    pos += src;
    body[pos++] = (uint8_t)ses;
    memcpy(body + pos, m->session, ses);
    pos += ses;
    return put_frame(out, cap, ETW_RELAY_HELLO, body, pos);
}

size_t etw_relay_encode_welcome(uint8_t *out, size_t cap, const etw_relay_welcome *m)
{
    uint8_t body[20];
    etw_wr32(body, m->max_frame);
    etw_wr32(body + 4, m->max_in_flight);
    etw_wr32(body + 8, m->caps);
    etw_wr64(body + 12, m->next_seq);
    return put_frame(out, cap, ETW_RELAY_WELCOME, body, sizeof body);
}

static size_t encode_u64(uint8_t *out, size_t cap, uint8_t type, uint64_t v)
{
    uint8_t body[8];
    etw_wr64(body, v);
    return put_frame(out, cap, type, body, sizeof body);
}

size_t etw_relay_encode_ack(uint8_t *out, size_t cap, uint64_t acked)
{
    return encode_u64(out, cap, ETW_RELAY_ACK, acked);
}

size_t etw_relay_encode_end(uint8_t *out, size_t cap, uint64_t count)
{
    return encode_u64(out, cap, ETW_RELAY_END, count);
}

size_t etw_relay_encode_close(uint8_t *out, size_t cap, uint32_t reason, const char *text)
{
    uint8_t body[6 + ETW_RELAY_CLOSE_TEXT_MAX];
    size_t len = text ? bounded_len(text, ETW_RELAY_CLOSE_TEXT_MAX) : 0;
    etw_wr32(body, reason);
    etw_wr16(body + 4, (uint16_t)len);
    if (len)
        memcpy(body + 6, text, len);
    return put_frame(out, cap, ETW_RELAY_CLOSE, body, 6 + len);
}

size_t etw_relay_encode_ping(uint8_t *out, size_t cap)
{
    return put_frame(out, cap, ETW_RELAY_PING, NULL, 0);
}

size_t etw_relay_encode_buffer_prefix(uint8_t out[ETW_RELAY_BUFFER_PREFIX], uint64_t seq,
                                      uint32_t raw_size, uint16_t flags, uint32_t data_len)
{
    if (data_len == 0 || data_len > UINT32_MAX - ETW_RELAY_BUFFER_BODY)
        return 0;
    etw_relay_header_format(out, ETW_RELAY_BUFFER, flags, data_len + ETW_RELAY_BUFFER_BODY);
    etw_wr64(out + ETW_RELAY_HEADER_SIZE, seq);
    etw_wr32(out + ETW_RELAY_HEADER_SIZE + 8, raw_size);
    return ETW_RELAY_BUFFER_PREFIX;
}

static int parse_name(const uint8_t *p, size_t n, size_t *pos, char out[ETW_RELAY_NAME_MAX + 1])
{
    if (!etw_range_ok(n, *pos, 1))
        return ETW_RELAY_E_LAYOUT;
    size_t len = p[*pos];
    if (!etw_range_ok(n, *pos + 1, len))
        return ETW_RELAY_E_LAYOUT;
    if (!etw_relay_name_valid((const char *)p + *pos + 1, len))
        return ETW_RELAY_E_NAME;
    memcpy(out, p + *pos + 1, len);
    out[len] = 0;
    *pos += 1 + len;
    return ETW_RELAY_OK;
}

int etw_relay_parse_hello(const uint8_t *p, size_t n, etw_relay_hello *m)
{
    if (n < 20)
        return ETW_RELAY_E_LAYOUT;
    memset(m, 0, sizeof *m);
    m->max_frame = etw_rd32(p);
    m->max_in_flight = etw_rd32(p + 4);
    m->caps = etw_rd32(p + 8);
    m->instance = etw_rd64(p + 12);
    if (m->max_frame < ETW_RELAY_CONTROL_MAX || m->max_in_flight == 0)
        return ETW_RELAY_E_LAYOUT;
    size_t pos = 20;
    int st = parse_name(p, n, &pos, m->source);
    if (st == ETW_RELAY_OK)
        st = parse_name(p, n, &pos, m->session);
    if (st == ETW_RELAY_OK && pos != n)
        st = ETW_RELAY_E_LAYOUT;
    return st;
}

int etw_relay_parse_welcome(const uint8_t *p, size_t n, etw_relay_welcome *m)
{
    if (n != 20)
        return ETW_RELAY_E_LAYOUT;
    m->max_frame = etw_rd32(p);
    m->max_in_flight = etw_rd32(p + 4);
    m->caps = etw_rd32(p + 8);
    m->next_seq = etw_rd64(p + 12);
    if (m->max_frame < ETW_RELAY_MAX_FRAME_DEFAULT || m->max_in_flight == 0)
        return ETW_RELAY_E_LAYOUT;
    return ETW_RELAY_OK;
}

int etw_relay_parse_buffer(const uint8_t *p, size_t n, uint16_t flags, etw_relay_buffer *m)
{
    if (n <= ETW_RELAY_BUFFER_BODY || n - ETW_RELAY_BUFFER_BODY > UINT32_MAX)
        return ETW_RELAY_E_LAYOUT;
    m->seq = etw_rd64(p);
    m->raw_size = etw_rd32(p + 8);
    m->data = p + ETW_RELAY_BUFFER_BODY;
    m->data_len = (uint32_t)(n - ETW_RELAY_BUFFER_BODY);
    if (m->raw_size < ETW_RELAY_MIN_ETW_BUFFER || m->raw_size > ETW_RELAY_MAX_ETW_BUFFER)
        return ETW_RELAY_E_BUFFER_SIZE;
    /* Uncompressed, the data is the buffer; compressed, zstd checks the size itself. */
    if (!(flags & ETW_RELAY_FLAG_ZSTD) && m->data_len != m->raw_size)
        return ETW_RELAY_E_LAYOUT;
    return ETW_RELAY_OK;
}

int etw_relay_parse_u64(const uint8_t *p, size_t n, uint64_t *v)
{
    if (n != 8)
        return ETW_RELAY_E_LAYOUT;
    *v = etw_rd64(p);
    return ETW_RELAY_OK;
}

int etw_relay_parse_close(const uint8_t *p, size_t n, etw_relay_close *m)
{
    if (n < 6)
        return ETW_RELAY_E_LAYOUT;
    m->reason = etw_rd32(p);
    m->text_len = etw_rd16(p + 4);
    if (m->text_len > ETW_RELAY_CLOSE_TEXT_MAX || (size_t)m->text_len != n - 6)
        return ETW_RELAY_E_LAYOUT;
    m->text = (const char *)p + 6;
    return ETW_RELAY_OK;
}
