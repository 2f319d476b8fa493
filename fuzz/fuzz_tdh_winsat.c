/* Fuzz target: a WinSAT assessment or PerfTrack metadata event (built-in schema +
 * LZNT1-compressed XML, see src/tdh/winsat.h) formatted as the CLI does. Input: u8 selector
 * (bits 0-1: opcode 33, 35, 37, or 36 which is not an XML event; bit 2: JSON; bit 3: PerfTrack
 * instead of WinSAT, where 33 is the manifest and 34 stands in for 35), then the payload. In
 * text, the XML escaped for dump's text line and CSV field as it is written must be the plain
 * text escaped afterwards, or abort. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/event_text.h"
#include "tdh/decode/text_out.h"
#include "tdh/decode/winsat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const GUID winsat = {0xed54dff8, 0xc409, 0x4cf6, {0xbf, 0x83, 0x05, 0xe1, 0xe6, 0x1a, 0x09, 0xc4}};
    static const GUID perftrack = {0xbf6ef1cb, 0x89b5, 0x490a, {0x80, 0xac, 0xb1, 0x80, 0xcf, 0xbc, 0xff, 0x0f}};
    static const uint8_t ops[4] = {33, 35, 37, 36};
    if (size < 1 || size - 1 > 65535)
        return 0;
    EVENT_RECORD rec;
    memset(&rec, 0, sizeof rec);
    int pt = (data[0] >> 3) & 1;
    rec.EventHeader.ProviderId = pt ? perftrack : winsat;
    rec.EventHeader.Flags = EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER;
    rec.EventHeader.EventDescriptor.Opcode = pt && ops[data[0] & 3] == 35 ? 34 : ops[data[0] & 3];
    rec.EventHeader.EventDescriptor.Version = (UCHAR)pt;
    /* A copy of exactly the payload, so reads past it are caught (never NULL: the trace
     * readers always point UserData into the buffer, even for an empty payload). */
    uint8_t *p = malloc(size > 1 ? size - 1 : 1);
    if (!p)
        return 0;
    memcpy(p, data + 1, size - 1);
    rec.UserData = p;
    rec.UserDataLength = (USHORT)(size - 1);
    int json = (data[0] >> 2) & 1;
    etw_strbuf out = {0};
    etw_winsat_scratch ws = {0};
    etw_event_format_fields(&rec, json, &out);
    etw_winsat_append_xml(&rec, json, &ws, &out);
    for (int esc = ETW_ESC_LINE; !json && esc <= ETW_ESC_CSV; esc++) {
        etw_strbuf plain = {0}, got = {0}, want = {0};
        etw_strbuf_puts(&plain, "A=1");
        etw_strbuf_puts(&got, "A=1");
        int r = etw_winsat_append_xml_at(&rec, ETW_ESC_NONE, &ws, &plain, 0);
        if (etw_winsat_append_xml_at(&rec, esc, &ws, &got, 0) != r)
            abort();
        etw_strbuf_line_escaped(&want, plain.data, plain.len, esc == ETW_ESC_CSV);
        if (!got.failed && !want.failed && (got.len != want.len || memcmp(got.data, want.data, got.len) != 0))
            abort();
        etw_strbuf_free(&plain);
        etw_strbuf_free(&got);
        etw_strbuf_free(&want);
    }
    etw_strbuf_free(&out);
    etw_winsat_scratch_free(&ws);
    free(p);
    return 0;
}
