/* Decompressing buffers ahead on a second thread (see decompress_ahead.h). */
#include "etl/decompress_ahead.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <etwire/evntrace.h>

#include "format/buffer_header.h"
#include "format/xca.h"

/* Buffers decoded ahead at most: enough to cover the reader's departures from the guessed
 * order (on net.4.5.2.x86.etl 13 of 275 buffers are asked for 5-12 places earlier than
 * guessed) and the thread's delays, few enough to stay in cache: at most AHEAD_BYTES of
 * decompressed buffers, and at least two. */
#define AHEAD_SLOTS 8
#define AHEAD_BYTES ((size_t)1 << 20)

enum { SLOT_FREE, SLOT_WORKING, SLOT_READY };

typedef struct ahead_slot {
    size_t entry;
    uint32_t rank; /* the entry's place in the guessed order */
    int state;
    int abandoned; /* WORKING, but the reader came and did it itself */
    uint8_t *out;  /* the decompressed buffer (READY), handed over by take */
} ahead_slot;

struct etw_ahead {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* a slot changed state, or stop */
    int fd;
    const etw_file_entry *entries;
    size_t count;
    int format, merged;
    size_t out_size;
    uint32_t *order; /* entry indexes in the guessed order of asking */
    uint32_t *rank;  /* per entry: its place in order */
    size_t norder;
    /* Under mu: */
    size_t cursor;   /* the thread's position in order */
    size_t reader_rank; /* the furthest place in order the reader has asked for */
    uint8_t *taken;  /* per entry: claimed by the thread or asked for by the reader */
    ahead_slot slots[AHEAD_SLOTS];
    size_t nslots;
    int stop;
    etw_ahead_counts counts;
    /* The thread's own: */
    uint8_t *raw;
    size_t raw_size;
};

/* Off unless asked for: on the shared two-vCPU machine where it was measured (docs/
 * benchmarks.md) the thread seldom found a free processor, and no whole-process gain could be
 * shown, so it is not paid for (about 1 MB of memory, a thread) by default. */
int etw_ahead_wanted(void)
{
    const char *env = getenv("ETWIRE_DECOMPRESS_AHEAD");
    return env && *env && *env != '0';
}

/* When events are merged, a processor's next buffer is wanted when the one before it is used
 * up, at about that one's flush time: sort entries by their processor's previous flush (the
 * first ones by 0), keeping flush order among equals. Otherwise buffers go in flush order. */
typedef struct {
    uint64_t key;
    uint32_t entry;
} order_item;

static int by_key(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->entry > y->entry) - (x->entry < y->entry);
}

static int build_order(etw_ahead *a, uint32_t nprocs, int merged)
{
    size_t n = a->count > 1 ? a->count - 1 : 0;
    order_item *items = malloc((n ? n : 1) * sizeof *items);
    uint64_t *prev = calloc(nprocs ? nprocs : 1, sizeof *prev);
    a->order = malloc((n ? n : 1) * sizeof *a->order);
    a->rank = calloc(a->count, sizeof *a->rank);
    if (!items || !prev || !a->order || !a->rank) {
        free(items);
        free(prev);
        return -1;
    }
    for (size_t i = 1; i < a->count; i++) {
        const etw_file_entry *e = &a->entries[i];
        uint64_t key = !merged ? i : e->proc < nprocs ? prev[e->proc] : 0;
        if (e->proc < nprocs)
            prev[e->proc] = e->flush;
        items[i - 1] = (order_item){key, (uint32_t)i};
    }
    qsort(items, n, sizeof *items, by_key);
    for (size_t i = 0; i < n; i++) {
        a->order[i] = items[i].entry;
        a->rank[items[i].entry] = (uint32_t)i;
    }
    a->norder = n;
    free(items);
    free(prev);
    return 0;
}

/* Reads and decompresses one entry into out (out_size bytes); 0 on success. */
static int decode_entry(etw_ahead *a, const etw_file_entry *e, uint8_t *out)
{
    size_t want = e->size, got = 0;
    if (want > a->raw_size || want < ETW_BUFFER_HEADER_SIZE)
        return -1;
    while (got < want) {
        ssize_t n = pread(a->fd, a->raw + got, want - got, (off_t)(e->offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    etw_buffer_header h;
    if (etw_buffer_header_parse(a->raw, want, &h) != ETW_OK ||
        !(h.flags & ETW_BUFFER_FLAG_COMPRESSED) || h.filled < ETW_BUFFER_HEADER_SIZE ||
        h.filled > a->out_size)
        return -1;
    size_t stored = h.buffer_size < want ? h.buffer_size : want, out_n = 0;
    memcpy(out, a->raw, ETW_BUFFER_HEADER_SIZE);
    size_t expect = h.filled - ETW_BUFFER_HEADER_SIZE;
    if (etw_xca_decompress(a->format, a->raw + ETW_BUFFER_HEADER_SIZE,
                           stored - ETW_BUFFER_HEADER_SIZE, out + ETW_BUFFER_HEADER_SIZE, expect,
                           &out_n) != ETW_XCA_OK ||
        out_n != expect)
        return -1;
    return 0;
}

/* A free slot; else one whose buffer the guess placed well before where the reader already is
 * (the guess was wrong: on net.4.5.2.x86.etl the last buffers of processors that flush rarely
 * are asked for a hundred places later than guessed), given up so that it does not hold a
 * slot for most of the file: the reader will decompress that buffer itself. */
static ahead_slot *free_slot(etw_ahead *a)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].state == SLOT_FREE)
            return &a->slots[i];
    for (size_t i = 0; i < a->nslots; i++) {
        ahead_slot *slot = &a->slots[i];
        if (slot->state == SLOT_READY && slot->rank + a->nslots < a->reader_rank) {
            slot->state = SLOT_FREE;
            a->counts.dropped++;
            return slot;
        }
    }
    return NULL;
}

