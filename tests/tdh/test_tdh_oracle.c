/* TraceEvent oracles (../shared/corpus/oracles/traceevent, format in the corpus README): for
 * every listed event whose schema the trace carries, etwire must give the same provider name,
 * event name and field values. Values are compared after normalising TraceEvent's rendering
 * (thousands separators, "..." truncation after 20 characters, True/False, yy/MM/dd dates,
 * hex widths) - see values_match(). Known, documented differences are not failures:
 *  - Events whose schema is not in the trace (the .NET runtime providers, which TraceEvent
 *    decodes from its compiled-in CLR manifests, and EventSource manifests sent as ManifestData
 *    events) have no etwire schema: they are counted as "no schema", not compared.
 *  - TraceEvent renames some kernel fields (ProcessID for ProcessId, ...): names are compared
 *    case-insensitively and fields TraceEvent computes itself (BuildTime, ElapsedTimeMSec,
 *    ParentThreadID, ...) are absent from the payload, so only fields present on both sides
 *    are compared.
 *  - TraceEvent renders UINT8+STRING as a number and may use .NET types over the metadata's
 *    (a TraceLogging INT64 logged as UINT64 prints as -204): numbers compare modulo 2^64 and a
 *    one-character string matches its code.
 * Remaining differences, all TraceEvent fix-ups rather than decoding (they show in the report):
 * Kernel-File/Create CreateOptions (TraceEvent masks off the disposition byte), ImageID
 * ProcessID (TraceEvent moves it into the header and shows 0), SystemConfig/Services
 * ProcessName (TraceEvent substitutes its own process name), and the PerfInfo/Sample count
 * (TraceEvent counts fewer samples than the trace holds, see docs/decoding.md). */
#include "tdh_test_util.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include <etwire/etwire.h>

#include "tdh/prop_value.h"
#include "tdh/prop_walk.h"
#include "tdh/schema_lookup.h"
#include "tdh/tei_text.h"

#define MAX_FIELDS 64
#define MAX_SEEN 1024

typedef struct field {
    char name[64];
    char value[256];
} field;

typedef struct ev {
    char name[160];
    double ms;
    int used;
    unsigned datalen;
    int nf;
    field f[MAX_FIELDS];
} ev;

typedef struct name_count {
    char name[160];
    long ours, listed_seen;
} name_count;

typedef struct oracle_run {
    ev *expected;
    int nexpected;
    name_count *counts;
    int ncounts;
    /* results */
    long events, schema_events, compared_events, name_ok, fields_compared, fields_ok;
    int64_t t0;
    int report;
} oracle_run;

static int find_count(oracle_run *o, const char *name)
{
    for (int i = 0; i < o->ncounts; i++)
        if (strcmp(o->counts[i].name, name) == 0)
            return i;
    return -1;
}

/* --- our side: top-level name/value pairs of one event --- */
typedef struct collect {
    ev *e;
    const EVENT_RECORD *rec;
    const TRACE_EVENT_INFO *t;
    uint32_t tsize;
    unsigned ptr;
} collect;

static int collect_fn(void *ctx, const etw_walk_item *it)
{
    collect *c = ctx;
    if (it->ev != ETW_WALK_VALUE || it->depth != 0 || it->in_array || c->e->nf >= MAX_FIELDS)
        return 0;
    field *f = &c->e->f[c->e->nf++];
    etw_strbuf sb = {0};
    etw_blob_wstr_append(&sb, c->t, c->tsize, it->epi->NameOffset, 0);
    snprintf(f->name, sizeof f->name, "%s", sb.data ? sb.data : "");
    etw_strbuf_reset(&sb);
    size_t msize = 0;
    const EVENT_MAP_INFO *map = etw_event_property_map(c->t, c->tsize, it->epi, &msize);
    etw_value_format(&sb, 0, it->in_type, it->out_type, (const uint8_t *)c->rec->UserData + it->off,
                     it->size, c->ptr, map, msize);
    snprintf(f->value, sizeof f->value, "%s", sb.data ? sb.data : "");
    etw_strbuf_free(&sb);
    return 0;
}

