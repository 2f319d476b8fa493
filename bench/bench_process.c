/* Speed as users run etwire (issue 11): whole processes, start-up included, each beside a plain
 * read of the same file in the same run.
 *
 * For every input - the corpus traces of 1 MB or more, and a generated trace of 1 MiB buffers
 * and 32 processors (1 GB by default, written to /tmp now and removed at exit) - each run times,
 * as fork/exec of a separate process with standard output to /dev/null:
 *   cat      `cat FILE`: the page-cache read every consumer pays at least,
 *   events   min_consumer FILE: OpenTraceFromFile + ProcessTrace (empty callback) + CloseTrace,
 *            the smallest Windows-API program, linked against the shared library,
 *   json, text, csv   `etwire dump -f FORMAT FILE`.
 * The table gives median times over the runs; events as a multiple of cat and each dump as a
 * multiple of events are the medians of the ratios taken within each run (the two processes
 * ran back to back). Also the events process's peak RSS and the most buffer bytes the session
 * held at once (BytesHeldPeak, measured once with this build's library: the "buffers in
 * flight" of the memory aim), and the same two with a BufferCallback as well (cb RSS: each
 * build's min_consumer --buffers, once; cb held: this build's library), where buffers complete
 * in flush order. Several builds can run side by side in the same run (--variant), e.g. before
 * and after a change.
 *
 * usage: bench_process [--runs N] [--gen-mb N] [--gen-dump] [--corpus DIR]
 *                      [--variant NAME CONSUMER ETWIRE]... [FILE...]
 *   Without FILEs: the corpus traces of 1 MB or more. --gen-mb 0 skips the generated trace.
 *   Without --variant: "now", the min_consumer beside this program and ../etwire. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "gen/trace_gen.h"

#define MAX_VARIANTS 4
#define MAX_FILES 256
#define MAX_RUNS 31
#define MIN_FILE_BYTES 1000000

typedef struct variant {
    const char *name, *consumer, *cli;
} variant;

enum { T_EVENTS, T_JSON, T_TEXT, T_CSV, T_COUNT };

typedef struct timing {
    double s[MAX_RUNS];
    long rss_kb[MAX_RUNS];
    int n, failed;
} timing;

static char gen_path[64];

static void remove_generated(void)
{
    if (gen_path[0])
        unlink(gen_path);
}

static void on_signal(int sig)
{
    if (gen_path[0])
        unlink(gen_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs argv with stdout (and stderr) to /dev/null; records seconds and peak RSS. */
static void run_timed(char *const argv[], timing *t)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) {
        t->failed = 1;
        return;
    }
    double dt = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        t->failed = 1;
    if (t->n < MAX_RUNS) {
        t->s[t->n] = dt;
        t->rss_kb[t->n] = ru.ru_maxrss;
        t->n++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static double median_s(const timing *t)
{
    double v[MAX_RUNS];
    memcpy(v, t->s, (size_t)t->n * sizeof v[0]);
    qsort(v, (size_t)t->n, sizeof v[0], cmp_double);
    return t->n ? v[t->n / 2] : 0;
}

/* Median over runs of a[r] / b[r]: each ratio is taken within one run (the two processes ran
 * back to back), which a busy machine disturbs far less than the times themselves. */
static double median_ratio(const timing *a, const timing *b)
{
    double v[MAX_RUNS];
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++)
        v[i] = b->s[i] > 0 ? a->s[i] / b->s[i] : 0;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n ? v[n / 2] : 0;
}

static long median_rss(const timing *t)
{
    long v[MAX_RUNS];
    memcpy(v, t->rss_kb, (size_t)t->n * sizeof v[0]);
    qsort(v, (size_t)t->n, sizeof v[0], cmp_long);
    return t->n ? v[t->n / 2] : 0;
}

static char *files[MAX_FILES];
static size_t nfiles;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && nfiles < MAX_FILES) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "invalid"))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        size_t len = strlen(p);
        if (S_ISDIR(st.st_mode))
            find_corpus(p);
        else if (len > 4 && !strcmp(p + len - 4, ".etl") && st.st_size >= MIN_FILE_BYTES)
            files[nfiles++] = strdup(p);
    }
    closedir(d);
}

static int count_bytes(const uint8_t *buf, size_t len, void *ctx)
{
    (void)buf;
    *(uint64_t *)ctx += len;
    return 0;
}

