/* File reader: index, then read buffers in flush order or per processor into recycled blocks,
 * and again when a buffer's callback is due after its block was given back (see
 * file_source.h). */
#include "etl/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <etwire/evntrace.h>

#include "format/buffer_header.h"

static void problem(etw_file_source *f, etw_status st, uint64_t index, uint64_t offset,
                    const char *fmt, unsigned long long a, unsigned long long b)
{
    if (f->problem_count < ETW_FILE_PROBLEMS_KEPT) {
        etw_file_problem *p = &f->problems[f->problem_count];
        p->status = st;
        p->index = index;
        p->offset = offset;
        snprintf(p->detail, sizeof p->detail, fmt, a, b);
    }
    f->problem_count++;
}

static int push_entry(etw_file_source *f, size_t *cap, const etw_file_entry *e)
{
    if (f->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        etw_file_entry *grown = realloc(f->entries, ncap * sizeof *grown);
        if (!grown)
            return -1;
        f->entries = grown;
        *cap = ncap;
    }
    f->entries[f->count++] = *e;
    return 0;
}

/* The bytes a reader needs of a buffer of `size` bytes: up to its filled offset, or all of it
 * when compressed (the filled offset is then the decompressed size) or when the offset is not
 * believable (the session then refuses the buffer, naming what is wrong). */
static uint32_t used_bytes(const etw_buffer_header *h, uint32_t size)
{
    if ((h->flags & ETW_BUFFER_FLAG_COMPRESSED) || h->filled > size ||
        h->filled < ETW_BUFFER_HEADER_SIZE)
        return size;
    return h->filled;
}

/* Chains buffers by their BufferSize field. A buffer whose size field is unusable is reported;
 * in an uncompressed file every buffer has the header buffer's size, so reading resumes one
 * stride later instead of giving up on the rest of the file. */
static etw_status index_buffers(etw_file_source *f)
{
    size_t cap = 0;
    uint64_t off = 0, index = 0;
    uint32_t stride = 0;
    while (off < f->size) {
        size_t left = f->size - off;
        etw_buffer_header h;
        uint8_t raw[ETW_BUFFER_HEADER_SIZE];
        size_t want = left < sizeof raw ? left : sizeof raw;
        if (pread(f->fd, raw, want, (off_t)off) != (ssize_t)want)
            return ETW_E_IO;
        etw_status st = etw_buffer_header_parse(raw, left, &h);
        int size_ok = st != ETW_E_BUF_SHORT && h.buffer_size >= ETW_BUFFER_HEADER_SIZE;
        if (st == ETW_E_BUF_SHORT) {
            problem(f, ETW_E_BUF_TRUNCATED, index, off, "%llu trailing bytes%.0llu",
                    (unsigned long long)left, 0);
            break;
        }
        if (size_ok && h.buffer_size > left) {
            problem(f, ETW_E_BUF_TRUNCATED, index, off, "declares %llu bytes, %llu remain",
                    h.buffer_size, (unsigned long long)left);
            if (index == 0)
                return ETW_E_BUF_TRUNCATED;
        }
        if (!size_ok) {
            problem(f, ETW_E_BUF_SIZE, index, off, "size field %llu%.0llu", h.buffer_size, 0);
            if (index == 0 || !stride)
                return index == 0 ? ETW_E_BUF_SIZE : ETW_OK;
            off += stride;
            index++;
            continue;
        }
        etw_file_entry e;
        memset(&e, 0, sizeof e);
        e.offset = off;
        e.flush = h.timestamp;
        e.size = (uint32_t)(h.buffer_size > left ? left : h.buffer_size);
        e.used = used_bytes(&h, e.size);
        e.proc = h.processor;
        if (push_entry(f, &cap, &e) != 0)
            return ETW_E_NOMEM;
        f->compressed += (h.flags & ETW_BUFFER_FLAG_COMPRESSED) != 0;
        if (e.size > f->block_size)
            f->block_size = e.size;
        /* Relogged files have a small header buffer; the data buffers set the stride. */
        if (index > 0 && st == ETW_OK && !(h.flags & ETW_BUFFER_FLAG_COMPRESSED))
            stride = h.buffer_size;
        off += e.size;
        index++;
    }
    return ETW_OK;
}

