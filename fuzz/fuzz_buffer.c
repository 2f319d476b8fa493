/* Fuzz target: the input is one ETW buffer. Parses its header, walks its records the way a
 * consumer does (from offset 72 in 8-byte steps, to the filled offset or the 0xFFFFFFFF end
 * marker), expands each record's extended items and parses the first record's payload as a
 * log-file header. Beyond what ASan/UBSan catch, it aborts when a parser reports a span (record,
 * payload, extended item, name) that does not lie inside the bytes it was given, since every
 * consumer trusts those spans without checking again, when etw_record_check (how a buffer
 * stream checks records at Add) gives another verdict or size than etw_record_parse, and when
 * etw_record_parse_hot (the merge's inline parse) takes a record etw_record_parse refuses or
 * fills it differently. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "format/buffer_header.h"
#include "format/logfile_header.h"
#include "format/record.h"
#include "format/record_hot.h"
#include "format/record_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a span, so ASan reports a span that points outside the input. */
static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc ^= p[i];
    sink ^= acc;
}

static void check_span(const uint8_t *base, size_t n, const uint8_t *p, size_t len)
{
    if (p < base || (size_t)(p - base) > n || len > n - (size_t)(p - base))
        abort();
    touch(p, len);
}

static void check_record(const uint8_t *p, size_t n, const etw_record *rec)
{
    if (rec->size == 0 || rec->size > n)
        abort(); /* a zero size would make the walk loop forever */
    check_span(p, rec->size, p + rec->payload_off, rec->payload_len);
    if (rec->ext_len)
        check_span(p, rec->size, p + rec->ext_off, rec->ext_len);
    /* More slots than any record kind can fill, so a miscount shows as n != ext_count. */
    EVENT_HEADER_EXTENDED_DATA_ITEM items[32];
    unsigned got = etw_record_ext_items(rec, p, items, 32);
    if (got > 32 || (rec->ext_count <= 32 && got != rec->ext_count))
        abort();
    for (unsigned i = 0; i < got; i++)
        check_span(p, rec->size, (const uint8_t *)(uintptr_t)items[i].DataPtr, items[i].DataSize);
    /* A short cap must be honoured too. */
    if (got > 1 && etw_record_ext_items(rec, p, items, 1) != 1)
        abort();
}

static void try_logfile_header(const uint8_t *rp, const etw_record *rec)
{
    const uint8_t *payload = rp + rec->payload_off;
    etw_logfile_info info;
    if (etw_logfile_header_parse(payload, rec->payload_len, rec->is64, &info) != ETW_OK)
        return;
    check_span(payload, rec->payload_len, payload + info.logger_name_off, info.logger_name_len);
    check_span(payload, rec->payload_len, payload + info.file_name_off, info.file_name_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    etw_buffer_header h;
    if (etw_buffer_header_parse(data, size, &h) != ETW_OK)
        return 0;
    /* Compressed buffers hold an XCA stream, not records; fuzz_xca covers that. The record
     * walk still runs on them: parsers must survive any bytes. */
    size_t end = h.filled < size ? h.filled : size;
    size_t off = ETW_BUFFER_HEADER_SIZE;
    int first = 1;
    while (off + 4 <= end && etw_rd32(data + off) != 0xFFFFFFFFu) {
        etw_record rec;
        uint16_t checked_size = 0;
        memset(&rec, 0, sizeof rec); /* padding compares below: both start cleared */
        etw_status st = etw_record_parse(data + off, end - off, &rec);
        /* The cheap check a buffer stream takes buffers with must give parse's verdict. */
        if (etw_record_check(data + off, end - off, &checked_size) != st ||
            (st == ETW_OK && checked_size != rec.size))
            abort();
        /* The stream walk's inline recognition (format/record_walk.h) may only take records the
         * reference accepts, at the reference's size. */
        uint32_t walked = etw_record_walk_size(data + off, end - off);
        if (walked && (st != ETW_OK || walked != rec.size))
            abort();
        /* The inline parse takes only what the reference accepts, and fills it alike (both
         * start from a cleared record and leave padding alone: tests/format/test_record_check.c). */
        etw_record hot;
        const etw_record_ctx none = {0};
        memset(&hot, 0, sizeof hot);
        if (etw_record_parse_hot(data + off, end - off, &hot, &none) &&
            (st != ETW_OK || memcmp(&hot, &rec, sizeof hot) != 0))
            abort();
        if (st != ETW_OK)
            break;
        check_record(data + off, end - off, &rec);
        if (first)
            try_logfile_header(data + off, &rec);
        first = 0;
        off += etw_align8(rec.size);
    }
    return 0;
}
