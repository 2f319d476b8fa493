/* TRACE_LOGFILE_HEADER32/64 parsing (docs/etw-format.md A.8.5). The two layouts differ only in
 * the width of the two name fields, which moves everything after them. */
#include "format/logfile_header.h"

#include <string.h>

#include "base/bytes.h"
#include "base/text.h"

int etw_record_is_logfile_header(const etw_record *rec)
{
    return rec->kind == ETW_REC_SYSTEM && rec->hook_id == ETW_HOOK_LOGFILE_HEADER;
}

static void read_time_zone(const uint8_t *p, TIME_ZONE_INFORMATION *tz)
{
    tz->Bias = (LONG)etw_rd32(p);
    for (int i = 0; i < 32; i++)
        tz->StandardName[i] = etw_rd16(p + 4 + 2 * i);
    WORD *sd = &tz->StandardDate.wYear;
    WORD *dd = &tz->DaylightDate.wYear;
    for (int i = 0; i < 8; i++) {
        sd[i] = etw_rd16(p + 0x44 + 2 * i);
        dd[i] = etw_rd16(p + 0x98 + 2 * i);
    }
    tz->StandardBias = (LONG)etw_rd32(p + 0x54);
    for (int i = 0; i < 32; i++)
        tz->DaylightName[i] = etw_rd16(p + 0x58 + 2 * i);
    tz->DaylightBias = (LONG)etw_rd32(p + 0xA8);
}

etw_status etw_logfile_header_parse(const uint8_t *payload, size_t n, int is64,
                                    etw_logfile_info *out)
{
    const size_t fixed = is64 ? ETW_LOGFILE_HEADER64_SIZE : ETW_LOGFILE_HEADER32_SIZE;
    if (n < fixed)
        return ETW_E_HDR_EVENT;
    memset(out, 0, sizeof *out);
    TRACE_LOGFILE_HEADER *h = &out->header;
    const uint8_t *p = payload;
    h->BufferSize = etw_rd32(p + 0x00);
    h->Version = etw_rd32(p + 0x04);
    h->ProviderVersion = etw_rd32(p + 0x08);
    h->NumberOfProcessors = etw_rd32(p + 0x0C);
    h->EndTime.QuadPart = (LONGLONG)etw_rd64(p + 0x10);
    h->TimerResolution = etw_rd32(p + 0x18);
    h->MaximumFileSize = etw_rd32(p + 0x1C);
    h->LogFileMode = etw_rd32(p + 0x20);
    h->BuffersWritten = etw_rd32(p + 0x24);
    h->StartBuffers = etw_rd32(p + 0x28);
    h->PointerSize = etw_rd32(p + 0x2C);
    h->EventsLost = etw_rd32(p + 0x30);
    h->CpuSpeedInMHz = etw_rd32(p + 0x34);
    /* After the two name fields (4 or 8 bytes each) the offsets shift by 8 between layouts. */
    const size_t tz = is64 ? 0x48 : 0x40;
    read_time_zone(p + tz, &h->TimeZone);
    const size_t tail = is64 ? 0xF8 : 0xF0;
    h->BootTime.QuadPart = (LONGLONG)etw_rd64(p + tail);
    h->PerfFreq.QuadPart = (LONGLONG)etw_rd64(p + tail + 8);
    h->StartTime.QuadPart = (LONGLONG)etw_rd64(p + tail + 16);
    h->ReservedFlags = etw_rd32(p + tail + 24);
    h->BuffersLost = etw_rd32(p + tail + 28);

    int terminated = 0;
    out->logger_name_off = (uint32_t)fixed;
    out->logger_name_len = (uint32_t)etw_utf16_span(p + fixed, n - fixed, &terminated);
    size_t next = fixed + out->logger_name_len + (terminated ? 2 : 0);
    out->file_name_off = (uint32_t)next;
    out->file_name_len = next <= n ? (uint32_t)etw_utf16_span(p + next, n - next, NULL) : 0;
    return ETW_OK;
}
