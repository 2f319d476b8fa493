/* The packs lookups fall back to (pack_sources.h): a short table of registered packs in rank
 * order, then the built-in pack. Registration is rare and lookups of this table happen once
 * per event key (the result goes into the schema cache), so a mutex-free read of a table that
 * only grows under a lock is not needed: one rwlock keeps it simple. */
#include "tdh/store/pack_sources.h"

#include <pthread.h>
#include <stdlib.h>

#include "tdh/store/schema_cache.h"

#define MAX_PACKS 64

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct {
    const etw_pack *pk;
    uint8_t source;
} packs[MAX_PACKS];
static size_t npacks;

int etw_pack_sources_add(const etw_pack *pk, uint8_t source)
{
    int ok = 0;
    pthread_rwlock_wrlock(&lock);
    if (npacks < MAX_PACKS) {
        size_t at = npacks;
        while (at > 0 && packs[at - 1].source > source) { /* keep rank order, stable */
            packs[at] = packs[at - 1];
            at--;
        }
        packs[at].pk = pk;
        packs[at].source = source;
        npacks++;
        ok = 1;
    }
    pthread_rwlock_unlock(&lock);
    return ok;
}

void etw_pack_sources_clear(uint8_t source)
{
    pthread_rwlock_wrlock(&lock);
    size_t out = 0;
    for (size_t i = 0; i < npacks; i++)
        if (packs[i].source != source)
            packs[out++] = packs[i];
    npacks = out;
    pthread_rwlock_unlock(&lock);
}

/* Calls try(pk) on each registered pack, then on the built-in one, until it returns non-NULL. */
typedef void *(*try_fn)(const etw_pack *pk, void *ctx);

static void *each(try_fn try, void *ctx, uint8_t *source)
{
    void *r = NULL;
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < npacks && !r; i++)
        if ((r = try(packs[i].pk, ctx)) != NULL)
            *source = packs[i].source;
    pthread_rwlock_unlock(&lock);
    const etw_pack *builtin = r ? NULL : etw_builtin_pack();
    if (builtin && (r = try(builtin, ctx)) != NULL)
        *source = ETW_SRC_BUILTIN;
    return r;
}

typedef struct event_q {
    const GUID *provider;
    uint8_t kind;
    uint16_t a, b;
    int at_most;
    size_t *size;
} event_q;

static void *try_exact(const etw_pack *pk, void *ctx)
{
    event_q *q = ctx;
    uint32_t p;
    return etw_pack_find_provider(pk, q->provider, &p) ? etw_pack_build_event(pk, p, q->kind, q->a, q->b, q->size)
                                                       : NULL;
}

static void *try_older(const etw_pack *pk, void *ctx)
{
    event_q *q = ctx;
    uint32_t p;
    uint16_t v;
    return etw_pack_find_provider(pk, q->provider, &p)
               ? etw_pack_build_event_at_most(pk, p, q->kind, q->a, q->b, &v, q->size)
               : NULL;
}

TRACE_EVENT_INFO *etw_pack_sources_event(const GUID *provider, uint8_t kind, uint16_t a, uint16_t b, int at_most,
                                         size_t *size, uint8_t *source)
{
    event_q q = {provider, kind, a, b, at_most, size};
    TRACE_EVENT_INFO *t = each(try_exact, &q, source);
    return t || !at_most ? t : each(try_older, &q, source);
}

typedef struct map_q {
    const GUID *provider;
    const uint8_t *name;
    size_t name_bytes, *size;
} map_q;

static void *try_map(const etw_pack *pk, void *ctx)
{
    map_q *q = ctx;
    uint32_t p;
    return etw_pack_find_provider(pk, q->provider, &p) ? etw_pack_build_map(pk, p, q->name, q->name_bytes, q->size)
                                                       : NULL;
}

EVENT_MAP_INFO *etw_pack_sources_map(const GUID *provider, const uint8_t *name, size_t name_bytes, size_t *size,
                                     uint8_t *source)
{
    map_q q = {provider, name, name_bytes, size};
    return each(try_map, &q, source);
}

static void *try_name(const etw_pack *pk, void *ctx)
{
    uint32_t p;
    if (!etw_pack_find_provider(pk, ctx, &p))
        return NULL;
    etw_pack_provider_info info;
    etw_pack_provider(pk, p, &info);
    return info.name[0] ? (void *)(uintptr_t)info.name : NULL;
}

const char *etw_pack_sources_provider_name(const GUID *provider)
{
    uint8_t source;
    return each(try_name, (void *)(uintptr_t)provider, &source);
}

static void each_in(const etw_pack *pk, void (*fn)(const GUID *, const char *, void *), void *ctx)
{
    for (uint32_t i = 0; i < etw_pack_provider_count(pk); i++) {
        etw_pack_provider_info info;
        etw_pack_provider(pk, i, &info);
        if (info.event_count)
            fn(&info.guid, info.name, ctx);
    }
}

void etw_pack_sources_each_provider(void (*fn)(const GUID *guid, const char *name, void *ctx), void *ctx)
{
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < npacks; i++)
        each_in(packs[i].pk, fn, ctx);
    pthread_rwlock_unlock(&lock);
    const etw_pack *builtin = etw_builtin_pack();
    if (builtin)
        each_in(builtin, fn, ctx);
}
