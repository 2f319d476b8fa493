/* One value through a printf-style spec (flags, width, precision), without the printf family:
 * WPP messages carry C format specs (%08x, %-6s, %+5d, %.3f) and are formatted once per event.
 * Each function appends exactly what glibc's snprintf would print for the same spec and one
 * argument (tests/base/test_fmt_spec.c compares them), except that the length modifiers are
 * the caller's business: integers arrive as a magnitude and a sign, already widened. */
#ifndef ETWIRE_BASE_FMT_SPEC_H
#define ETWIRE_BASE_FMT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/fmt_float.h"
#include "base/strbuf.h"

enum {
    /* ETW_FMT_PLUS, ETW_FMT_SPACE and ETW_FMT_ALT (fmt_float.h), and: */
    ETW_FMT_LEFT = 8,  /* '-': pad on the right */
    ETW_FMT_ZERO = 16, /* '0': pad numbers with zeros after their sign or 0x */
};

typedef struct etw_fmt_spec {
    unsigned flags; /* ETW_FMT_* */
    int width;      /* minimum bytes; <= 0: none */
    int precision;  /* < 0: none */
} etw_fmt_spec;

/* The flags of a printf spec's flag characters ("-+ #0"; others are ignored). */
unsigned etw_fmt_flags(const char *chars, size_t n);

/* d i (signed: negative says the sign), u, o, x, X. Unknown conversions print as u. */
void etw_strbuf_fmt_int(etw_strbuf *sb, const etw_fmt_spec *sp, char conv, uint64_t magnitude, int negative);
/* e E f F g G a A (see etw_fmt_float), padded to the width. */
void etw_strbuf_fmt_float(etw_strbuf *sb, const etw_fmt_spec *sp, char conv, double v);
/* s and c: n bytes of text, cut to the precision, padded with spaces to the width. */
void etw_strbuf_fmt_text(etw_strbuf *sb, const etw_fmt_spec *sp, const char *s, size_t n);

#endif
