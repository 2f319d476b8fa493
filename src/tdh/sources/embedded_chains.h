/* The records embedded_pending.c keeps, per trace scope and provider (embedded_chains.c). Every
 * function here runs with embedded_pending.c's mutex held; the state is only read and changed
 * under it. */
#ifndef ETWIRE_TDH_EMBEDDED_CHAINS_H
#define ETWIRE_TDH_EMBEDDED_CHAINS_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/evntcons.h>

/* One kept record. */
typedef struct etw_kept_rec {
    struct etw_kept_rec *next; /* the same chain, in the order kept */
    uint64_t seq;              /* the order kept, over the scope's chains */
    uint8_t kind;              /* enum etw_embedded_kind */
    uint8_t reach;             /* manifests: ETW_KEPT_UNREAD, _OWN or _ANY */
    EVENT_DESCRIPTOR desc;     /* manifests: the ManifestData event that finished it */
    GUID emitter;              /* the provider it was kept for (manifests: that logged it) */
    size_t len;
    uint8_t *data; /* inline, after the record, or a buffer handed over (owned) */
    int owned;
} etw_kept_rec;

/* Which providers a manifest can change: not read yet, only the one that logged it, any. */
enum { ETW_KEPT_UNREAD, ETW_KEPT_OWN, ETW_KEPT_ANY };

typedef struct etw_kept_chain {
    GUID provider;
    etw_kept_rec *head, *tail; /* kept, not compiled yet */
    etw_kept_rec *done;        /* the last one compiled */
} etw_kept_chain;

typedef struct etw_kept_scope {
    uint32_t scope;
    uint64_t seq;       /* records kept so far */
    etw_kept_chain any; /* records that may change any provider's schemas */
    etw_kept_chain *chains;
    size_t nchains, capchains;
} etw_kept_scope;

typedef struct etw_kept_state {
    etw_kept_scope *scopes;
    size_t nscopes, capscopes;
    /* Bytes of records not compiled yet, and of the last compiled ones; their sum stays within
     * max_bytes. */
    size_t pending_bytes, done_bytes, max_bytes;
} etw_kept_state;

extern etw_kept_state etw_kept;

void etw_kept_free(etw_kept_rec *p);
etw_kept_scope *etw_kept_scope_find(uint32_t scope);
etw_kept_scope *etw_kept_scope_add(uint32_t scope);
/* NULL r: NULL. */
etw_kept_chain *etw_kept_chain_find(etw_kept_scope *r, const GUID *g);
etw_kept_chain *etw_kept_chain_add(etw_kept_scope *r, const GUID *g);
/* Sets etw_embedded_bits and etw_embedded_any again from what is still to compile. */
void etw_kept_recount(void);
/* The bytes of a list of records. */
size_t etw_kept_bytes(const etw_kept_rec *p);
/* Frees the chain's last compiled record. */
void etw_kept_drop_done(etw_kept_chain *c);
/* Takes every record of r out, merged into the order kept, and removes r (its compiled ones are
 * freed). */
etw_kept_rec *etw_kept_take_all(etw_kept_scope *r);
/* Which providers a kept manifest can change (ETW_KEPT_OWN or ETW_KEPT_ANY), read once. */
int etw_kept_reach(etw_kept_rec *p);
/* Moves r's manifests that describe only their own provider to that provider's chain. */
void etw_kept_sort_any(etw_kept_scope *r);
/* Would the record change nothing, repeating the newest one kept or compiled that could change
 * the same providers? */
int etw_kept_repeats(etw_kept_scope *r, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                     const uint8_t *data, size_t n);
/* Room for n more bytes, if need be by freeing compiled records. */
int etw_kept_room_for(size_t n);

#endif
