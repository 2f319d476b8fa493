/* TraceLogging self-describing events (format notes §2): the event metadata blob of extended
 * item EVENT_SCHEMA_TL and the provider traits blob of PROV_TRAITS, compiled into a
 * TRACE_EVENT_INFO with DecodingSource = DecodingSourceTlg. */
#ifndef ETWIRE_TDH_TLG_META_H
#define ETWIRE_TDH_TLG_META_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

/* Builds the schema of one TraceLogging event. traits may be NULL. desc supplies the
 * EventDescriptor (TraceLogging puts level, opcode, keywords there). Returns a malloc'd blob
 * and its size, or NULL if the metadata is malformed. */
TRACE_EVENT_INFO *etw_tlg_build(const GUID *provider, const EVENT_DESCRIPTOR *desc,
                                const uint8_t *meta, size_t meta_len, const uint8_t *traits,
                                size_t traits_len, size_t *size);
/* The provider name in a traits blob: pointer into it and length, or NULL. */
const char *etw_tlg_provider_name(const uint8_t *traits, size_t n, size_t *len);
/* Name of a standard (winmeta) opcode, NULL if not one. */
const char *etw_std_opcode_name(unsigned opcode);

#endif
