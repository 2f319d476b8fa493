/* Reading a schema pack in place (format: pack_format.h, docs/format/schema-pack.md).
 *
 * The bytes are untrusted: etw_pack_open checks the header, the directory and the fixed-size
 * tables (bounds, sizes, sort order, string section terminated) without touching any body;
 * every later read is bounds-checked against the section it belongs to, so a corrupt pack can
 * make a lookup fail but never read outside (p, n). Bodies are decoded only when an event or
 * map is asked for, and the blob built from them is checked like a blob from a trace
 * (etw_tei_check) before it is returned.
 *
 *     etw_pack pk;
 *     char why[128];
 *     if (!etw_pack_open(&pk, bytes, n, why, sizeof why)) ... why names the offset ...
 *     uint32_t prov;
 *     if (etw_pack_find_provider(&pk, &guid, &prov)) {
 *         size_t size;
 *         TRACE_EVENT_INFO *tei = etw_pack_build_event(&pk, prov, ETW_KEY_MANIFEST, id, ver, &size);
 *         ... free(tei);
 *     }
 *
 * An etw_pack (but a deferred one) holds no allocation and may be shared by threads once opened (every call only
 * reads). The bytes must outlive it. */
#ifndef ETWIRE_TDH_PACK_READ_H
#define ETWIRE_TDH_PACK_READ_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

typedef struct etw_pack_span {
    uint32_t off, size, count;
} etw_pack_span;

typedef struct etw_pack {
    const uint8_t *p;
    size_t n;
    etw_pack_span strings, providers, events, maps, bodies;
    uint32_t nsections, dir; /* directory: nsections entries at offset dir */
    /* NULL: every provider's entry was checked at open. Else (etw_pack_open_deferred) one
     * verdict per provider, set on its first use: 0 unchecked, 1 good, 2 corrupt. */
    _Atomic(unsigned char) *verdicts;
} etw_pack;

/* One provider's index entry. Strings point into the pack (NUL-terminated UTF-8). */
typedef struct etw_pack_provider_info {
    GUID guid;
    const char *name;   /* "" when the pack names none */
    const char *origin; /* "" when unknown */
    uint32_t event_count, map_count;
} etw_pack_provider_info;

/* Validates the header, directory and index tables; 1 if usable, else 0 with why (offset and
 * reason). Does not read bodies. */
int etw_pack_open(etw_pack *pk, const uint8_t *p, size_t n, char *why, size_t why_len);
/* Like etw_pack_open, but each provider's entry (its name, its runs of events and maps, their
 * order) is checked on the provider's first use instead of all at open: for a large pack of
 * which a process uses a few providers (the built-in one). A provider found corrupt then is
 * treated as absent. Holds one allocation (the verdicts): etw_pack_close_deferred. */
int etw_pack_open_deferred(etw_pack *pk, const uint8_t *p, size_t n, char *why, size_t why_len);
void etw_pack_close_deferred(etw_pack *pk);
/* 1 if the CRC-32 in the header matches every byte after it (a whole-file read; not done by
 * open, so opening stays cheap). */
int etw_pack_verify_crc(const etw_pack *pk);

uint32_t etw_pack_provider_count(const etw_pack *pk);
/* Index of the provider with guid (binary search); 1 if present (and, in a deferred pack,
 * its entry is sound). */
int etw_pack_find_provider(const etw_pack *pk, const GUID *guid, uint32_t *index);
/* In a deferred pack, a corrupt entry reads as a provider without name, events or maps. */
void etw_pack_provider(const etw_pack *pk, uint32_t index, etw_pack_provider_info *out);
/* The i-th event key of a provider (in (kind, a, b) order). */
void etw_pack_event_key(const etw_pack *pk, uint32_t provider, uint32_t i, uint8_t *kind, uint16_t *a,
                        uint16_t *b);
/* The i-th map name of a provider. */
const char *etw_pack_map_name(const etw_pack *pk, uint32_t provider, uint32_t i);

/* The TRACE_EVENT_INFO stored for (kind, a, b) — kind ETW_KEY_MANIFEST (a = id, b = version)
 * or ETW_KEY_CLASSIC (a = opcode) — malloc'd, or NULL if absent or corrupt. */
TRACE_EVENT_INFO *etw_pack_build_event(const etw_pack *pk, uint32_t provider, uint8_t kind, uint16_t a,
                                       uint16_t b, size_t *size);
/* Like etw_pack_build_event, but when that version is absent, the newest stored version below
 * it (*version_out says which); NULL if there is none. */
TRACE_EVENT_INFO *etw_pack_build_event_at_most(const etw_pack *pk, uint32_t provider, uint8_t kind,
                                               uint16_t a, uint16_t b, uint16_t *version_out, size_t *size);
/* The map of a provider named by UTF-16LE bytes (no NUL), malloc'd, or NULL. */
EVENT_MAP_INFO *etw_pack_build_map(const etw_pack *pk, uint32_t provider, const uint8_t *name_utf16,
                                   size_t name_bytes, size_t *size);
/* An extension section's bytes (type >= ETW_PACK_SEC_EXTENSION); NULL if absent. */
const uint8_t *etw_pack_section(const etw_pack *pk, uint32_t type, size_t *size);

#endif
