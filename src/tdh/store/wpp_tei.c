/* A WPP message as a TRACE_EVENT_INFO, for the TDH functions (TdhGetEventInformation,
 * TdhGetProperty, TdhFormatProperty): DecodingSourceWPP, the message GUID as EventGuid (as
 * Windows reports WPP schemas), the TMF's friendly name as provider name, the message name as
 * event name, the format string as event message, and one property per argument, named by its
 * source expression, with the TDH type of its TMF item. Arguments from the first item TDH has no
 * type for (Enum/List/Set names, HEXDump, Char4) on are left out. */
#include <string.h>

#include "tdh/store/schema_cache.h"
#include "tdh/store/tei_build.h"
#include "tdh/store/wpp_table.h"

static int tdh_types(const etw_wpp_arg *a, uint16_t *in, uint16_t *out)
{
    static const struct {
        uint8_t item;
        uint16_t in, out;
    } map[] = {
        {ETW_WPP_CHAR, TDH_INTYPE_INT8, 0},         {ETW_WPP_UCHAR, TDH_INTYPE_UINT8, 0},
        {ETW_WPP_SHORT, TDH_INTYPE_INT16, 0},       {ETW_WPP_USHORT, TDH_INTYPE_UINT16, 0},
        {ETW_WPP_LONG, TDH_INTYPE_INT32, 0},        {ETW_WPP_ULONG, TDH_INTYPE_UINT32, 0},
        {ETW_WPP_ULONGX, TDH_INTYPE_HEXINT32, 0},   {ETW_WPP_LONGLONG, TDH_INTYPE_INT64, 0},
        {ETW_WPP_ULONGLONG, TDH_INTYPE_UINT64, 0},  {ETW_WPP_ULONGLONGX, TDH_INTYPE_HEXINT64, 0},
        {ETW_WPP_PTR, TDH_INTYPE_POINTER, 0},       {ETW_WPP_DOUBLE, TDH_INTYPE_DOUBLE, 0},
        {ETW_WPP_STRING, TDH_INTYPE_ANSISTRING, 0}, {ETW_WPP_WSTRING, TDH_INTYPE_UNICODESTRING, 0},
        {ETW_WPP_PSTRING, TDH_INTYPE_COUNTEDANSISTRING, 0}, {ETW_WPP_PWSTRING, TDH_INTYPE_COUNTEDSTRING, 0},
        {ETW_WPP_GUID, TDH_INTYPE_GUID, 0},         {ETW_WPP_NTSTATUS, TDH_INTYPE_UINT32, TDH_OUTTYPE_NTSTATUS},
        {ETW_WPP_HRESULT, TDH_INTYPE_INT32, TDH_OUTTYPE_HRESULT}, {ETW_WPP_WINERROR, TDH_INTYPE_UINT32, TDH_OUTTYPE_WIN32ERROR},
        {ETW_WPP_IPADDR, TDH_INTYPE_UINT32, TDH_OUTTYPE_IPV4},    {ETW_WPP_PORT, TDH_INTYPE_UINT16, TDH_OUTTYPE_PORT},
        {ETW_WPP_SID, TDH_INTYPE_SID, 0},           {ETW_WPP_TIMESTAMP, TDH_INTYPE_FILETIME, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].item == a->type) {
            *in = map[i].in;
            *out = map[i].out;
            return 1;
        }
    return 0;
}

int etw_wpp_schema(const EVENT_RECORD *rec, etw_schema *out)
{
    const EVENT_HEADER *h = &rec->EventHeader;
    etw_schema_key k = {.guid = h->ProviderId, .kind = ETW_KEY_WPP, .a = h->EventDescriptor.Id};
    if (etw_schema_find(&k, out) && out->info)
        return 1;
    const etw_wpp_msg *m = etw_wpp_find(&h->ProviderId, h->EventDescriptor.Id);
    if (!m)
        return 0;
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.EventGuid = m->guid;
    b.hdr.DecodingSource = DecodingSourceWPP;
    b.hdr.EventDescriptor.Id = m->number;
    const char *prov = etw_wpp_msg_str(m, ETW_WPP_S_PROVIDER), *name = etw_wpp_msg_str(m, ETW_WPP_S_NAME);
    if (prov[0])
        b.hdr.ProviderNameOffset = etw_teib_str(&b, prov, SIZE_MAX);
    if (name[0])
        b.hdr.EventNameOffset = etw_teib_str(&b, name, SIZE_MAX);
    b.hdr.EventMessageOffset = etw_teib_str(&b, etw_wpp_msg_str(m, ETW_WPP_S_FORMAT), SIZE_MAX);
    for (uint16_t i = 0; i < m->nargs && i < ETW_TEIB_MAX_PROPS; i++) {
        uint16_t in, outt;
        if (!tdh_types(&m->args[i], &in, &outt))
            break;
        const char *an = etw_wpp_str_at(m, m->args[i].name);
        char fallback[16];
        if (!an[0]) {
            memcpy(fallback, "Arg", 4);
            fallback[3] = (char)('0' + (m->args[i].number / 10) % 10), fallback[4] = (char)('0' + m->args[i].number % 10),
            fallback[5] = 0;
            an = fallback;
        }
        etw_teib_add(&b, -1, an, in, outt);
    }
    size_t size = 0;
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, &size);
    etw_teib_free(&b);
    if (!t || !etw_schema_put(&k, t, (uint32_t)size, ETW_SRC_MANIFEST, 0))
        return 0;
    return etw_schema_find(&k, out) && out->info;
}
