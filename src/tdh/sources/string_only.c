/* Events logged with EVENT_HEADER_FLAG_STRING_ONLY (EventWriteString): the payload is one
 * NUL-terminated UTF-16 string and needs no manifest (the EVENT_HEADER documentation says so).
 * Their schema is built here: one UnicodeString property named "Message", the provider named
 * by the packs when they know it. Cached per provider (ETW_KEY_STRING_ONLY). */
#include <stdint.h>

#include "tdh/store/pack_sources.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/tei_build.h"

TRACE_EVENT_INFO *etw_string_only_build(const GUID *provider, size_t *size)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = *provider;
    b.hdr.DecodingSource = DecodingSourceXMLFile;
    const char *name = etw_pack_sources_provider_name(provider);
    if (name)
        b.hdr.ProviderNameOffset = etw_teib_str(&b, name, SIZE_MAX);
    etw_teib_add(&b, -1, "Message", TDH_INTYPE_UNICODESTRING, TDH_OUTTYPE_STRING);
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, size);
    etw_teib_free(&b);
    return t;
}
