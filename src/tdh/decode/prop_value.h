/* One property value: how many payload bytes it occupies (the TDH size rules, format notes
 * §1.5 and §1.8) and its text or JSON rendering (out-types §1.6, maps §1.9). Both work on
 * untrusted bytes: sizes are checked against what is left, never assumed. */
#ifndef ETWIRE_TDH_PROP_VALUE_H
#define ETWIRE_TDH_PROP_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/text_out.h"
#include "tdh/tdh_status.h"

#define ETW_SIZE_BAD SIZE_MAX

/* Bytes one element of in_type takes at p[0..n). has_length says whether `length` (characters
 * for strings, bytes for binary) was given by the schema; ptr is 4 or 8. Returns ETW_SIZE_BAD
 * when the data cannot hold the value or the type cannot be sized. A NUL-terminated string
 * without its terminator takes the rest of the payload (tdh.h tolerates this for the last
 * field; real producers also truncate earlier ones). */
size_t etw_value_size(uint16_t in_type, uint16_t out_type, uint32_t length, int has_length,
                      unsigned ptr, const uint8_t *p, size_t n);

/* In-types whose value can serve as another property's length or count. */
int etw_value_is_countable(uint16_t in_type);
/* Unsigned integer value of an integral in-type (zero-extended); 0 if not integral. */
uint64_t etw_value_uint(uint16_t in_type, const uint8_t *p, size_t size);

enum {
    ETW_FMT_JSON = 1,       /* JSON value (quoted strings, numbers, true/false) */
    ETW_FMT_STRICT_MAP = 2, /* a value missing from a value map is an error (TdhFormatProperty) */
    ETW_FMT_LINE = 4,       /* text escaped for one line (ETW_ESC_LINE, text_out.h) */
    ETW_FMT_CSV = 8,        /* text escaped for one line in a CSV field (ETW_ESC_CSV) */
};

/* The flags that escape text as esc (an ETW_ESC_* of text_out.h) says, and back. */
static inline unsigned etw_fmt_flags_of_esc(int esc)
{
    return esc == ETW_ESC_JSON ? ETW_FMT_JSON : esc == ETW_ESC_LINE ? ETW_FMT_LINE : esc == ETW_ESC_CSV ? ETW_FMT_CSV : 0;
}

static inline int etw_fmt_esc_of_flags(unsigned flags)
{
    return flags & ETW_FMT_JSON  ? ETW_ESC_JSON
           : flags & ETW_FMT_CSV ? ETW_ESC_CSV
           : flags & ETW_FMT_LINE ? ETW_ESC_LINE
                                  : ETW_ESC_NONE;
}

/* Appends the rendering of one element. map may be NULL. Returns ETW_TDH_OK,
 * ETW_TDH_E_PAYLOAD when the bytes do not fit the type, or (with STRICT_MAP) what the map
 * lookup said (ETW_TDH_E_NOT_IN_MAP). */
etw_tdh_status etw_value_format(etw_strbuf *out, unsigned flags, uint16_t in_type, uint16_t out_type,
                          const uint8_t *p, size_t size, unsigned ptr, const EVENT_MAP_INFO *map,
                          size_t map_size);

/* Renderers shared with the event formatter. */
void etw_format_filetime(etw_strbuf *out, uint64_t ft);
void etw_format_sid(etw_strbuf *out, const uint8_t *p, size_t n);
void etw_format_systemtime(etw_strbuf *out, const uint8_t *p); /* 16 bytes */
void etw_format_ipv4(etw_strbuf *out, const uint8_t *p);       /* 4 bytes, dotted decimal */
void etw_format_ipv6(etw_strbuf *out, const uint8_t *p);       /* 16 bytes */
void etw_format_sockaddr(etw_strbuf *out, const uint8_t *p, size_t n);
void etw_format_guid(etw_strbuf *out, const uint8_t *p);       /* 16 bytes, no braces */
/* Appends 8-bit text: UTF-8 kept as is when utf8, else Windows-1252 converted to UTF-8. */
void etw_format_ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8);

#endif
