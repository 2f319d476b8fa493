/* TdhEnumerateProviders and TdhEnumerateProvidersForDecodingSource (docs/api/tdh-providers.md):
 * the providers TDH can decode by provider on the calling thread now. Always: the
 * equivalents of Windows' registered providers - schemas loaded into the process (manifests,
 * MOF, etwire_tdh_observe outside a session), the built-in kernel classes (compiled lazily, so
 * listed from the tables) and the schema packs (the store's and the built-in one). From a
 * session's callbacks also what that session's trace taught: its embedded EventInfo schemas
 * and EventSource manifests (the entries of its decode scope) and the TraceLogging providers it
 * delivered. Caches are not listed (the TraceLogging schemas compiled on lookup, the schemas of
 * string-only events, remembered misses), so the list does not depend on what was decoded. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/kernel_tables.h"
#include "tdh/store/pack_sources.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/decode/tei_text.h"
#include "winapi/tdh_learned_tlg.h"

typedef struct prov {
    GUID guid;
    ULONG source;
    etw_strbuf name;
} prov;

typedef struct prov_list {
    prov *v;
    size_t n, cap;
    int failed;
} prov_list;

static void add(prov_list *l, const GUID *g, ULONG source, const void *blob, size_t size, uint32_t off,
                const char *utf8)
{
    for (size_t i = 0; i < l->n; i++)
        if (etw_guid_equal(&l->v[i].guid, g))
            return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        prov *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->failed = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    prov *p = &l->v[l->n++];
    memset(p, 0, sizeof *p);
    p->guid = *g;
    p->source = source;
    if (utf8)
        etw_strbuf_puts(&p->name, utf8);
    else if (!etw_blob_wstr_append(&p->name, blob, size, off, 0)) {
        char s[37];
        etw_guid_format(g, s);
        etw_strbuf_puts(&p->name, s);
    }
}

static void each(const etw_schema_key *k, const etw_schema *s, void *ctx)
{
    /* Maps are not providers, WPP keys are message GUIDs, and TraceLogging and string-only
     * schemas are caches of what any event of any provider carries. */
    if (k->kind == ETW_KEY_MAP || k->kind == ETW_KEY_WPP || k->kind == ETW_KEY_TLG ||
        k->kind == ETW_KEY_STRING_ONLY || !s->info)
        return;
    if (k->scope != 0 && k->scope != etw_decode_scope)
        return; /* another trace's own schemas (or none is being processed here) */
    const TRACE_EVENT_INFO *t = s->info;
    ULONG source = t->DecodingSource == DecodingSourceWbem ? DecodingSourceWbem : DecodingSourceXMLFile;
    add(ctx, &t->ProviderGuid, source, t, s->size, t->ProviderNameOffset, NULL);
}

static void each_packed(const GUID *g, const char *name, void *ctx)
{
    add(ctx, g, DecodingSourceXMLFile, NULL, 0, 0, name[0] ? name : NULL);
}

static void each_tlg(const GUID *g, const char *name, void *ctx)
{
    add(ctx, g, DecodingSourceTlg, NULL, 0, 0, name[0] ? name : NULL);
}

/* The list for filter (-1: every source) into buffer (may be NULL); *need gets its size. */
static ULONG enumerate(int filter, PPROVIDER_ENUMERATION_INFO pBuffer, ULONG size, ULONG *need_out)
{
    prov_list l = {0};
    etw_embedded_compile_all(etw_decode_scope); /* what the trace kept raw lists its providers */
    etw_schema_each(each, &l);
    for (size_t i = 0; i < etw_kclass_count; i++)
        add(&l, &etw_kclasses[i].guid, DecodingSourceWbem, NULL, 0, 0, etw_kclasses[i].task);
    etw_pack_sources_each_provider(each_packed, &l);
    etw_tlg_learned_each(etw_decode_scope, each_tlg, &l);
    /* One source's list: the providers the full list gives that source (a provider known to
     * two sources is in one list only). */
    size_t kept = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (filter < 0 || l.v[i].source == (ULONG)filter)
            l.v[kept++] = l.v[i];
        else
            etw_strbuf_free(&l.v[i].name);
    }
    l.n = kept;
    size_t need = 8 + 24 * l.n;
    for (size_t i = 0; i < l.n; i++)
        need += (l.v[i].name.len + 1) * 2; /* UTF-16 units never exceed UTF-8 bytes */
    ULONG r = ERROR_SUCCESS;
    if (l.failed) {
        r = ERROR_NOT_ENOUGH_MEMORY;
    } else if (!pBuffer || size < need) {
        r = ERROR_INSUFFICIENT_BUFFER;
    } else {
        uint8_t *base = (uint8_t *)pBuffer;
        size_t off = 8 + 24 * l.n;
        pBuffer->NumberOfProviders = (ULONG)l.n;
        pBuffer->Reserved = 0;
        for (size_t i = 0; i < l.n; i++) {
            TRACE_PROVIDER_INFO *t = &pBuffer->TraceProviderInfoArray[i];
            t->ProviderGuid = l.v[i].guid;
            t->SchemaSource = l.v[i].source;
            t->ProviderNameOffset = (ULONG)off;
            size_t units = etw_utf8_to_utf16(l.v[i].name.data ? l.v[i].name.data : "",
                                             (WCHAR *)(void *)(base + off), l.v[i].name.len + 1);
            off += (units + 1) * 2;
        }
    }
    *need_out = (ULONG)need;
    for (size_t i = 0; i < l.n; i++)
        etw_strbuf_free(&l.v[i].name);
    free(l.v);
    return r;
}

ULONG WINAPI TdhEnumerateProviders(PPROVIDER_ENUMERATION_INFO pBuffer, ULONG *pBufferSize)
{
    if (!pBufferSize)
        return ERROR_INVALID_PARAMETER;
    return enumerate(-1, pBuffer, *pBufferSize, pBufferSize);
}

ULONG WINAPI TdhEnumerateProvidersForDecodingSource(DECODING_SOURCE filter, PPROVIDER_ENUMERATION_INFO buffer,
                                                     ULONG bufferSize, PULONG bufferRequired)
{
    if (!bufferRequired || (int)filter < 0 || filter >= DecodingSourceMax)
        return ERROR_INVALID_PARAMETER;
    return enumerate((int)filter, buffer, bufferSize, bufferRequired);
}
