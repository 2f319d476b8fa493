/* Fuzz target: schema records a trace embeds, kept raw on delivery and compiled by the lookups
 * that need them (tdh/sources/embedded_pending.h), with the scan that tells which provider a
 * kept manifest describes (manifest_providers.c). The input is a sequence of steps, each a u8
 * op, a little-endian u16 length (capped at what remains) and that many bytes. op & 3: 0 a
 * MetaData EventInfo record, 1 an EventMapInfo record, 2 a ManifestData chunk (envelope
 * included) of provider (op >> 2) & 3, all delivered as the session hook sees them; 3 a lookup
 * of that provider's event (id from the first two bytes), its map named by the bytes, or (op &
 * 0x10) the provider list. The trace's scope is then forgotten: LeakSanitizer reports any kept
 * record not freed. */
#include <stdint.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/manifest.h"
#include "tdh/store/schema_lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const GUID providers[4] = {
    {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}}, /* the seed manifest's */
    {0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}},
    {0x8e9f5090, 0x2d75, 0x4d03, {0x8a, 0x81, 0xe5, 0xaf, 0xbf, 0x85, 0xda, 0xf1}},
    {0x00000000, 0x0000, 0x0000, {0, 0, 0, 0, 0, 0, 0, 0}},
};

static void lookup(const GUID *g, const uint8_t *p, size_t n, int list)
{
    ULONG size = 0;
    if (list) {
        TdhEnumerateProviders(NULL, &size);
        return;
    }
    EVENT_RECORD r;
    memset(&r, 0, sizeof r);
    r.EventHeader.ProviderId = *g;
    r.EventHeader.EventDescriptor.Id = n >= 2 ? etw_rd16(p) : 1;
    r.EventHeader.Flags = EVENT_HEADER_FLAG_64_BIT_HEADER;
    TdhGetEventInformation(&r, 0, NULL, NULL, &size);
    WCHAR name[64];
    size_t i = 0;
    for (; i + 1 < sizeof name / sizeof name[0] && i < n / 2; i++)
        name[i] = (WCHAR)(etw_rd16(p + 2 * i) | 1); /* no NUL inside */
    name[i] = 0;
    size = 0;
    TdhGetEventMapInformation(&r, name, NULL, &size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GUID g;
    etw_manifest_sole_provider(data, size, &g);
    uint32_t outer = etw_decode_scope;
    etw_decode_scope = etw_decode_scope_new();
    LONGLONG when = 0;
    for (size_t pos = 0; pos + 3 <= size;) {
        uint8_t op = data[pos];
        size_t n = etw_rd16(data + pos + 1);
        pos += 3;
        if (n > size - pos)
            n = size - pos;
        const uint8_t *p = data + pos;
        pos += n;
        const GUID *prov = &providers[(op >> 2) & 3];
        if ((op & 3) == 3) {
            lookup(prov, p, n, op & 0x10);
            continue;
        }
        EVENT_RECORD r;
        memset(&r, 0, sizeof r);
        r.EventHeader.TimeStamp.QuadPart = ++when;
        r.UserData = (void *)(uintptr_t)p;
        r.UserDataLength = (USHORT)n;
        if ((op & 3) == 2) {
            r.EventHeader.ProviderId = *prov;
            r.EventHeader.EventDescriptor.Id = 0xFFFE;
            r.EventHeader.EventDescriptor.Opcode = 0xFE;
            r.EventHeader.Flags = EVENT_HEADER_FLAG_64_BIT_HEADER;
        } else {
            r.EventHeader.ProviderId = etw_metadata_guid;
            r.EventHeader.EventDescriptor.Opcode = (op & 3) ? 33 : 32;
            r.EventHeader.Flags = EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER;
        }
        etw_metadata_capture(&r);
    }
    etw_tdh_forget_scope(etw_decode_scope);
    etw_decode_scope = outer;
    if (etw_embedded_held_bytes() != 0)
        __builtin_trap();
    etwire_tdh_reset();
    return 0;
}
