/* Decompressing buffers ahead on a second thread (see decompress_ahead.h). */
#include "etl/decompress_ahead.h"

#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <etwire/evntrace.h>

#include "etl/decompress_ahead_cpu.h"
#include "etl/decompress_ahead_timeline.h"
#include "format/buffer_header.h"
#include "format/xca.h"

/* Buffers decoded ahead at most: enough to cover the reader's departures from the guessed
 * order (on net.4.5.2.x86.etl 95 of 275 buffers are asked for 1-12 places earlier than
 * guessed) after the thread slept until a quarter were free, few enough to stay in the
 * shared cache: at most AHEAD_BYTES of decompressed buffers, and at least two. With 8 or 16
 * slots a third of the buffers were not ready when asked for. */
#define AHEAD_SLOTS 32
#define AHEAD_BYTES ((size_t)2 << 20)

/* A reader that finds its buffer being decoded waits for it rather than decoding it a second
 * time (that was a third of the buffers, all decoded twice, when this was measured slower than
 * no thread), but only while the thread can still be on a processor: up to twice the thread's
 * usual time per buffer (30-50 us for 64 KiB) since it started, at most BUSY_WAIT_NS. A
 * thread that takes longer was preempted (a busy machine), and the reader does the buffer
 * itself. */
#define BUSY_WAIT_NS 150000

/* A thread with all its slots full polls for a free one this long before it sleeps: the reader
 * takes a buffer every 30-50 us, and waking a sleeping thread on a busy machine was measured
 * to take milliseconds (the thread is queued behind other processes), during which the reader
 * decodes every buffer itself. Only a thread that is ahead polls, for at most this long, and
 * it yields the processor between polls: spinning in place cost a busy machine's processes
 * (the reader among them) 4-5 ms of processor time per run of net.4.5.2.x86.etl. */
#define FULL_SPIN_NS 400000

enum { SLOT_FREE, SLOT_WORKING, SLOT_READY };

typedef struct ahead_slot {
    size_t entry;
    uint32_t rank; /* the entry's place in the guessed order */
    int state;
    uint64_t started; /* WORKING since (monotonic ns) */
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
    size_t nfree;    /* slots FREE */
    int sleeping;    /* the thread waits for free slots: woken when wake_at are */
    unsigned takes;  /* counts take() calls, read by the spinning thread (atomic) */
    uint64_t usual_ns; /* the thread's time per buffer (a moving average) */
    size_t wake_at;
    int stop;        /* read and written atomically: the polling thread reads it unlocked */
    etw_ahead_counts counts;
    uint8_t *given[AHEAD_SLOTS]; /* blocks handed back by the reader (give), for the thread */
    size_t ngiven;
    /* The thread's own, and the reader's when it helps (take): */
    uint8_t *raw, *reader_raw;
    size_t raw_size;
    size_t page_size; /* 0: new blocks are not populated (see populate) */
    uint64_t created; /* for the timeline: when start created the thread */
    etw_ahead_cpu *cpu; /* keeps the thread off the reader's processor (NULL: cannot) */
    int reader_cpu;     /* where the reader last took a buffer (atomic; -1: unknown) */
    int thread_cpu;     /* where the thread last finished one (atomic; -1: unknown) */
};

/* ETWIRE_DECOMPRESS_AHEAD=0 never, =1 always (tests use it on small files). Unset: when the
 * file has enough compressed buffers to pay for starting a thread (about 50 us, and its 2 MiB
 * of slots; AHEAD_MIN_BUFFERS buffers take about 1 ms to decode) and the process may run on a
 * second processor. Whether the machine is busy is not asked: it used to be (the runnable
 * count in /proc/loadavg, at most one per processor), because a thread that shared the
 * reader's processor cost up to a tenth when others' work kept both busy. Kept off the
 * reader's processor (decompress_ahead_cpu.h), the thread saved time in every case measured
 * (docs/benchmarks.md, "Compressed traces: the two threads' overlap"): 33% on a quiet
 * machine, 13-23% beside one spinning process wherever it ran, 13-24% beside 2-8 of them. The
 * runnable count, one racy sample, also turned the thread off for the process at the other
 * end of a pipe (`etwire dump FILE | jq`: both start at once), in 15 of 20 such runs. */
#define AHEAD_MIN_BUFFERS 32

