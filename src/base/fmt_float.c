/* Floating-point formatting without printf (see fmt_float.h for the contract). A value is first
 * turned into decimal digits d[0..n) with d[0] the digit of 10^exp10, rounded at the place the
 * conversion asks for; then %e, %f or %g lays those digits out. The digits come from a fast path
 * (a 128-bit power of ten, good whenever its error provably cannot change the result) or from
 * the exact expansion of the binary value (big integers in 32-bit limbs). */
#include "base/fmt_float.h"

#include <stdint.h>
#include <string.h>

#include "base/fmt_pow10.h"
#include "base/strbuf.h"

/* Every digit of a double: at most 309 before the point, 1074 after it (2^-1074), never both
 * large; room for a 9-digit group more. */
#define DIGITS_MAX 1100

typedef struct decimal {
    int n;      /* digits in d; 0: the value is (rounded to) zero */
    int exp10;  /* d[0] is the digit of 10^exp10 */
    char d[DIGITS_MAX];
} decimal;

/* etw_pow10_u64 and etw_digit_pairs: src/base/strbuf.h. */

/* a * b: the low half returned, the high half in *hi (no __int128 on 32-bit targets). */
static inline uint64_t mul64(uint64_t a, uint64_t b, uint64_t *hi)
{
#ifdef __SIZEOF_INT128__
    unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    return (uint64_t)p;
#else
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return (mid << 32) | (uint32_t)ll;
#endif
}

enum rest { REST_ZERO, REST_BELOW_HALF, REST_HALF, REST_ABOVE_HALF };

/* q = floor(m * 2^e2 * 10^k) and where the rest lies, for m with bit 63 set, when the 128-bit
 * power of ten decides both and q < 2^64; 0 otherwise. The table's 10^k is c * 2^t truncated,
 * so the true product m * 10^k lies in [m*c, m*c + m) (exact for 0 <= k <= 55): when that
 * whole interval falls on one side of the half and of the next integer, the answer is sure. */
static int scale_by_table(uint64_t m, int e2, int k, uint64_t *q, enum rest *rest)
{
    if (k < ETW_POW10_MIN || k > ETW_POW10_MAX)
        return 0;
    const struct etw_pow10 *p = &etw_pow10_table[k - ETW_POW10_MIN];
    int s = -(e2 + p->t); /* the product's bits below s are the fraction */
    if (s < 128 || s > 191)
        return 0;
    uint64_t lo_hi, hi_hi;
    uint64_t w0 = mul64(m, p->lo, &lo_hi), hi_lo = mul64(m, p->hi, &hi_hi);
    uint64_t w1 = lo_hi + hi_lo, w2 = hi_hi + (w1 < hi_lo); /* the 192-bit product w2:w1:w0 */
    unsigned r = (unsigned)s - 128;
    uint64_t f2 = r ? w2 & ((1ull << r) - 1) : 0; /* fraction: f2:w1:w0 */
    /* The half, 2^(s-1), is bit r-1 of the top limb, or the top bit of w1 when r is 0. */
    int cmp;
    if (r) {
        uint64_t h = 1ull << (r - 1);
        cmp = f2 != h ? (f2 > h ? 1 : -1) : (w1 | w0) != 0;
    } else {
        uint64_t h = 1ull << 63;
        cmp = w1 != h ? (w1 > h ? 1 : -1) : w0 != 0;
    }
    *q = w2 >> r;
    if (k >= 0 && k <= 55) { /* the power is exact: so is everything */
        *rest = (f2 | w1 | w0) == 0 ? REST_ZERO : cmp < 0 ? REST_BELOW_HALF : cmp == 0 ? REST_HALF : REST_ABOVE_HALF;
        return 1;
    }
    /* The true fraction lies strictly between F and G = F + m. */
    uint64_t g0 = w0 + m, c0 = g0 < m, g1 = w1 + c0, c1 = c0 && g1 == 0, g2 = f2 + c1;
    int g_fits; /* G <= 2^s: the integer part cannot carry */
    int g_below_half; /* G <= 2^(s-1) */
    if (r) {
        uint64_t one = 1ull << r, h = one >> 1;
        g_fits = g2 < one || (g2 == one && (g1 | g0) == 0);
        g_below_half = g2 < h || (g2 == h && (g1 | g0) == 0);
    } else {
        uint64_t h = 1ull << 63;
        g_fits = g2 == 0 || (g2 == 1 && (g1 | g0) == 0);
        g_below_half = g2 == 0 && (g1 < h || (g1 == h && g0 == 0));
    }
    if (g_below_half) {
        *rest = REST_BELOW_HALF;
        return 1;
    }
    if (cmp >= 0 && g_fits) {
        *rest = REST_ABOVE_HALF;
        return 1;
    }
    return 0;
}

