/* Instrumentation manifests supplied by the user (format notes §3): XML .man files and the
 * compiled WEVT_TEMPLATE resource of provider binaries, compiled into stored schemas tagged
 * with an origin id (manifest_load.c). */
#ifndef ETWIRE_TDH_MANIFEST_H
#define ETWIRE_TDH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#define ETW_MANIFEST_MAX_FILE (64u << 20)

/* Parses an XML manifest and stores its events' schemas and maps. Returns a Win32 code:
 * ERROR_XML_PARSE_ERROR for malformed XML, ERROR_BAD_FORMAT for XML that is not an
 * instrumentation manifest, ERROR_INVALID_DATA for a manifest with nothing usable, ERROR_NOT_SUPPORTED without expat. why (may be NULL) receives "line N, column C:
 * reason" on failure, and on success a note about events that were skipped ("" if none). */
ULONG etw_manifest_load_xml(const uint8_t *p, size_t n, uint32_t origin, char *why, size_t why_len);
/* Finds WEVT_TEMPLATE in a PE image and stores what its CRIM blob describes. Returns
 * ERROR_BAD_FORMAT (not a PE), ERROR_RESOURCE_TYPE_NOT_FOUND, ERROR_INVALID_DATA. */
ULONG etw_wevt_load_pe(const uint8_t *p, size_t n, uint32_t origin);

#endif
