/* The live-subscription protocol's checks (see live_proto.h). Every size comes from the frame
 * header, which the caller read whole; bodies are read only within their length. */
#include "relay/wire/live_proto.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

void etw_live_header_format(uint8_t out[ETW_LIVE_HEADER_SIZE], uint8_t type, uint32_t length)
{
    out[0] = 'E';
    out[1] = 'L';
    out[2] = type;
    out[3] = 0;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(length >> (8 * i));
}

int etw_live_header_parse(const uint8_t *p, size_t n, uint8_t *type, uint32_t *length,
                          const char **why)
{
    if (n < ETW_LIVE_HEADER_SIZE) {
        *why = "short frame header";
        return -1;
    }
    if (p[0] != 'E' || p[1] != 'L') {
        *why = "not a live-subscription frame (bad magic)";
        return -1;
    }
    if (p[3] != 0) {
        *why = "unknown frame flags";
        return -1;
    }
    if (p[2] < ETW_LIVE_LIST || p[2] > ETW_LIVE_REFUSED) {
        *why = "unknown frame type";
        return -1;
    }
    uint32_t len = rd32(p + 4);
    uint32_t max = p[2] == ETW_LIVE_BUFFER ? ETW_LIVE_MAX_BUFFER
                 : p[2] == ETW_LIVE_ATTACHED ? ETW_LIVE_MAX_BUFFER + 8u
                                             : ETW_LIVE_MAX_CONTROL;
    if (len > max) {
        *why = "frame longer than its type allows";
        return -1;
    }
    *type = p[2];
    *length = len;
    return 0;
}

static int name_part(const char *p, size_t n)
{
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int etw_live_name_split(const char *name, size_t n, char source[129], char session[129])
{
    const char *slash = memchr(name, '/', n);
    if (!slash)
        return -1;
    size_t a = (size_t)(slash - name), b = n - a - 1;
    if (!name_part(name, a) || !name_part(slash + 1, b))
        return -1;
    memcpy(source, name, a);
    source[a] = 0;
    memcpy(session, slash + 1, b);
    session[b] = 0;
    return 0;
}

void etw_live_client_init(etw_live_client *c, int listing)
{
    memset(c, 0, sizeof *c);
    c->state = listing ? ETW_LIVE_C_WAIT_LIST : ETW_LIVE_C_WAIT_ATTACH;
}

/* An ETW buffer as carried: at least a buffer header, and its own size (the first field of
 * the header) equal to what the frame carries. */
static int etw_buffer_ok(const uint8_t *p, uint32_t n)
{
    return n >= ETW_LIVE_MIN_BUFFER && rd32(p) == n;
}

static int bad(const char **why, const char *text)
{
    *why = text;
    return -1;
}

int etw_live_client_frame(etw_live_client *c, uint8_t type, const uint8_t *body, uint32_t len,
                          etw_live_msg *out, const char **why)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    if (c->state == ETW_LIVE_C_DONE)
        return bad(why, "frame after the end of the subscription");
    if (type == ETW_LIVE_REFUSED) {
        if (c->state == ETW_LIVE_C_STREAMING)
            return bad(why, "REFUSED after ATTACHED");
        if (len < 4)
            return bad(why, "REFUSED shorter than its code");
        out->code = rd32(body);
        out->data = body + 4;
        out->size = len - 4;
        c->state = ETW_LIVE_C_DONE;
        return 0;
    }
    switch (c->state) {
    case ETW_LIVE_C_WAIT_LIST:
        if (type != ETW_LIVE_SESSIONS)
            return bad(why, "expected SESSIONS");
        out->data = body;
        out->size = len;
        c->state = ETW_LIVE_C_DONE;
        return 0;
    case ETW_LIVE_C_WAIT_ATTACH:
        if (type != ETW_LIVE_ATTACHED)
            return bad(why, "expected ATTACHED");
        if (len < 8 || !etw_buffer_ok(body + 8, len - 8))
            return bad(why, "ATTACHED without a whole header buffer");
        out->instance = rd64(body);
        out->data = body + 8;
        out->size = len - 8;
        c->state = ETW_LIVE_C_STREAMING;
        return 0;
    case ETW_LIVE_C_STREAMING:
        if (type == ETW_LIVE_BUFFER) {
            if (!etw_buffer_ok(body, len))
                return bad(why, "BUFFER is not one whole ETW buffer");
            out->data = body;
            out->size = len;
            c->buffers++;
            return 0;
        }
        if (type == ETW_LIVE_DROPPED) {
            if (len != 8)
                return bad(why, "DROPPED of the wrong length");
            uint64_t total = rd64(body);
            if (total < c->dropped)
                return bad(why, "DROPPED count went backwards");
            out->dropped_new = total - c->dropped;
            c->dropped = total;
            return 0;
        }
        if (type == ETW_LIVE_END) {
            if (len != 4)
                return bad(why, "END of the wrong length");
            out->code = rd32(body);
            if (out->code != ETW_LIVE_END_SENDER && out->code != ETW_LIVE_END_CLOSED)
                return bad(why, "END with an unknown reason");
            c->state = ETW_LIVE_C_DONE;
            return 0;
        }
        return bad(why, "unexpected frame while streaming");
    case ETW_LIVE_C_DONE:
        break;
    }
    return bad(why, "frame after the end of the subscription");
}

int etw_live_server_request(uint8_t type, const uint8_t *body, uint32_t len,
                            etw_live_request *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (type == ETW_LIVE_LIST) {
        if (len != 0)
            return bad(why, "LIST with a body");
        out->list = 1;
        return 0;
    }
    if (type != ETW_LIVE_SUBSCRIBE)
        return bad(why, "expected LIST or SUBSCRIBE");
    if (len > ETW_LIVE_MAX_NAME || etw_live_name_split((const char *)body, len, out->source, out->session) != 0)
        return bad(why, "SUBSCRIBE name is not SOURCE/SESSION ([A-Za-z0-9._-], 1..128 bytes each)");
    return 0;
}