/* The same for an integer value below 2^64 scaled down (k < 0): plain division. Integers such
 * as 1e20 are where the table's tiny error meets an exact result. */
static int scale_integer(uint64_t m, int e2, int k, uint64_t *q, enum rest *rest)
{
    if (k >= 0 || k < -19 || e2 > 0 || e2 < -63 || (m & ((1ull << -e2) - 1)))
        return 0;
    uint64_t v = e2 ? m >> -e2 : m, d = etw_pow10_u64[-k], rem = v % d;
    *q = v / d;
    *rest = rem == 0 ? REST_ZERO : rem < d - rem ? REST_BELOW_HALF : rem == d - rem ? REST_HALF : REST_ABOVE_HALF;
    return 1;
}

static int scale(uint64_t m, int e2, int k, uint64_t *q, enum rest *rest)
{
    return scale_by_table(m, e2, k, q, rest) || scale_integer(m, e2, k, q, rest);
}

static uint64_t round_half_even(uint64_t q, enum rest rest)
{
    return q + (rest == REST_ABOVE_HALF || (rest == REST_HALF && (q & 1)));
}

/* Exactly four / eight digits of x at d (x below 10^4 / 10^8). */
static inline void put4(char *d, uint32_t x)
{
    memcpy(d, etw_digit_pairs + 2 * (x / 100), 2);
    memcpy(d + 2, etw_digit_pairs + 2 * (x % 100), 2);
}

static inline void put8(char *d, uint32_t x)
{
    put4(d, x / 10000);
    put4(d + 4, x % 10000);
}

/* q's decimal digits into dec (q > 0), trailing zeros dropped; returns how many q had. n is
 * that count when the caller knows it, else 0. */
static int put_digits(decimal *dec, uint64_t q, int n)
{
    if (!n) {
        n = 1;
        while (n < 20 && q >= etw_pow10_u64[n])
            n++;
    }
    /* All 20 places in three 32-bit pieces (one 64-bit division each), then the last n. */
    char t[20];
    uint64_t hi = q / 100000000;
    put8(t + 12, (uint32_t)(q - hi * 100000000));
    uint64_t top = hi / 100000000;
    put8(t + 4, (uint32_t)(hi - top * 100000000));
    put4(t, (uint32_t)top);
    char *d = dec->d;
    memcpy(d, t + 20 - n, (size_t)n);
    int kept = n;
    while (kept > 1 && d[kept - 1] == '0')
        kept--;
    dec->n = kept;
    return n;
}

/* floor(log10(2^b)), possibly one less (b within +-1200). */
static int log10_pow2(int b)
{
    return (b * 78913) >> 18;
}

/* P significant digits (1..19) of m * 2^e2 (bit 63 of m set), which is av; 0 when the fast
 * path cannot. */
static int fast_significant(uint64_t m, int e2, double av, int P, decimal *dec)
{
    /* The decimal exponent: a guess from the binary one, set right by comparing with 10^e10
     * as a double (the loop below still checks the digits it gets). */
    int e10 = log10_pow2(e2 + 63);
    if (e10 + 1 - ETW_POW10_DOUBLE_MIN < (int)(sizeof etw_pow10_double / sizeof etw_pow10_double[0]) &&
        av >= etw_pow10_double[e10 + 1 - ETW_POW10_DOUBLE_MIN])
        e10++;
    else if (e10 > ETW_POW10_DOUBLE_MIN && av < etw_pow10_double[e10 - ETW_POW10_DOUBLE_MIN])
        e10--;
    for (int tries = 0; tries < 3; tries++) {
        uint64_t q;
        enum rest rest;
        if (!scale(m, e2, P - 1 - e10, &q, &rest))
            return 0;
        if (q >= etw_pow10_u64[P]) {
            e10++;
            continue;
        }
        if (q < etw_pow10_u64[P - 1]) {
            e10--;
            continue;
        }
        q = round_half_even(q, rest);
        if (P < 20 && q == etw_pow10_u64[P]) { /* 9.99..5 became 10.0 */
            q = etw_pow10_u64[P - 1];
            e10++;
        }
        put_digits(dec, q, P);
        dec->exp10 = e10;
        return 1;
    }
    return 0;
}

