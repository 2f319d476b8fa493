/* File reader: map, index, hand out buffers in flush order (see file_source.h). */
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
        /* Headers are read with pread, not through the mapping: touching the mapping here
         * would fault the whole file in (the kernel maps neighbouring pages too). */
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
        etw_file_entry e = {off, h.timestamp, (uint32_t)(h.buffer_size > left ? left : h.buffer_size),
                            h.processor, 0};
        if (push_entry(f, &cap, &e) != 0)
            return ETW_E_NOMEM;
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

/* Order data buffers by flush time (stable by file position; the header buffer stays first)
 * and mark each processor's last one. */
static etw_status order_buffers(etw_file_source *f)
{
    if (f->count > 1)
        qsort(f->entries + 1, f->count - 1, sizeof *f->entries, by_flush);
    uint8_t *seen = calloc(65536, 1);
    if (!seen)
        return ETW_E_NOMEM;
    for (size_t i = f->count; i-- > 1;) {
        if (!seen[f->entries[i].proc]) {
            seen[f->entries[i].proc] = 1;
            f->entries[i].last_of_proc = 1;
        }
    }
    free(seen);
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
    if (f->size) {
        /* A small file is mapped in one go (one fault pass instead of thousands); a large one
         * is faulted in as read and given back as its buffers complete (etw_file_source_done),
         * so memory follows the buffers in flight, not the file size. */
        int small = f->size <= ETW_FILE_POPULATE_MAX;
        void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE | (small ? MAP_POPULATE : 0), fd, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            etw_file_source_close(f);
            return ETW_E_IO;
        }
        f->map = m;
        madvise(m, f->size, MADV_SEQUENTIAL);
    }
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

void etw_file_source_close(etw_file_source *f)
{
    if (!f)
        return;
    if (f->map)
        munmap((void *)f->map, f->size);
    if (f->fd >= 0)
        close(f->fd);
    free(f->entries);
    free(f);
}

static void give_back(etw_file_source *f)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t lo = (f->done_lo + (uint64_t)page - 1) & ~((uint64_t)page - 1);
    uint64_t hi = f->done_hi & ~((uint64_t)page - 1);
    if (hi > lo)
        madvise((void *)(f->map + lo), hi - lo, MADV_DONTNEED);
    f->done_lo = f->done_hi = 0;
}

void etw_file_source_done(etw_file_source *f, uint64_t offset, uint64_t size)
{
    if (f->size <= ETW_FILE_POPULATE_MAX)
        return;
    /* Completed buffers arrive in flush order, which is file order nearly always: collect a
     * contiguous run and return it to the kernel a few MiB at a time. Pages stay valid (they
     * fault back in from the file if touched again). */
    if (f->done_hi != f->done_lo && offset != f->done_hi)
        give_back(f);
    if (f->done_hi == f->done_lo)
        f->done_lo = f->done_hi = offset;
    f->done_hi = offset + size;
    if (f->done_hi - f->done_lo >= ETW_FILE_GIVE_BACK_RUN)
        give_back(f);
}

int etw_file_source_next(etw_file_source *f, const etw_file_entry **e, const uint8_t **p)
{
    if (f->next >= f->count)
        return 0;
    *e = &f->entries[f->next++];
    *p = f->map + (*e)->offset;
    return 1;
}
