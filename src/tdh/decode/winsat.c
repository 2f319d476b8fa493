/* Compressed XML of merge-time events: WinSAT assessments and PerfTrack scenario manifests
 * (see winsat.h). */
#include "tdh/decode/winsat.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "format/xca.h"
#include "tdh/decode/text_out.h"

/* The merge-time events that carry LZNT1-compressed XML, and where their payloads keep it. */
typedef struct xml_event {
    GUID guid;
    uint64_t opcodes;   /* bit n: opcode n */
    uint8_t size_at;    /* offset of the u32 uncompressed size */
    uint8_t data_at;    /* offset of the LZNT1 stream (it runs to the end of the payload) */
    uint8_t utf16;      /* UTF-16LE text, else UTF-8 */
} xml_event;

static const xml_event xml_events[] = {
    /* WinSAT: u32 Version, u32 UncompressedSize, UTF-16LE XML (opcodes 33, 35, 37). */
    {{0xed54dff8, 0xc409, 0x4cf6, {0xbf, 0x83, 0x05, 0xe1, 0xe6, 0x1a, 0x09, 0xc4}},
     (1ull << 33) | (1ull << 35) | (1ull << 37), 4, 8, 1},
    /* (a new opcode here goes into ETW_WINSAT_XML_OPCODES too) */
    /* PerfTrack scenario manifests (opcode 33): u32 UncompressedSize, UTF-8 XML — found in
     * uiforetw/out-relogged.etl, all 52 inflate to exactly their declared size. */
    {{0xbf6ef1cb, 0x89b5, 0x490a, {0x80, 0xac, 0xb1, 0x80, 0xcf, 0xbc, 0xff, 0x0f}}, 1ull << 33, 0, 4, 0},
};

static const xml_event *xml_event_of(const EVENT_RECORD *rec)
{
    unsigned op = rec->EventHeader.EventDescriptor.Opcode;
    if (!etw_winsat_opcode_may_carry_xml(rec)) /* one test answers almost every event */
        return NULL;
    for (size_t i = 0; i < sizeof xml_events / sizeof xml_events[0]; i++)
        if (op < 64 && (xml_events[i].opcodes >> op & 1) && etw_guid_equal(&rec->EventHeader.ProviderId, &xml_events[i].guid))
            return &xml_events[i];
    return NULL;
}

void etw_winsat_scratch_free(etw_winsat_scratch *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

int etw_winsat_is_xml_event(const EVENT_RECORD *rec)
{
    return xml_event_of(rec) != NULL;
}

static int inflate(const xml_event *x, const uint8_t *p, size_t n, etw_winsat_scratch *s, const uint8_t **xml,
                   size_t *xml_n)
{
    *xml = NULL;
    *xml_n = 0;
    if (!p || n < x->data_at)
        return ETW_WINSAT_ESHORT;
    /* The size is checked before anything is allocated: it comes from the file. */
    uint32_t size = etw_rd32(p + x->size_at);
    if (size == 0 || (x->utf16 && (size & 1)) || size > ETW_WINSAT_MAX_XML)
        return ETW_WINSAT_ESIZE;
    if (s->cap < size) {
        uint8_t *b = realloc(s->buf, size);
        if (!b)
            return ETW_WINSAT_ENOMEM;
        s->buf = b;
        s->cap = size;
    }
    /* out_cap = the declared size: a stream that inflates to more fails inside the decoder
     * (never writes past it), one that inflates to less is rejected below. */
    size_t got = 0;
    if (etw_xca_lznt1_decompress(p + x->data_at, n - x->data_at, s->buf, size, &got) != ETW_XCA_OK || got != size)
        return ETW_WINSAT_ECORRUPT;
    *xml = s->buf;
    *xml_n = got;
    return ETW_WINSAT_OK;
}

int etw_winsat_inflate(const uint8_t *p, size_t n, etw_winsat_scratch *s, const uint8_t **xml,
                       size_t *xml_n)
{
    return inflate(&xml_events[0], p, n, s, xml, xml_n);
}

const char *etw_winsat_strerror(int code)
{
    switch (code) {
    case ETW_WINSAT_OK:
        return "ok";
    case ETW_WINSAT_ESHORT:
        return "payload shorter than the WinSAT header";
    case ETW_WINSAT_ESIZE:
        return "implausible uncompressed size";
    case ETW_WINSAT_ENOMEM:
        return "out of memory";
    case ETW_WINSAT_ECORRUPT:
        return "corrupt LZNT1 data";
    default:
        return "unknown error";
    }
}

static void field_name(etw_strbuf *out, size_t start, int json, const char *name)
{
    if (out->len > start)
        etw_strbuf_puts(out, json ? "," : "; ");
    if (json)
        etw_strbuf_putc(out, '"');
    etw_strbuf_puts(out, name);
    etw_strbuf_puts(out, json ? "\":" : "=");
}

int etw_winsat_append_xml(const EVENT_RECORD *rec, int json, etw_winsat_scratch *s, etw_strbuf *out)
{
    return etw_winsat_append_xml_at(rec, json ? ETW_ESC_JSON : ETW_ESC_NONE, s, out, 0);
}

int etw_winsat_append_xml_at(const EVENT_RECORD *rec, int esc, etw_winsat_scratch *s, etw_strbuf *out,
                             size_t start)
{
    const int json = esc == ETW_ESC_JSON;
    const xml_event *x = xml_event_of(rec);
    if (!x)
        return -1;
    const uint8_t *p = rec->UserData;
    size_t n = p ? rec->UserDataLength : 0;
    const uint8_t *xml;
    size_t xml_n;
    int r = inflate(x, p, n, s, &xml, &xml_n);
    if (r == ETW_WINSAT_OK) {
        field_name(out, start, json, "Xml");
        if (json)
            etw_strbuf_putc(out, '"');
        if (x->utf16)
            etw_text_utf16(out, xml, xml_n, esc);
        else
            etw_text_ansi(out, xml, xml_n, 1, esc);
        if (json)
            etw_strbuf_putc(out, '"');
        return 1;
    }
    /* Not inflatable: keep the bytes visible, and say why. */
    if (n > x->data_at) {
        field_name(out, start, json, "CompressedXml");
        etw_strbuf_puts(out, json ? "\"0x" : "0x");
        etw_strbuf_hex(out, p + x->data_at, n - x->data_at);
        if (json)
            etw_strbuf_putc(out, '"');
    }
    field_name(out, start, json, "XmlError");
    if (json)
        etw_strbuf_putc(out, '"');
    etw_strbuf_puts(out, etw_winsat_strerror(r));
    if (json)
        etw_strbuf_putc(out, '"');
    return 0;
}
