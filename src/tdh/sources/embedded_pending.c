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
 * Locking: one mutex over the chains, taken only when a record is kept (schema records are a
 * handful per trace) and when a lookup finds its provider's bit set; compiling runs outside it
 * (it takes the schema store's own lock). */
#include "tdh/sources/embedded_pending.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/manifest.h"
#include "tdh/store/schema_cache.h"

typedef struct pend {
    struct pend *next; /* the same chain, in the order kept */
    uint64_t seq;      /* the order kept, over the scope's chains */
    uint8_t kind;
    uint8_t reach;         /* manifests in the any chain: REACH_* */
    EVENT_DESCRIPTOR desc; /* manifests: the ManifestData event that finished it */
    GUID emitter;          /* manifests: the provider that logged it */
    size_t len;
    uint8_t *data; /* inline, after the record, or a buffer handed over (owned) */
    int owned;
} pend;

enum { REACH_UNREAD, REACH_OWN, REACH_ANY };

typedef struct chain {
    GUID provider;
    pend *head, *tail;
} chain;

typedef struct scope_rec {
    uint32_t scope;
    uint64_t seq;
    chain any; /* records that may change any provider's schemas */
    chain *chains;
    size_t nchains, capchains;
} scope_rec;

_Atomic uint64_t etw_embedded_bits[4];
_Atomic size_t etw_embedded_any;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static scope_rec *scopes;
static size_t nscopes, capscopes;
static size_t kept_bytes, max_bytes = ETW_EMBEDDED_MAX_BYTES;

static scope_rec *scope_find(uint32_t scope)
{
    for (size_t i = 0; i < nscopes; i++)
        if (scopes[i].scope == scope)
            return &scopes[i];
    return NULL;
}

static scope_rec *scope_add(uint32_t scope)
{
    scope_rec *r = scope_find(scope);
    if (r)
        return r;
    if (nscopes == capscopes) {
        size_t cap = capscopes ? capscopes * 2 : 4;
        scope_rec *g = realloc(scopes, cap * sizeof *g);
        if (!g)
            return NULL;
        scopes = g;
        capscopes = cap;
    }
    r = &scopes[nscopes++];
    memset(r, 0, sizeof *r);
    r->scope = scope;
    return r;
}

static chain *chain_find(scope_rec *r, const GUID *g)
{
    for (size_t i = 0; i < r->nchains; i++)
        if (etw_guid_equal(&r->chains[i].provider, g))
            return &r->chains[i];
    return NULL;
}

static chain *chain_add(scope_rec *r, const GUID *g)
{
    chain *c = chain_find(r, g);
    if (c)
        return c;
    if (r->nchains == r->capchains) {
        size_t cap = r->capchains ? r->capchains * 2 : 8;
        chain *grown = realloc(r->chains, cap * sizeof *grown);
        if (!grown)
            return NULL;
        r->chains = grown;
        r->capchains = cap;
    }
    c = &r->chains[r->nchains++];
    memset(c, 0, sizeof *c);
    c->provider = *g;
    return c;
}

/* The bits and the any count again, from what is still kept (mu held; rare). */
static void recount(void)
{
    uint64_t bits[4] = {0};
    size_t any = 0;
    for (size_t s = 0; s < nscopes; s++) {
        for (pend *p = scopes[s].any.head; p; p = p->next)
            any++;
        for (size_t i = 0; i < scopes[s].nchains; i++) {
            unsigned b = etw_embedded_bit(&scopes[s].chains[i].provider);
            bits[b >> 6] |= 1ull << (b & 63);
        }
    }
    for (int i = 0; i < 4; i++)
        atomic_store_explicit(&etw_embedded_bits[i], bits[i], memory_order_relaxed);
    atomic_store_explicit(&etw_embedded_any, any, memory_order_relaxed);
}

static size_t chain_bytes(const pend *p)
{
    size_t n = 0;
    for (; p; p = p->next)
        n += p->len;
    return n;
}

/* Takes every record of r out, merged into the order kept (mu held). */
static pend *take_all(scope_rec *r)
{
    pend *head = NULL, **tail = &head;
    for (;;) {
        chain *min = r->any.head ? &r->any : NULL;
        for (size_t i = 0; i < r->nchains; i++)
            if (r->chains[i].head && (!min || r->chains[i].head->seq < min->head->seq))
                min = &r->chains[i];
        if (!min)
            break;
        pend *p = min->head;
        min->head = p->next;
        p->next = NULL;
        *tail = p;
        tail = &p->next;
    }
    free(r->chains);
    *r = scopes[--nscopes]; /* r is gone: the last scope takes its place */
    return head;
}

static pend *take_provider(scope_rec *r, chain *c)
{
    pend *head = c->head;
    *c = r->chains[--r->nchains];
    if (!r->nchains && !r->any.head) {
        free(r->chains);
        *r = scopes[--nscopes];
    }
    return head;
}

static int learn(const pend *p)
{
    switch (p->kind) {
    case ETW_EMBEDDED_EVENT_INFO: return etw_metadata_learn_event_info(p->data, p->len);
    case ETW_EMBEDDED_MAP_INFO: return etw_metadata_learn_map_info(p->data, p->len);
    default: return etw_eventsource_load(p->data, p->len, &p->emitter, &p->desc);
    }
}

/* Compiles (or only frees) records taken out of scope, in their order. */
static void finish(uint32_t scope, pend *p, int compile)
{
    uint32_t outer = etw_decode_scope;
    etw_decode_scope = scope; /* where the learners store, as at delivery */
    while (p) {
        pend *next = p->next;
        if (compile)
            learn(p);
        if (p->owned)
            free(p->data);
        free(p);
        p = next;
    }
    etw_decode_scope = outer;
}

/* Which providers p (a manifest) can change: read once. */
static int reach(pend *p)
{
    GUID sole;
    if (p->reach == REACH_UNREAD)
        p->reach = etw_manifest_sole_provider(p->data, p->len, &sole) && etw_guid_equal(&sole, &p->emitter)
                       ? REACH_OWN
                       : REACH_ANY;
    return p->reach;
}

/* Moves r's manifests that describe only their own provider to that provider's chain, each at
 * its place in the order kept (mu held). Those that cannot move stay: then every lookup in the
 * scope compiles the whole scope. */
static void sort_any(scope_rec *r)
{
    pend **at = &r->any.head;
    r->any.tail = NULL;
    while (*at) {
        pend *p = *at;
        chain *c = reach(p) == REACH_OWN ? chain_add(r, &p->emitter) : NULL;
        if (!c) {
            r->any.tail = p;
            at = &p->next;
            continue;
        }
        *at = p->next;
        pend **in = &c->head;
        while (*in && (*in)->seq < p->seq)
            in = &(*in)->next;
        p->next = *in;
        *in = p;
        if (!p->next)
            c->tail = p;
    }
}

static pend *take_for(uint32_t scope, const GUID *provider)
{
    pend *list = NULL;
    pthread_mutex_lock(&mu);
    scope_rec *r = scope_find(scope);
    if (r && r->any.head && provider) {
        sort_any(r);
        recount();
    }
    chain *c = r && !r->any.head && provider ? chain_find(r, provider) : NULL;
    if (c || (r && (r->any.head || !provider))) {
        list = c ? take_provider(r, c) : take_all(r);
        kept_bytes -= chain_bytes(list);
        recount();
    }
    pthread_mutex_unlock(&mu);
    return list;
}

void etw_embedded_compile_slow(uint32_t scope, const GUID *provider)
{
    pend *list = take_for(scope, provider);
    if (list)
        finish(scope, list, 1);
}

void etw_embedded_compile_all(uint32_t scope)
{
    if (!scope)
        return;
    pend *list = take_for(scope, NULL);
    if (list)
        finish(scope, list, 1);
}

static int same(const pend *p, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                const uint8_t *data, size_t n)
{
    return p->kind == kind && p->len == n && etw_guid_equal(&p->emitter, provider) &&
           memcmp(&p->desc, desc, sizeof *desc) == 0 && memcmp(p->data, data, n) == 0;
}

/* Would compiling a record like p's again, now, change nothing? When p is the last record
 * that could change the providers it can change (mu held). */
static int repeats_last(scope_rec *r, chain *c, pend *p)
{
    if (c != &r->any)
        return !r->any.tail || r->any.tail->seq < p->seq; /* p is its provider's newest, and no
                                                             record that may change any provider
                                                             came after it */
    if (reach(p) == REACH_ANY)
        return p->seq == r->seq; /* nothing kept since */
    chain *own = chain_find(r, &p->emitter);
    return !own || own->tail->seq < p->seq;
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
    int kept = 0, over = n > max_bytes || kept_bytes > max_bytes - n;
    scope_rec *r = over ? NULL : scope_add(scope);
    chain *c = !r ? NULL : kind == ETW_EMBEDDED_MANIFEST ? &r->any : chain_add(r, provider);
    if (c && c->tail && same(c->tail, kind, provider, desc, data, n) && repeats_last(r, c, c->tail)) {
        kept = 2; /* compiling it twice in a row gives what compiling it once does */
    } else if (c) {
        pend *p = malloc(sizeof *p + (owned ? 0 : n));
        if (p) {
            p->owned = owned != NULL;
            p->data = owned ? *owned : (uint8_t *)(p + 1);
            if (owned)
                *owned = NULL; /* ours now */
            else
                memcpy(p->data, data, n);
            p->next = NULL;
            p->seq = ++r->seq;
            p->kind = kind;
            p->reach = REACH_UNREAD;
            p->desc = *desc;
            p->emitter = *provider;
            p->len = n;
            if (c->tail)
                c->tail->next = p;
            else
                c->head = p;
            c->tail = p;
            kept_bytes += n;
            kept = 1;
            if (c == &r->any) {
                atomic_fetch_add_explicit(&etw_embedded_any, 1, memory_order_relaxed);
            } else {
                unsigned b = etw_embedded_bit(provider);
                atomic_fetch_or_explicit(&etw_embedded_bits[b >> 6], 1ull << (b & 63), memory_order_relaxed);
            }
        }
    }
    if (c && !c->head && c != &r->any) /* a chain added for a record that could not be kept */
        *c = r->chains[--r->nchains];
    pthread_mutex_unlock(&mu);
    if (kept == 1)
        etw_schema_touch(); /* memos of lookups must ask again: this provider may change */
    else if (!kept)
        etw_embedded_compile_all(scope); /* the caller compiles its record after these */
    return kept != 0;
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
    pend *lists = NULL;
    for (size_t i = nscopes; i-- > 0;) {
        if (!every && scopes[i].scope != scope)
            continue;
        pend *p = take_all(&scopes[i]);
        kept_bytes -= chain_bytes(p);
        while (p) {
            pend *next = p->next;
            p->next = lists;
            lists = p;
            p = next;
        }
    }
    recount();
    if (every) {
        free(scopes);
        scopes = NULL;
        capscopes = 0;
    }
    pthread_mutex_unlock(&mu);
    finish(scope, lists, 0);
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
    size_t n = kept_bytes;
    pthread_mutex_unlock(&mu);
    return n;
}

void etw_embedded_set_max_bytes(size_t max)
{
    pthread_mutex_lock(&mu);
    max_bytes = max ? max : ETW_EMBEDDED_MAX_BYTES;
    pthread_mutex_unlock(&mu);
}
