/* WinSAT assessment events that merged traces carry (provider ed54dff8-c409-4cf6-bf83-05e1e61a09c4,
 * opcodes 33 WinSPR, 35 Metrics, 37 SystemConfig; notes §4.4). Payload, established from the
 * corpus: u32 Version (1 or 2 seen), u32 UncompressedSize, then the assessment XML as UTF-16LE
 * compressed with LZNT1 up to the end of the payload. The built-in schema (kernel_tables.c)
 * names the two u32s; this module inflates the rest for display as a string field "Xml".
 * PerfTrack scenario manifests (provider bf6ef1cb-89b5-490a-80ac-b180cfbcff0f, opcode 33) are
 * the same idea with u32 UncompressedSize first and UTF-8 XML; etw_winsat_is_xml_event and
 * etw_winsat_append_xml serve both, etw_winsat_inflate reads the WinSAT layout. */
#ifndef ETWIRE_TDH_WINSAT_H
#define ETWIRE_TDH_WINSAT_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/evntcons.h>

#include "base/strbuf.h"

/* Largest UncompressedSize accepted (real ones are a few KiB to a few dozen KiB). */
#define ETW_WINSAT_MAX_XML (16u << 20)

/* Caller-owned output buffer reused across events: it grows to the largest XML seen and is
 * freed with etw_winsat_scratch_free, so steady-state decoding allocates nothing. */
typedef struct etw_winsat_scratch {
    uint8_t *buf;
    size_t cap;
} etw_winsat_scratch;

void etw_winsat_scratch_free(etw_winsat_scratch *s);

/* 1 if rec is one of the compressed-XML events (WinSAT, PerfTrack manifests). */
int etw_winsat_is_xml_event(const EVENT_RECORD *rec);

enum {
    ETW_WINSAT_OK = 0,
    ETW_WINSAT_ESHORT = -1,   /* payload shorter than the 8-byte header */
    ETW_WINSAT_ESIZE = -2,    /* UncompressedSize 0, odd, or above ETW_WINSAT_MAX_XML */
    ETW_WINSAT_ENOMEM = -3,
    ETW_WINSAT_ECORRUPT = -4, /* the LZNT1 stream is malformed or inflates to another size */
};

/* Inflates the XML of a WinSAT payload (p, n) into s: *xml points into s->buf, *xml_n bytes of
 * UTF-16LE. Returns ETW_WINSAT_OK or a negative code above. */
int etw_winsat_inflate(const uint8_t *p, size_t n, etw_winsat_scratch *s, const uint8_t **xml,
                       size_t *xml_n);

/* Static English text for a code of etw_winsat_inflate. */
const char *etw_winsat_strerror(int code);

/* For a WinSAT XML event: appends the XML as one more field after fields already formatted by
 * etw_event_format_fields (text `; Xml=...`, JSON `,"Xml":"..."`; separator left out when out
 * is empty). When it cannot be inflated, appends the compressed bytes as hex
 * (`CompressedXml=0x..`) and the reason (`XmlError=...`) instead. Returns 1 if the XML was
 * appended, 0 on error, -1 if rec is not a WinSAT XML event (nothing appended). */
int etw_winsat_append_xml(const EVENT_RECORD *rec, int json, etw_winsat_scratch *s, etw_strbuf *out);
/* The same for fields formatted into a longer string, from out->data + start on (the
 * separator is left out when nothing follows start), the XML escaped as esc says (ETW_ESC_*,
 * text_out.h: JSON, as it is, or for dump's text line or CSV field; the rest of what it writes
 * never needs escaping, and it writes no NUL). */
int etw_winsat_append_xml_at(const EVENT_RECORD *rec, int esc, etw_winsat_scratch *s, etw_strbuf *out,
                             size_t start);

/* Every opcode such an event has (WinSAT 33, 35, 37; PerfTrack 33): a formatter that asks
 * about every event tests this first, without a call. */
#define ETW_WINSAT_XML_OPCODES ((1ull << 33) | (1ull << 35) | (1ull << 37))

static inline int etw_winsat_opcode_may_carry_xml(const EVENT_RECORD *rec)
{
    unsigned op = rec->EventHeader.EventDescriptor.Opcode;
    return op < 64 && (ETW_WINSAT_XML_OPCODES >> op & 1);
}

#endif