int etw_ahead_wanted(size_t compressed_buffers)
{
    const char *env = getenv("ETWIRE_DECOMPRESS_AHEAD");
    if (env && *env)
        return *env != '0';
    if (compressed_buffers < AHEAD_MIN_BUFFERS)
        return 0;
    return etw_ahead_cpu_usable() > 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* On the thread: notes where it runs, and moves off the reader's processor if it is there. */
static void keep_apart_from_reader(etw_ahead *a)
{
    int here = etw_ahead_cpu_here();
    __atomic_store_n(&a->thread_cpu, here, __ATOMIC_RELAXED);
    etw_ahead_cpu_keep_apart(a->cpu, pthread_self(), here,
                             __atomic_load_n(&a->reader_cpu, __ATOMIC_RELAXED));
}

/* Called and returning with mu held: polls, without the lock, until the reader takes another
 * buffer (which may free a slot), stop is asked for, or FULL_SPIN_NS passed. */
static void spin_for_take(etw_ahead *a)
{
    unsigned seen = __atomic_load_n(&a->takes, __ATOMIC_ACQUIRE);
    pthread_mutex_unlock(&a->mu);
    uint64_t tl = ETW_TL_NOW();
    uint64_t until = now_ns() + FULL_SPIN_NS;
    for (;;) {
        /* Yielding on the reader's processor would hand it the processor for a whole slice. */
        keep_apart_from_reader(a);
        sched_yield();
        if (__atomic_load_n(&a->takes, __ATOMIC_ACQUIRE) != seen ||
            __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE) || now_ns() >= until)
            break;
    }
    ETW_TL_SPAN(ETW_TL_THREAD, ETW_TL_SPIN, tl, 0);
    pthread_mutex_lock(&a->mu);
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

/* A new block's first `used` bytes (a slot without a block: the reader has handed none back
 * yet), faulted in by one madvise before the decoder writes them instead of one fault per page
 * as it does. Up to AHEAD_SLOTS blocks are new in a process, 2 MiB: 512 faults at 0.75-1.3 us
 * each in the VM of docs/benchmarks.md, on the thread's side of the work; populated a block at
 * a time they took about a quarter less. Only the bytes the buffer fills: a partly filled
 * buffer does not commit the rest of its block. Where the kernel lacks MADV_POPULATE_WRITE
 * (before Linux 5.14) the call fails and the pages fault in as before. */
static void populate(const etw_ahead *a, uint8_t *block, size_t used)
{
#ifdef MADV_POPULATE_WRITE
    if (!a->page_size)
        return;
    uintptr_t mask = a->page_size - 1;
    uintptr_t first = ((uintptr_t)block + mask) & ~mask;
    uintptr_t end = ((uintptr_t)block + used) & ~mask;
    if (end > first)
        (void)madvise((void *)first, end - first, MADV_POPULATE_WRITE);
#else
    (void)a, (void)block, (void)used;
#endif
}

/* Reads and decompresses one entry into out (out_size bytes; fresh: just allocated); 0 on
 * success. */
static int decode_entry(etw_ahead *a, const etw_file_entry *e, uint8_t *raw, uint8_t *out,
                        int fresh, int who)
{
    size_t want = e->size, got = 0;
    if (want > a->raw_size || want < ETW_BUFFER_HEADER_SIZE)
        return -1;
    uint64_t tl = ETW_TL_NOW();
    (void)who;
    while (got < want) {
        ssize_t n = pread(a->fd, raw + got, want - got, (off_t)(e->offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    ETW_TL_SPAN(who, ETW_TL_READ, tl, e - a->entries);
    etw_buffer_header h;
    if (etw_buffer_header_parse(raw, want, &h) != ETW_OK ||
        !(h.flags & ETW_BUFFER_FLAG_COMPRESSED) || h.filled < ETW_BUFFER_HEADER_SIZE ||
        h.filled > a->out_size)
        return -1;
    size_t stored = h.buffer_size < want ? h.buffer_size : want, out_n = 0;
    if (fresh) {
        tl = ETW_TL_NOW();
        populate(a, out, h.filled);
        ETW_TL_SPAN(who, ETW_TL_POPULATE, tl, e - a->entries);
    }
    tl = ETW_TL_NOW();
    memcpy(out, raw, ETW_BUFFER_HEADER_SIZE);
    size_t expect = h.filled - ETW_BUFFER_HEADER_SIZE;
    if (etw_xca_decompress(a->format, raw + ETW_BUFFER_HEADER_SIZE,
                           stored - ETW_BUFFER_HEADER_SIZE, out + ETW_BUFFER_HEADER_SIZE, expect,
                           &out_n) != ETW_XCA_OK ||
        out_n != expect)
        return -1;
    ETW_TL_SPAN(who, ETW_TL_DECODE, tl, e - a->entries);
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
            a->nfree++;
            a->counts.dropped++;
            ETW_TL_MARK(ETW_TL_DROPPED, slot->entry);
            return slot;
        }
    }
    return NULL;
}

/* Whether a slot could be given up now (see free_slot). */
static int stale_slot(const etw_ahead *a)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].state == SLOT_READY && a->slots[i].rank + a->nslots < a->reader_rank)
            return 1;
    return 0;
}

/* Under mu: the next entry in the guessed order not taken yet, claimed into a free slot (to
 * be decoded by whoever claimed it, with work_slot); NULL when there is none or no slot. */