static void *ahead_main(void *arg)
{
    etw_ahead *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->cursor < a->norder && a->taken[a->order[a->cursor]])
            a->cursor++;
        if (a->stop || a->cursor == a->norder)
            break;
        ahead_slot *slot = free_slot(a);
        if (!slot) {
            pthread_cond_wait(&a->changed, &a->mu);
            continue;
        }
        size_t entry = a->order[a->cursor++];
        a->taken[entry] = 1;
        slot->entry = entry;
        slot->rank = a->rank[entry];
        slot->state = SLOT_WORKING;
        slot->abandoned = 0;
        uint8_t *out = slot->out;
        pthread_mutex_unlock(&a->mu);

        if (!out)
            out = malloc(a->out_size);
        int ok = out && decode_entry(a, &a->entries[entry], out) == 0;

        pthread_mutex_lock(&a->mu);
        slot->out = out;
        /* A buffer the thread cannot do (or not compressed: never asked for) frees its slot
         * at once; the reader finds no slot for it and does it itself. */
        slot->state = ok && !slot->abandoned ? SLOT_READY : SLOT_FREE;
        if (!ok)
            a->counts.failed++;
        pthread_cond_broadcast(&a->changed);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

etw_ahead *etw_ahead_start(int fd, const etw_file_entry *entries, size_t count, uint32_t nprocs,
                           int merged, int format, size_t out_size)
{
    if (count < 2 || out_size <= ETW_BUFFER_HEADER_SIZE || out_size > ETW_MAX_BUFFER_SIZE)
        return NULL;
    etw_ahead *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fd = fd;
    a->entries = entries;
    a->count = count;
    a->format = format;
    a->merged = merged;
    a->out_size = out_size;
    a->nslots = AHEAD_BYTES / out_size;
    a->nslots = a->nslots < 2 ? 2 : a->nslots > AHEAD_SLOTS ? AHEAD_SLOTS : a->nslots;
    for (size_t i = 1; i < count; i++)
        if (entries[i].size > a->raw_size)
            a->raw_size = entries[i].size;
    a->raw = malloc(a->raw_size ? a->raw_size : 1);
    a->taken = calloc(count, 1);
    if (!a->raw || !a->taken || build_order(a, nprocs, merged) != 0)
        goto fail;
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&a->changed, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        goto fail;
    }
    if (pthread_create(&a->thread, NULL, ahead_main, a) != 0) {
        pthread_cond_destroy(&a->changed);
        pthread_mutex_destroy(&a->mu);
        goto fail;
    }
    return a;
fail:
    free(a->raw);
    free(a->taken);
    free(a->order);
    free(a->rank);
    free(a);
    return NULL;
}

uint8_t *etw_ahead_take(etw_ahead *a, size_t index)
{
    if (!a || index >= a->count)
        return NULL;
    uint8_t *result = NULL;
    pthread_mutex_lock(&a->mu);
    if (index > 0 && a->rank[index] > a->reader_rank) {
        a->reader_rank = a->rank[index];
        pthread_cond_broadcast(&a->changed); /* slots may have gone stale */
    }
    ahead_slot *slot = NULL;
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].state != SLOT_FREE && a->slots[i].entry == index)
            slot = &a->slots[i];
    if (!slot) {
        a->taken[index] = 1; /* the thread must not start it now */
        a->counts.missed++;
    } else if (slot->state == SLOT_WORKING) {
        /* Not waited for: on a busy machine the thread may be off the processor for a whole
         * time slice, and decoding a buffer takes a few tens of microseconds. */
        slot->abandoned = 1;
        a->counts.busy++;
    } else {
        result = slot->out;
        slot->out = NULL;
        slot->state = SLOT_FREE;
        a->counts.ready++;
        pthread_cond_broadcast(&a->changed);
    }
    pthread_mutex_unlock(&a->mu);
    return result;
}

void etw_ahead_stop(etw_ahead *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    for (size_t i = 0; i < a->nslots; i++)
        free(a->slots[i].out);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    free(a->raw);
    free(a->taken);
    free(a->order);
    free(a->rank);
    free(a);
}

int etw_ahead_merged(const etw_ahead *a)
{
    return a->merged;
}

void etw_ahead_settle(etw_ahead *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        int working = 0, free_slots = 0;
        for (size_t i = 0; i < a->nslots; i++) {
            working |= a->slots[i].state == SLOT_WORKING;
            free_slots += a->slots[i].state == SLOT_FREE;
        }
        size_t c = a->cursor;
        while (c < a->norder && a->taken[a->order[c]])
            c++;
        if (!working && (!free_slots || c == a->norder || a->stop))
            break;
        pthread_cond_wait(&a->changed, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
}

etw_ahead_counts etw_ahead_counts_of(etw_ahead *a)
{
    etw_ahead_counts c = {0, 0, 0, 0, 0};
    if (!a)
        return c;
    pthread_mutex_lock(&a->mu);
    c = a->counts;
    pthread_mutex_unlock(&a->mu);
    return c;
}
