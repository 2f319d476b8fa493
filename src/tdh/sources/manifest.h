/* Instrumentation manifests supplied by the user (format notes §3): XML .man files and the
 * compiled WEVT_TEMPLATE resource of provider binaries, compiled into stored schemas tagged
 * with an origin id (schema_files.c). */
#ifndef ETWIRE_TDH_MANIFEST_H
#define ETWIRE_TDH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/tdh_status.h"

#define ETW_MANIFEST_MAX_FILE (64u << 20)

/* Parses an XML manifest and stores its events' schemas and maps. Returns ETW_TDH_OK,
 * ETW_TDH_E_XML (malformed XML), ETW_TDH_E_NOT_MANIFEST (XML, but not an instrumentation
 * manifest), ETW_TDH_E_UNUSABLE (nothing could be compiled), ETW_TDH_E_TOO_LARGE,
 * ETW_TDH_E_NO_EXPAT (built without expat) or ETW_TDH_E_NOMEM. why (may be NULL) receives
 * "line N, column C: reason" on failure, and on success a note about events that were
 * skipped ("" if none). */
etw_tdh_status etw_manifest_load_xml(const uint8_t *p, size_t n, uint32_t origin, char *why, size_t why_len);
/* 1 and *guid if the only <provider> element that parsing (p, n) could find is one whose guid
 * attribute is *guid; 0 when that cannot be shown without parsing (several or no provider
 * elements, a DOCTYPE, comment or CDATA section, references or odd spacing in the start tag,
 * an encoding that is not ASCII-compatible). Reads no byte past n; manifest_providers.c. */
int etw_manifest_sole_provider(const uint8_t *p, size_t n, GUID *guid);
/* Finds WEVT_TEMPLATE in a PE image (or takes a bare CRIM blob) and stores what it
 * describes. Returns ETW_TDH_OK, ETW_TDH_E_NOT_PE, ETW_TDH_E_NO_RESOURCE,
 * ETW_TDH_E_BAD_TEMPLATE or ETW_TDH_E_UNUSABLE. */
etw_tdh_status etw_wevt_load_pe(const uint8_t *p, size_t n, uint32_t origin);

#endif
