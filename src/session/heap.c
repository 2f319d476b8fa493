/* The merge heap (docs/design.md "One ProcessTrace call"): one entry per processor of every
 * session in the call that has a record ready, keyed by that record's (time, raw time, handle
 * position, processor). An entry is that key alone: the key's tie word names the session (its
 * position in the call) and the processor slot, so sifting moves 24 bytes per step and reads
 * nothing outside the heap's array, and a processor only knows whether it is in the heap
 * (in_heap), not where. When the top processor loads its next record, the merge rewrites the
 * top entry itself while that record still sorts first (merge.c, deliver_run), and sinks it
 * with etw_heap_sink_below (run.h, inline) once it sorts after the runner-up (the merge
 * compared them, so the first step down needs no comparison); etw_heap_pop_top when the
 * processor has none. */
#include <stdlib.h>

#include "session/run.h"

static void sift_up(etw_run *r, size_t i)
{
    etw_key it = r->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!etw_key_less(&it, &r->heap[parent]))
            break;
        r->heap[i] = r->heap[parent];
        i = parent;
    }
    r->heap[i] = it;
}

/* Moves `it` down from the top to its place; `c` is the top's smaller child (the runner-up). */
static void sink_top(etw_run *r, const etw_key *it, size_t c)
{
    if (!etw_key_less(&r->heap[c], it))
        r->heap[0] = *it;
    else
        etw_heap_sink_from(r->heap, r->heap_len, 0, c, it);
}

int etw_heap_push(etw_run *r, const etw_key *k)
{
    if (r->heap_len == r->heap_cap) {
        size_t cap = r->heap_cap ? r->heap_cap * 2 : 64;
        etw_key *grown = realloc(r->heap, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->heap = grown;
        r->heap_cap = cap;
    }
    r->heap[r->heap_len] = *k;
    sift_up(r, r->heap_len++);
    return 0;
}

void etw_heap_pop_top(etw_run *r)
{
    if (--r->heap_len > 0) {
        etw_key last = r->heap[r->heap_len];
        size_t c = etw_heap_runner_up(r);
        if (c == 0) /* one entry left: it is the top */
            r->heap[0] = last;
        else
            sink_top(r, &last, c);
    }
}
