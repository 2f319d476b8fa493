/* Fuzz target: an untrusted TRACE_EVENT_INFO (as embedded by EventMetadata events) and a
 * payload walked and formatted with it, also the way dump does (etw_event_decoding_*: the same
 * fields after other text, or abort; in the text and CSV line modes the same bytes as escaping
 * the plain text afterwards, or abort). Input: u32 blob length, blob, u8 flags (bit 0: 32-bit
 * pointers, bit 2: JSON, bit 3: the line modes too), payload (rest). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/bytes.h"
#include "base/strbuf.h"
#include "tdh/decode/event_text.h"
#include "tdh/decode/text_out.h"
#include "tdh/store/schema_lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    size_t bl = etw_rd32(data);
    if (bl > size - 5)
        bl = size - 5;
    const uint8_t *payload = data + 4 + bl + 1;
    size_t pl = size - 5 - bl;
    uint8_t flags = data[4 + bl];
    /* Learned the way a merged trace delivers it: an EventMetadata EventInfo event. */
    EVENT_RECORD meta;
    memset(&meta, 0, sizeof meta);
    meta.EventHeader.ProviderId = etw_metadata_guid;
    meta.EventHeader.Flags = EVENT_HEADER_FLAG_CLASSIC_HEADER;
    meta.EventHeader.EventDescriptor.Opcode = (flags & 2) ? 33 : 32;
    meta.UserData = (void *)(uintptr_t)(data + 4);
    meta.UserDataLength = (USHORT)(bl > 65535 ? 65535 : bl);
    etwire_tdh_observe(&meta);
    if (bl >= 48) {
        /* An event that the blob describes (provider, id, version taken from the blob). */
        EVENT_RECORD rec;
        memset(&rec, 0, sizeof rec);
        rec.EventHeader.ProviderId.Data1 = etw_rd32(data + 4);
        memcpy(&rec.EventHeader.ProviderId, data + 4, 16);
        rec.EventHeader.EventDescriptor.Id = etw_rd16(data + 4 + 32);
        rec.EventHeader.EventDescriptor.Version = data[4 + 34];
        rec.EventHeader.Flags = (flags & 1) ? EVENT_HEADER_FLAG_32_BIT_HEADER : EVENT_HEADER_FLAG_64_BIT_HEADER;
        rec.UserData = (void *)(uintptr_t)payload;
        rec.UserDataLength = (USHORT)(pl > 65535 ? 65535 : pl);
        int json = (flags & 4) != 0;
        etw_strbuf a = {0};
        etw_event_format_fields(&rec, json, &a);
        etw_event_describe(&rec, &a, &a);
        /* dump's way (names as views, fields after other text): the same fields, or a bug. */
        etw_strbuf b = {0}, pb = {0}, eb = {0}, c = {0};
        etw_event_format_fields(&rec, json, &c);
        etw_event_decoding dc;
        etw_text_view pv, ev;
        etw_event_decoding_begin(&dc, &rec);
        etw_event_decoding_names(&dc, &pb, &eb, &pv, &ev);
        etw_strbuf_puts(&b, "prefix");
        etw_event_decoding_fields(&dc, json ? ETW_ESC_JSON : ETW_ESC_NONE, &b);
        if (!b.failed && !c.failed && (b.len != 6 + c.len || (c.len && memcmp(b.data + 6, c.data, c.len) != 0)))
            abort();
        for (int esc = ETW_ESC_LINE; !json && (flags & 8) && esc <= ETW_ESC_CSV; esc++) {
            /* Escaped as written: what escaping the plain text gives (or, where the decoder
             * says it cannot, the plain text itself). */
            etw_strbuf_reset(&b);
            etw_strbuf_reset(&pb);
            etw_event_decoding_fields(&dc, esc, &b);
            if (etw_event_decoding_escapes(&dc)) {
                etw_strbuf_line_escaped(&pb, c.data ? c.data : "", c.len, esc == ETW_ESC_CSV);
                if (b.data && memchr(b.data, 0, b.len))
                    abort();
            } else {
                etw_strbuf_append(&pb, c.data ? c.data : "", c.len);
            }
            if (!b.failed && !pb.failed && (b.len != pb.len || (b.len && memcmp(b.data, pb.data, b.len) != 0)))
                abort();
        }
        etw_strbuf_free(&a);
        etw_strbuf_free(&b);
        etw_strbuf_free(&c);
        etw_strbuf_free(&pb);
        etw_strbuf_free(&eb);
    }
    etwire_tdh_reset();
    return 0;
}
