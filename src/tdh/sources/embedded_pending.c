/* The kept schema records of open traces (see embedded_pending.h). Each trace scope holds one
 * chain of records per provider plus one chain of records that may touch any provider. A lookup
 * of provider P compiles P's chain, in the order kept; when any-provider records are kept, it
 * compiles the whole scope in the order kept. So for every provider the compiled records are
 * always the first ones kept for it, in order, and a lookup sees exactly what compiling every
 * record at delivery (as before) would have given: records of different providers never change
 * each other's schemas, and within a provider "the newest wins" keeps its order.
 *
 * A manifest is kept in the any chain, unread: delivery only copies. The first lookup in its
 * scope reads which providers it can describe (manifest_providers.c); one that describes only
 * the provider that logged it moves to that provider's chain, at its place in the order.
 *
 * Compiling a record again right after itself changes nothing, so a record that repeats the
 * newest one that could change the same providers is not kept (EventSource logs its manifest
 * again and again: 28 times in msbuild-PerfViewData). For that each chain also holds the last
 * record it compiled, within the same bound as the records not compiled yet.
 *
 * Locking: one mutex over the chains, taken only when a record is kept (schema records are a
 * handful per trace) and when a lookup finds its provider's bit set; compiling runs outside it
 * (it takes the schema store's own lock). */
#include "tdh/sources/embedded_pending.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/decode_scope.h"
#include "tdh/sources/embedded_chains.h"
#include "tdh/store/schema_cache.h"

_Atomic uint64_t etw_embedded_bits[4];
_Atomic size_t etw_embedded_any;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int learn(const etw_kept_rec *p)
{
    switch (p->kind) {
    case ETW_EMBEDDED_EVENT_INFO: return etw_metadata_learn_event_info(p->data, p->len);
    case ETW_EMBEDDED_MAP_INFO: return etw_metadata_learn_map_info(p->data, p->len);
    default: return etw_eventsource_load(p->data, p->len, &p->emitter, &p->desc);
    }
}

/* Takes out what a lookup of provider (NULL: of every provider) must compile first. *whole:
 * the scope's every record (the scope is gone from the chains). */
static etw_kept_rec *take_for(uint32_t scope, const GUID *provider, int *whole)
{
    etw_kept_rec *list = NULL;
    pthread_mutex_lock(&mu);
    etw_kept_scope *r = etw_kept_scope_find(scope);
    int sorted = r && r->any.head && provider;
    if (sorted)
        etw_kept_sort_any(r);
    *whole = r && (r->any.head || !provider);
    etw_kept_chain *c = *whole ? NULL : etw_kept_chain_find(r, provider);
    if (*whole) {
        list = etw_kept_take_all(r);
    } else if (c && c->head) {
        list = c->head;
        c->head = c->tail = NULL;
        etw_kept.pending_bytes -= etw_kept_bytes(list);
    }
    if (sorted || list)
        etw_kept_recount();
    pthread_mutex_unlock(&mu);
    return list;
}

/* Keeps p, the last record a lookup of provider compiled, to tell its repeats. */
static void keep_done(uint32_t scope, const GUID *provider, etw_kept_rec *p)
{
    pthread_mutex_lock(&mu);
    etw_kept_chain *c = etw_kept_chain_find(etw_kept_scope_find(scope), provider);
    if (c)
        etw_kept_drop_done(c);
    size_t held = etw_kept.pending_bytes + etw_kept.done_bytes;
    if (c && held <= etw_kept.max_bytes && p->len <= etw_kept.max_bytes - held) {
        c->done = p;
        etw_kept.done_bytes += p->len;
        p = NULL;
    }
    pthread_mutex_unlock(&mu);
    etw_kept_free(p);
}

/* Compiles (or only frees) records taken out of scope, in their order; the last of a
 * provider's chain is kept for comparison. */
static void finish(uint32_t scope, etw_kept_rec *p, int compile, const GUID *provider)
{
    uint32_t outer = etw_decode_scope;
    etw_decode_scope = scope; /* where the learners store, as at delivery */
    while (p) {
        etw_kept_rec *next = p->next;
        if (compile)
            learn(p);
        p->next = NULL;
        if (!next && provider)
            keep_done(scope, provider, p);
        else
            etw_kept_free(p);
        p = next;
    }
    etw_decode_scope = outer;
}

void etw_embedded_compile_slow(uint32_t scope, const GUID *provider)
{
    int whole;
    etw_kept_rec *list = take_for(scope, provider, &whole);
    if (list)
        finish(scope, list, 1, whole ? NULL : provider);
}