/* A trace of about mb megabytes with 1 MiB buffers and 32 processors. The event count comes
 * from a small sample of the same configuration (bytes per event, padding included). */
static int generate(unsigned mb)
{
    etw_gen_config c;
    etw_gen_config_default(&c);
    c.seed = 11;
    c.processors = 32;
    c.buffer_size = 1u << 20;
    c.max_lag = etw_gen_ticks_per_second(&c); /* Windows' default flush timer: 1 s */
    c.events = 1000000;
    uint64_t sample = 0;
    if (etw_gen_run(&c, count_bytes, &sample) != 0 || !sample)
        return -1;
    c.events = (uint64_t)((double)mb * 1e6 / ((double)sample / (double)c.events));
    /* Slow processors' timer flushes make bytes per event drift with length: size once more. */
    sample = 0;
    if (etw_gen_run(&c, count_bytes, &sample) != 0 || !sample)
        return -1;
    c.events = (uint64_t)((double)c.events * ((double)mb * 1e6 / (double)sample));
    snprintf(gen_path, sizeof gen_path, "/tmp/etwire_bench_XXXXXX");
    int fd = mkstemp(gen_path);
    if (fd < 0)
        return -1;
    close(fd);
    etw_gen_summary sum;
    if (etw_gen_write_file_ex(&c, gen_path, &sum) != 0)
        return -1;
    fprintf(stderr, "generated %s: %.1f MB, %llu events, %llu buffers of 1 MiB, 32 processors\n",
            gen_path, (double)sum.bytes / 1e6, (unsigned long long)sum.events,
            (unsigned long long)sum.buffers);
    return 0;
}

static VOID WINAPI no_op(PEVENT_RECORD er)
{
    (void)er;
}

/* The most buffer bytes the session held at once (BytesHeldPeak) for the events path: what
 * "buffers in flight" means in the memory aim. Measured in a child, like everything else. */
static BOOL WINAPI no_buffer_op(const ETW_BUFFER_HEADER *b, ULONG size,
                                const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)size, (void)info, (void)ctx;
    return TRUE;
}

