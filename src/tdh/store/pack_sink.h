/* Decoding one schema pack body into a blob (pack_build.c builds events, pack_build_map.c
 * maps): a sink reads varints and places strings, first measuring (out NULL), then writing into
 * a blob of the measured size, every write checked against it. */
#ifndef ETWIRE_TDH_PACK_SINK_H
#define ETWIRE_TDH_PACK_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "tdh/store/pack_read.h"

/* A body being decoded into a blob (out NULL: measuring). */
typedef struct etw_pack_sink {
    const etw_pack *pk;
    const uint8_t *body; /* the BODIES section */
    size_t nbody;
    uint8_t *out;
    size_t cap;   /* bytes at out: the measured size (the write pass re-checks every write) */
    size_t fixed; /* bytes before the string area */
    size_t str;   /* string area bytes so far */
    int bad;
} etw_pack_sink;

/* The next varint at *pos, at most max; sets bad (and returns 0) past the body or above max. */
uint32_t etw_pack_sink_uv(etw_pack_sink *s, size_t *pos, uint32_t max);
/* Places the string of reference ref as UTF-16 after the fixed part; its blob offset (0 for
 * ref 0 or on error, bad set). */
uint32_t etw_pack_sink_string(etw_pack_sink *s, uint32_t ref);

#endif
