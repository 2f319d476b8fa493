/* TraceLogging providers noted per decode scope (see tdh_learned_tlg.h). Every TraceLogging
 * event passes here, so the common case - a provider this thread noted recently - takes no
 * lock. */
#include "winapi/tdh_learned_tlg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/tlg_meta.h"

#define NAME_BYTES 128
#define RECENT 8

typedef struct learned {
    uint32_t scope;
    GUID guid;
    char name[NAME_BYTES];
} learned;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static learned *entries;
static size_t n_entries, cap_entries;

/* What this thread noted last: (scope, provider) pairs it need not look up again. Scopes are
 * never reused, so a pair of a forgotten scope is never asked for again. */
static _Thread_local struct {
    uint32_t scope;
    GUID guid;
} recent[RECENT];
static _Thread_local unsigned recent_next;

static int seen_recently(uint32_t scope, const GUID *g)
{
    for (unsigned i = 0; i < RECENT; i++)
        if (recent[i].scope == scope && etw_guid_equal(&recent[i].guid, g))
            return 1;
    return 0;
}

static const EVENT_HEADER_EXTENDED_DATA_ITEM *ext_item(const EVENT_RECORD *er, USHORT type)
{
    for (USHORT i = 0; i < er->ExtendedDataCount; i++)
        if (er->ExtendedData[i].ExtType == type && er->ExtendedData[i].DataPtr)
            return &er->ExtendedData[i];
    return NULL;
}

static void add_locked(uint32_t scope, const GUID *g, const EVENT_RECORD *er)
{
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].scope == scope && etw_guid_equal(&entries[i].guid, g))
            return;
    if (n_entries == ETW_TLG_LEARNED_MAX)
        return;
    if (n_entries == cap_entries) {
        size_t cap = cap_entries ? cap_entries * 2 : 16;
        learned *grown = realloc(entries, cap * sizeof *grown);
        if (!grown)
            return;
        entries = grown;
        cap_entries = cap;
    }
    learned *e = &entries[n_entries++];
    e->scope = scope;
    e->guid = *g;
    e->name[0] = '\0';
    const EVENT_HEADER_EXTENDED_DATA_ITEM *traits = ext_item(er, EVENT_HEADER_EXT_TYPE_PROV_TRAITS);
    size_t len = 0;
    const char *name = traits ? etw_tlg_provider_name((const uint8_t *)(uintptr_t)traits->DataPtr,
                                                       traits->DataSize, &len)
                              : NULL;
    if (name) {
        len = len < NAME_BYTES - 1 ? len : NAME_BYTES - 1;
        memcpy(e->name, name, len);
        e->name[len] = '\0';
    }
}

void etw_tlg_learned_add(const EVENT_RECORD *er)
{
    uint32_t scope = etw_decode_scope;
    if (scope == 0)
        return;
    const GUID *g = &er->EventHeader.ProviderId;
    if (seen_recently(scope, g))
        return;
    pthread_mutex_lock(&mu);
    add_locked(scope, g, er);
    pthread_mutex_unlock(&mu);
    recent[recent_next].scope = scope;
    recent[recent_next].guid = *g;
    recent_next = (recent_next + 1) % RECENT;
}

void etw_tlg_learned_each(uint32_t scope, void (*fn)(const GUID *g, const char *name, void *ctx), void *ctx)
{
    if (scope == 0)
        return;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].scope == scope)
            fn(&entries[i].guid, entries[i].name, ctx);
    pthread_mutex_unlock(&mu);
}

void etw_tlg_learned_forget(uint32_t scope)
{
    pthread_mutex_lock(&mu);
    size_t kept = 0;
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].scope != scope)
            entries[kept++] = entries[i];
    n_entries = kept;
    if (n_entries == 0) {
        free(entries);
        entries = NULL;
        cap_entries = 0;
    }
    pthread_mutex_unlock(&mu);
}
