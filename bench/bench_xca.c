/* Plain LZ77 ([MS-XCA] XPRESS) decompression throughput, in MB/s of output, beside a plain
 * memcpy of the same output sizes in the same run. Inputs: generated ETW-like buffers
 * compressed 64 KiB at a time (as ETW compresses each buffer on its own), and, when the corpus
 * is found (argv[1], else ../shared/corpus), every compressed buffer of
 * traceevent/net.4.5.2.x86.etl. Several runs each; medians are printed, and the best
 * decompression run. Last, the same file's buffers read and decompressed in flush order by
 * one thread (pread + decode), against the same with the decompress-ahead thread
 * (src/etl/decompress_ahead.c) and a reader that does nothing else: how well the two share
 * the decoding when a second processor is free (the ideal is half the time).
 *
 * usage: bench_xca [corpus-dir] */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "etl/decompress_ahead.h"
#include "format/xca.h"

/* Bench programs link only the library, so the test compressor that makes the generated input
 * is compiled in here from its source. */
#include "../tests/support/xca_compress.c"

#define RUNS 9
#define CHUNK 65536
#define GENERATED_BYTES (32u << 20)
#define MIN_RUN_BYTES (256u << 20) /* output per timed run, so a run lasts ~0.1 s or more */

typedef struct {
    uint8_t *data;
    size_t n;       /* compressed bytes */
    size_t out_n;   /* decompressed bytes */
} stream;

typedef struct {
    stream *s;
    size_t count, cap;
    size_t total_out;
    size_t max_out;
} stream_set;

static volatile uint8_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void add_stream(stream_set *set, const uint8_t *c, size_t n, size_t out_n)
{
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 64;
        set->s = realloc(set->s, set->cap * sizeof *set->s);
        if (!set->s)
            exit(1);
    }
    stream *s = &set->s[set->count++];
    s->data = malloc(n);
    if (!s->data)
        exit(1);
    memcpy(s->data, c, n);
    s->n = n;
    s->out_n = out_n;
    set->total_out += out_n;
    if (out_n > set->max_out)
        set->max_out = out_n;
}

/* ETW-like content: 8-byte aligned records with a marker, a counter, a slowly rising
 * timestamp, a few ids and a payload that is partly text, partly random. */
static void generate(uint8_t *p, size_t n)
{
    static const char *const text[] = {"Microsoft-Windows-Kernel-Process", "C:\\Windows\\System32",
                                       "ThreadStart", "ImageLoad", "ntdll.dll", "svchost.exe"};
    uint64_t r = 0x243F6A8885A308D3ull, ts = 1000000;
    size_t i = 0, seq = 0;
    while (i < n) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        size_t payload = 8 + (size_t)(r % 120);
        size_t size = 0x50 + payload;
        uint8_t rec[0x50 + 128 + 8];
        memset(rec, 0, sizeof rec);
        etw_wr16(rec, (uint16_t)size);
        etw_wr16(rec + 2, 0xC013);
        etw_wr32(rec + 8, (uint32_t)(1000 + r % 8));
        etw_wr32(rec + 12, 4);
        ts += r % 5000;
        etw_wr64(rec + 16, ts);
        etw_wr32(rec + 24, 0x2F6A8885u);
        etw_wr16(rec + 40, (uint16_t)(r >> 20) % 40);
        etw_wr64(rec + 0x48, seq++);
        const char *t = text[(r >> 32) % 6];
        size_t tl = strlen(t);
        for (size_t k = 0; k < payload; k++)
            rec[0x50 + k] = k < tl ? (uint8_t)t[k] : (k & 1) ? (uint8_t)(r >> (k % 56)) : 0;
        size_t aligned = etw_align8(size);
        for (size_t k = 0; k < aligned && i < n; k++)
            p[i++] = rec[k];
    }
}

static void build_generated(stream_set *set)
{
    uint8_t *src = malloc(GENERATED_BYTES);
    uint8_t *c = malloc(etw_test_lz77_bound(CHUNK));
    if (!src || !c)
        exit(1);
    generate(src, GENERATED_BYTES);
    etw_test_lz77_opts opts = {0, 0, 8};
    for (size_t off = 0; off < GENERATED_BYTES; off += CHUNK) {
        size_t c_n = etw_test_lz77_compress(src + off, CHUNK, c, etw_test_lz77_bound(CHUNK), &opts);
        if (c_n == 0)
            exit(1);
        add_stream(set, c, c_n, CHUNK);
    }
    free(src);
    free(c);
}

