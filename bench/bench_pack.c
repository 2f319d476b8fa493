/* Cost of the built-in schema pack per event, side by side with the same schemas loaded from
 * manifests: run P decodes a trace (describe + JSON fields, as `etwire dump -f json` does) with
 * the built-in pack and nothing loaded; run M with the built-in pack off and the reference
 * manifests loaded (untimed) — the pack's source. Both start from an empty schema cache, so P
 * includes rebuilding each event's schema from the pack on its first lookup. Runs alternate;
 * medians and the P/M ratio (issue 10 aims at 1.00 +- 0.10).
 * Usage: bench_pack [trace.etl [manifest-dir...]]  (defaults: the corpus's
 * net.4.5.x86-PerfViewData.etl, whose .NET runtime events the pack decodes, and the three
 * builds of ../shared/reference/windows-provider-manifests.tar.xz, unpacked to a temp dir) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <etwire/etwire.h>
#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/event_text.h"

#define RUNS 7

static unsigned long long events, decoded, sink;
static etw_strbuf prov, name, fields;

static void WINAPI json_event(PEVENT_RECORD rec)
{
    events++;
    etw_strbuf_reset(&prov);
    etw_strbuf_reset(&name);
    etw_strbuf_reset(&fields);
    etw_event_describe(rec, &prov, &name);
    decoded += (unsigned long long)etw_event_format_fields(rec, 1, &fields);
    sink += fields.len;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(const char *path)
{
    ETW_OPEN_TRACE_OPTIONS opts;
    memset(&opts, 0, sizeof opts);
    opts.EventCallback = json_event;
    TRACE_LOGFILE_HEADER hdr;
    events = decoded = 0;
    double t0 = now();
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &opts, &hdr);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "cannot open %s: %s\n", path, etwire_strerror(etwire_last_error()));
        exit(1);
    }
    ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return now() - t0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every .xml of dir in name order; returns how many loaded. */
static int load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[4096];
    int n = 0, loaded = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 4096)
        if (strstr(de->d_name, ".xml"))
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        loaded += etwire_tdh_load_manifest(path) == ERROR_SUCCESS;
        free(names[i]);
    }
    return loaded;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp);
    return v[RUNS / 2];
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "../shared/corpus/traceevent/net.4.5.x86-PerfViewData.etl";
    const char *dirs[8];
    int ndirs = 0;
    char tmp[] = "/tmp/bench_pack_XXXXXX", dirbuf[3][300];
    int unpacked = 0;
    for (int i = 2; i < argc && ndirs < 8; i++)
        dirs[ndirs++] = argv[i];
    if (!ndirs) {
        char cmd[512];
        if (!mkdtemp(tmp))
            return 1;
        snprintf(cmd, sizeof cmd, "tar -xJf ../shared/reference/windows-provider-manifests.tar.xz -C %s", tmp);
        if (system(cmd) != 0) {
            fprintf(stderr, "bench_pack: cannot unpack the reference manifests (give manifest dirs)\n");
            return 1;
        }
        static const char *const builds[] = {"10240", "17134", "18990"};
        for (int i = 0; i < 3; i++) {
            snprintf(dirbuf[i], sizeof dirbuf[i], "%s/Manifests-Win10-%s", tmp, builds[i]);
            dirs[ndirs++] = dirbuf[i];
        }
        unpacked = 1;
    }
    double p[RUNS], m[RUNS];
    unsigned long long n = 0, dp = 0, dm = 0;
    int loaded = 0;
    for (int i = 0; i < RUNS; i++) {
        etwire_tdh_reset();
        etwire_tdh_use_builtin_schemas(1);
        p[i] = run(path);
        dp = decoded;
        n = events;
        etwire_tdh_reset();
        etwire_tdh_use_builtin_schemas(0);
        loaded = 0;
        for (int k = 0; k < ndirs; k++)
            loaded += load_dir(dirs[k]);
        m[i] = run(path);
        dm = decoded;
    }
    if (unpacked) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_pack: could not remove %s\n", tmp);
    }
    double mp = median(p), mm = median(m);
    printf("file: %s\nevents: %llu; decoded with the pack %llu, with %d manifests loaded %llu\n", path, n, dp, loaded,
           dm);
    printf("built-in pack:    %.3f s median, %.0f events/s\n", mp, (double)n / mp);
    printf("manifests loaded: %.3f s median, %.0f events/s\n", mm, (double)n / mm);
    printf("ratio pack/manifests: %.3f (aim 1.00 +- 0.10)\n", mp / mm);
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    etw_strbuf_free(&fields);
    return sink == 42 ? 2 : 0;
}