/* --- value comparison --- */
static int parse_number(const char *s, uint64_t *v)
{
    char buf[128];
    size_t n = 0;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    for (; *s && n + 1 < sizeof buf; s++)
        if (*s != ',')
            buf[n++] = *s;
    buf[n] = 0;
    if (n == 0)
        return 0;
    char *end;
    errno = 0;
    uint64_t x = strtoull(buf, &end, (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) ? 16 : 10);
    if (*end || errno)
        return 0;
    *v = neg ? (uint64_t)0 - x : x;
    return 1;
}

static int values_match(const char *theirs, const char *ours)
{
    size_t tl = strlen(theirs);
    if (strcmp(theirs, ours) == 0)
        return 1;
    if (tl > 3 && strcmp(theirs + tl - 3, "...") == 0 && strncmp(theirs, ours, tl - 3) == 0)
        return 1;
    uint64_t a, b;
    if (parse_number(theirs, &a) && parse_number(ours, &b) && a == b)
        return 1;
    if (strlen(ours) == 1 && parse_number(theirs, &a) && a == (unsigned char)ours[0])
        return 1;
    /* A truncated number ("-2,305,843,009,213,6..."): compare with ours as signed decimal
     * with TraceEvent's separators. */
    if (tl > 3 && strcmp(theirs + tl - 3, "...") == 0 && parse_number(ours, &b)) {
        char digits[32], grouped[48];
        int64_t sv = (int64_t)b;
        snprintf(digits, sizeof digits, "%" PRIu64, sv < 0 ? (uint64_t)0 - b : b);
        size_t dl = strlen(digits), g = 0;
        if (sv < 0)
            grouped[g++] = '-';
        for (size_t i = 0; i < dl; i++) {
            if (i && (dl - i) % 3 == 0)
                grouped[g++] = ',';
            grouped[g++] = digits[i];
        }
        grouped[g] = 0;
        if (strncmp(theirs, grouped, tl - 3) == 0)
            return 1;
    }
    /* A 32-bit field TraceEvent reads as signed (SessionID=-1). */
    if (parse_number(theirs, &a) && parse_number(ours, &b) && b <= UINT32_MAX && (uint32_t)a == b)
        return 1;
    if (strcasecmp(theirs, ours) == 0) /* True/true */
        return 1;
    /* Dates: TraceEvent "21/09/09 14:59:35.79..." against ISO "2021-09-09T14:59:35.79...". */
    if (strlen(ours) >= 19 && ours[4] == '-' && ours[10] == 'T') {
        char d[40];
        snprintf(d, sizeof d, "%.2s/%.2s/%.2s %s", ours + 2, ours + 5, ours + 8, ours + 11);
        if (tl > 3 && strncmp(theirs, d, tl - 3) == 0)
            return 1;
        /* TraceEvent prints a SYSTEMTIME's fraction wrongly (".03" for 799 ms, while the same
         * instant as FILETIME prints ".79"): compare such values to the second. */
        if (tl >= 17 && strncmp(theirs, d, 17) == 0 && strlen(ours) == 23)
            return 1;
    }
    return 0;
}

/* Values TraceEvent computes rather than decodes: kernel paths rewritten to drive letters
 * (\Device\HarddiskVolume2\x -> C:\x, from VolumeMapping events) and flags rendered with
 * TraceEvent's own enum names. These are not compared. */
static int rewritten_by_traceevent(const char *theirs, const char *ours)
{
    if (ours[0] == '\\' && ((isalpha((unsigned char)theirs[0]) && theirs[1] == ':' && theirs[2] == '\\') ||
                          (theirs[0] == '\\' && theirs[1] == '\\')))
        return 1;
    if (isalpha((unsigned char)theirs[0]) && strncmp(ours, "0x", 2) == 0)
        return 1;
    return 0;
}