static int by_flush(const void *a, const void *b)
{
    const etw_file_entry *x = a, *y = b;
    if (x->flush != y->flush)
        return x->flush < y->flush ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Order data buffers by flush time (stable by file position; the header buffer stays first),
 * chain each processor's buffers in that order and mark each processor's last one. */
static etw_status order_buffers(etw_file_source *f)
{
    if (f->count > 1)
        qsort(f->entries + 1, f->count - 1, sizeof *f->entries, by_flush);
    uint32_t n = 0;
    for (size_t i = 1; i < f->count; i++)
        if ((uint32_t)f->entries[i].proc + 1 > n)
            n = (uint32_t)f->entries[i].proc + 1;
    f->nprocs = n;
    f->proc_first = malloc((n ? n : 1) * sizeof *f->proc_first);
    f->proc_next = malloc((n ? n : 1) * sizeof *f->proc_next);
    if (!f->proc_first || !f->proc_next)
        return ETW_E_NOMEM;
    for (uint32_t p = 0; p < n; p++)
        f->proc_first[p] = UINT32_MAX;
    f->entries[0].next_same = UINT32_MAX;
    for (size_t i = f->count; i-- > 1;) {
        etw_file_entry *e = &f->entries[i];
        e->last_of_proc = f->proc_first[e->proc] == UINT32_MAX;
        e->next_same = f->proc_first[e->proc];
        f->proc_first[e->proc] = (uint32_t)i;
    }
    memcpy(f->proc_next, f->proc_first, (n ? n : 1) * sizeof *f->proc_next);
    return ETW_OK;
}

etw_status etw_file_source_open(const char *path, etw_file_source **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? ETW_E_NOFILE : ETW_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return ETW_E_IO;
    }
    etw_file_source *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return ETW_E_NOMEM;
    }
    f->fd = fd;
    f->size = (size_t)st.st_size;
    f->whole_buffers = 1;
    /* The kernel reads ahead for pread too; buffers come mostly in file order. */
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    etw_status s = index_buffers(f);
    if (s == ETW_OK && f->count == 0)
        s = ETW_E_BUF_SHORT;
    if (s == ETW_OK)
        s = order_buffers(f);
    if (s != ETW_OK) {
        if (f->problem_count)
            snprintf(err, errlen, "%s: buffer %llu at offset %llu: %s (%s)", path,
                     (unsigned long long)f->problems[0].index,
                     (unsigned long long)f->problems[0].offset,
                     etw_status_message(f->problems[0].status), f->problems[0].detail);
        else
            snprintf(err, errlen, "%s: buffer 0 at offset 0: %s", path, etw_status_message(s));
        etw_file_source_close(f);
        return s;
    }
    *out = f;
    return ETW_OK;
}

/* Blocks are whole pages carved from arenas. The first arena holds FIRST_ARENA_BLOCKS blocks
 * in ordinary pages: enough for a small file, whose start-up must not pay for a huge page.
 * Later ones are 2 MiB-aligned and offered to the kernel as huge pages when buffers are read
 * whole (blocks read only up to the filled offset stay in small pages, so their unused ends
 * take no memory): many blocks in flight
 * then take a few TLB entries instead of one per 4 KiB, and the copy into them runs faster
 * (measured: 9% less CPU on the PerfView trace; in this VM a TLB miss is a two-level walk). */
#define ARENA_ALIGN ((size_t)2 << 20)
#define FIRST_ARENA_BLOCKS 8

static size_t block_bytes(const etw_file_source *f)
{
    return ((f->block_size ? f->block_size : 1) + 4095) & ~(size_t)4095;
}

