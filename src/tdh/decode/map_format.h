/* Value maps and bitmaps (format notes §1.9): looks a value up in an EVENT_MAP_INFO blob, which
 * may come from an untrusted trace, so every offset is bounds-checked against map_size. */
#ifndef ETWIRE_TDH_MAP_FORMAT_H
#define ETWIRE_TDH_MAP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/tdh_status.h"

/* Appends the map's rendering of value, its names escaped by esc (ETW_ESC_*, text_out.h) and
 * quoted in JSON. Value maps: the entry's name,
 * trailing spaces trimmed. Bitmaps: names of the set bits joined with "|", leftover bits as
 * 0x..., "0" when none is set. Returns ETW_TDH_OK, or ETW_TDH_E_NOT_IN_MAP (nothing appended)
 * when a value map has no entry for value, or the map is malformed or not a map of numbers. */
etw_tdh_status etw_map_format(etw_strbuf *out, int esc, uint32_t value, const EVENT_MAP_INFO *map,
                        size_t map_size);
/* Checks a map blob from an untrusted source: header, entries and strings inside map_size. */
int etw_map_check(const uint8_t *p, size_t n);
/* The bytes a map blob really spans, when only an upper bound is known (TdhFormatProperty is
 * given a map without its size): header, entries, and each entry's string up to and including
 * its NUL, read one unit at a time so nothing past that NUL is touched. At most bound. */
size_t etw_map_extent(const uint8_t *p, size_t bound);

#endif
