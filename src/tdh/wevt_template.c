/* WEVT_TEMPLATE resources of PE binaries (format notes §3.2). */
#include "tdh/manifest.h"

ULONG etw_wevt_load_pe(const uint8_t *p, size_t n, uint32_t origin)
{
    (void)p;
    (void)n;
    (void)origin;
    return ERROR_NOT_SUPPORTED;
}