/* Loads every compressed buffer (flag 0x40) of one .etl file; 0 if the file is absent. */
static int build_from_file(stream_set *set, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(len > 0 ? (size_t)len : 1);
    if (!d || len <= 0 || fread(d, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(d);
        return 0;
    }
    fclose(f);
    size_t n = (size_t)len, off = 0;
    while (n - off >= 72) {
        uint32_t size = etw_rd32(d + off), filled = etw_rd32(d + off + 0x30);
        if (size < 72 || size > n - off)
            break;
        if ((etw_rd16(d + off + 0x34) & 0x40) && filled >= 72)
            add_stream(set, d + off + 72, size - 72, filled - 72);
        off += size;
    }
    free(d);
    return set->count > 0;
}

/* Times decompression and memcpy of the whole set, repeated to MIN_RUN_BYTES; prints medians. */
static void measure(const char *label, const stream_set *set)
{
    uint8_t *out = malloc(set->max_out), *src = malloc(set->max_out);
    if (!out || !src)
        exit(1);
    memset(src, 0x5A, set->max_out);
    size_t reps = MIN_RUN_BYTES / set->total_out + 1;
    double dec[RUNS], cpy[RUNS];
    size_t compressed = 0;
    for (size_t i = 0; i < set->count; i++)
        compressed += set->s[i].n;

    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        for (size_t r = 0; r < reps; r++) {
            for (size_t i = 0; i < set->count; i++) {
                size_t got;
                if (etw_xca_decompress(ETW_XCA_XPRESS, set->s[i].data, set->s[i].n, out,
                                       set->s[i].out_n, &got) != ETW_XCA_OK ||
                    got != set->s[i].out_n) {
                    fprintf(stderr, "%s: stream %zu failed to decompress\n", label, i);
                    exit(1);
                }
                sink ^= out[got - 1];
            }
        }
        double t1 = now();
        for (size_t r = 0; r < reps; r++) {
            for (size_t i = 0; i < set->count; i++) {
                memcpy(out, src, set->s[i].out_n);
                sink ^= out[set->s[i].out_n - 1];
                src[i % set->max_out]++; /* keeps each copy from being folded away */
            }
        }
        double t2 = now();
        double bytes = (double)set->total_out * (double)reps;
        dec[run] = bytes / (t1 - t0) / 1e6;
        cpy[run] = bytes / (t2 - t1) / 1e6;
    }
    qsort(dec, RUNS, sizeof dec[0], cmp_double);
    qsort(cpy, RUNS, sizeof cpy[0], cmp_double);
    double d = dec[RUNS / 2], c = cpy[RUNS / 2];
    /* The best run too: on a shared machine it is the figure least disturbed by others. */
    printf("%-34s %5zu streams  %8.1f MB out  ratio %4.1f%%  xpress %6.0f MB/s (best %6.0f)  "
           "memcpy %6.0f MB/s  xpress/memcpy %.3f\n",
           label, set->count, (double)set->total_out / 1e6,
           100.0 * (double)compressed / (double)set->total_out, d, dec[RUNS - 1], c, d / c);
    free(out);
    free(src);
}

/* One pass over the compressed buffers: each read and decompressed by this thread, or taken
 * from the ahead thread `a` (NULL: none) when it has it. Returns 0 on success. */
static int ahead_pass(int fd, const etw_file_entry *e, size_t count, etw_ahead *a, uint8_t *raw,
                      uint8_t *out)
{
    for (size_t i = 1; i < count; i++) {
        uint8_t *block = a ? etw_ahead_take(a, i) : NULL;
        if (block) {
            sink ^= block[72];
            if (!etw_ahead_give(a, block))
                free(block);
            continue;
        }
        if (pread(fd, raw, e[i].size, (off_t)e[i].offset) != (ssize_t)e[i].size)
            return -1;
        size_t got;
        if (etw_xca_decompress(ETW_XCA_XPRESS, raw + 72, e[i].size - 72, out, CHUNK, &got) !=
            ETW_XCA_OK)
            return -1;
        sink ^= out[got - 1];
    }
    return 0;
}