static void compare(oracle_run *o, const ev *want, const ev *got)
{
    o->compared_events++;
    for (int i = 0; i < want->nf; i++) {
        for (int j = 0; j < got->nf; j++) {
            if (strcasecmp(want->f[i].name, got->f[j].name) != 0)
                continue;
            if (rewritten_by_traceevent(want->f[i].value, got->f[j].value))
                break;
            o->fields_compared++;
            if (values_match(want->f[i].value, got->f[j].value))
                o->fields_ok++;
            else if (o->report-- > 0)
                printf("  mismatch %s %s: oracle '%s' etwire '%s'\n", want->name, want->f[i].name,
                       want->f[i].value, got->f[j].value);
            break;
        }
    }
}

static oracle_run *current;

static void WINAPI on_event(PEVENT_RECORD rec)
{
    oracle_run *o = current;
    etw_strbuf prov = {0}, name = {0};
    ev got;
    memset(&got, 0, sizeof got);
    o->events++;
    int have = etw_event_describe(rec, &prov, &name);
    snprintf(got.name, sizeof got.name, "%s/%s", prov.data ? prov.data : "", name.data ? name.data : "");
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    int c = find_count(o, got.name);
    if (c < 0)
        return;
    o->counts[c].ours++;
    if (!have)
        return;
    o->schema_events++;
    /* Matched by name and time: milliseconds since the first event, as the oracle prints. */
    if (o->events == 1)
        o->t0 = rec->EventHeader.TimeStamp.QuadPart;
    double ms = (double)(rec->EventHeader.TimeStamp.QuadPart - o->t0) / 10000.0;
    for (int i = 0; i < o->nexpected; i++) {
        ev *want = &o->expected[i];
        if (want->used || strcmp(want->name, got.name) != 0 || fabs(want->ms - ms) > 0.0015)
            continue;
        etw_schema s;
        if (!etw_schema_for_record(rec, &s))
            return;
        collect col = {&got, rec, s.info, s.size, etw_event_pointer_size(rec, 0, NULL)};
        etw_walk(s.info, rec->UserData, rec->UserDataLength, col.ptr, collect_fn, &col, NULL);
        /* Several events of one name in the same microsecond: take the one whose values fit. */
        long before_ok = o->fields_ok, before_cmp = o->fields_compared;
        int report = o->report;
        o->report = 0;
        compare(o, want, &got);
        int perfect = o->fields_ok - before_ok == o->fields_compared - before_cmp;
        o->fields_ok = before_ok;
        o->fields_compared = before_cmp;
        o->compared_events--;
        o->report = report;
        if (!perfect && i + 1 < o->nexpected && strcmp(o->expected[i + 1].name, got.name) == 0 &&
            fabs(o->expected[i + 1].ms - ms) <= 0.0015 && !o->expected[i + 1].used)
            continue;
        want->used = 1;
        o->name_ok++;
        compare(o, want, &got);
        return;
    }
}

/* --- oracle parsing --- */
static int parse_event_line(char *line, ev *e)
{
    char *colon = strstr(line, ": "), *pid = strstr(line, " PID=");
    if (!colon || !pid || pid < colon)
        return 0;
    memset(e, 0, sizeof *e);
    char num[64];
    size_t k = 0;
    for (const char *c = line + 6; c < colon && k + 1 < sizeof num; c++)
        if (*c != ',')
            num[k++] = *c;
    num[k] = 0;
    e->ms = atof(num);
    int len = (int)(pid - colon - 2);
    snprintf(e->name, sizeof e->name, "%.*s", len > 150 ? 150 : len, colon + 2);
    for (char *s = pid + 1; *s;) {
        char *end = strstr(s, "; ");
        if (end)
            *end = 0;
        char *eq = strchr(s, '=');
        if (eq && e->nf < MAX_FIELDS) {
            *eq = 0;
            if (strcmp(s, "DataLen") == 0)
                e->datalen = (unsigned)atoi(eq + 1);
            else if (strcmp(s, "PID") && strcmp(s, "TID") && strcmp(s, "PName") && strcmp(s, "ProceNum")) {
                snprintf(e->f[e->nf].name, sizeof e->f[0].name, "%s", s);
                snprintf(e->f[e->nf].value, sizeof e->f[0].value, "%s", eq + 1);
                e->nf++;
            }
        }
        if (!end)
            break;
        s = end + 2;
    }
    return 1;
}

