/* The chains of kept schema records (embedded_chains.h): each trace scope holds one chain per
 * provider and one of records that may change any provider's schemas, in the order kept (seq,
 * over the scope). The rules that keep lazy compiling exact are in embedded_pending.c; here are
 * the moves: merging a scope's chains back into one order, sorting manifests out of the any
 * chain once read, and telling a repeat. */
#include "tdh/sources/embedded_chains.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/manifest.h"

etw_kept_state etw_kept = {.max_bytes = ETW_EMBEDDED_MAX_BYTES};

void etw_kept_free(etw_kept_rec *p)
{
    if (p && p->owned)
        free(p->data);
    free(p);
}

etw_kept_scope *etw_kept_scope_find(uint32_t scope)
{
    for (size_t i = 0; i < etw_kept.nscopes; i++)
        if (etw_kept.scopes[i].scope == scope)
            return &etw_kept.scopes[i];
    return NULL;
}

etw_kept_scope *etw_kept_scope_add(uint32_t scope)
{
    etw_kept_scope *r = etw_kept_scope_find(scope);
    if (r)
        return r;
    if (etw_kept.nscopes == etw_kept.capscopes) {
        size_t cap = etw_kept.capscopes ? etw_kept.capscopes * 2 : 4;
        etw_kept_scope *g = realloc(etw_kept.scopes, cap * sizeof *g);
        if (!g)
            return NULL;
        etw_kept.scopes = g;
        etw_kept.capscopes = cap;
    }
    r = &etw_kept.scopes[etw_kept.nscopes++];
    memset(r, 0, sizeof *r);
    r->scope = scope;
    return r;
}

etw_kept_chain *etw_kept_chain_find(etw_kept_scope *r, const GUID *g)
{
    for (size_t i = 0; r && i < r->nchains; i++)
        if (etw_guid_equal(&r->chains[i].provider, g))
            return &r->chains[i];
    return NULL;
}

