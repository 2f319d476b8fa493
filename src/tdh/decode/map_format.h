/* Value maps and bitmaps (format notes §1.9): looks a value up in an EVENT_MAP_INFO blob, which
 * may come from an untrusted trace, so every offset is bounds-checked against map_size. */
#ifndef ETWIRE_TDH_MAP_FORMAT_H
#define ETWIRE_TDH_MAP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"

/* Appends the map's rendering of value (quoted when json). Value maps: the entry's name,
 * trailing spaces trimmed. Bitmaps: names of the set bits joined with "|", leftover bits as
 * 0x..., "0" when none is set. Returns 0, or ERROR_EVT_INVALID_EVENT_DATA when a value map has
 * no entry for value (nothing appended) or the map is malformed. */
uint32_t etw_map_format(etw_strbuf *out, int json, uint32_t value, const EVENT_MAP_INFO *map,
                        size_t map_size);
/* Checks a map blob from an untrusted source: header, entries and strings inside map_size. */
int etw_map_check(const uint8_t *p, size_t n);

#endif
