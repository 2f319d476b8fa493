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
#include "base/text.h"
#include "tdh/sources/manifest.h"
#include "tdh/store/schema_cache.h"

typedef struct pend {
    struct pend *next; /* the same chain, in the order kept */
    uint64_t seq;      /* the order kept, over the scope's chains */
    uint8_t kind;
    uint8_t reach;         /* manifests: REACH_*, once read */
    EVENT_DESCRIPTOR desc; /* manifests: the ManifestData event that finished it */
    GUID emitter;          /* the provider it was kept for (manifests: that logged it) */
    size_t len;
    uint8_t *data; /* inline, after the record, or a buffer handed over (owned) */
    int owned;
} pend;

enum { REACH_UNREAD, REACH_OWN, REACH_ANY };

typedef struct chain {
    GUID provider;
    pend *head, *tail; /* kept, not compiled yet */
    pend *done;        /* the last one compiled */
} chain;

typedef struct scope_rec {
    uint32_t scope;
    uint64_t seq; /* records kept so far */
    chain any;    /* records that may change any provider's schemas */
    chain *chains;
    size_t nchains, capchains;
} scope_rec;

_Atomic uint64_t etw_embedded_bits[4];
_Atomic size_t etw_embedded_any;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static scope_rec *scopes;
static size_t nscopes, capscopes;
/* Bytes of records not compiled yet, and of the last compiled ones; their sum stays within
 * max_bytes. */
static size_t pending_bytes, done_bytes, max_bytes = ETW_EMBEDDED_MAX_BYTES;

static void pend_free(pend *p)
{
    if (p && p->owned)
        free(p->data);
    free(p);
}

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
    for (size_t i = 0; r && i < r->nchains; i++)
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