/* m * 2^e2 rounded to prec digits after the point, when that is below 10^19. */
static int fast_fixed(uint64_t m, int e2, int prec, decimal *dec)
{
    uint64_t q;
    enum rest rest;
    if (!scale(m, e2, prec, &q, &rest) || q >= etw_pow10_u64[19])
        return 0;
    q = round_half_even(q, rest);
    if (q == 0) {
        dec->n = 0;
        dec->exp10 = 0;
        return 1;
    }
    dec->exp10 = put_digits(dec, q, 0) - 1 - prec;
    return 1;
}

/* ---- The exact expansion: every digit of m * 2^e2 (m > 0). ---- */

#define LIMBS 40 /* 32-bit limbs: 1024 + 64 integer bits, or 1074 + 64 fraction bits and a carry */

static void put_group(char *d, uint32_t g)
{
    memcpy(d, etw_digit_pairs + 2 * (g / 10000000), 2);
    memcpy(d + 2, etw_digit_pairs + 2 * (g / 100000 % 100), 2);
    memcpy(d + 4, etw_digit_pairs + 2 * (g / 1000 % 100), 2);
    memcpy(d + 6, etw_digit_pairs + 2 * (g / 10 % 100), 2);
    d[8] = (char)('0' + g % 10);
}

/* The integer's digits (big, nl limbs, destroyed) at d; returns how many, without leading
 * zeros (0 for zero). */
