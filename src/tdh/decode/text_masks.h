/* The SSE2 test both string converters (text_out.c, and text_sized.c which sizes while it
 * converts) use to find, sixteen bytes at a time, the bytes they may copy as they are for an
 * escaping mode (ETW_ESC_*): one definition, so that the two cannot disagree on what a mode
 * escapes. */
#ifndef ETWIRE_TDH_DECODE_TEXT_MASKS_H
#define ETWIRE_TDH_DECODE_TEXT_MASKS_H

#ifdef __SSE2__
#include <emmintrin.h>

#include "tdh/decode/text_out.h"

/* Mask of the sixteen bytes written as they are: printable ASCII (signed compare: bytes from
 * 0x80 are negative, so "> 0x1F" rules them out), or with utf8 also any byte from 0x80 (UTF-8
 * passes through); never one that esc escapes (DEL in the line modes, quotes in JSON and CSV,
 * backslashes in JSON; the plain text mode sends quotes and backslashes the slow way too, where
 * they are written as they are). */
static inline __attribute__((always_inline)) unsigned etw_ansi_plain_mask(__m128i v, int utf8, int esc)
{
    __m128i ok = utf8 ? _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x20)), v) : _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1F));
    __m128i special;
    if (esc >= ETW_ESC_LINE)
        special = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8(esc == ETW_ESC_CSV ? '"' : 0x7F)));
    else
        special = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(special, ok));
}
#endif

#endif
