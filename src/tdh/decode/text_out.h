/* Appending payload text to output in one pass: UTF-16LE or 8-bit text converted to UTF-8 and
 * escaped for where it goes (a JSON string, one line of text, a CSV field) at the same time,
 * reserving space once per string instead of per character (these run for every string field
 * of every event). */
#ifndef ETWIRE_TDH_TEXT_OUT_H
#define ETWIRE_TDH_TEXT_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* How the converters escape what they write (their esc argument; 0 and 1 are what the json flag
 * they once took meant). The two line modes are dump's text and CSV rules, which escaping the
 * finished line byte by byte applied before (programs/etwire/event_view.c escapes what does
 * not come through here, by the same rules): a character below U+0020 or U+007F becomes
 * "\n", "\t" or "\x" and two lower-case hex digits; in CSV a quote is doubled. Everything
 * else, backslashes and all non-ASCII included, is written as its UTF-8. */
enum {
    ETW_ESC_NONE = 0, /* as it is */
    ETW_ESC_JSON = 1, /* the inside of a JSON string */
    ETW_ESC_LINE = 2, /* one line of text */
    ETW_ESC_CSV = 3,  /* one line inside a quoted CSV field */
};

/* nbytes of UTF-16LE (stops at a NUL unit); unpaired surrogates become U+FFFD. */
void etw_text_utf16(etw_strbuf *out, const uint8_t *p, size_t nbytes, int esc);
/* n bytes of 8-bit text (stops at NUL): UTF-8 passed through when utf8, else Windows-1252. */
void etw_text_ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int esc);

/* A string without a length at the start of p[0..n) (text_sized.c): appended as the two above
 * append it, its size returned as etw_value_size gives it (the terminator included; n when
 * there is none), in one pass over the bytes for the common printable-ASCII string. */
size_t etw_text_utf16z(etw_strbuf *out, const uint8_t *p, size_t n, int esc);
size_t etw_text_ansiz(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int esc);

#endif
