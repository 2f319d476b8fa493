/* Floating-point numbers as text without the printf family: decoded output formats a float or
 * double for every such property of every event, and WPP messages format them through the
 * TMF's printf-style specs (issue 11: printf was half of `dump`'s time).
 *
 * Contract:
 * - The output is byte-identical to glibc's snprintf(out, n, "%<flags>.<precision><conv>", v)
 *   in the default rounding mode (round to nearest), for every double v (binary64) and so for
 *   every float (binary32, which printf receives promoted to double: exact), every precision
 *   and every combination of the flags below. tests/base/test_fmt_float.c and
 *   bench/bench_fmt_float.c compare it with snprintf.
 * - Decimal conversions (e E f F g G) are exact: the digits are those of the value's exact
 *   binary value rounded once at the last printed digit, half to even on exact ties (as glibc:
 *   printf("%.0f", 2.5) is "2", printf("%.1f", 0.25) is "0.2").
 * - Exponents are e+NN / e-NN, at least two digits (three when needed). %g removes trailing
 *   zeros and a bare point unless ETW_FMT_ALT; %e and %f print the point only when digits
 *   follow it or with ETW_FMT_ALT.
 * - Infinity and NaN: "inf", "-inf", "nan", "-nan" (a NaN with its sign bit set), upper case
 *   for E F G A; the sign flags apply to them too. Negative zero prints its sign ("-0").
 * - Hex (a A): "0x1.8p+1" as glibc prints it: the leading digit 1 (0 for zero and subnormals,
 *   which stay unnormalised: 0x0.0000000000001p-1022), the shortest exact digits without a
 *   precision, rounded half to even with one; a carry raises the leading digit (0x2.0p+0).
 * - Width and the 0 and - flags are the caller's (padding is plain text work).
 * - Precisions above ETW_FMT_PRECISION_MAX are taken as that (printf would go on; no caller
 *   asks for a million digits, and the digit arithmetic stays within int).
 * Speed: one 64x128-bit multiplication by a power of ten from a table (fmt_pow10.h) decides
 * the digits of almost every value of up to 19 significant digits; the rest (exact ties, large
 * precisions, %f of large or tiny values) take an exact big-integer expansion. Neither
 * allocates; both are reentrant. */
#ifndef ETWIRE_BASE_FMT_FLOAT_H
#define ETWIRE_BASE_FMT_FLOAT_H

#include <stddef.h>

enum {
    ETW_FMT_PLUS = 1,  /* '+': a plus sign on non-negative values */
    ETW_FMT_SPACE = 2, /* ' ': a space there instead (PLUS wins when both are set) */
    ETW_FMT_ALT = 4,   /* '#': always a point; %g keeps its trailing zeros */
};

#define ETW_FMT_PRECISION_MAX 1000000

/* Bytes etw_fmt_float may write for a precision (negative: the default): the sign, 309 integer
 * digits of %f, the point, the precision's digits, an exponent. */
#define ETW_FMT_FLOAT_MAX(precision)                                                                       \
    ((size_t)((precision) < 0 ? 0 : (precision) > ETW_FMT_PRECISION_MAX ? ETW_FMT_PRECISION_MAX : (precision)) + 340)

/* Writes v as printf's %<flags>.<precision><conv> would, conv one of e E f F g G a A, a
 * negative precision meaning none (6, or for %a the shortest exact form). out has room for
 * ETW_FMT_FLOAT_MAX(precision) bytes; no NUL is written. Returns the length; 0 for an unknown
 * conv. */
size_t etw_fmt_float(char *out, double v, char conv, int precision, unsigned flags);

struct etw_strbuf;
/* etw_fmt_float appended to sb (nothing when memory runs out: sb->failed is set). */
void etw_strbuf_float(struct etw_strbuf *sb, double v, char conv, int precision, unsigned flags);

/* printf's "%.17g" (double) and "%.9g" (float): enough digits to read the value back. */
static inline size_t etw_fmt_double_g17(char *out, double v) { return etw_fmt_float(out, v, 'g', 17, 0); }
static inline size_t etw_fmt_float_g9(char *out, float v) { return etw_fmt_float(out, (double)v, 'g', 9, 0); }

#endif
