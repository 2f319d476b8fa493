/* `etwire collect --kafka` throughput, whole processes, against librdkafka's mock cluster (in
 * this process, on loopback; loaded with dlopen, so nothing is needed at link time).
 *
 * What the mock allows to measure honestly: it keeps only about 5 MiB per partition (older
 * record batches are deleted, as retention would), so a backlog larger than that loses
 * records. Each run therefore publishes a bounded amount: SESSIONS sessions of about MB each,
 * spread by their keys over PARTITIONS partitions (many more partitions than sessions, so no
 * partition holds more than a few sessions), all of it published by one `etwire send --kafka`
 * once the collector was admitted to its group (the mock's 3 s wait for a first member is not
 * timed). The clock stops when every session's .etl is whole; each is then compared byte for
 * byte with its input, and a run that lost anything is reported as such, not timed.
 *
 * The figure is the whole path on this machine's cores: the sender, the mock broker (this
 * process) and the collector share them. The collector's own cost is its CPU (user + system,
 * from /proc) per GB saved, which the others' load does not change much; the sender's and the
 * mock broker's are given too, to see which of the three sets the pace. A plain read of the
 * same files (cat) runs in the same run for scale.
 *
 * Usage: bench_kafka_collect ETWIRE [--sessions N] [--mb MB] [--partitions P] [--runs R] [--json] */
#include <errno.h>
#include <fcntl.h>
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

#include "kafka_mock.h" /* tests/support: librdkafka's mock cluster through dlopen */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Starts argv with stdout to /dev/null and stderr to log (NULL: /dev/null), with
 * ETWIRE_KAFKA_CONFIG set to kafka_config when not NULL. */
static pid_t spawn(char *const argv[], const char *log, const char *kafka_config)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (kafka_config)
        setenv("ETWIRE_KAFKA_CONFIG", kafka_config, 1);
    int out = open("/dev/null", O_WRONLY);
    int err = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600) : out;
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

/* CPU seconds (user + system) a running process used so far, from /proc/PID/stat. */
static double proc_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Waits until the file holds text (fixed string), at most ms; 1 when it does. */
static int wait_text(const char *path, const char *text, int ms)
{
    for (double end = now_s() + ms / 1000.0; now_s() < end; nap_ms(10)) {
        FILE *f = fopen(path, "r");
        char line[1024];
        int found = 0;
        while (f && !found && fgets(line, sizeof line, f))
            found = strstr(line, text) != NULL;
        if (f)
            fclose(f);
        if (found)
            return 1;
    }
    return 0;
}

