/* [MS-XCA] §2.1–2.2 LZ77+Huffman (COMPRESSION_FORMAT_XPRESS_HUFF) decoder. No compressed ETW
 * buffer in the corpus uses it, but the log-file header may announce it.
 *
 * Stream layout (§2.2.4): blocks of 65536 output bytes. Each block starts with 256 bytes giving
 * a 4-bit code length for each of 512 symbols (low nibble = even symbol); codes are canonical,
 * assigned in order of (length, symbol). Then a bit stream of 16-bit little-endian words read
 * from the most significant bit, kept 32 bits wide: symbols < 256 are literals; a symbol
 * 256 + (offset_bits << 4 | length_code) is a match whose long length comes as raw bytes at the
 * current read position (interleaved with the bit words), followed by offset_bits raw bits of
 * the distance below its implied top bit. Symbol 256 with all input consumed marks the end.
 * The stream does not carry its length: decoding stops when out_cap bytes are produced. */
#include "format/xca.h"

#include "base/bytes.h"

#define TABLE_BYTES 256u
#define SYMBOLS 512u
#define MAX_CODE_BITS 15u
#define FAST_BITS 10u
#define BLOCK_OUTPUT 65536u
#define LONG_CODE 0xFFFFu /* fast-table entry: code longer than FAST_BITS */

typedef struct {
    uint16_t fast[1u << FAST_BITS];      /* (length << 9) | symbol; 0 = no such code */
    uint16_t sorted[SYMBOLS];            /* symbols by (length, value) */
    uint16_t first_index[MAX_CODE_BITS + 2]; /* index in sorted of the first code of a length */
    uint32_t first_code[MAX_CODE_BITS + 2];  /* first 15-bit left-aligned code of a length */
} decode_table;

/* Builds the canonical decoding tables from the 256-byte length table (§2.2.4). Fails if the
 * lengths ask for more codes than 15 bits hold. An incomplete code is accepted; landing on an
 * unassigned code is caught while decoding. */
static int build(decode_table *t, const uint8_t *lengths)
{
    unsigned count[MAX_CODE_BITS + 1] = {0};
    for (unsigned s = 0; s < SYMBOLS; s++)
        count[(lengths[s / 2] >> (4 * (s & 1))) & 15u]++;
    uint32_t code = 0;
    unsigned index = 0;
    for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
        t->first_index[len] = (uint16_t)index;
        t->first_code[len] = code;
        code += (uint32_t)count[len] << (MAX_CODE_BITS - len);
        index += count[len];
        if (code > (1u << MAX_CODE_BITS))
            return 0;
    }
    t->first_code[MAX_CODE_BITS + 1] = code; /* end of the assigned code space */
    t->first_index[MAX_CODE_BITS + 1] = (uint16_t)index;

    unsigned next[MAX_CODE_BITS + 1];
    for (unsigned len = 1; len <= MAX_CODE_BITS; len++)
        next[len] = t->first_index[len];
    for (unsigned s = 0; s < SYMBOLS; s++) {
        unsigned len = (lengths[s / 2] >> (4 * (s & 1))) & 15u;
        if (len)
            t->sorted[next[len]++] = (uint16_t)s;
    }

    memset(t->fast, 0, sizeof t->fast);
    const unsigned shift = MAX_CODE_BITS - FAST_BITS;
    for (unsigned len = 1; len <= FAST_BITS; len++) {
        for (unsigned k = 0; k < count[len]; k++) {
            unsigned first = (t->first_code[len] + (k << (MAX_CODE_BITS - len))) >> shift;
            uint16_t entry = (uint16_t)((len << 9) | t->sorted[t->first_index[len] + k]);
            for (unsigned e = 0; e < (1u << (FAST_BITS - len)); e++)
                t->fast[first + e] = entry;
        }
    }
    /* Prefixes of longer codes go to the slow path. */
    uint32_t long_start = t->first_code[FAST_BITS + 1], long_end = code;
    for (uint32_t e = long_start >> shift; (e << shift) < long_end; e++)
        t->fast[e] = LONG_CODE;
    return 1;
}

/* Symbol and length for the 15-bit code prefix c; 0 length if c is not an assigned code. */
static unsigned decode_symbol(const decode_table *t, uint32_t c, unsigned *len)
{
    unsigned e = t->fast[c >> (MAX_CODE_BITS - FAST_BITS)];
    if (e != LONG_CODE) {
        *len = e >> 9;
        return e & 511u;
    }
    for (unsigned l = FAST_BITS + 1; l <= MAX_CODE_BITS; l++) {
        if (c < t->first_code[l + 1]) {
            *len = l;
            return t->sorted[t->first_index[l] + ((c - t->first_code[l]) >> (MAX_CODE_BITS - l))];
        }
    }
    *len = 0;
    return 0;
}

