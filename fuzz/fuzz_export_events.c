/* Fuzz target: a run of events given to the process tracker and both exporters (pcapng, its
 * first-pass scan, and timeline), the readers of event payloads that etwire export adds.
 * Input: records of [u8 kind, u8 id/opcode, u8 flags, u16 length, payload]; kind selects
 * pktmon, NDIS packet capture (1001 fragments, 1003 VMSwitch fragments), Kernel-Process, the
 * classic kernel Process/Thread/Image classes and PerfInfo (each event is also formatted by
 * etwire_event_format_json); flags bit 0 the 32-bit header, bits 1-3 the NDIS
 * start/end/direction keywords, bits 4-7 the version. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/context.h>
#include <etwire/event_json.h>

#include "export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cmd_export.c's helper, which this target does not link. */
uint64_t export_unix_100ns(int64_t filetime)
{
    return filetime > 0 ? (uint64_t)filetime : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const GUID providers[] = {
        {0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}},
        {0x2ed6006e, 0x4729, 0x4609, {0xb4, 0x23, 0x3e, 0xe7, 0xbc, 0xd6, 0x78, 0xef}},
        {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}},
        {0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}},
        {0x3d6fa8d1, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}},
        {0x2cb15d1d, 0x5fc1, 0x11d2, {0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18}},
        {0xce1dbfb4, 0x137e, 0x4da6, {0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c, 0xbc}},
    };
    static const uint16_t pktmon_ids[] = {20, 160, 170, 30};
    static const uint16_t ndis_ids[] = {1001, 1003, 1002, 1001};
    FILE *out = fopen("/dev/null", "wb");
    if (!out)
        return 0;
    export_context cx = {.out = out, .out_path = "/dev/null", .processes = etwire_process_tracker_create()};
    void *st = cx.processes ? export_pcapng_format.begin(&cx) : NULL;
    void *tl = st ? export_timeline_format.begin(&cx) : NULL;
    size_t off = 0;
    int64_t t = 0;
    while (st && tl && size - off >= 5) {
        const uint8_t *h = data + off;
        size_t len = (size_t)h[3] | (size_t)h[4] << 8;
        off += 5;
        if (len > size - off)
            len = size - off;
        EVENT_RECORD er;
        memset(&er, 0, sizeof er);
        unsigned kind = h[0] % 7;
        er.EventHeader.ProviderId = providers[kind];
        er.EventHeader.EventDescriptor.Id = kind == 0 ? pktmon_ids[h[1] & 3] : kind == 1 ? ndis_ids[h[1] & 3] : h[1] & 7;
        er.EventHeader.EventDescriptor.Opcode = h[1];
        er.EventHeader.EventDescriptor.Version = h[2] >> 4;
        er.EventHeader.EventDescriptor.Keyword = (h[2] & 2 ? 0x40000000ull : 0) | (h[2] & 4 ? 0x80000000ull : 0) |
                                                 (h[2] & 8 ? 0x100000000ull : 0);
        er.EventHeader.Flags = h[2] & 1 ? EVENT_HEADER_FLAG_32_BIT_HEADER : EVENT_HEADER_FLAG_64_BIT_HEADER;
        /* Thread: CSwitch (36) and SetName (72) as well as start/stop; PerfInfo: samples (46). */
        if (kind == 4 && (h[1] & 0x80))
            er.EventHeader.EventDescriptor.Opcode = h[1] & 0x40 ? 72 : 36;
        if (kind == 6)
            er.EventHeader.EventDescriptor.Opcode = 46;
        if (kind >= 3)
            er.EventHeader.Flags |= EVENT_HEADER_FLAG_CLASSIC_HEADER;
        er.EventHeader.ProcessId = h[1];
        er.EventHeader.ThreadId = h[2];
        er.EventHeader.TimeStamp.QuadPart = t++;
        /* A copy of exactly len bytes, so reading past it is caught. */
        uint8_t *payload = len ? malloc(len) : NULL;
        if (len && !payload)
            break;
        if (len)
            memcpy(payload, data + off, len);
        er.UserData = payload;
        er.UserDataLength = (USHORT)len;
        etwire_process_tracker_add(cx.processes, &er);
        (void)etwire_process_tracker_name(cx.processes, &er);
        export_pcapng_format.scan(st, &er); /* the first pass's reader, on the same bytes */
        export_pcapng_format.event(st, &er, &cx);
        export_timeline_format.event(tl, &er, &cx);
        /* The Python package's decoding entry: a short buffer first, then the retry. */
        char small[16];
        ULONG need = 0;
        if (etwire_event_format_json(&er, small, sizeof small, &need) == ERROR_INSUFFICIENT_BUFFER) {
            char *big = malloc(need);
            if (big)
                etwire_event_format_json(&er, big, need, &need);
            free(big);
        }
        free(payload);
        off += len;
    }
    if (tl)
        export_timeline_format.end(tl, &cx);
    if (st)
        export_pcapng_format.end(st, &cx);
    etwire_process_tracker_destroy(cx.processes);
    fclose(out);
    return 0;
}
