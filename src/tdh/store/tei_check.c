/* Validation of TRACE_EVENT_INFO blobs (see prop_walk.h). Blobs embedded in merged traces are
 * attacker-controlled, so everything the walker and formatter later trust is checked here once,
 * when the blob enters the schema store, instead of on every event. */
#include "tdh/decode/prop_walk.h"

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/store/tei_build.h"

#define TEI_HEADER 112u
#define EPI 24u

static int str_ok(const uint8_t *p, size_t n, uint32_t off)
{
    if (off == 0)
        return 1;
    if (off >= n || (off & 1))
        return 0;
    int term;
    etw_utf16_span(p + off, n - off, &term);
    return term;
}

int etw_tei_check(const uint8_t *p, size_t n)
{
    if (!p || n < TEI_HEADER)
        return 0;
    uint32_t count = etw_rd32(p + 100), top = etw_rd32(p + 104);
    if (count > ETW_TEIB_MAX_PROPS || top > count || count > (n - TEI_HEADER) / EPI)
        return 0;
    /* Header strings: provider .. provider message, event name, attributes (by source). */
    static const uint8_t str_fields[] = {52, 56, 60, 64, 68, 72, 76, 80, 92, 96};
    for (size_t i = 0; i < sizeof str_fields; i++)
        if (!str_ok(p, n, etw_rd32(p + str_fields[i])))
            return 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + TEI_HEADER + (size_t)EPI * i;
        uint32_t flags = etw_rd32(e);
        if (!str_ok(p, n, etw_rd32(e + 4)))
            return 0;
        if (flags & PropertyStruct) {
            uint32_t start = etw_rd16(e + 8), num = etw_rd16(e + 10);
            /* Members strictly after their struct: the walk's recursion always moves forward. */
            if (start <= i || start > count || num > count - start)
                return 0;
        } else if (!(flags & PropertyHasCustomSchema) && !str_ok(p, n, etw_rd32(e + 12))) {
            return 0;
        }
        if ((flags & PropertyParamCount) && etw_rd16(e + 16) >= count)
            return 0;
        if ((flags & PropertyParamLength) && etw_rd16(e + 18) >= count)
            return 0;
    }
    return 1;
}
