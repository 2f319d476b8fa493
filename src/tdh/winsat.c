/* WinSAT assessment XML (see winsat.h). */
#include "tdh/winsat.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "format/xca.h"
#include "tdh/text_out.h"

static const GUID winsat_guid = {0xed54dff8, 0xc409, 0x4cf6, {0xbf, 0x83, 0x05, 0xe1, 0xe6, 0x1a, 0x09, 0xc4}};

void etw_winsat_scratch_free(etw_winsat_scratch *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

int etw_winsat_is_xml_event(const EVENT_RECORD *rec)
{
    unsigned op = rec->EventHeader.EventDescriptor.Opcode;
    return etw_guid_equal(&rec->EventHeader.ProviderId, &winsat_guid) && (op == 33 || op == 35 || op == 37);
}

int etw_winsat_inflate(const uint8_t *p, size_t n, etw_winsat_scratch *s, const uint8_t **xml,
                       size_t *xml_n)
{
    *xml = NULL;
    *xml_n = 0;
    if (!p || n < 8)
        return ETW_WINSAT_ESHORT;
    /* The size is checked before anything is allocated: it comes from the file. */
    uint32_t size = etw_rd32(p + 4);
    if (size == 0 || (size & 1) || size > ETW_WINSAT_MAX_XML)
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
    if (etw_xca_lznt1_decompress(p + 8, n - 8, s->buf, size, &got) != ETW_XCA_OK || got != size)
        return ETW_WINSAT_ECORRUPT;
    *xml = s->buf;
    *xml_n = got;
    return ETW_WINSAT_OK;
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

static void field_name(etw_strbuf *out, int json, const char *name)
{
    if (out->len)
        etw_strbuf_puts(out, json ? "," : "; ");
    if (json)
        etw_strbuf_printf(out, "\"%s\":", name);
    else
        etw_strbuf_printf(out, "%s=", name);
}

int etw_winsat_append_xml(const EVENT_RECORD *rec, int json, etw_winsat_scratch *s, etw_strbuf *out)
{
    if (!etw_winsat_is_xml_event(rec))
        return -1;
    const uint8_t *p = rec->UserData;
    size_t n = p ? rec->UserDataLength : 0;
    const uint8_t *xml;
    size_t xml_n;
    int r = etw_winsat_inflate(p, n, s, &xml, &xml_n);
    if (r == ETW_WINSAT_OK) {
        field_name(out, json, "Xml");
        if (json)
            etw_strbuf_putc(out, '"');
        etw_text_utf16(out, xml, xml_n, json);
        if (json)
            etw_strbuf_putc(out, '"');
        return 1;
    }
    /* Not inflatable: keep the bytes visible, and say why. */
    if (n > 8) {
        field_name(out, json, "CompressedXml");
        etw_strbuf_puts(out, json ? "\"0x" : "0x");
        etw_text_hex(out, p + 8, n - 8);
        if (json)
            etw_strbuf_putc(out, '"');
    }
    field_name(out, json, "XmlError");
    if (json)
        etw_strbuf_putc(out, '"');
    etw_strbuf_puts(out, etw_winsat_strerror(r));
    if (json)
        etw_strbuf_putc(out, '"');
    return 0;
}