#define AHEAD_PASSES 5

/* The file's compressed buffers in flush order, by one thread and with the ahead thread. */
static void measure_ahead(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    FILE *f = fdopen(fd, "rb");
    if (fd < 0 || !f) {
        if (fd >= 0)
            close(fd);
        return;
    }
    /* Entry 0 is the log-file header's place in the ahead thread's index. */
    size_t count = 1, cap = 64;
    etw_file_entry *e = calloc(cap, sizeof *e);
    uint8_t head[72], *raw = malloc(CHUNK + 72), *out = malloc(CHUNK);
    uint64_t off = 0;
    while (e && raw && out && pread(fd, head, 72, (off_t)off) == 72) {
        uint32_t size = etw_rd32(head), filled = etw_rd32(head + 0x30);
        if (size < 72 || size > CHUNK + 72)
            break;
        if (off > 0 && (etw_rd16(head + 0x34) & 0x40) && filled > 72 && filled <= CHUNK + 72) {
            if (count == cap) {
                etw_file_entry *grown = realloc(e, 2 * cap * sizeof *e);
                if (!grown)
                    break;
                e = grown;
                cap *= 2;
            }
            memset(&e[count], 0, sizeof e[count]);
            e[count].offset = off;
            e[count].flush = count;
            e[count].size = e[count].used = size;
            e[count].next_same = UINT32_MAX;
            count++;
        }
        off += size;
    }
    double one[RUNS], two[RUNS];
    etw_ahead_counts c = {0, 0, 0, 0, 0, 0};
    int ok = count > 1 && raw && out;
    for (int run = 0; ok && run < RUNS; run++) {
        double t0 = now();
        for (int p = 0; ok && p < AHEAD_PASSES; p++)
            ok = ahead_pass(fd, e, count, NULL, raw, out) == 0;
        double t1 = now();
        for (int p = 0; ok && p < AHEAD_PASSES; p++) {
            etw_ahead *a = etw_ahead_start(fd, e, count, 1, 0, ETW_XCA_XPRESS, CHUNK + 72);
            ok = ahead_pass(fd, e, count, a, raw, out) == 0;
            c = etw_ahead_counts_of(a);
            etw_ahead_stop(a);
        }
        double t2 = now();
        one[run] = (t1 - t0) / AHEAD_PASSES;
        two[run] = (t2 - t1) / AHEAD_PASSES;
    }
    if (ok) {
        qsort(one, RUNS, sizeof one[0], cmp_double);
        qsort(two, RUNS, sizeof two[0], cmp_double);
        printf("%-34s %5zu buffers  one thread %6.2f ms  with the ahead thread %6.2f ms  "
               "(x%.2f; best %.2f / %.2f ms); last pass: thread %llu, reader %llu\n",
               "same, read + decode, idle reader", count - 1, one[RUNS / 2] * 1e3,
               two[RUNS / 2] * 1e3, two[RUNS / 2] / one[RUNS / 2], one[0] * 1e3, two[0] * 1e3,
               (unsigned long long)(c.ready - c.helped),
               (unsigned long long)(c.missed + c.busy + c.helped));
    } else {
        printf("%s: ahead measurement failed\n", path);
    }
    fclose(f);
    free(e);
    free(raw);
    free(out);
}

static void free_set(stream_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->s[i].data);
    free(set->s);
}

int main(int argc, char **argv)
{
    const char *corpus = argc > 1 ? argv[1] : "../shared/corpus";
    printf("Plain LZ77 decompression, median of %d runs (MB = 10^6 bytes of output)\n", RUNS);

    stream_set gen = {0};
    build_generated(&gen);
    measure("generated ETW-like, 64 KiB buffers", &gen);
    free_set(&gen);

    char path[4096];
    snprintf(path, sizeof path, "%s/traceevent/net.4.5.2.x86.etl", corpus);
    stream_set real = {0};
    if (build_from_file(&real, path)) {
        measure("net.4.5.2.x86.etl buffers", &real);
        measure_ahead(path);
    } else
        printf("%s not found: real-file measurement skipped\n", path);
    free_set(&real);
    return 0;
}