static int load_oracle(const char *path, oracle_run *o)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[8192];
    o->expected = calloc(2048, sizeof *o->expected);
    o->counts = calloc(MAX_SEEN, sizeof *o->counts);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "EVENT ", 6) == 0 && o->nexpected < 2048) {
            if (parse_event_line(line, &o->expected[o->nexpected]))
                o->nexpected++;
        } else if (strncmp(line, "COUNT ", 6) == 0 && o->ncounts < MAX_SEEN) {
            char *c = strrchr(line, ':');
            if (!c)
                continue;
            *c = 0;
            snprintf(o->counts[o->ncounts].name, sizeof o->counts[0].name, "%.150s", line + 6);
            o->counts[o->ncounts].listed_seen = atol(c + 1);
            o->ncounts++;
        }
    }
    fclose(f);
    return 1;
}

typedef struct totals {
    long listed_names, names_with_schema, count_match;
} totals;

static void run_one(const char *name, long *fields_ok, long *fields_cmp, long *events_named)
{
    char oracle[512], trace[512];
    snprintf(oracle, sizeof oracle, "%s/corpus/oracles/traceevent/%s.baseline.txt", ETWIRE_SHARED_DIR, name);
    snprintf(trace, sizeof trace, "%s/corpus/traceevent/%s.etl", ETWIRE_SHARED_DIR, name);
    oracle_run o;
    memset(&o, 0, sizeof o);
    o.report = getenv("ETWIRE_ORACLE_VERBOSE") ? 100000 : 8;
    assert_true(load_oracle(oracle, &o));
    current = &o;
    etwire_tdh_reset();
    ETW_OPEN_TRACE_OPTIONS opts;
    memset(&opts, 0, sizeof opts);
    opts.EventCallback = on_event;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(trace, &opts, &hdr);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    /* COUNT lines: every name we produce with a schema must have TraceEvent's count. */
    long counted = 0, count_ok = 0;
    for (int i = 0; i < o.ncounts; i++) {
        if (o.counts[i].ours == 0)
            continue;
        counted++;
        if (o.counts[i].ours == o.counts[i].listed_seen)
            count_ok++;
        else if (o.report-- > 0)
            printf("  count %s: oracle %ld etwire %ld\n", o.counts[i].name, o.counts[i].listed_seen, o.counts[i].ours);
    }
    printf("%s: %ld events; oracle lists %d events, %ld matched by provider+event name; "
           "%ld/%ld fields equal; %ld/%ld event names with TraceEvent's count\n",
           name, o.events, o.nexpected, o.name_ok, o.fields_ok, o.fields_compared, count_ok, counted);
    *fields_ok += o.fields_ok;
    *fields_cmp += o.fields_compared;
    *events_named += o.name_ok;
    free(o.expected);
    free(o.counts);
}

static int have_corpus(void)
{
    struct stat st;
    return stat(ETWIRE_SHARED_DIR "/corpus/oracles/traceevent", &st) == 0;
}

static void test_oracles(void **state)
{
    (void)state;
    if (!have_corpus())
        skip();
    long ok = 0, cmp = 0, named = 0;
    run_one("primitive-types", &ok, &cmp, &named);
    run_one("gcevents", &ok, &cmp, &named);
    run_one("net.4.5.x86-PerfViewData", &ok, &cmp, &named);
    run_one("net.4.5.2.x86", &ok, &cmp, &named);
    printf("total: %ld oracle events matched by name, %ld/%ld field values equal\n", named, ok, cmp);
    /* Figures at the time of writing: 419 events, 2133/2161 values; the floor leaves room for
     * oracle events whose schema arrives only through sources not yet implemented. */
    assert_true(named >= 400);
    assert_true(ok * 100 >= cmp * 97);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_oracles)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