/* CPU seconds this process (the mock broker's threads) used so far. */
static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int cmp_sort(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_sort);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s ETWIRE [--sessions N] [--mb MB] [--partitions P] [--runs R] [--json]\n", argv[0]);
        return 2;
    }
    char *etwire = argv[1];
    int sessions = 96, mb = 1, partitions = 512, runs = 5, json = 0;
    for (int i = 2; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--sessions") && more)
            sessions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mb") && more)
            mb = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--partitions") && more)
            partitions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && more)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    if (sessions < 1 || sessions > 1000 || mb < 1 || mb > 4 || partitions < 1 || runs < 1 || runs > 99) {
        fprintf(stderr, "%s: 1..1000 sessions of 1..4 MB (the mock keeps ~5 MiB per partition), 1..99 runs\n",
                argv[0]);
        return 2;
    }
    kafka_api a;
    switch (kafka_api_load(&a)) {
    case KAFKA_API_NO_LIBRARY:
        fprintf(stderr, "%s: librdkafka.so.1 not found: nothing to measure\n", argv[0]);
        return 77;
    case KAFKA_API_NO_MOCK:
        fprintf(stderr, "%s: this librdkafka has no mock cluster\n", argv[0]);
        return 77;
    }
    char dir[] = "/tmp/bench-kafka.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    /* The inputs: generated traces of 64 KiB buffers, about mb MB each (~250 bytes an event). */
    long total = 0, *sizes = calloc((size_t)sessions, sizeof *sizes);
    char **inputs = calloc((size_t)sessions, sizeof *inputs);
    for (int i = 0; i < sessions; i++) {
        char cmd[1024];
        if (asprintf(&inputs[i], "%s/s%d.etl", dir, i) < 0)
            return 1;
        snprintf(cmd, sizeof cmd, "'%s' generate --seed %d --events %d --buffer-size 64K -o '%s' 2>/dev/null",
                 etwire, 100 + i, 4000 * mb, inputs[i]);
        if (system(cmd) != 0 || (sizes[i] = file_size(inputs[i])) <= 0) {
            fprintf(stderr, "%s: cannot generate %s\n", argv[0], inputs[i]);
            return 1;
        }
        total += sizes[i];
    }
    /* A plain read of the same bytes, for scale. */
    char cat[256];
    snprintf(cat, sizeof cat, "cat %s/s*.etl > /dev/null", dir);
    if (system(cat) != 0) /* into the page cache */
        return 1;
    double r0 = now_s();
    if (system(cat) != 0)
        return 1;
    double read_s = now_s() - r0;
    printf("machine: %ld cores; load average at the start: ", sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
    if (system("cut -d' ' -f1-3 /proc/loadavg") != 0)
        printf("?\n");
    printf("%d sessions, %.1f MB in all (64 KiB buffers) over %d partitions; collector saves .etl%s\n",
           sessions, total / 1e6, partitions, json ? " + JSON" : "");
    printf("plain read (cat): %.1f MB/s\n", total / 1e6 / read_s);

    double *mbs = calloc((size_t)runs, sizeof *mbs), *ccpu = calloc((size_t)runs, sizeof *ccpu),
           *scpu = calloc((size_t)runs, sizeof *scpu), *bcpu = calloc((size_t)runs, sizeof *bcpu);
    int good = 0;
    for (int r = 0; r < runs; r++) {
        char err[256], out[128], jdir[128], log[128], slog[128], boot[512];
        void *rk = a.kafka_new(0, a.conf_new(), err, sizeof err);
        void *mc = rk ? a.mock_new(rk, 1) : NULL;
        /* The side topic of header buffers too, as a deployment creates it (compacted). */
        if (!mc || a.mock_topic_create(mc, "bench", partitions, 1) != 0 ||
            a.mock_topic_create(mc, "bench.headers", partitions, 1) != 0) {
            fprintf(stderr, "%s: no mock cluster: %s\n", argv[0], err);
            return 1;
        }
        snprintf(boot, sizeof boot, "%s", a.mock_bootstraps(mc));
        snprintf(out, sizeof out, "%s/out%d", dir, r);
        snprintf(jdir, sizeof jdir, "%s/json%d", dir, r);
        snprintf(log, sizeof log, "%s/collect%d.log", dir, r);
        snprintf(slog, sizeof slog, "%s/send%d.log", dir, r);
        char *cargv[] = {etwire, "collect", "--kafka", boot, "--topic", "bench", "--group", "g", "--out", out,
                         "--reorder", "unbounded", "-v", json ? "--json" : NULL, jdir, NULL};
        /* The mock answers a fetch only after the consumer's longest wait (fetch.wait.max.ms,
         * 500 ms by default) even when records came meanwhile, where a broker answers once
         * there are some: that wait, not the collector, would set the pace (measured: the
         * last .etl whole 0.5-0.6 s after the sender ended in most runs). */
        pid_t c = spawn(cargv, log, "fetch.wait.max.ms=10");
        if (!wait_text(log, "partitions assigned", 30000)) {
            fprintf(stderr, "%s: the collector was not admitted to its group within 30 s (%s)\n", argv[0], log);
            kill(c, SIGKILL);
            waitpid(c, NULL, 0);
            return 1;
        }
        char **sargv = calloc((size_t)sessions + 12, sizeof *sargv);
        int k = 0;
        sargv[k++] = etwire, sargv[k++] = "send", sargv[k++] = "--kafka", sargv[k++] = boot;
        sargv[k++] = "--topic", sargv[k++] = "bench", sargv[k++] = "--source", sargv[k++] = "b";
        sargv[k++] = "--instance", sargv[k++] = "1";
        for (int i = 0; i < sessions; i++)
            sargv[k++] = inputs[i];
        double cpu0 = proc_cpu(c), b0 = self_cpu(), t0 = now_s();
        pid_t s = spawn(sargv, slog, NULL);
        /* Done when every session's .etl has its input's size (bounded: 120 s). */
        int whole = 0, st = 0;
        double t1 = t0, published = 0, moved = t0;
        long seen = 0;
        struct rusage ru;
        /* Bounded: 120 s in all, and 10 s without a byte saved once everything is published
         * (records the mock deleted never come). */
        for (double end = t0 + 120; !whole && now_s() < end && !(published && now_s() - moved > 10);) {
            if (!published && wait4(s, &st, WNOHANG, &ru) == s)
                published = now_s() - t0; /* every record delivered to the broker */
            long saved_bytes = 0;
            whole = 1;
            for (int i = 0; i < sessions; i++) {
                char saved[256];
                snprintf(saved, sizeof saved, "%s/b/s%d-0000000000000001.etl", out, i);
                long n = file_size(saved);
                whole &= n == sizes[i];
                saved_bytes += n > 0 ? n : 0;
            }
            t1 = now_s();
            if (saved_bytes != seen)
                seen = saved_bytes, moved = t1;
            if (!whole)
                nap_ms(2);
        }
        double cpu1 = proc_cpu(c), b1 = self_cpu();
        if (!published) { /* it ends by itself once every delivery report came */
            wait4(s, &st, 0, &ru);
            published = now_s() - t0;
        }
        kill(c, SIGTERM);
        waitpid(c, NULL, 0);
        int same = whole;
        for (int i = 0; i < sessions && same; i++) {
            char cmd[512];
            snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s/b/s%d-0000000000000001.etl'", inputs[i], out, i);
            same = system(cmd) == 0;
        }
        a.mock_destroy(mc);
        a.kafka_destroy(rk);
        free(sargv);
        double sender = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                        ru.ru_stime.tv_usec / 1e6;
        if (!same || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("run %d: %s (sender exit %d): not timed\n", r + 1,
                   whole ? "a saved .etl differs from its input" : "records lost (or later than 120 s)",
                   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            continue;
        }
        mbs[good] = total / 1e6 / (t1 - t0);
        ccpu[good] = (cpu1 - cpu0) / (total / 1e9);
        scpu[good] = sender / (total / 1e9);
        bcpu[good] = (b1 - b0) / (total / 1e9);
        printf("run %d: %.1f MB/s (published in %.2f s, saved in %.2f s), collector %.2f CPU-s per GB "
               "(%.0f MB per CPU-second), sender %.2f, mock broker %.2f CPU-s per GB\n",
               r + 1, mbs[good], published, t1 - t0, ccpu[good], 1000 / ccpu[good], scpu[good], bcpu[good]);
        good++;
    }
    if (good)
        printf("median of %d runs: %.1f MB/s (%.2fx a plain read's time), collector %.2f CPU-s per GB "
               "(%.0f MB per CPU-second), sender %.2f, mock broker %.2f CPU-s per GB\n",
               good, median(mbs, good), total / 1e6 / read_s / median(mbs, good), median(ccpu, good),
               1000 / median(ccpu, good), median(scpu, good), median(bcpu, good));
    printf("load average at the end: ");
    fflush(stdout);
    if (system("cut -d' ' -f1-3 /proc/loadavg") != 0)
        printf("?\n");
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (!getenv("KEEP") && system(rm) != 0)
        return 1;
    return good == runs ? 0 : 1;
}
