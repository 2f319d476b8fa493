/* dump's text-line and CSV escaping written the slow, obvious way, a byte at a time: the
 * reference the fast escapers (etw_strbuf_line_escaped, the decoders' ETW_ESC_LINE/CSV modes)
 * are tested against. */
#ifndef ETWIRE_TEST_ESCAPE_REF_H
#define ETWIRE_TEST_ESCAPE_REF_H

#include <stddef.h>

#include "base/strbuf.h"

/* Appends s[0..n): control characters and DEL as \n, \t or \xNN (lower-case hex), with csv
 * quotes doubled, every other byte (backslash, comma, UTF-8) as it is. */
void escape_ref_line(etw_strbuf *out, const char *s, size_t n, int csv);

#endif