/* The bits and the any count again, from what is still to compile (mu held; rare). */
static void recount(void)
{
    uint64_t bits[4] = {0};
    size_t any = 0;
    for (size_t s = 0; s < nscopes; s++) {
        for (pend *p = scopes[s].any.head; p; p = p->next)
            any++;
        for (size_t i = 0; i < scopes[s].nchains; i++) {
            if (!scopes[s].chains[i].head)
                continue;
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

static void drop_done(chain *c)
{
    if (c->done) {
        done_bytes -= c->done->len;
        pend_free(c->done);
        c->done = NULL;
    }
}

/* Takes every record of r out, merged into the order kept, and removes r (mu held). */
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
    for (size_t i = 0; i < r->nchains; i++)
        drop_done(&r->chains[i]);
    free(r->chains);
    *r = scopes[--nscopes]; /* the last scope takes r's place */
    pending_bytes -= chain_bytes(head);
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

/* Takes out what a lookup of provider (NULL: of every provider) must compile first (mu
 * taken). *whole: the scope's every record. */
static pend *take_for(uint32_t scope, const GUID *provider, int *whole)
{
    pend *list = NULL;
    pthread_mutex_lock(&mu);
    scope_rec *r = scope_find(scope);
    int sorted = r && r->any.head && provider;
    if (sorted)
        sort_any(r);
    *whole = r && (r->any.head || !provider);
    chain *c = *whole ? NULL : chain_find(r, provider);
    if (*whole) {
        list = take_all(r);
    } else if (c && c->head) {
        list = c->head;
        c->head = c->tail = NULL;
        pending_bytes -= chain_bytes(list);
    }
    if (sorted || list)
        recount();
    pthread_mutex_unlock(&mu);
    return list;
}

/* Keeps p, the last record a lookup of provider compiled, to tell its repeats. */
static void keep_done(uint32_t scope, const GUID *provider, pend *p)
{
    pthread_mutex_lock(&mu);
    chain *c = chain_find(scope_find(scope), provider);
    if (c)
        drop_done(c);
    if (c && pending_bytes + done_bytes <= max_bytes && p->len <= max_bytes - pending_bytes - done_bytes) {
        c->done = p;
        done_bytes += p->len;
        p = NULL;
    }
    pthread_mutex_unlock(&mu);
    pend_free(p);
}

/* Compiles (or only frees) records taken out of scope, in their order; the last of a
 * provider's chain is kept for comparison. */
static void finish(uint32_t scope, pend *p, int compile, const GUID *provider)
{
    uint32_t outer = etw_decode_scope;
    etw_decode_scope = scope; /* where the learners store, as at delivery */
    while (p) {
        pend *next = p->next;
        if (compile)
            learn(p);
        p->next = NULL;
        if (!next && provider)
            keep_done(scope, provider, p);
        else
            pend_free(p);
        p = next;
    }
    etw_decode_scope = outer;
}

void etw_embedded_compile_slow(uint32_t scope, const GUID *provider)
{
    int whole;
    pend *list = take_for(scope, provider, &whole);
    if (list)
        finish(scope, list, 1, whole ? NULL : provider);
}

void etw_embedded_compile_all(uint32_t scope)
{
    int whole;
    pend *list = scope ? take_for(scope, NULL, &whole) : NULL;
    if (list)
        finish(scope, list, 1, NULL);
}

static int same(const pend *p, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                const uint8_t *data, size_t n)
{
    return p && p->kind == kind && p->len == n && etw_guid_equal(&p->emitter, provider) &&
           memcmp(&p->desc, desc, sizeof *desc) == 0 && memcmp(p->data, data, n) == 0;
}

/* Nothing kept after seq may change any provider (mu held). Any-provider records are only ever
 * compiled with the whole scope, which removes r: those of r are all still kept. */
static int quiet_since(const scope_rec *r, uint64_t seq)
{
    return !r->any.tail || r->any.tail->seq < seq;
}

/* Would the record change nothing, repeating the newest one kept or compiled that could change
 * the same providers (mu held)? */
static int repeats(scope_rec *r, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                   const uint8_t *data, size_t n)
{
    chain *c = chain_find(r, provider);
    pend *newest = !c ? NULL : c->tail ? c->tail : c->done;
    if (kind != ETW_EMBEDDED_MANIFEST)
        return same(newest, kind, provider, desc, data, n) && quiet_since(r, newest->seq);
    pend *a = r->any.tail; /* the newest manifest kept, unread or describing others */
    if (same(a, kind, provider, desc, data, n))
        return reach(a) == REACH_ANY ? a->seq == r->seq : !newest || newest->seq < a->seq;
    return same(newest, kind, provider, desc, data, n) && newest->reach == REACH_OWN &&
           quiet_since(r, newest->seq);
}

/* Room for n more bytes, if need be by forgetting compiled records (mu held). */
static int room_for(size_t n)
{
    if (n <= max_bytes && pending_bytes + done_bytes <= max_bytes - n)
        return 1;
    for (size_t s = 0; s < nscopes; s++)
        for (size_t i = 0; i < scopes[s].nchains; i++)
            drop_done(&scopes[s].chains[i]);
    return n <= max_bytes && pending_bytes <= max_bytes - n;
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
    scope_rec *r = room_for(n) ? scope_add(scope) : NULL;
    if (r && repeats(r, kind, provider, desc, data, n)) {
        pthread_mutex_unlock(&mu);
        return 1; /* compiling it again would change nothing */
    }
    chain *c = !r ? NULL : kind == ETW_EMBEDDED_MANIFEST ? &r->any : chain_add(r, provider);
    pend *p = c ? malloc(sizeof *p + (owned ? 0 : n)) : NULL;
    if (p) {
        *p = (pend){.seq = ++r->seq, .kind = kind, .desc = *desc, .emitter = *provider, .len = n,
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
        pending_bytes += n;
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
    pend *lists = NULL;
    for (size_t i = nscopes; i-- > 0;) {
        if (!every && scopes[i].scope != scope)
            continue;
        pend *p = take_all(&scopes[i]);
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
    size_t n = pending_bytes;
    pthread_mutex_unlock(&mu);
    return n;
}

size_t etw_embedded_held_bytes(void)
{
    pthread_mutex_lock(&mu);
    size_t n = pending_bytes + done_bytes;
    pthread_mutex_unlock(&mu);
    return n;
}

void etw_embedded_set_max_bytes(size_t max)
{
    pthread_mutex_lock(&mu);
    max_bytes = max ? max : ETW_EMBEDDED_MAX_BYTES;
    pthread_mutex_unlock(&mu);
}
