/* The compressed-file path's timeline (see decompress_ahead_timeline.h); empty unless built
 * with -DETWIRE_AHEAD_TIMELINE. */
#include "etl/decompress_ahead_timeline.h"

#ifdef ETWIRE_AHEAD_TIMELINE

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#define TL_SPANS 16384
#define TL_BIN_NS 250000

typedef struct tl_span {
    uint64_t t0, t1;
    uint32_t entry;
    uint8_t kind;
    int8_t cpu; /* where the span ended */
} tl_span;

/* One array per thread: each is written by its thread only and read at exit, after the
 * ahead thread was joined. */
static tl_span tl_spans[2][TL_SPANS];
static size_t tl_count[2];
static uint64_t tl_marks[ETW_TL_MARKS]; /* counted under the ahead lock, by either thread */
static uint64_t tl_loaded; /* when the library was loaded */
static long tl_thread_faults, tl_thread_major;

static const char *const tl_names[ETW_TL_KINDS] = {
    "open", "starting", "read", "head", "populate", "decode", "spin", "sleep",
    "wait", "take", "add", "add+decode", "source", "run"};
/* One letter per activity for the strip; the nested totals (take, source, run) have none. */
static const char tl_letters[ETW_TL_KINDS] = {'o', 's', 'r', 'h', 'p', 'D', '~', 'z',
                                              'w', 0,   'a', 'd', 0,   0};
static const char *const tl_mark_names[ETW_TL_MARKS] = {"ready",  "busy",    "missed",
                                                        "helped", "dropped", "failed"};

uint64_t etw_tl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void etw_tl_span(int who, int kind, uint64_t t0, uint64_t t1, uint32_t entry)
{
    size_t i = tl_count[who];
    if (i < TL_SPANS) {
        tl_spans[who][i] = (tl_span){t0, t1, entry, (uint8_t)kind, (int8_t)sched_getcpu()};
        tl_count[who] = i + 1;
    }
}

void etw_tl_mark(int mark, uint32_t entry)
{
    (void)entry;
    tl_marks[mark]++;
}

void etw_tl_thread_done(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        tl_thread_faults += ru.ru_minflt;
        tl_thread_major += ru.ru_majflt;
    }
}

__attribute__((constructor)) static void tl_load(void)
{
    tl_loaded = etw_tl_now();
}

/* Time of kind within [from, to) on `who`'s spans. */
static uint64_t tl_overlap(int who, int kind, uint64_t from, uint64_t to)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < tl_count[who]; i++) {
        const tl_span *s = &tl_spans[who][i];
        if (s->kind != kind || s->t1 <= from || s->t0 >= to)
            continue;
        uint64_t a = s->t0 > from ? s->t0 : from, b = s->t1 < to ? s->t1 : to;
        sum += b - a;
    }
    return sum;
}

/* Per bin, the letter of the activity that took most of it ('.' for none: for the reader,
 * delivering events; for the thread, not started or ended). Nested spans (take holds wait and
 * decode) count at their innermost letter because only lettered kinds are compared. */
static void tl_strip(FILE *out, int who, uint64_t from, uint64_t to)
{
    fprintf(out, "%s ", who == ETW_TL_READER ? "reader" : "thread");
    for (uint64_t b = from; b < to; b += TL_BIN_NS) {
        char best = '.';
        uint64_t most = TL_BIN_NS / 4;
        for (int k = 0; k < ETW_TL_KINDS; k++) {
            if (!tl_letters[k])
                continue;
            uint64_t t = tl_overlap(who, k, b, b + TL_BIN_NS);
            if (t > most)
                most = t, best = tl_letters[k];
        }
        fputc(best, out);
    }
    fputc('\n', out);
}

__attribute__((destructor)) static void tl_report(void)
{
    if (!tl_count[0] && !tl_count[1])
        return;
    uint64_t from = UINT64_MAX, to = 0;
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < tl_count[w]; i++) {
            if (tl_spans[w][i].t0 < from)
                from = tl_spans[w][i].t0;
            if (tl_spans[w][i].t1 > to)
                to = tl_spans[w][i].t1;
        }
    FILE *out = stderr;
    fprintf(out, "timeline: library loaded %.3f ms before the first span, spans over %.3f ms\n",
            (double)(from - tl_loaded) / 1e6, (double)(to - from) / 1e6);
    for (int w = 0; w < 2; w++) {
        uint64_t total[ETW_TL_KINDS] = {0}, n[ETW_TL_KINDS] = {0}, first = UINT64_MAX, last = 0;
        for (size_t i = 0; i < tl_count[w]; i++) {
            const tl_span *s = &tl_spans[w][i];
            total[s->kind] += s->t1 - s->t0;
            n[s->kind]++;
            if (s->t0 < first)
                first = s->t0;
            if (s->t1 > last)
                last = s->t1;
        }
        if (!tl_count[w])
            continue;
        fprintf(out, "%s: +%.3f .. +%.3f ms", w ? "thread" : "reader", (double)(first - from) / 1e6,
                (double)(last - from) / 1e6);
        for (int k = 0; k < ETW_TL_KINDS; k++)
            if (n[k])
                fprintf(out, "  %s %.3f ms/%llu", tl_names[k], (double)total[k] / 1e6,
                        (unsigned long long)n[k]);
        fputc('\n', out);
        if (w == ETW_TL_READER && n[ETW_TL_RUN]) {
            /* What the reader did outside the source during the run: the merge and delivery. */
            uint64_t run = total[ETW_TL_RUN], source = total[ETW_TL_SOURCE];
            fprintf(out, "reader: run %.3f ms = source %.3f + events %.3f\n", (double)run / 1e6,
                    (double)source / 1e6, (double)(run > source ? run - source : 0) / 1e6);
        }
    }
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0)
        fprintf(out, "page faults: reader %ld, thread %ld\n", ru.ru_minflt, tl_thread_faults);
    fprintf(out, "take:");
    for (int m = 0; m < ETW_TL_MARKS; m++)
        fprintf(out, " %s %llu", tl_mark_names[m], (unsigned long long)tl_marks[m]);
    fputc('\n', out);
    tl_strip(out, ETW_TL_READER, from, to);
    tl_strip(out, ETW_TL_THREAD, from, to);
    const char *raw = getenv("ETWIRE_AHEAD_TIMELINE_RAW");
    FILE *rf = raw && *raw ? fopen(raw, "w") : NULL;
    if (rf) {
        for (int w = 0; w < 2; w++)
            for (size_t i = 0; i < tl_count[w]; i++) {
                const tl_span *s = &tl_spans[w][i];
                fprintf(rf, "%s %s %u %.1f %.1f cpu%d\n", w ? "thread" : "reader",
                        tl_names[s->kind], s->entry, (double)(s->t0 - from) / 1e3,
                        (double)(s->t1 - from) / 1e3, s->cpu);
            }
        fclose(rf);
    }
}

#else
/* ISO C wants something in a translation unit. */
typedef int etw_tl_unused;
#endif
