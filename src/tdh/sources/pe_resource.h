/* Finding a resource in a PE image (.dll, .exe, .sys) held in memory: headers, section
 * table, the three-level resource directory (type / name / language). Read-only, bounded,
 * no allocation. */
#ifndef ETWIRE_TDH_PE_RESOURCE_H
#define ETWIRE_TDH_PE_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/wintypes.h>

#include "tdh/tdh_status.h"

/* The first resource whose type is named type_name (ASCII, compared case-insensitively as
 * Windows does); the data and size returned point into p. Returns ETW_TDH_OK,
 * ETW_TDH_E_NOT_PE (not a PE or a damaged one) or ETW_TDH_E_NO_RESOURCE. */
etw_tdh_status etw_pe_find_resource(const uint8_t *p, size_t n, const char *type_name,
                           const uint8_t **data, size_t *size);

#endif
