/* Writing a schema pack (format: pack_format.h, docs/format/schema-pack.md).
 *
 * Usage: create a writer, add schemas under the same keys the schema cache uses, optionally
 * name providers and add opaque extension sections, then finish to get the file bytes:
 *
 *     etw_pack_writer *w = etw_pack_writer_create();
 *     etw_pack_writer_add(w, &key, tei, tei_size);          // ETW_KEY_MANIFEST / _CLASSIC
 *     etw_pack_writer_add(w, &map_key, emi, emi_size);      // ETW_KEY_MAP, blob = UTF-16 name
 *     etw_pack_writer_provider(w, &guid, "Name", "where it came from");
 *     uint8_t *bytes; size_t n;
 *     etw_pack_writer_finish(w, &bytes, &n);                // malloc'd; free() it
 *     etw_pack_writer_destroy(w);
 *
 * Adding a key that is already present replaces it (the last definition wins), so a caller
 * merging several sources adds them oldest first. The schemas are copied (decomposed) on add;
 * the output depends only on the final set of schemas, not on the order they were added in,
 * so regenerating from the same inputs gives the same bytes. Not thread-safe (one writer, one
 * thread). */
#ifndef ETWIRE_TDH_PACK_WRITE_H
#define ETWIRE_TDH_PACK_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "tdh/store/schema_cache.h"

typedef struct etw_pack_writer etw_pack_writer;

etw_pack_writer *etw_pack_writer_create(void);
void etw_pack_writer_destroy(etw_pack_writer *w);

/* Adds one schema. key->kind ETW_KEY_MANIFEST or ETW_KEY_CLASSIC with a TRACE_EVENT_INFO of
 * size bytes (BinaryXML and custom-schema properties are not kept), or ETW_KEY_MAP with an
 * EVENT_MAP_INFO (key->blob = the map name as UTF-16LE bytes, as the cache keys maps).
 * key->scope is ignored. Returns 1, or 0 with *why set (a blob that does not validate, an
 * unsupported kind, out of memory). */
int etw_pack_writer_add(etw_pack_writer *w, const etw_schema_key *key, const void *info, size_t size,
                        const char **why);

/* Names a provider and says where its schemas came from (either may be NULL). Without it a
 * provider takes the name of its most recently added event. Returns 0 on allocation failure. */
int etw_pack_writer_provider(etw_pack_writer *w, const GUID *guid, const char *name, const char *origin);

/* Adds an opaque section (type >= ETW_PACK_SEC_EXTENSION); the bytes are copied. */
int etw_pack_writer_section(etw_pack_writer *w, uint32_t type, const void *p, size_t n);

/* Lays the file out. Returns 1 with *out malloc'd (free()) and *n its size, else 0. */
int etw_pack_writer_finish(etw_pack_writer *w, uint8_t **out, size_t *n);

#endif
