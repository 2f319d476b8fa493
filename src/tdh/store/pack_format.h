/* The schema pack: compiled schemas (TRACE_EVENT_INFO and EVENT_MAP_INFO) in one compact,
 * indexed, position-independent file that is used in place — embedded in the library, or
 * mapped from disk — without parsing it up front. Layout constants shared by the writer
 * (pack_write.c) and the reader (pack_read.c); the format is specified in
 * docs/format/schema-pack.md, which this header follows section by section.
 *
 * File = header, section directory, sections (each at an 8-aligned offset):
 *   STRINGS    UTF-8 strings (lone UTF-16 surrogates kept as 3-byte sequences), each ended by
 *              NUL; a string reference is a byte offset into it, 0 = absent (byte 0 is NUL).
 *   PROVIDERS  fixed records sorted by GUID bytes: name, origin, their events and maps.
 *   EVENTS     fixed records, one provider's run sorted by (kind, a, b): key + body offset.
 *   MAPS       fixed records, one provider's run sorted by name (bytewise): name + body offset.
 *   BODIES     LEB128-encoded event headers, property lists (shared between events) and maps.
 * Sections of other types (>= ETW_PACK_SEC_EXTENSION) are carried as opaque bytes, so other
 * schema kinds (WPP message formats, ...) can live in the same file. All integers are
 * little-endian. */
#ifndef ETWIRE_TDH_PACK_FORMAT_H
#define ETWIRE_TDH_PACK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define ETW_PACK_MAGIC "ETWPACK\0"
#define ETW_PACK_VERSION 1u
#define ETW_PACK_HEADER_SIZE 64u
#define ETW_PACK_DIR_ENTRY 16u
#define ETW_PACK_MAX_SECTIONS 64u
#define ETW_PACK_MAX_SIZE (1u << 30) /* offsets are u32; 1 GiB is plenty */

/* Header: magic[8], version u32, header_size u32, file_size u64, section_count u32,
 * crc32 u32 (of every byte after the header), flags u32, 28 reserved zero bytes. */
#define ETW_PACK_OFF_VERSION 8u
#define ETW_PACK_OFF_HEADER_SIZE 12u
#define ETW_PACK_OFF_FILE_SIZE 16u
#define ETW_PACK_OFF_SECTIONS 24u
#define ETW_PACK_OFF_CRC 28u
#define ETW_PACK_OFF_FLAGS 32u

/* Directory entry: type u32, offset u32, size u32, item count u32. */
enum etw_pack_section {
    ETW_PACK_SEC_STRINGS = 1,
    ETW_PACK_SEC_PROVIDERS = 2,
    ETW_PACK_SEC_EVENTS = 3,
    ETW_PACK_SEC_MAPS = 4,
    ETW_PACK_SEC_BODIES = 5,
    ETW_PACK_SEC_EXTENSION = 0x100, /* and above: opaque to this reader */
};

/* PROVIDERS record: guid[16], name u32, origin u32, first_event u32, event_count u32,
 * first_map u32, map_count u32. */
#define ETW_PACK_PROVIDER_SIZE 40u
/* EVENTS record: kind u8 (1 manifest: a = id, b = version; 2 classic: a = opcode, b =
 * version), reserved u8, a u16, b u16, reserved u16, body u32. */
#define ETW_PACK_EVENT_SIZE 12u
/* MAPS record: name u32 (string reference), body u32. */
#define ETW_PACK_MAP_SIZE 8u

/* Event body presence bits (the first varint of an event body). */
#define ETW_PACK_EV_EVENT_GUID 0x1u /* 16 raw bytes of EventGuid follow the bits */
#define ETW_PACK_EV_PROPS 0x2u      /* a property-list reference follows the string refs */
#define ETW_PACK_EV_PROVIDER_GUID 0x4u /* 16 raw bytes of ProviderGuid follow (else the key's) */

/* TRACE_EVENT_INFO header strings, in the order an event body lists their references. */
#define ETW_PACK_TEI_STRINGS 10u

/* Bounds the reader enforces on what a body asks it to build. */
#define ETW_PACK_MAX_PROPS 1024u
#define ETW_PACK_MAX_MAP_ENTRIES 65536u
#define ETW_PACK_MAX_BLOB (16u << 20)

#endif