void etw_embedded_compile_all(uint32_t scope)
{
    int whole;
    etw_kept_rec *list = scope ? take_for(scope, NULL, &whole) : NULL;
    if (list)
        finish(scope, list, 1, NULL);
}

static int keep(uint32_t scope, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                const uint8_t *data, size_t n, uint8_t **owned)
{
    static const EVENT_DESCRIPTOR none;
    if (!desc)
        desc = &none;
    if (!scope)
        return 0; /* outside a trace: learned at once, process-wide */
    pthread_mutex_lock(&mu);
    int kept = 0;
    etw_kept_scope *r = etw_kept_room_for(n) ? etw_kept_scope_add(scope) : NULL;
    if (r && etw_kept_repeats(r, kind, provider, desc, data, n)) {
        pthread_mutex_unlock(&mu);
        return 1; /* compiling it again would change nothing */
    }
    etw_kept_chain *c = !r ? NULL : kind == ETW_EMBEDDED_MANIFEST ? &r->any : etw_kept_chain_add(r, provider);
    etw_kept_rec *p = c ? malloc(sizeof *p + (owned ? 0 : n)) : NULL;
    if (p) {
        *p = (etw_kept_rec){.seq = ++r->seq, .kind = kind, .desc = *desc, .emitter = *provider, .len = n,
                            .data = owned ? *owned : (uint8_t *)(p + 1), .owned = owned != NULL};
        if (owned)
            *owned = NULL; /* ours now */
        else
            memcpy(p->data, data, n);
        if (c->tail)
            c->tail->next = p;
        else
            c->head = p;
        c->tail = p;
        etw_kept.pending_bytes += n;
        kept = 1;
        if (c == &r->any) {
            atomic_fetch_add_explicit(&etw_embedded_any, 1, memory_order_relaxed);
        } else {
            unsigned b = etw_embedded_bit(provider);
            atomic_fetch_or_explicit(&etw_embedded_bits[b >> 6], 1ull << (b & 63), memory_order_relaxed);
        }
    } else if (c && c != &r->any && !c->head && !c->done) {
        *c = r->chains[--r->nchains]; /* added for a record that could not be kept */
    }
    pthread_mutex_unlock(&mu);
    if (!kept) {
        etw_embedded_compile_all(scope); /* the caller compiles its record after these */
        return 0;
    }
    etw_schema_touch(); /* memos of lookups must ask again: this provider may change */
    return 1;
}

int etw_embedded_keep(uint32_t scope, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                      const uint8_t *p, size_t n)
{
    return keep(scope, kind, provider, desc, p, n, NULL);
}

int etw_embedded_keep_owned(uint32_t scope, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                            uint8_t **buf, size_t n)
{
    return keep(scope, kind, provider, desc, *buf, n, buf);
}

static void drop_where(uint32_t scope, int every)
{
    pthread_mutex_lock(&mu);
    etw_kept_rec *lists = NULL;
    for (size_t i = etw_kept.nscopes; i-- > 0;) {
        if (!every && etw_kept.scopes[i].scope != scope)
            continue;
        etw_kept_rec *p = etw_kept_take_all(&etw_kept.scopes[i]);
        while (p) {
            etw_kept_rec *next = p->next;
            p->next = lists;
            lists = p;
            p = next;
        }
    }
    etw_kept_recount();
    if (every) {
        free(etw_kept.scopes);
        etw_kept.scopes = NULL;
        etw_kept.capscopes = 0;
    }
    pthread_mutex_unlock(&mu);
    finish(scope, lists, 0, NULL);
}

void etw_embedded_forget_scope(uint32_t scope)
{
    drop_where(scope, 0);
}

void etw_embedded_clear(void)
{
    drop_where(0, 1);
}

size_t etw_embedded_pending_bytes(void)
{
    pthread_mutex_lock(&mu);
    size_t n = etw_kept.pending_bytes;
    pthread_mutex_unlock(&mu);
    return n;
}

size_t etw_embedded_held_bytes(void)
{
    pthread_mutex_lock(&mu);
    size_t n = etw_kept.pending_bytes + etw_kept.done_bytes;
    pthread_mutex_unlock(&mu);
    return n;
}

void etw_embedded_set_max_bytes(size_t max)
{
    pthread_mutex_lock(&mu);
    etw_kept.max_bytes = max ? max : ETW_EMBEDDED_MAX_BYTES;
    pthread_mutex_unlock(&mu);
}