etw_kept_chain *etw_kept_chain_add(etw_kept_scope *r, const GUID *g)
{
    etw_kept_chain *c = etw_kept_chain_find(r, g);
    if (c)
        return c;
    if (r->nchains == r->capchains) {
        size_t cap = r->capchains ? r->capchains * 2 : 8;
        etw_kept_chain *grown = realloc(r->chains, cap * sizeof *grown);
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

/* The bits and the any count again, from what is still to compile (rare). */
void etw_kept_recount(void)
{
    uint64_t bits[4] = {0};
    size_t any = 0;
    for (size_t s = 0; s < etw_kept.nscopes; s++) {
        for (etw_kept_rec *p = etw_kept.scopes[s].any.head; p; p = p->next)
            any++;
        for (size_t i = 0; i < etw_kept.scopes[s].nchains; i++) {
            if (!etw_kept.scopes[s].chains[i].head)
                continue;
            unsigned b = etw_embedded_bit(&etw_kept.scopes[s].chains[i].provider);
            bits[b >> 6] |= 1ull << (b & 63);
        }
    }
    for (int i = 0; i < 4; i++)
        atomic_store_explicit(&etw_embedded_bits[i], bits[i], memory_order_relaxed);
    atomic_store_explicit(&etw_embedded_any, any, memory_order_relaxed);
}

size_t etw_kept_bytes(const etw_kept_rec *p)
{
    size_t n = 0;
    for (; p; p = p->next)
        n += p->len;
    return n;
}

void etw_kept_drop_done(etw_kept_chain *c)
{
    if (c->done) {
        etw_kept.done_bytes -= c->done->len;
        etw_kept_free(c->done);
        c->done = NULL;
    }
}

/* Takes every record of r out, merged into the order kept, and removes r. */
etw_kept_rec *etw_kept_take_all(etw_kept_scope *r)
{
    etw_kept_rec *head = NULL, **tail = &head;
    for (;;) {
        etw_kept_chain *min = r->any.head ? &r->any : NULL;
        for (size_t i = 0; i < r->nchains; i++)
            if (r->chains[i].head && (!min || r->chains[i].head->seq < min->head->seq))
                min = &r->chains[i];
        if (!min)
            break;
        etw_kept_rec *p = min->head;
        min->head = p->next;
        p->next = NULL;
        *tail = p;
        tail = &p->next;
    }
    for (size_t i = 0; i < r->nchains; i++)
        etw_kept_drop_done(&r->chains[i]);
    free(r->chains);
    *r = etw_kept.scopes[--etw_kept.nscopes]; /* the last scope takes r's place */
    etw_kept.pending_bytes -= etw_kept_bytes(head);
    return head;
}

/* Which providers p (a manifest) can change: read once. */
int etw_kept_reach(etw_kept_rec *p)
{
    GUID sole;
    if (p->reach == ETW_KEPT_UNREAD)
        p->reach = etw_manifest_sole_provider(p->data, p->len, &sole) && etw_guid_equal(&sole, &p->emitter)
                       ? ETW_KEPT_OWN
                       : ETW_KEPT_ANY;
    return p->reach;
}

/* Moves r's manifests that describe only their own provider to that provider's chain, each at
 * its place in the order kept. Those that cannot move stay: then every lookup in the
 * scope compiles the whole scope. */
void etw_kept_sort_any(etw_kept_scope *r)
{
    etw_kept_rec **at = &r->any.head;
    r->any.tail = NULL;
    while (*at) {
        etw_kept_rec *p = *at;
        etw_kept_chain *c = etw_kept_reach(p) == ETW_KEPT_OWN ? etw_kept_chain_add(r, &p->emitter) : NULL;
        if (!c) {
            r->any.tail = p;
            at = &p->next;
            continue;
        }
        *at = p->next;
        etw_kept_rec **in = &c->head;
        while (*in && (*in)->seq < p->seq)
            in = &(*in)->next;
        p->next = *in;
        *in = p;
        if (!p->next)
            c->tail = p;
    }
}

static int same(const etw_kept_rec *p, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                const uint8_t *data, size_t n)
{
    return p && p->kind == kind && p->len == n && etw_guid_equal(&p->emitter, provider) &&
           memcmp(&p->desc, desc, sizeof *desc) == 0 && memcmp(p->data, data, n) == 0;
}

/* Nothing kept after seq may change any provider. Any-provider records are only ever
 * compiled with the whole scope, which removes r: those of r are all still kept. */
static int quiet_since(const etw_kept_scope *r, uint64_t seq)
{
    return !r->any.tail || r->any.tail->seq < seq;
}

/* Would the record change nothing, repeating the newest one kept or compiled that could change
 * the same providers? */
int etw_kept_repeats(etw_kept_scope *r, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                   const uint8_t *data, size_t n)
{
    etw_kept_chain *c = etw_kept_chain_find(r, provider);
    etw_kept_rec *newest = !c ? NULL : c->tail ? c->tail : c->done;
    if (kind != ETW_EMBEDDED_MANIFEST)
        return same(newest, kind, provider, desc, data, n) && quiet_since(r, newest->seq);
    etw_kept_rec *a = r->any.tail; /* the newest manifest kept, unread or describing others */
    if (same(a, kind, provider, desc, data, n))
        return etw_kept_reach(a) == ETW_KEPT_ANY ? a->seq == r->seq : !newest || newest->seq < a->seq;
    return same(newest, kind, provider, desc, data, n) && newest->reach == ETW_KEPT_OWN &&
           quiet_since(r, newest->seq);
}

/* Room for n more bytes, if need be by forgetting compiled records. */
int etw_kept_room_for(size_t n)
{
    if (n <= etw_kept.max_bytes && etw_kept.pending_bytes + etw_kept.done_bytes <= etw_kept.max_bytes - n)
        return 1;
    for (size_t s = 0; s < etw_kept.nscopes; s++)
        for (size_t i = 0; i < etw_kept.scopes[s].nchains; i++)
            etw_kept_drop_done(&etw_kept.scopes[s].chains[i]);
    return n <= etw_kept.max_bytes && etw_kept.pending_bytes <= etw_kept.max_bytes - n;
}

