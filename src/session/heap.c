/* The merge heap (docs/design.md "One ProcessTrace call"): one entry per processor of every
 * session in the call that has a record ready, keyed by that record's (time, raw time, handle
 * position, processor). Each processor knows its place in the heap (heap_pos), so a processor
 * whose next record is still the earliest costs two comparisons and no moves. */
#include <stdlib.h>

#include "session/run.h"

static const etw_key *item_key(const etw_heap_item *it)
{
    return &it->s->procs[it->slot].key;
}

static void heap_set(etw_run *r, size_t i, etw_heap_item it)
{
    r->heap[i] = it;
    it.s->procs[it.slot].heap_pos = (int32_t)i;
}

static void sift_up(etw_run *r, size_t i)
{
    etw_heap_item it = r->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!etw_key_less(item_key(&it), item_key(&r->heap[parent])))
            break;
        heap_set(r, i, r->heap[parent]);
        i = parent;
    }
    heap_set(r, i, it);
}

static void sift_down(etw_run *r, size_t i)
{
    etw_heap_item it = r->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->heap_len)
            break;
        if (c + 1 < r->heap_len && etw_key_less(item_key(&r->heap[c + 1]), item_key(&r->heap[c])))
            c++;
        if (!etw_key_less(item_key(&r->heap[c]), item_key(&it)))
            break;
        heap_set(r, i, r->heap[c]);
        i = c;
    }
    heap_set(r, i, it);
}

int etw_heap_push(etw_run *r, etw_session *s, uint32_t slot)
{
    if (r->heap_len == r->heap_cap) {
        size_t cap = r->heap_cap ? r->heap_cap * 2 : 64;
        etw_heap_item *grown = realloc(r->heap, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->heap = grown;
        r->heap_cap = cap;
    }
    r->heap[r->heap_len] = (etw_heap_item){s, slot};
    sift_up(r, r->heap_len++);
    return 0;
}

void etw_heap_fix_top(etw_run *r)
{
    /* Most of the time the same processor stays earliest: two comparisons, no moves. */
    const etw_key *k = item_key(&r->heap[0]);
    if ((r->heap_len < 2 || etw_key_less(k, item_key(&r->heap[1]))) &&
        (r->heap_len < 3 || etw_key_less(k, item_key(&r->heap[2]))))
        return;
    sift_down(r, 0);
}

void etw_heap_pop_top(etw_run *r)
{
    r->heap[0].s->procs[r->heap[0].slot].heap_pos = -1;
    if (--r->heap_len > 0) {
        r->heap[0] = r->heap[r->heap_len];
        sift_down(r, 0);
    }
}

