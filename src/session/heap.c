/* The merge heap (docs/design.md "One ProcessTrace call"): one entry per processor of every
 * session in the call that has a record ready, keyed by that record's (time, raw time, handle
 * position, processor). Each entry carries a copy of its key, so sifting reads only the heap's
 * own array (not each processor's entry in its session's table), and a processor only knows
 * whether it is in the heap (in_heap), not where: moving an entry writes nothing else. The
 * top's key is refreshed from its processor when its next record is loaded (fix_top). */
#include <stdlib.h>

#include "session/run.h"

static void sift_up(etw_run *r, size_t i)
{
    etw_heap_item it = r->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!etw_key_less(&it.key, &r->heap[parent].key))
            break;
        r->heap[i] = r->heap[parent];
        i = parent;
    }
    r->heap[i] = it;
}

static void sift_down(etw_run *r, size_t i)
{
    etw_heap_item it = r->heap[i];
    size_t len = r->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= len)
            break;
        if (c + 1 < len && etw_key_less(&r->heap[c + 1].key, &r->heap[c].key))
            c++;
        if (!etw_key_less(&r->heap[c].key, &it.key))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    r->heap[i] = it;
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
    etw_proc *p = &s->procs[slot];
    p->in_heap = 1;
    r->heap[r->heap_len] = (etw_heap_item){p->key, s, slot};
    sift_up(r, r->heap_len++);
    return 0;
}

void etw_heap_fix_top(etw_run *r)
{
    etw_heap_item *top = &r->heap[0];
    top->key = top->s->procs[top->slot].key;
    /* Most of the time the same processor stays earliest: two comparisons, no moves. */
    if ((r->heap_len < 2 || etw_key_less(&top->key, &r->heap[1].key)) &&
        (r->heap_len < 3 || etw_key_less(&top->key, &r->heap[2].key)))
        return;
    sift_down(r, 0);
}

void etw_heap_pop_top(etw_run *r)
{
    r->heap[0].s->procs[r->heap[0].slot].in_heap = 0;
    if (--r->heap_len > 0) {
        r->heap[0] = r->heap[r->heap_len];
        sift_down(r, 0);
    }
}