static ahead_slot *claim_next(etw_ahead *a)
{
    while (a->cursor < a->norder && a->taken[a->order[a->cursor]])
        a->cursor++;
    if (a->cursor == a->norder)
        return NULL;
    ahead_slot *slot = free_slot(a);
    if (!slot)
        return NULL;
    size_t entry = a->order[a->cursor++];
    a->taken[entry] = 1;
    slot->entry = entry;
    slot->rank = a->rank[entry];
    slot->state = SLOT_WORKING;
    a->nfree--;
    slot->abandoned = 0;
    slot->started = now_ns();
    if (!slot->out && a->ngiven)
        slot->out = a->given[--a->ngiven];
    return slot;
}

/* Decodes a claimed slot's entry with mu released (raw: the caller's read buffer) and
 * publishes the result. Called and returns with mu held. */
static void work_slot(etw_ahead *a, ahead_slot *slot, uint8_t *raw, int by_thread)
{
    uint8_t *out = slot->out; /* nobody else touches a WORKING slot's block */
    const etw_file_entry *e = &a->entries[slot->entry];
    pthread_mutex_unlock(&a->mu);

    int fresh = !out;
    if (fresh)
        out = malloc(a->out_size);
    int ok = out && decode_entry(a, e, raw, out, fresh,
                                 by_thread ? ETW_TL_THREAD : ETW_TL_READER) == 0;
    uint64_t took = now_ns() - slot->started;

    pthread_mutex_lock(&a->mu);
    slot->out = out;
    if (by_thread)
        a->usual_ns = (a->usual_ns * 7 + took) / 8;
    /* A buffer that cannot be done (or not compressed: never asked for) frees its slot at
     * once; the reader finds no slot for it and does it itself. */
    slot->state = ok && !slot->abandoned ? SLOT_READY : SLOT_FREE;
    a->nfree += slot->state == SLOT_FREE;
    if (!ok) {
        a->counts.failed++;
        ETW_TL_MARK(ETW_TL_FAILED, slot->entry);
    }
    pthread_cond_broadcast(&a->changed); /* a reader may wait for this slot */
}

static void *ahead_main(void *arg)
{
    etw_ahead *a = arg;
    ETW_TL_SPAN(ETW_TL_THREAD, ETW_TL_STARTING, a->created, 0);
    pthread_mutex_lock(&a->mu);
    while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        ahead_slot *slot = claim_next(a);
        if (!slot && a->cursor < a->norder) {
            spin_for_take(a);
            slot = claim_next(a);
        }
        if (slot) {
            work_slot(a, slot, a->raw, 1);
            keep_apart_from_reader(a);
            continue;
        }
        if (a->cursor == a->norder)
            break;
        /* All slots full: sleep until several are free, so that the reader wakes the thread
         * once per few buffers, not for each (a wake-up is a system call for the reader and
         * a scheduling delay for the thread). */
        a->sleeping = 1;
        uint64_t tl = ETW_TL_NOW();
        while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE) && a->nfree < a->wake_at &&
               !stale_slot(a))
            pthread_cond_wait(&a->changed, &a->mu);
        a->sleeping = 0;
        ETW_TL_SPAN(ETW_TL_THREAD, ETW_TL_SLEEP, tl, 0);
    }
    pthread_mutex_unlock(&a->mu);
    ETW_TL_THREAD_DONE();
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
    a->nfree = a->nslots;
    a->usual_ns = 50000;
    a->wake_at = a->nslots / 4;
    long page = sysconf(_SC_PAGESIZE);
    a->page_size = page > 0 && ((unsigned long)page & ((unsigned long)page - 1)) == 0 ? (size_t)page : 0;
    for (size_t i = 1; i < count; i++)
        if (entries[i].size > a->raw_size)
            a->raw_size = entries[i].size;
    a->raw = malloc(a->raw_size ? a->raw_size : 1);
    a->reader_raw = malloc(a->raw_size ? a->raw_size : 1);
    a->taken = calloc(count, 1);
    if (!a->raw || !a->reader_raw || !a->taken || build_order(a, nprocs, merged) != 0)
        goto fail;
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&a->changed, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        goto fail;
    }
    a->cpu = etw_ahead_cpu_new();
    a->reader_cpu = etw_ahead_cpu_here();
    a->thread_cpu = -1;
    pthread_attr_t attr;
    int have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr)
        (void)etw_ahead_cpu_away(a->cpu, &attr);
    a->created = ETW_TL_NOW();
    int created = pthread_create(&a->thread, have_attr ? &attr : NULL, ahead_main, a);
    if (created != 0 && have_attr) /* the processors could not be had: anywhere, then */
        created = pthread_create(&a->thread, NULL, ahead_main, a);
    if (have_attr)
        pthread_attr_destroy(&attr);
    if (created != 0) {
        pthread_cond_destroy(&a->changed);
        pthread_mutex_destroy(&a->mu);
        goto fail;
    }
    return a;
