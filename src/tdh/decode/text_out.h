/* Appending payload text to output in one pass: UTF-16LE or 8-bit text converted to UTF-8 and,
 * for JSON, escaped at the same time, reserving space once per string instead of per
 * character (these run for every string field of every event). */
#ifndef ETWIRE_TDH_TEXT_OUT_H
#define ETWIRE_TDH_TEXT_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* nbytes of UTF-16LE (stops at a NUL unit); unpaired surrogates become U+FFFD. */
void etw_text_utf16(etw_strbuf *out, const uint8_t *p, size_t nbytes, int json);
/* n bytes of 8-bit text (stops at NUL): UTF-8 passed through when utf8, else Windows-1252. */
void etw_text_ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int json);

/* A string without a length at the start of p[0..n) (text_sized.c): appended as the two above
 * append it, its size returned as etw_value_size gives it (the terminator included; n when
 * there is none), in one pass over the bytes for the common printable-ASCII string. */
size_t etw_text_utf16z(etw_strbuf *out, const uint8_t *p, size_t n, int json);
size_t etw_text_ansiz(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int json);


#endif
