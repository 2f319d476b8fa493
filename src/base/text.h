/* UTF-16LE and GUID text helpers over untrusted bytes. */
#ifndef ETWIRE_BASE_TEXT_H
#define ETWIRE_BASE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/wintypes.h>

#include "base/strbuf.h"

/* Bytes up to (not including) the first UTF-16 NUL in p[0..n), n rounded down to even. If there
 * is no NUL, *terminated is 0 and the whole (even) length is returned. */
size_t etw_utf16_span(const uint8_t *p, size_t n, int *terminated);
/* Appends UTF-16LE text (nbytes bytes) as UTF-8; unpaired surrogates become U+FFFD. */
void etw_utf16_to_utf8(etw_strbuf *out, const uint8_t *p, size_t nbytes);
/* Writes code point cp as UTF-8 (1 to 4 bytes) into out; returns how many. */
size_t etw_utf8_encode(uint32_t cp, char out[4]);
/* UTF-16LE text (nbytes bytes) as NUL-terminated UTF-8 in out[0..cap), cut before the first
 * character that does not fit; unpaired surrogates become U+FFFD. Returns the length. */
size_t etw_utf16_to_utf8_cut(const uint8_t *p, size_t nbytes, char *out, size_t cap);
/* Converts UTF-8 to a NUL-terminated UTF-16 string in host order (WCHAR units). Returns the
 * number of units written excluding the NUL, or (size_t)-1 if cap is too small. */
size_t etw_utf8_to_utf16(const char *s, WCHAR *out, size_t cap);
/* Appends the UTF-8 form of a NUL-terminated WCHAR string (host order). */
void etw_wstr_to_utf8(etw_strbuf *out, const WCHAR *s);

GUID etw_guid_read(const uint8_t *p);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (36 chars + NUL), lower case. */
void etw_guid_format(const GUID *g, char out[37]);
int etw_guid_equal(const GUID *a, const GUID *b);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", braces optional; 1 if well formed. */
int etw_guid_parse(const char *s, GUID *g);

#endif
