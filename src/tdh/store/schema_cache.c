/* Open-addressing hash table behind one reader-writer lock (see schema_cache.h). Writes are
 * rare (a schema is learned once) and reads are per event, so a rwlock is enough; replaced or
 * dropped blobs go to a retired list instead of being freed, keeping readers' pointers valid. */
#include "tdh/store/schema_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct etw_schema_entry {
    etw_schema_key key; /* key.blob points into blob_copy */
    uint8_t *blob_copy;
    uint64_t hash;
    etw_schema s; /* s.entry points back here */
    void *_Atomic plan; /* etw_schema_set_plan */
} entry;

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static entry **slots;
static size_t nslots, nused;
static entry **retired; /* replaced or dropped entries, freed (with their blobs) by clear */
static _Atomic uint64_t generation = 1;

uint64_t etw_schema_generation(void)
{
    return generation;
}
static size_t nretired, capretired;

void etw_schema_touch(void)
{
    generation++;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* Every event costs a lookup or two, so the fixed part of the key is mixed a word at a time;
 * only variable blobs (TraceLogging metadata, map names) go byte by byte. */
static uint64_t key_hash(const etw_schema_key *k)
{
    uint64_t g0 = (uint64_t)k->guid.Data1 | (uint64_t)k->guid.Data2 << 32 | (uint64_t)k->guid.Data3 << 48, g1;
    memcpy(&g1, k->guid.Data4, 8);
    uint64_t h = mix(0xcbf29ce484222325ull, g0);
    h = mix(h, g1);
    h = mix(h, (uint64_t)k->kind | (uint64_t)k->a << 8 | (uint64_t)k->b << 24 | (uint64_t)k->scope << 40);
    return k->blob_len ? fnv(h, k->blob, k->blob_len) : h;
}

static int key_eq(const etw_schema_key *x, const etw_schema_key *y)
{
    return x->kind == y->kind && x->a == y->a && x->b == y->b && x->scope == y->scope && x->blob_len == y->blob_len &&
           memcmp(&x->guid, &y->guid, sizeof x->guid) == 0 &&
           (x->blob_len == 0 || memcmp(x->blob, y->blob, x->blob_len) == 0);
}

static entry **probe(const etw_schema_key *k, uint64_t h)
{
    if (!nslots)
        return NULL;
    for (size_t i = (size_t)h & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
        if (!slots[i] || (slots[i]->hash == h && key_eq(&slots[i]->key, k)))
            return &slots[i];
    }
}

/* Entries under a trace scope and any-version entries: when there are none (the common case
 * for most traces), lookups skip those probes altogether. Changed under the write lock. */
static _Atomic size_t nscoped, nany;

static void count_entry(const etw_schema_key *k, int delta)
{
    if (k->scope)
        nscoped += (size_t)delta;
    if (k->kind == ETW_KEY_CLASSIC && k->b == ETW_ANY_VERSION)
        nany += (size_t)delta;
}

int etw_schema_have_any_version(void)
{
    return nany != 0;
}

int etw_schema_find_scoped(const etw_schema_key *key, uint32_t scope, etw_schema *out)
{
    etw_schema_key sk = *key;
    sk.scope = scope;
    int try_scope = scope && nscoped;
    uint64_t hs = try_scope ? key_hash(&sk) : 0, h = key_hash(key);
    int found = 0;
    pthread_rwlock_rdlock(&lock);
    entry **e = try_scope ? probe(&sk, hs) : NULL;
    if (e && *e && (*e)->s.info) {
        *out = (*e)->s;
        found = 1;
    } else if ((e = probe(key, h)) && *e) {
        *out = (*e)->s;
        found = 1;
    }
    pthread_rwlock_unlock(&lock);
    return found;
}

int etw_schema_find(const etw_schema_key *key, etw_schema *out)
{
    uint64_t h = key_hash(key);
    int found = 0;
    pthread_rwlock_rdlock(&lock);
    entry **e = probe(key, h);
    if (e && *e) {
        *out = (*e)->s;
        found = 1;
    }
    pthread_rwlock_unlock(&lock);
    return found;
}

static int retire(entry *e)
{
    if (nretired == capretired) {
        size_t cap = capretired ? capretired * 2 : 16;
        entry **r = realloc(retired, cap * sizeof *r);
        if (!r)
            return 0;
        retired = r;
        capretired = cap;
    }
    retired[nretired++] = e;
    return 1;
}

static void free_entry(entry *e)
{
    free((void *)e->s.info);
    free(atomic_load_explicit(&e->plan, memory_order_acquire));
    free(e);
}

void *etw_schema_plan(const etw_schema *s)
{
    return s->entry ? atomic_load_explicit(&s->entry->plan, memory_order_acquire) : NULL;
}

void *etw_schema_set_plan(const etw_schema *s, void *plan)
{
    void *expected = NULL;
    if (!s->entry)
        return plan;
    if (atomic_compare_exchange_strong_explicit(&s->entry->plan, &expected, plan, memory_order_acq_rel,
                                                memory_order_acquire))
        return plan;
    free(plan); /* another thread published its plan first: both were built from one schema */
    return expected;
}

static int grow(void)
{
    size_t n = nslots ? nslots * 2 : 64;
    entry **s = calloc(n, sizeof *s);
    if (!s)
        return 0;
    entry **old = slots;
    size_t oldn = nslots;
    slots = s;
    nslots = n;
    for (size_t i = 0; i < oldn; i++)
        if (old[i])
            *probe(&old[i]->key, old[i]->hash) = old[i];
    free(old);
    return 1;
}

int etw_schema_put(const etw_schema_key *key, void *info, uint32_t size, uint8_t source,
                   uint32_t origin)
{
    entry *n = calloc(1, sizeof *n + key->blob_len);
    if (!n) {
        free(info);
        return 0;
    }
    n->blob_copy = (uint8_t *)(n + 1);
    if (key->blob_len)
        memcpy(n->blob_copy, key->blob, key->blob_len);
    n->key = *key;
    n->key.blob = n->blob_copy;
    n->hash = key_hash(key);
    n->s = (etw_schema){info, size, source, origin, n};
    int ok = 1;
    pthread_rwlock_wrlock(&lock);
    if ((nused + 1) * 2 > nslots && !grow()) {
        ok = 0;
    } else {
        entry **slot = probe(&n->key, n->hash);
        if (*slot && ((*slot)->s.source < source ||
                      ((*slot)->s.source == source && (*slot)->s.size == size &&
                       (size == 0 || memcmp((*slot)->s.info, info, size) == 0)))) {
            ok = 2; /* keep the higher-precedence (or identical) schema: nothing retires */
        } else if (*slot) {
            if (!retire(*slot))
                ok = 0;
            else
                *slot = n;
        } else {
            *slot = n;
            nused++;
            count_entry(&n->key, 1);
        }
    }
    if (ok == 1)
        generation++;
    pthread_rwlock_unlock(&lock);
    if (ok != 1) {
        free(info);
        free(n);
    }
    return ok != 0;
}

/* Rebuilds the table without the entries drop() selects (deletion in open addressing);
 * drop() disposes of them. Called with the write lock held. */
static size_t rebuild_without(int (*drop)(entry *e, uint32_t arg), uint32_t arg)
{
    size_t dropped = 0;
    entry **old = slots;
    size_t oldn = nslots;
    slots = calloc(oldn ? oldn : 1, sizeof *slots);
    if (!slots) {
        slots = old;
        return 0;
    }
    nslots = oldn;
    nused = 0;
    for (size_t i = 0; i < oldn; i++) {
        if (!old[i])
            continue;
        etw_schema_key k = old[i]->key; /* drop() may free the entry */
        if (drop(old[i], arg)) {
            count_entry(&k, -1);
            dropped++;
            continue;
        }
        *probe(&old[i]->key, old[i]->hash) = old[i];
        nused++;
    }
    free(old);
    generation++;
    return dropped;
}

static int retire_origin(entry *e, uint32_t origin)
{
    return origin && e->s.origin == origin && retire(e);
}

static int free_scope(entry *e, uint32_t scope)
{
    if (e->key.scope != scope)
        return 0;
    free_entry(e);
    return 1;
}

size_t etw_schema_drop_scope(uint32_t scope)
{
    if (!scope)
        return 0;
    pthread_rwlock_wrlock(&lock);
    size_t n = rebuild_without(free_scope, scope);
    pthread_rwlock_unlock(&lock);
    return n;
}

size_t etw_schema_drop_origin(uint32_t origin)
{
    pthread_rwlock_wrlock(&lock);
    size_t n = rebuild_without(retire_origin, origin);
    pthread_rwlock_unlock(&lock);
    return n;
}

/* Misses (no info) go at once; schemas of the source are retired (readers may hold them). */
static int retire_source(entry *e, uint32_t source)
{
    if (e->s.source != source)
        return 0;
    if (!e->s.info) {
        free(e);
        return 1;
    }
    return retire(e);
}

size_t etw_schema_drop_source(uint8_t source)
{
    pthread_rwlock_wrlock(&lock);
    size_t n = rebuild_without(retire_source, source);
    pthread_rwlock_unlock(&lock);
    return n;
}

void etw_schema_each(void (*fn)(const etw_schema_key *key, const etw_schema *s, void *ctx), void *ctx)
{
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < nslots; i++)
        if (slots[i])
            fn(&slots[i]->key, &slots[i]->s, ctx);
    pthread_rwlock_unlock(&lock);
}

void etw_schema_clear(void)
{
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < nslots; i++) {
        if (slots[i])
            free_entry(slots[i]);
    }
    free(slots);
    slots = NULL;
    nslots = nused = 0;
    nscoped = nany = 0;
    for (size_t i = 0; i < nretired; i++)
        free_entry(retired[i]);
    free(retired);
    retired = NULL;
    nretired = capretired = 0;
    generation++;
    pthread_rwlock_unlock(&lock);
}
