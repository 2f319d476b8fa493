/* printf-style conversions of one value with flags, width and precision (see fmt_spec.h). */
#include "base/fmt_spec.h"

#include <string.h>

unsigned etw_fmt_flags(const char *chars, size_t n)
{
    unsigned f = 0;
    for (size_t i = 0; i < n; i++) {
        switch (chars[i]) {
        case '-': f |= ETW_FMT_LEFT; break;
        case '+': f |= ETW_FMT_PLUS; break;
        case ' ': f |= ETW_FMT_SPACE; break;
        case '#': f |= ETW_FMT_ALT; break;
        case '0': f |= ETW_FMT_ZERO; break;
        default: break;
        }
    }
    return f;
}

static void put_fill(etw_strbuf *sb, char c, size_t n)
{
    if (!n || etw_strbuf_reserve(sb, n) != 0)
        return;
    memset(sb->data + sb->len, c, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static size_t pad_of(const etw_fmt_spec *sp, size_t n)
{
    return sp->width > 0 && (size_t)sp->width > n ? (size_t)sp->width - n : 0;
}

void etw_strbuf_fmt_int(etw_strbuf *sb, const etw_fmt_spec *sp, char conv, uint64_t v, int negative)
{
    unsigned base = conv == 'o' ? 8 : conv == 'x' || conv == 'X' ? 16 : 10;
    const char *set = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24]; /* least significant first */
    size_t nd = 0;
    for (uint64_t x = v; x; x /= base)
        digits[nd++] = set[x % base];
    size_t prec = sp->precision < 0 ? 1 : (size_t)sp->precision;
    size_t zeros = prec > nd ? prec - nd : 0;
    if (conv == 'o' && (sp->flags & ETW_FMT_ALT) && zeros == 0) /* octal's # makes the first digit 0 */
        zeros = nd == 0 || digits[nd - 1] != '0';
    char prefix[2];
    size_t np = 0;
    if (conv == 'd' || conv == 'i') {
        if (negative)
            prefix[np++] = '-';
        else if (sp->flags & ETW_FMT_PLUS)
            prefix[np++] = '+';
        else if (sp->flags & ETW_FMT_SPACE)
            prefix[np++] = ' ';
    } else if (base == 16 && (sp->flags & ETW_FMT_ALT) && v) {
        prefix[np++] = '0';
        prefix[np++] = conv;
    }
    size_t pad = pad_of(sp, np + zeros + nd);
    int left = (sp->flags & ETW_FMT_LEFT) != 0;
    if (!left && (sp->flags & ETW_FMT_ZERO) && sp->precision < 0) {
        zeros += pad; /* zeros go between the sign or 0x and the digits */
        pad = 0;
    }
    if (!left)
        put_fill(sb, ' ', pad);
    etw_strbuf_append(sb, prefix, np);
    put_fill(sb, '0', zeros);
    if (etw_strbuf_reserve(sb, nd) == 0) {
        char *o = sb->data + sb->len;
        for (size_t i = 0; i < nd; i++)
            o[i] = digits[nd - 1 - i];
        sb->len += nd;
        sb->data[sb->len] = '\0';
    }
    if (left)
        put_fill(sb, ' ', pad);
}

void etw_strbuf_fmt_float(etw_strbuf *sb, const etw_fmt_spec *sp, char conv, double v)
{
    size_t width = sp->width > 0 ? (size_t)sp->width : 0;
    if (etw_strbuf_reserve(sb, ETW_FMT_FLOAT_MAX(sp->precision) + width) != 0)
        return;
    char *o = sb->data + sb->len;
    size_t n = etw_fmt_float(o, v, conv, sp->precision, sp->flags & (ETW_FMT_PLUS | ETW_FMT_SPACE | ETW_FMT_ALT));
    size_t pad = pad_of(sp, n);
    if (pad && !(sp->flags & ETW_FMT_LEFT)) {
        size_t lead = 0; /* what stays before zero padding: a sign, then 0x of %a */
        char fill = ' ';
        int finite = __builtin_isfinite(v);
        if ((sp->flags & ETW_FMT_ZERO) && finite) {
            fill = '0';
            lead = o[0] == '-' || o[0] == '+' || o[0] == ' ';
            if ((conv == 'a' || conv == 'A') && n >= lead + 2)
                lead += 2;
        }
        memmove(o + lead + pad, o + lead, n - lead);
        memset(o + lead, fill, pad);
    } else if (pad) {
        memset(o + n, ' ', pad);
    }
    sb->len += n + pad;
    sb->data[sb->len] = '\0';
}

void etw_strbuf_fmt_text(etw_strbuf *sb, const etw_fmt_spec *sp, const char *s, size_t n)
{
    if (sp->precision >= 0 && (size_t)sp->precision < n)
        n = (size_t)sp->precision;
    size_t pad = pad_of(sp, n);
    int left = (sp->flags & ETW_FMT_LEFT) != 0;
    if (!left)
        put_fill(sb, ' ', pad);
    etw_strbuf_append(sb, s, n);
    if (left)
        put_fill(sb, ' ', pad);
}
