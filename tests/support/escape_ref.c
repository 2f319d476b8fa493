/* The byte-at-a-time reference of dump's line escaping (see escape_ref.h). */
#include "escape_ref.h"

void escape_ref_line(etw_strbuf *out, const char *s, size_t n, int csv)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\t') {
            etw_strbuf_putc(out, '\\');
            etw_strbuf_putc(out, c == '\n' ? 'n' : 't');
        } else if (c < 0x20 || c == 0x7F) {
            char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            etw_strbuf_append(out, x, 4);
        } else {
            if (csv && c == '"')
                etw_strbuf_putc(out, '"');
            etw_strbuf_putc(out, (char)c);
        }
    }
}