static int new_arena(etw_file_source *f, size_t block)
{
    struct etw_file_arena *grown = realloc(f->arenas, (f->narenas + 1) * sizeof *grown);
    if (!grown)
        return -1;
    f->arenas = grown;
    /* Huge pages only for whole buffers: a partly read block would fault in its unused end. */
    int huge = f->narenas > 0 && f->whole_buffers;
    size_t bytes = huge ? (block + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1) : block * FIRST_ARENA_BLOCKS;
    size_t extra = huge ? ARENA_ALIGN : 0;
    uint8_t *raw = mmap(NULL, bytes + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (raw == MAP_FAILED)
        return -1;
    uint8_t *base = raw;
    if (huge) {
        base = (uint8_t *)(((uintptr_t)raw + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1));
        if (base > raw)
            munmap(raw, (size_t)(base - raw));
        size_t tail = (size_t)(raw + bytes + extra - (base + bytes));
        if (tail)
            munmap(base + bytes, tail);
        madvise(base, bytes, MADV_HUGEPAGE);
    }
    f->arenas[f->narenas++] = (struct etw_file_arena){base, bytes};
    f->arena_used = 0;
    return 0;
}

void etw_file_source_close(etw_file_source *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    for (size_t i = 0; i < f->narenas; i++)
        munmap(f->arenas[i].base, f->arenas[i].bytes);
    free(f->arenas);
    free(f->spare);
    free(f->entries);
    free(f->proc_first);
    free(f->proc_next);
    free(f);
}

/* A free block, or a new one; NULL when memory runs out. */
static uint8_t *take_block(etw_file_source *f)
{
    if (f->nspare)
        return f->spare[--f->nspare];
    if (f->nblocks == f->capblocks) {
        size_t cap = f->capblocks ? f->capblocks * 2 : 16;
        uint8_t **sp = realloc(f->spare, cap * sizeof *sp);
        if (!sp)
            return NULL;
        f->spare = sp;
        f->capblocks = cap;
    }
    size_t bytes = block_bytes(f);
    if (!f->narenas || f->arenas[f->narenas - 1].bytes - f->arena_used < bytes) {
        if (new_arena(f, bytes) != 0)
            return NULL;
    }
    uint8_t *block = f->arenas[f->narenas - 1].base + f->arena_used;
    f->arena_used += bytes;
    f->nblocks++;
    return block;
}

void etw_file_source_done(etw_file_source *f, const uint8_t *p)
{
    /* Most recently freed first: the next read lands in memory that is still cached. The
     * spare array has room for every block, so this cannot fail. */
    if (p && !__atomic_load_n(&f->keep_blocks, __ATOMIC_RELAXED))
        f->spare[f->nspare++] = (uint8_t *)(uintptr_t)p;
}

void etw_file_source_whole_buffers(etw_file_source *f, int whole)
{
    f->whole_buffers = whole;
}

void etw_file_source_rewind(etw_file_source *f)
{
    f->next = 0;
    for (size_t i = 0; i < f->count; i++)
        f->entries[i].taken = 0;
    if (f->nprocs)
        memcpy(f->proc_next, f->proc_first, f->nprocs * sizeof *f->proc_next);
}

uint64_t etw_file_source_first_untaken(etw_file_source *f)
{
    while (f->next < f->count && f->entries[f->next].taken)
        f->next++;
    return f->next < f->count ? (uint64_t)f->next : UINT64_MAX;
}

/* The entry to read next: the processor's next untaken one, else the next untaken in flush
 * order; SIZE_MAX when every entry was taken. */
static size_t pick(etw_file_source *f, uint32_t processor)
{
    if (processor < f->nprocs) {
        uint32_t i = f->proc_next[processor];
        while (i != UINT32_MAX && f->entries[i].taken)
            i = f->entries[i].next_same;
        f->proc_next[processor] = i;
        if (i != UINT32_MAX)
            return i;
    }
    while (f->next < f->count && f->entries[f->next].taken)
        f->next++;
    return f->next < f->count ? f->next : SIZE_MAX;
}

void etw_file_source_keep_blocks(etw_file_source *f)
{
    __atomic_store_n(&f->keep_blocks, 1, __ATOMIC_RELAXED);
}

/* Reads bytes [from, to) of e into block; 0 when they could all be read. */
static int read_span(etw_file_source *f, const etw_file_entry *e, uint8_t *block, size_t from,
                     size_t to)
{
    size_t got = from;
    while (got < to) {
        ssize_t n = pread(f->fd, block + got, to - got, (off_t)(e->offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got < to ? -1 : 0; /* short: the file shrank or the device failed since indexed */
}

/* Reads e into a free block (whole, or up to its filled offset: see whole_buffers; only its
 * header with head_only). */
static etw_status read_entry(etw_file_source *f, const etw_file_entry *e, const uint8_t **p,
                             size_t *n_read, int head_only)
{
    uint8_t *block = take_block(f);
    if (!block)
        return ETW_E_NOMEM;
    size_t want = f->whole_buffers ? e->size : e->used;
    size_t now = head_only && want > ETW_BUFFER_HEADER_SIZE ? ETW_BUFFER_HEADER_SIZE : want;
    if (read_span(f, e, block, 0, now) != 0) {
        f->spare[f->nspare++] = block;
        return ETW_E_IO;
    }
    *p = block;
    *n_read = want;
    return ETW_OK;
}

etw_status etw_file_source_finish(etw_file_source *f, const etw_file_entry *e, const uint8_t *p)
{
    size_t want = f->whole_buffers ? e->size : e->used;
    if (want <= ETW_BUFFER_HEADER_SIZE)
        return ETW_OK;
    /* p is one of this source's blocks, handed out read-only. */
    return read_span(f, e, (uint8_t *)(uintptr_t)p, ETW_BUFFER_HEADER_SIZE, want) ? ETW_E_IO
                                                                                 : ETW_OK;
}

int etw_file_source_next(etw_file_source *f, uint32_t processor, const etw_file_entry **e,
                         const uint8_t **p, size_t *n_read, etw_status *st)
{
    size_t i = pick(f, processor);
    if (i == SIZE_MAX)
        return 0;
    f->entries[i].taken = 1;
    *e = &f->entries[i];
    *p = NULL;
    *st = read_entry(f, *e, p, n_read, f->head_only);
    return 1;
}

etw_status etw_file_source_reread(etw_file_source *f, uint64_t pos, const uint8_t **p, size_t *n)
{
    *p = NULL;
    if (pos >= f->count)
        return ETW_E_IO;
    return read_entry(f, &f->entries[pos], p, n, 0);
}

const etw_file_entry *etw_file_source_next_entry(etw_file_source *f)
{
    size_t i = pick(f, UINT32_MAX);
    if (i == SIZE_MAX)
        return NULL;
    f->entries[i].taken = 1;
    return &f->entries[i];
}

etw_status etw_file_source_read_into(etw_file_source *f, const etw_file_entry *e, uint8_t *dst,
                                     size_t n)
{
    return read_span(f, e, dst, 0, n) ? ETW_E_IO : ETW_OK;
}
