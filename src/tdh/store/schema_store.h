/* The schema store (docs/decoding.md, "The schema store"): a directory holding one schema pack,
 * `schemas.etwpack` (docs/format/schema-pack.md), written by `etwire schemas import` and read
 * in place (mapped) by everything that decodes. The pack holds the imported manifest, WEVT and
 * MOF schemas in its TDH sections, and the imported TMF message formats in an extension
 * section (store_wpp.c). In the order of precedence the store comes after the trace's own
 * schemas and what the user loaded, before the built-in pack: its pack is registered with
 * pack_sources.h as ETW_SRC_STORE, which serves the lookups. */
#ifndef ETWIRE_TDH_SCHEMA_STORE_H
#define ETWIRE_TDH_SCHEMA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tdh/sources/tmf_model.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/schema_cache.h"
#include "tdh/tdh_status.h"

#define ETW_STORE_FILE "schemas.etwpack"
/* The pack extension section holding WPP message formats. */
#define ETW_STORE_SEC_WPP 0x101u

/* The store directory to use: dir if given, else $ETWIRE_SCHEMAS, else
 * $XDG_DATA_HOME/etwire/schemas, else $HOME/.local/share/etwire/schemas. Returns out, or NULL
 * if none can be named (no HOME). */
const char *etw_store_default_dir(const char *dir, char *out, size_t cap);

/* The open store's pack, or NULL when none is open. Valid until etw_store_close. */
const etw_pack *etw_store_pack(void);
/* The open store's WPP section (count 0 when it has none), or NULL when no store is open. */
const struct etw_store_wpp *etw_store_wpp_section(void);

/* Opens the store in dir (etw_store_default_dir's choice when dir is NULL or ""), replacing
 * one opened before: ETW_TDH_OK, ETW_TDH_E_NOFILE (no store there), ETW_TDH_E_UNUSABLE (a
 * damaged store: why names the file, offset and reason) or ETW_TDH_E_NOMEM. */
etw_tdh_status etw_store_open(const char *dir, char *why, size_t whylen);
void etw_store_close(void);

/* --- the WPP section ---
 * Layout: u32 count, then count 28-byte index entries {guid[16], u16 number, u16 reserved,
 * u32 offset, u32 size} sorted by (guid bytes, number) without duplicates, then the message blobs
 * (tmf_model.h) at 4-aligned offsets from the section's start. */
typedef struct etw_store_wpp {
    const uint8_t *p;
    size_t n;
    uint32_t count;
} etw_store_wpp;

/* Validates the index (bounds, order) of a WPP section; 1 if usable, else 0 with why. */
int etw_store_wpp_open(etw_store_wpp *w, const uint8_t *p, size_t n, char *why, size_t whylen);
/* The i-th entry: GUID, number, and the blob's bytes (not yet checked: etw_wpp_msg_check). */
void etw_store_wpp_entry(const etw_store_wpp *w, uint32_t i, GUID *guid, uint16_t *number, const uint8_t **blob,
                         uint32_t *size);
/* Index of the first entry of guid (binary search), or w->count. */
uint32_t etw_store_wpp_first(const etw_store_wpp *w, const GUID *guid);
/* A checked, malloc'd, aligned copy of entry i, or NULL if its bytes are not a valid blob. */
etw_wpp_msg *etw_store_wpp_copy(const etw_store_wpp *w, uint32_t i);

/* Builds a WPP section from messages sorted by (guid bytes, number), unique. malloc'd. */
uint8_t *etw_store_wpp_build(etw_wpp_msg *const *msgs, size_t n, size_t *size);

#endif
