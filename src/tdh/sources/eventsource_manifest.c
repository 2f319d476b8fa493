/* Manifests that .NET EventSource providers log into the trace itself (format notes §3.3):
 * event id 0xFFFE, opcode 0xFE, payload = 8-byte envelope {u8 format (1 = XML), u8 major,
 * u8 minor, u8 magic 0x5B, u16 total chunks, u16 chunk number} + chunk bytes. Chunks are
 * collected per provider, bounded in count and size, and the finished XML is loaded like a
 * user manifest (it needs expat). The ManifestData events themselves get a field-less schema
 * so they are named. A manifest finished by a delivered event is kept raw
 * (embedded_pending.h) and loaded when a lookup of its provider needs it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/manifest.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/tei_build.h"
#include "tdh/decode/tei_text.h"

#define MAX_PENDING 32
#define MAX_MANIFEST (16u << 20)

typedef struct pending {
    GUID guid;
    uint32_t scope; /* chunks of one trace never mix with another trace's */
    uint16_t total, next;
    uint8_t *data;
    size_t len;
} pending;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pending slots[MAX_PENDING];

static void drop(pending *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

static pending *slot_for(const GUID *g, uint32_t scope)
{
    pending *freeslot = NULL;
    for (size_t i = 0; i < MAX_PENDING; i++) {
        if (slots[i].data && slots[i].scope == scope && etw_guid_equal(&slots[i].guid, g))
            return &slots[i];
        if (!slots[i].data && !freeslot)
            freeslot = &slots[i];
    }
    return freeslot;
}

/* Names the ManifestData event of a provider whose manifest just loaded. */
static void name_manifest_event(const GUID *emitter, const EVENT_DESCRIPTOR *desc)
{
    etw_schema any;
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = *emitter;
    b.hdr.EventDescriptor = *desc;
    etw_schema_key probe = {.guid = *emitter, .kind = ETW_KEY_MANIFEST, .a = 1, .b = 0,
                            .scope = etw_decode_scope};
    /* The provider name comes from any event the manifest defined. */
    for (uint16_t id = 0; id < 64; id++) {
        probe.a = id;
        if (etw_schema_find(&probe, &any) && any.info) {
            const TRACE_EVENT_INFO *t = any.info;
            const uint8_t *s;
            size_t len = etw_blob_wstr(t, any.size, t->ProviderNameOffset, &s);
            if (len)
                b.hdr.ProviderNameOffset = etw_teib_wstr(&b, s, len);
            break;
        }
    }
    b.hdr.TaskNameOffset = etw_teib_str(&b, "ManifestData", SIZE_MAX);
    size_t size;
    TRACE_EVENT_INFO *t = etw_teib_finish(&b, &size);
    etw_teib_free(&b);
    if (!t)
        return;
    etw_schema_key k = {.guid = *emitter, .kind = ETW_KEY_MANIFEST, .a = 0xFFFE, .b = desc->Version,
                        .scope = etw_decode_scope};
    etw_schema_put(&k, t, (uint32_t)size, ETW_SRC_MANIFEST, 0);
}

int etw_eventsource_load(const uint8_t *xml, size_t n, const GUID *emitter, const EVENT_DESCRIPTOR *desc)
{
    if (etw_manifest_load_xml(xml, n, 0, NULL, 0) != ETW_TDH_OK)
        return 0;
    name_manifest_event(emitter, desc);
    return 1;
}

/* A finished manifest: kept raw (lazy), or loaded now after whatever the providers it can
 * describe had kept (only its own when its XML can describe no other, manifest_providers.c). */
static void finished(const EVENT_RECORD *rec, uint8_t **buf, size_t n, int lazy)
{
    const GUID *emitter = &rec->EventHeader.ProviderId;
    const EVENT_DESCRIPTOR *desc = &rec->EventHeader.EventDescriptor;
    if (lazy && etw_embedded_keep_owned(etw_decode_scope, ETW_EMBEDDED_MANIFEST, emitter, desc, buf, n))
        return;
    const uint8_t *xml = *buf;
    GUID sole;
    if (etw_manifest_sole_provider(xml, n, &sole) && etw_guid_equal(&sole, emitter))
        etw_embedded_compile_for(etw_decode_scope, emitter);
    else
        etw_embedded_compile_all(etw_decode_scope);
    etw_eventsource_load(xml, n, emitter, desc);
}

int etw_eventsource_take(const EVENT_RECORD *rec, int lazy)
{
    const EVENT_DESCRIPTOR *d = &rec->EventHeader.EventDescriptor;
    if (d->Id != 0xFFFE || d->Opcode != 0xFE || !rec->UserData || rec->UserDataLength < 8)
        return 0;
    const uint8_t *p = rec->UserData;
    size_t n = rec->UserDataLength;
    uint16_t total = etw_rd16(p + 4), chunk = etw_rd16(p + 6);
    if (p[0] != 1 || p[3] != 0x5B || total == 0 || chunk >= total)
        return 0;
    int done = 0;
    uint8_t *xml = NULL;
    size_t xml_len = 0;
    pthread_mutex_lock(&lock);
    pending *s = slot_for(&rec->EventHeader.ProviderId, etw_decode_scope);
    if (s && chunk == 0)
        drop(s); /* a manifest restarts at chunk 0 */
    if (s && s->data == NULL && chunk == 0) {
        s->guid = rec->EventHeader.ProviderId;
        s->scope = etw_decode_scope;
        s->total = total;
        s->data = malloc(1);
    }
    if (s && s->data && s->next == chunk && s->total == total && s->len + (n - 8) <= MAX_MANIFEST) {
        uint8_t *g = realloc(s->data, s->len + (n - 8) + 1);
        if (g) {
            memcpy(g + s->len, p + 8, n - 8);
            s->data = g;
            s->len += n - 8;
            if (++s->next == s->total) {
                xml = s->data;
                xml_len = s->len;
                s->data = NULL;
                drop(s);
                done = 1;
            }
        } else {
            drop(s);
        }
    } else if (s && s->data && chunk + 1 == s->next) {
        /* the same record seen again (describe and format both observe it) */
    } else if (s && s->data && chunk != 0) {
        drop(s); /* out of order or oversized: wait for the next chunk 0 */
    }
    pthread_mutex_unlock(&lock);
    if (done) {
        finished(rec, &xml, xml_len, lazy);
        free(xml);
    }
    return done;
}

void etw_eventsource_forget_scope(uint32_t scope)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (slots[i].data && slots[i].scope == scope)
            drop(&slots[i]);
    pthread_mutex_unlock(&lock);
}
