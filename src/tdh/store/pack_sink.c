/* The body sink shared by the pack's event and map rebuilds (pack_sink.h). */
#include "tdh/store/pack_sink.h"

#include "base/bytes.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_format.h"

uint32_t etw_pack_sink_uv(etw_pack_sink *s, size_t *pos, uint32_t max)
{
    uint32_t v = 0;
    if (!s->bad && !etw_pack_get_u32(s->body, s->nbody, pos, max, &v))
        s->bad = 1;
    return v;
}

uint32_t etw_pack_sink_string(etw_pack_sink *s, uint32_t ref)
{
    if (!ref || s->bad)
        return 0;
    if (ref >= s->pk->strings.size) {
        s->bad = 1;
        return 0;
    }
    const uint8_t *p = s->pk->p + s->pk->strings.off + ref; /* the section ends with NUL */
    size_t at = s->fixed + s->str;
    while (*p) {
        uint16_t u[2];
        unsigned units = 0;
        size_t used = etw_pack_utf8_unit(p, u, &units);
        if (!used || s->str > ETW_PACK_MAX_BLOB) {
            s->bad = 1;
            return 0;
        }
        for (unsigned i = 0; i < units; i++, s->str += 2) {
            if (s->out && s->fixed + s->str + 2 > s->cap) {
                s->bad = 1; /* the bytes changed under us (a pack file rewritten while mapped) */
                return 0;
            }
            if (s->out)
                etw_wr16(s->out + s->fixed + s->str, u[i]);
        }
        p += used;
    }
    if (s->out && s->fixed + s->str + 2 > s->cap) {
        s->bad = 1;
        return 0;
    }
    if (s->out)
        etw_wr16(s->out + s->fixed + s->str, 0);
    s->str += 2;
    return (uint32_t)at;
}