static int integer_digits(uint32_t *big, int nl, char *d)
{
    uint32_t groups[40];
    int ng = 0;
    while (nl > 0 && big[nl - 1] == 0)
        nl--;
    while (nl > 0) {
        uint64_t rem = 0;
        for (int i = nl - 1; i >= 0; i--) {
            uint64_t cur = rem << 32 | big[i];
            big[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        groups[ng++] = (uint32_t)rem;
        while (nl > 0 && big[nl - 1] == 0)
            nl--;
    }
    if (!ng)
        return 0;
    char first[9];
    put_group(first, groups[ng - 1]);
    int skip = 0;
    while (skip < 8 && first[skip] == '0')
        skip++;
    int n = 9 - skip;
    memcpy(d, first + skip, (size_t)n);
    for (int g = ng - 2; g >= 0; g--, n += 9)
        put_group(d + n, groups[g]);
    return n;
}

static void exact_digits(uint64_t m, int e2, decimal *dec)
{
    uint32_t big[LIMBS];
    char *d = dec->d;
    int n;
    if (e2 >= 0) { /* an integer: m << e2 */
        memset(big, 0, sizeof big);
        int w = e2 / 32, b = e2 % 32;
        big[w] = (uint32_t)(m << b);
        big[w + 1] = (uint32_t)((m << b) >> 32);
        big[w + 2] = b ? (uint32_t)(m >> (64 - b)) : 0;
        n = integer_digits(big, w + 3, d);
        dec->exp10 = n - 1;
    } else {
        int b = -e2; /* fraction bits */
        uint64_t ip = b >= 64 ? 0 : m >> b, fp = b >= 64 ? m : m & ((1ull << b) - 1);
        uint32_t ipl[2] = {(uint32_t)ip, (uint32_t)(ip >> 32)};
        n = integer_digits(ipl, 2, d);
        int int_n = n;
        /* The fraction is big / 2^b: times 10^9 gives the next nine digits above bit b. */
        int nl = b / 32 + 2;
        memset(big, 0, sizeof big);
        big[0] = (uint32_t)fp;
        big[1] = (uint32_t)(fp >> 32);
        int low = 0; /* limbs below this one are zero */
        int lead_zeros = 0, seen = int_n > 0;
        for (;;) {
            while (low < nl && big[low] == 0)
                low++;
            if (low >= nl)
                break;
            uint64_t carry = 0;
            for (int i = low; i < nl; i++) {
                uint64_t cur = (uint64_t)big[i] * 1000000000u + carry;
                big[i] = (uint32_t)cur;
                carry = cur >> 32;
            }
            int w = b / 32, sh = b % 32;
            uint64_t top = (uint64_t)big[w] | (uint64_t)big[w + 1] << 32;
            uint32_t g = (uint32_t)(top >> sh);
            big[w] &= (uint32_t)((1ull << sh) - 1);
            big[w + 1] = 0;
            if (!seen && g == 0) { /* leading zeros of a value below 1: only counted */
                lead_zeros += 9;
                continue;
            }
            put_group(d + n, g);
            n += 9;
            seen = 1;
        }
        if (int_n) {
            dec->exp10 = int_n - 1;
        } else { /* below 1: drop the zeros after the point */
            int z = 0;
            while (d[z] == '0')
                z++;
            memmove(d, d + z, (size_t)(n - z));
            n -= z;
            dec->exp10 = -(lead_zeros + z) - 1;
        }
    }
    while (n > 0 && d[n - 1] == '0')
        n--;
    dec->n = n;
}

/* Keeps the first keep digits, rounding half to even on what follows. */
static void round_digits(decimal *dec, int keep)
{
    if (keep >= dec->n)
        return;
    if (keep < 0) {
        dec->n = 0;
        return;
    }
    char next = dec->d[keep];
    /* Trailing zeros were dropped: more digits after next mean more than exactly half. */
    int up = next > '5' || (next == '5' && (dec->n > keep + 1 || (keep > 0 && ((dec->d[keep - 1] - '0') & 1))));
    dec->n = keep;
    if (up) {
        int i = keep - 1;
        while (i >= 0 && dec->d[i] == '9')
            i--;
        if (i < 0) {
            dec->d[0] = '1';
            dec->n = 1;
            dec->exp10++;
        } else {
            dec->d[i]++;
            dec->n = i + 1;
        }
    }
    while (dec->n > 0 && dec->d[dec->n - 1] == '0')
        dec->n--;
}

/* ---- Layout ---- */

static char *put_exponent(char *o, int x, int upper)
{
    *o++ = upper ? 'E' : 'e';
    *o++ = x < 0 ? '-' : '+';
    unsigned u = (unsigned)(x < 0 ? -x : x);
    if (u >= 100)
        *o++ = (char)('0' + u / 100);
    memcpy(o, etw_digit_pairs + 2 * (u % 100), 2);
    return o + 2;
}

/* d[0].d[1..] e exp, with frac digits after the point (zeros past the digits). */
static char *layout_exp(char *o, const decimal *dec, int frac, int point, int upper)
{
    *o++ = dec->n ? dec->d[0] : '0';
    if (frac > 0 || point)
        *o++ = '.';
    if (frac > 0) {
        int have = dec->n - 1 < frac ? dec->n - 1 : frac;
        if (have > 0) {
            memcpy(o, dec->d + 1, (size_t)have);
        } else {
            have = 0;
        }
        memset(o + have, '0', (size_t)(frac - have));
        o += frac;
    }
    return put_exponent(o, dec->n ? dec->exp10 : 0, upper);
}

/* The digits placed by exp10, with frac digits after the point. */
static char *layout_fixed(char *o, const decimal *dec, int frac, int point)
{
    int x = dec->exp10, n = dec->n;
    if (n == 0 || x < 0) {
        *o++ = '0';
    } else {
        int have = n < x + 1 ? n : x + 1;
        memcpy(o, dec->d, (size_t)have);
        memset(o + have, '0', (size_t)(x + 1 - have));
        o += x + 1;
    }
    if (frac > 0 || point)
        *o++ = '.';
    if (frac > 0) {
        memset(o, '0', (size_t)frac);
        if (n) {
            /* Fraction digit j (1-based) is d[x + j]. */
            int first = x + 1 > 0 ? x + 1 : 0; /* the first digit index after the point */
            int at = first - (x + 1);          /* its offset after the point */
            int count = n - first;
            if (count > frac - at)
                count = frac - at;
            if (count > 0)
                memcpy(o + at, dec->d + first, (size_t)count);
        }
        o += frac;
    }
    return o;
}

static char *layout_nonfinite(char *o, int nan, int upper)
{
    memcpy(o, nan ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"), 3);
    return o + 3;
}

static const char hex_lower[] = "0123456789abcdef", hex_upper[] = "0123456789ABCDEF";

/* %a: glibc's layout (leading digit 1 for normal values, 0 for zero and subnormals). */
static char *layout_hex(char *o, uint64_t frac, unsigned biased, int precision, unsigned flags, int upper)
{
    const char *hx = upper ? hex_upper : hex_lower;
    unsigned lead = biased != 0;
    int exp2 = biased ? (int)biased - 1023 : (frac ? -1022 : 0);
    int nd = 13; /* hex digits of the 52-bit fraction */
    if (precision < 0) {
        while (nd > 0 && ((frac >> (4 * (13 - nd))) & 15) == 0)
            nd--;
    } else if (precision < 13) {
        int drop = 4 * (13 - precision);
        uint64_t kept = frac >> drop, rest = frac & ((1ull << drop) - 1), half = 1ull << (drop - 1);
        if (rest > half || (rest == half && (precision ? kept & 1 : lead & 1))) {
            kept++;
            if (kept >> (4 * precision)) { /* carried into the leading digit */
                kept = 0;
                lead++;
            }
        }
        frac = kept << drop;
        nd = precision;
    }
    *o++ = '0';
    *o++ = upper ? 'X' : 'x';
    *o++ = hx[lead];
    if (nd > 0 || (precision > 0) || (flags & ETW_FMT_ALT))
        *o++ = '.';
    for (int i = 0; i < nd && i < 13; i++)
        *o++ = hx[(frac >> (48 - 4 * i)) & 15];
    for (int i = 13; i < precision; i++)
        *o++ = '0';
    *o++ = upper ? 'P' : 'p';
    *o++ = exp2 < 0 ? '-' : '+';
    unsigned u = (unsigned)(exp2 < 0 ? -exp2 : exp2);
    char t[6];
    int tn = 0;
    do {
        t[tn++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (tn)
        *o++ = t[--tn];
    return o;
}

/* Significant digits: fast when few, else exact and rounded. */
static void significant(uint64_t m, int e2, double av, int P, decimal *dec)
{
    if (P <= 19 && fast_significant(m, e2, av, P, dec))
        return;
    exact_digits(m, e2, dec);
    round_digits(dec, P);
}

static void fixed(uint64_t m, int e2, int prec, decimal *dec)
{
    if (fast_fixed(m, e2, prec, dec))
        return;
    exact_digits(m, e2, dec);
    round_digits(dec, dec->exp10 + 1 + prec);
}

size_t etw_fmt_float(char *out, double v, char conv, int precision, unsigned flags)
{
    int upper = conv == 'E' || conv == 'F' || conv == 'G' || conv == 'A';
    char lc = (char)(upper ? conv + ('a' - 'A') : conv);
    if (lc != 'e' && lc != 'f' && lc != 'g' && lc != 'a')
        return 0;
    if (precision > ETW_FMT_PRECISION_MAX)
        precision = ETW_FMT_PRECISION_MAX;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    unsigned biased = (unsigned)(bits >> 52) & 0x7FF;
    uint64_t frac = bits & ((1ull << 52) - 1);
    char *o = out;
    if (bits >> 63)
        *o++ = '-';
    else if (flags & ETW_FMT_PLUS)
        *o++ = '+';
    else if (flags & ETW_FMT_SPACE)
        *o++ = ' ';
    if (biased == 0x7FF)
        return (size_t)(layout_nonfinite(o, frac != 0, upper) - out);
    if (lc == 'a')
        return (size_t)(layout_hex(o, frac, biased, precision, flags, upper) - out);
    int alt = (flags & ETW_FMT_ALT) != 0;
    if (precision < 0)
        precision = 6;
    decimal dec;
    uint64_t m = biased ? frac | 1ull << 52 : frac;
    int e2 = biased ? (int)biased - 1075 : -1074;
    if (m) {
        int z = __builtin_clzll(m);
        m <<= z;
        e2 -= z;
    }
    dec.n = 0;
    dec.exp10 = 0;
    if (lc == 'f') {
        if (m)
            fixed(m, e2, precision, &dec);
        return (size_t)(layout_fixed(o, &dec, precision, alt) - out);
    }
    int P = lc == 'e' ? precision + 1 : precision ? precision : 1;
    if (m)
        significant(m, e2, v < 0 ? -v : v, P, &dec);
    if (lc == 'e')
        return (size_t)(layout_exp(o, &dec, precision, alt, upper) - out);
    int x = dec.n ? dec.exp10 : 0;
    if (x < P && x >= -4) {
        int f = alt ? P - 1 - x : dec.n - 1 - x;
        return (size_t)(layout_fixed(o, &dec, f > 0 ? f : 0, alt) - out);
    }
    int f = alt ? P - 1 : dec.n - 1;
    return (size_t)(layout_exp(o, &dec, f > 0 ? f : 0, alt, upper) - out);
}

void etw_strbuf_float(etw_strbuf *sb, double v, char conv, int precision, unsigned flags)
{
    if (etw_strbuf_reserve(sb, ETW_FMT_FLOAT_MAX(precision)) != 0)
        return;
    sb->len += etw_fmt_float(sb->data + sb->len, v, conv, precision, flags);
    sb->data[sb->len] = '\0';
}
