/* Reading the UTF-16 strings of a validated TRACE_EVENT_INFO as UTF-8, and matching them. */
#ifndef ETWIRE_TDH_TEI_TEXT_H
#define ETWIRE_TDH_TEI_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"

/* Byte length (no NUL) of the string at off in a blob of size n; 0 if absent or invalid. */
size_t etw_blob_wstr(const void *blob, size_t n, uint32_t off, const uint8_t **s);
/* Appends the string at off as UTF-8, escaped as esc (ETW_ESC_*, text_out.h; 1 is JSON);
 * returns 0 if absent. */
int etw_blob_wstr_append(etw_strbuf *out, const void *blob, size_t n, uint32_t off, int esc);
/* Compares the blob string at off with a NUL-terminated host WCHAR string. */
int etw_blob_wstr_eq(const void *blob, size_t n, uint32_t off, const WCHAR *w);

#endif
