/* pcapng blocks (see pcapng_writer.h). Every block is: type, total length, body, options
 * (code, length, value padded to 4), opt_endofopt, total length again. */
#include "pcapng_writer.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"

#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 0x00000001u
#define BLOCK_EPB 0x00000006u
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define EPB_FLAGS 2

/* Room for a block of n bytes at block_of(w). */
static int reserve(pcapng_writer *w, size_t n)
{
    if (etw_strbuf_reserve(&w->block, n) != 0) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

static uint8_t *block_of(pcapng_writer *w)
{
    return (uint8_t *)w->block.data;
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static size_t put_option(uint8_t *p, uint16_t code, const void *value, size_t len)
{
    etw_wr16(p, code);
    etw_wr16(p + 2, (uint16_t)len);
    memcpy(p + 4, value, len);
    memset(p + 4 + len, 0, pad4(len) - len);
    return 4 + pad4(len);
}

static size_t option_size(const char *s)
{
    return s && s[0] ? 4 + pad4(strlen(s) > 0xFFF0 ? 0xFFF0 : strlen(s)) : 0;
}

static size_t put_text_option(uint8_t *p, uint16_t code, const char *s)
{
    if (!s || !s[0])
        return 0;
    size_t n = strlen(s);
    return put_option(p, code, s, n > 0xFFF0 ? 0xFFF0 : n);
}

/* Closes the block of body length n at w->block: end-of-options, trailing length, write. */
static int finish_block(pcapng_writer *w, uint32_t type, size_t n)
{
    uint8_t *b = block_of(w);
    etw_wr32(b + n, 0); /* opt_endofopt */
    n += 4;
    uint32_t total = (uint32_t)(n + 4);
    etw_wr32(b, type);
    etw_wr32(b + 4, total);
    etw_wr32(b + n, total);
    if (fwrite(b, 1, total, w->out) != total)
        w->failed = 1;
    return w->failed ? -1 : 0;
}

int pcapng_writer_open(pcapng_writer *w, FILE *out, const char *application)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    if (reserve(w, 64 + option_size(application)) != 0)
        return -1;
    uint8_t *p = block_of(w);
    etw_wr32(p + 8, 0x1A2B3C4Du);                 /* byte-order magic */
    etw_wr16(p + 12, 1);                          /* version 1.0 */
    etw_wr16(p + 14, 0);
    etw_wr64(p + 16, UINT64_MAX);                 /* section length not known */
    size_t n = 24 + put_text_option(p + 24, SHB_USERAPPL, application);
    return finish_block(w, BLOCK_SHB, n);
}

void pcapng_writer_close(pcapng_writer *w)
{
    etw_strbuf_free(&w->block);
}

int pcapng_write_interface(pcapng_writer *w, uint16_t linktype, const char *name, const char *description)
{
    if (reserve(w, 64 + option_size(name) + option_size(description)) != 0)
        return -1;
    uint8_t *p = block_of(w);
    etw_wr16(p + 8, linktype);
    etw_wr16(p + 10, 0);
    etw_wr32(p + 12, 0); /* no snap length limit */
    size_t n = 16;
    n += put_text_option(p + n, IF_NAME, name);
    n += put_text_option(p + n, IF_DESCRIPTION, description);
    uint8_t resol = 7;
    n += put_option(p + n, IF_TSRESOL, &resol, 1);
    if (finish_block(w, BLOCK_IDB, n) != 0)
        return -1;
    return (int)w->interfaces++;
}

int pcapng_write_packet(pcapng_writer *w, uint32_t interface_id, uint64_t time_100ns, const uint8_t *data,
                        uint32_t captured, uint32_t original, uint32_t flags, const char *comment)
{
    if (reserve(w, 64 + pad4(captured) + option_size(comment)) != 0)
        return -1;
    uint8_t *p = block_of(w);
    etw_wr32(p + 8, interface_id);
    etw_wr32(p + 12, (uint32_t)(time_100ns >> 32));
    etw_wr32(p + 16, (uint32_t)time_100ns);
    etw_wr32(p + 20, captured);
    etw_wr32(p + 24, original < captured ? captured : original);
    if (captured)
        memcpy(p + 28, data, captured);
    memset(p + 28 + captured, 0, pad4(captured) - captured);
    size_t n = 28 + pad4(captured);
    if (flags) {
        uint8_t f[4];
        etw_wr32(f, flags);
        n += put_option(p + n, EPB_FLAGS, f, 4);
    }
    n += put_text_option(p + n, OPT_COMMENT, comment);
    return finish_block(w, BLOCK_EPB, n);
}