static double held_mb(const char *path, int buffers)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ETW_OPEN_TRACE_OPTIONS o;
        memset(&o, 0, sizeof o);
        o.EventCallback = no_op;
        if (buffers)
            o.BufferCallback = no_buffer_op;
        ETWIRE_SESSION_STATS st;
        memset(&st, 0, sizeof st);
        PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
        if (h != INVALID_PROCESSTRACE_HANDLE) {
            ProcessTrace(&h, 1, NULL, NULL);
            etwire_session_get_stats(h, &st);
            CloseTrace(h);
        }
        ssize_t w = write(fds[1], &st.BytesHeldPeak, sizeof st.BytesHeldPeak);
        _exit(w == sizeof st.BytesHeldPeak ? 0 : 1);
    }
    close(fds[1]);
    ULONG64 peak = 0;
    ssize_t r = pid > 0 ? read(fds[0], &peak, sizeof peak) : -1;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return r == sizeof peak ? (double)peak / 1048576.0 : -1;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void bench_file(const char *path, const variant *v, unsigned nv, int runs, int dumps)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    timing cat = {0};
    timing t[MAX_VARIANTS][T_COUNT];
    memset(t, 0, sizeof t);
    static const char *const formats[T_COUNT] = {NULL, "json", "text", "csv"};
    char *cat_argv[] = {"/bin/cat", (char *)path, NULL};
    /* Warm the page cache (and each program's pages) once, untimed. */
    timing warm = {0};
    run_timed(cat_argv, &warm);
    for (unsigned k = 0; k < nv; k++) {
        char *a[] = {(char *)v[k].consumer, (char *)path, NULL};
        run_timed(a, &warm);
    }
    for (int r = 0; r < runs; r++) {
        run_timed(cat_argv, &cat);
        for (unsigned k = 0; k < nv; k++) {
            char *a[] = {(char *)v[k].consumer, (char *)path, NULL};
            run_timed(a, &t[k][T_EVENTS]);
            for (int f = T_JSON; f < T_COUNT && dumps; f++) {
                char *d[] = {(char *)v[k].cli, "dump", "-f", (char *)formats[f], (char *)path, NULL};
                run_timed(d, &t[k][f]);
            }
        }
    }
    /* With a BufferCallback too (min_consumer --buffers), once, untimed: its memory. A build
     * whose min_consumer has no --buffers shows "-". */
    timing cb[MAX_VARIANTS];
    memset(cb, 0, sizeof cb);
    for (unsigned k = 0; k < nv; k++) {
        char *a[] = {(char *)v[k].consumer, "--buffers", (char *)path, NULL};
        run_timed(a, &cb[k]);
    }
    double c = median_s(&cat);
    double held = held_mb(path, 0), cb_held = held_mb(path, 1);
    for (unsigned k = 0; k < nv; k++) {
        double e = median_s(&t[k][T_EVENTS]);
        printf("%-30.30s %7.1f %7.2f  %-6s %8.2f %6.2f %7.1f %6.1f", base_name(path),
               (double)st.st_size / 1e6, c * 1e3, v[k].name, e * 1e3,
               median_ratio(&t[k][T_EVENTS], &cat),
               (double)median_rss(&t[k][T_EVENTS]) / 1024.0, held);
        if (cb[k].failed || !cb[k].n)
            printf(" %7s", "-");
        else
            printf(" %7.1f", (double)cb[k].rss_kb[0] / 1024.0);
        printf(" %7.1f", cb_held);
        for (int f = T_JSON; f < T_COUNT; f++) {
            if (dumps)
                printf(" %6.2f%s", median_ratio(&t[k][f], &t[k][T_EVENTS]),
                       t[k][f].failed ? "!" : " ");
            else
                printf(" %7s", "-");
        }
        printf("%s\n", t[k][T_EVENTS].failed ? "  (events run failed)" : "");
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int runs = 5, gen_dump = 0;
    unsigned gen_mb = 1000;
    const char *corpus = "/work/shared/corpus";
    variant v[MAX_VARIANTS];
    unsigned nv = 0;
    static char consumer[PATH_MAX], cli[PATH_MAX];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > MAX_RUNS)
                runs = 5;
        } else if (!strcmp(argv[i], "--gen-mb") && i + 1 < argc) {
            gen_mb = (unsigned)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--gen-dump")) {
            gen_dump = 1;
        } else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) {
            corpus = argv[++i];
        } else if (!strcmp(argv[i], "--variant") && i + 3 < argc && nv < MAX_VARIANTS) {
            v[nv++] = (variant){argv[i + 1], argv[i + 2], argv[i + 3]};
            i += 3;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_process [--runs N] [--gen-mb N] [--gen-dump] "
                            "[--corpus DIR] [--variant NAME CONSUMER ETWIRE]... [FILE...]\n");
            return 2;
        } else if (nfiles < MAX_FILES) {
            files[nfiles++] = strdup(argv[i]);
        }
    }
    if (!nv) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return 1;
        self[n] = 0;
        char *dir = dirname(self);
        snprintf(consumer, sizeof consumer, "%s/min_consumer", dir);
        snprintf(cli, sizeof cli, "%s/../etwire", dir);
        v[nv++] = (variant){"now", consumer, cli};
    }
    if (!nfiles) {
        find_corpus(corpus);
        if (!nfiles)
            fprintf(stderr, "no corpus traces of 1 MB or more under %s: skipped\n", corpus);
        qsort(files, nfiles, sizeof files[0], cmp_str);
    }
    atexit(remove_generated);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    printf("whole processes, %d runs; times are medians, ratios medians of the ratio within each "
           "run;\nevents = min_consumer (x cat), json/text/csv = etwire dump (x events)\n",
           runs);
    printf("%-30s %7s %7s  %-6s %8s %6s %7s %6s %7s %7s %7s %7s %7s\n", "file", "MB", "cat ms",
           "build", "events ms", "x cat", "RSS MB", "held", "cb RSS", "cb held", "json", "text",
           "csv");
    for (size_t i = 0; i < nfiles; i++)
        bench_file(files[i], v, nv, runs, 1);
    if (gen_mb) {
        if (generate(gen_mb) != 0) {
            fprintf(stderr, "could not generate the trace\n");
            return 1;
        }
        bench_file(gen_path, v, nv, runs > 3 && !gen_dump ? runs : 3, gen_dump);
    }
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    return 0;
}