fail:
    free(a->cpu);
    free(a->raw);
    free(a->reader_raw);
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
    uint64_t tl_take = ETW_TL_NOW();
    int here = etw_ahead_cpu_here();
    __atomic_store_n(&a->reader_cpu, here, __ATOMIC_RELAXED);
    etw_ahead_cpu_keep_apart(a->cpu, a->thread, __atomic_load_n(&a->thread_cpu, __ATOMIC_RELAXED),
                             here);
    pthread_mutex_lock(&a->mu);
    if (index > 0 && a->rank[index] > a->reader_rank)
        a->reader_rank = a->rank[index];
    ahead_slot *slot = NULL;
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].state != SLOT_FREE && a->slots[i].entry == index)
            slot = &a->slots[i];
    if (slot && slot->state == SLOT_WORKING) {
        /* Being decoded: wait for it while the thread is plausibly on a processor (see
         * BUSY_WAIT_NS). While it has long to go, the reader decodes the next buffer the thread
         * would have taken instead of idling: when the thread is the slower of the two (the
         * events of a buffer take less time than decoding it), this shares the decoding
         * between them. The lock is dropped while polling, so the thread can finish. The
         * reader does not yield: on a busy machine that can cost it a whole time slice. */
        uint64_t wait = 2 * a->usual_ns < BUSY_WAIT_NS ? 2 * a->usual_ns : BUSY_WAIT_NS;
        uint64_t deadline = slot->started + wait, help_until = slot->started + a->usual_ns * 2 / 3;
        while (slot->state == SLOT_WORKING && slot->entry == index) {
            uint64_t now = now_ns();
            if (now >= deadline)
                break;
            ahead_slot *help = now < help_until ? claim_next(a) : NULL;
            if (help) {
                work_slot(a, help, a->reader_raw, 0);
                a->counts.helped++;
                ETW_TL_MARK(ETW_TL_HELPED, help->entry);
                continue;
            }
            uint64_t tl = ETW_TL_NOW();
            pthread_mutex_unlock(&a->mu);
            for (int k = 0; k < 64; k++)
                cpu_relax();
            pthread_mutex_lock(&a->mu);
            ETW_TL_SPAN(ETW_TL_READER, ETW_TL_WAIT, tl, index);
        }
        if (slot->entry != index || slot->state == SLOT_FREE)
            slot = NULL; /* the thread could not do it (failed): the reader will */
    }
    if (!slot) {
        a->taken[index] = 1; /* the thread must not start it now */
        a->counts.missed++;
        ETW_TL_MARK(ETW_TL_MISSED, index);
    } else if (slot->state == SLOT_WORKING) {
        /* Not waited for longer: on a busy machine the thread may be off the processor for a
         * whole time slice. */
        slot->abandoned = 1;
        a->counts.busy++;
        ETW_TL_MARK(ETW_TL_BUSY, index);
    } else {
        result = slot->out;
        slot->out = NULL;
        slot->state = SLOT_FREE;
        a->nfree++;
        a->counts.ready++;
        ETW_TL_MARK(ETW_TL_READY, index);
    }
    __atomic_fetch_add(&a->takes, 1, __ATOMIC_RELEASE);
    if (a->sleeping && (a->nfree >= a->wake_at || stale_slot(a)))
        pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    ETW_TL_SPAN(ETW_TL_READER, ETW_TL_TAKE, tl_take, index);
    return result;
}

void etw_ahead_stop(etw_ahead *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    __atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    for (size_t i = 0; i < a->nslots; i++)
        free(a->slots[i].out);
    while (a->ngiven)
        free(a->given[--a->ngiven]);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    free(a->cpu);
    free(a->raw);
    free(a->reader_raw);
    free(a->taken);
    free(a->order);
    free(a->rank);
    free(a);
}

int etw_ahead_give(etw_ahead *a, uint8_t *block)
{
    if (!a || !block)
        return 0;
    int kept = 0;
    pthread_mutex_lock(&a->mu);
    if (a->ngiven < a->nslots) {
        a->given[a->ngiven++] = block;
        kept = 1;
    }
    pthread_mutex_unlock(&a->mu);
    return kept;
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
        if (!working && (!free_slots || a->sleeping || c == a->norder ||
                         __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)))
            break;
        pthread_cond_wait(&a->changed, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
}

etw_ahead_counts etw_ahead_counts_of(etw_ahead *a)
{
    etw_ahead_counts c = {0, 0, 0, 0, 0, 0};
    if (!a)
        return c;
    pthread_mutex_lock(&a->mu);
    c = a->counts;
    pthread_mutex_unlock(&a->mu);
    return c;
}