/* The §2.2.4 bit reader. Past the end of input it shifts in zero words but counts them, so a
 * symbol that would use such a padding bit is reported instead of decoded. */
typedef struct {
    const uint8_t *in;
    size_t n, pos;    /* pos: next unread byte, for bit words and raw length bytes alike */
    uint32_t bits;    /* next bits, most significant first; 16 + extra of them are valid */
    int extra;
    unsigned phantom; /* zero words shifted in past the end of input */
} bit_reader;

static uint16_t next_word(bit_reader *r)
{
    if (r->n - r->pos < 2) {
        r->phantom++;
        return 0;
    }
    uint16_t w = etw_rd16(r->in + r->pos);
    r->pos += 2;
    return w;
}

/* Drops n (<= 16) bits; false if any of them was padding. */
static int consume(bit_reader *r, unsigned n)
{
    r->bits = n < 32 ? r->bits << n : 0;
    r->extra -= (int)n;
    if (r->extra < 0) {
        r->bits |= (uint32_t)next_word(r) << (unsigned)(-r->extra);
        r->extra += 16;
    }
    return (unsigned)(16 + r->extra) >= 16u * r->phantom;
}

static int raw_bytes(bit_reader *r, unsigned n, uint32_t *v)
{
    if (r->n - r->pos < n)
        return 0;
    *v = n == 1 ? r->in[r->pos] : n == 2 ? etw_rd16(r->in + r->pos) : etw_rd32(r->in + r->pos);
    r->pos += n;
    return 1;
}

/* Full match length from the 4-bit length code (§2.2.4); 0 on truncation or a bad field. */
static uint64_t match_length(bit_reader *r, unsigned code)
{
    uint32_t v;
    uint64_t len = code;
    if (code == 15) {
        if (!raw_bytes(r, 1, &v))
            return 0;
        len = v;
        if (len == 255) {
            if (!raw_bytes(r, 2, &v))
                return 0;
            len = v;
            if (len == 0) { /* 32-bit form, as in Plain LZ77 */
                if (!raw_bytes(r, 4, &v))
                    return 0;
                len = v;
            }
            if (len < 15)
                return 0;
            len -= 15;
        }
        len += 15;
    }
    return len + 3;
}

int etw_xca_huffman_decompress(const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                               size_t *out_n)
{
    static uint8_t no_output;
    decode_table table;
    *out_n = 0;
    if (in == NULL && in_n != 0)
        return ETW_XCA_ECORRUPT;
    if (out == NULL) {
        if (out_cap != 0)
            return ETW_XCA_EOVERFLOW;
        out = &no_output;
    }
    uint8_t *op = out;
    uint8_t *const op_end = out + out_cap;
    bit_reader r = {in, in_n, 0, 0, 0, 0};

    while (op != op_end) {
        /* A new block: its table sits at the current read position. */
        if (in_n - r.pos < TABLE_BYTES + 4 || !build(&table, in + r.pos))
            return ETW_XCA_ECORRUPT;
        r.pos += TABLE_BYTES;
        r.bits = (uint32_t)next_word(&r) << 16;
        r.bits |= next_word(&r);
        r.extra = 16;
        r.phantom = 0;
        size_t block_left = BLOCK_OUTPUT; /* a match may run past the block end */
        while (op != op_end && block_left > 0) {
            unsigned len_bits;
            unsigned sym = decode_symbol(&table, r.bits >> 17, &len_bits);
            if (len_bits == 0 || !consume(&r, len_bits))
                return ETW_XCA_ECORRUPT;
            if (sym < 256) {
                *op++ = (uint8_t)sym;
                block_left--;
                continue;
            }
            if (sym == 256 && r.pos >= in_n)
                goto done; /* the end-of-stream symbol, with all input used */
            sym -= 256;
            uint64_t len = match_length(&r, sym & 15u);
            unsigned offset_bits = sym >> 4;
            size_t dist = ((size_t)1 << offset_bits) +
                          (offset_bits ? (size_t)(r.bits >> (32 - offset_bits)) : 0);
            if (len == 0 || !consume(&r, offset_bits))
                return ETW_XCA_ECORRUPT;
            if (dist > (size_t)(op - out))
                return ETW_XCA_ECORRUPT;
            if (len > (uint64_t)(op_end - op))
                return ETW_XCA_EOVERFLOW;
            op = etw_xca_copy_match(op, op_end, dist, (size_t)len);
            block_left = len >= block_left ? 0 : block_left - (size_t)len;
        }
    }
done:
    *out_n = (size_t)(op - out);
    return ETW_XCA_OK;
}
