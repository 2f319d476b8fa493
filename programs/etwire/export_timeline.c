/* etwire export timeline: Chrome trace-event JSON (the format the Perfetto UI and
 * chrome://tracing open). Processes and threads named by metadata events as the trace reveals
 * them; context switches (kernel Thread/CSwitch) as slices on one track per CPU and as
 * "Running" slices on each thread; CPU samples (PerfInfo/SampledProfile) and every other event
 * as instant events with their decoded fields as args; process lifetimes as async slices from
 * start (or rundown) to stop. Written as it goes: the only state is one running thread per CPU
 * and the names already written. Times are microseconds from the first event. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/strbuf.h"
#include "base/text.h"
#include "context/id_table.h"
#include "export.h"
#include "tdh/decode/event_text.h"

#define MAX_CPUS 4096
#define FLUSH_AT (256u << 10)
#define NAME_BYTES 64
/* The pseudo-process that holds one track per CPU: real process ids are multiples of 4, and
 * it stays within a signed 32-bit int, which some trace viewers read pids as. */
#define CPU_PID 2147483646u
/* Where events of no known process go (pid 0 is the Idle process, not "unknown"). */
#define UNKNOWN_PID 2147483645u

static const GUID process_guid = {0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
static const GUID thread_guid = {0x3d6fa8d1, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
static const GUID perfinfo_guid = {0xce1dbfb4, 0x137e, 0x4da6, {0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c, 0xbc}};
static const GUID kernel_process_guid = {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}};

typedef struct cpu_state {
    int64_t since;   /* when the running thread was switched in; -1 none yet */
    uint32_t tid;
} cpu_state;

typedef struct timeline_state {
    etw_strbuf out, provider, event, fields;
    int64_t t0;
    int have_t0, first;
    cpu_state cpus[MAX_CPUS];
    uint32_t cpus_named;      /* CPU tracks named so far (0..cpus_named-1) */
    etw_id_table named;       /* pid -> the name last written as process_name */
    uint64_t events, slices, samples, instants;
} timeline_state;

static void begin_record(timeline_state *st)
{
    etw_strbuf_puts(&st->out, st->first ? "\n" : ",\n");
    st->first = 0;
}

static void flush_if_full(timeline_state *st, export_context *cx)
{
    if (st->out.len >= FLUSH_AT) {
        fwrite(st->out.data, 1, st->out.len, cx->out);
        etw_strbuf_reset(&st->out);
    }
}

/* ts in microseconds with the 100 ns digit: "12345.6". */
static void put_time(timeline_state *st, const char *key, int64_t t)
{
    uint64_t rel = t > st->t0 ? (uint64_t)(t - st->t0) : 0;
    etw_strbuf_puts(&st->out, key);
    etw_strbuf_u64(&st->out, rel / 10);
    etw_strbuf_putc(&st->out, '.');
    etw_strbuf_putc(&st->out, (char)('0' + rel % 10));
}

static void put_ids(timeline_state *st, uint32_t pid, uint32_t tid)
{
    etw_strbuf_puts(&st->out, ",\"pid\":");
    etw_strbuf_u64(&st->out, pid);
    etw_strbuf_puts(&st->out, ",\"tid\":");
    etw_strbuf_u64(&st->out, tid);
}

static void put_string(etw_strbuf *o, const char *s)
{
    etw_strbuf_putc(o, '"');
    etw_strbuf_json_string(o, s, strlen(s));
    etw_strbuf_putc(o, '"');
}

static void metadata(timeline_state *st, const char *what, uint32_t pid, uint32_t tid, const char *name)
{
    begin_record(st);
    etw_strbuf_puts(&st->out, "{\"ph\":\"M\",\"name\":\"");
    etw_strbuf_puts(&st->out, what);
    etw_strbuf_putc(&st->out, '"');
    put_ids(st, pid, tid);
    etw_strbuf_puts(&st->out, ",\"args\":{\"name\":");
    put_string(&st->out, name);
    etw_strbuf_puts(&st->out, "}}");
}

/* process_name metadata whenever the tracker knows a name not yet written for the pid. */
static void name_process(timeline_state *st, export_context *cx, uint32_t pid)
{
    if (pid == 0xFFFFFFFFu || pid == CPU_PID || pid == UNKNOWN_PID)
        return;
    const char *name = etwire_process_tracker_name_of(cx->processes, pid);
    if (!name[0])
        return;
    char *written = etw_id_table_find(&st->named, pid);
    if (written && !strcmp(written, name))
        return;
    if (!written)
        written = etw_id_table_put(&st->named, pid);
    if (written) {
        strncpy(written, name, NAME_BYTES - 1);
        written[NAME_BYTES - 1] = '\0';
    }
    metadata(st, "process_name", pid, 0, name);
}

static uint32_t thread_pid(export_context *cx, uint32_t tid)
{
    EVENT_RECORD probe;
    memset(&probe, 0, sizeof probe);
    probe.EventHeader.ProcessId = 0xFFFFFFFFu;
    probe.EventHeader.ThreadId = tid;
    uint32_t pid = etwire_process_tracker_pid(cx->processes, &probe);
    return pid == 0xFFFFFFFFu ? UNKNOWN_PID : pid;
}

static void slice(timeline_state *st, const char *name, uint32_t pid, uint32_t tid, int64_t from, int64_t to)
{
    begin_record(st);
    etw_strbuf_puts(&st->out, "{\"ph\":\"X\",\"cat\":\"sched\",\"name\":");
    put_string(&st->out, name);
    put_time(st, ",\"ts\":", from);
    uint64_t d = to > from ? (uint64_t)(to - from) : 0;
    etw_strbuf_puts(&st->out, ",\"dur\":");
    etw_strbuf_u64(&st->out, d / 10);
    etw_strbuf_putc(&st->out, '.');
    etw_strbuf_putc(&st->out, (char)('0' + d % 10));
    put_ids(st, pid, tid);
    etw_strbuf_putc(&st->out, '}');
    st->slices++;
}

/* Thread/CSwitch: NewThreadId, OldThreadId first. The CPU's previous thread ran from its
 * switch-in until now: a slice on the CPU's track and one on the thread's own. */
static void context_switch(timeline_state *st, const EVENT_RECORD *er, export_context *cx, int64_t t)
{
    unsigned cpu = GetEventProcessorIndex(er);
    if (er->UserDataLength < 8 || cpu >= MAX_CPUS)
        return;
    uint32_t new_tid = etw_rd32(er->UserData), old_tid = etw_rd32((const uint8_t *)er->UserData + 4);
    while (st->cpus_named <= cpu) {
        char name[32] = "CPU ";
        etw_strbuf s = {0};
        etw_strbuf_u64(&s, st->cpus_named);
        if (s.data)
            strncat(name, s.data, sizeof name - 5);
        etw_strbuf_free(&s);
        metadata(st, "thread_name", CPU_PID, st->cpus_named, name);
        st->cpus[st->cpus_named].since = -1;
        st->cpus_named++;
    }
    cpu_state *c = &st->cpus[cpu];
    if (c->since >= 0 && old_tid != 0) {
        uint32_t pid = thread_pid(cx, old_tid);
        name_process(st, cx, pid);
        const char *pname = etwire_process_tracker_name_of(cx->processes, pid);
        etw_strbuf_reset(&st->event);
        if (pname[0]) {
            etw_strbuf_puts(&st->event, pname);
            etw_strbuf_puts(&st->event, " ");
        }
        etw_strbuf_puts(&st->event, "tid ");
        etw_strbuf_u64(&st->event, old_tid);
        slice(st, st->event.data, CPU_PID, cpu, c->since, t);
        slice(st, "Running", pid, old_tid, c->since, t);
    }
    c->since = t;
    c->tid = new_tid;
}

/* Async begin/end on a "process" track per pid: the process's lifetime. */
static void lifetime(timeline_state *st, export_context *cx, uint32_t pid, int begin, int64_t t)
{
    name_process(st, cx, pid);
    begin_record(st);
    etw_strbuf_puts(&st->out, begin ? "{\"ph\":\"b\"" : "{\"ph\":\"e\"");
    etw_strbuf_puts(&st->out, ",\"cat\":\"process\",\"name\":\"lifetime\",\"id\":");
    etw_strbuf_u64(&st->out, pid);
    put_time(st, ",\"ts\":", t);
    put_ids(st, pid, 0);
    etw_strbuf_putc(&st->out, '}');
}

/* Thread/SetName: ProcessId, ThreadId, ThreadName (UTF-16). */
static void thread_name(timeline_state *st, const EVENT_RECORD *er)
{
    const uint8_t *p = er->UserData;
    size_t n = er->UserDataLength;
    if (n < 10)
        return;
    int terminated;
    size_t span = etw_utf16_span(p + 8, n - 8, &terminated);
    etw_strbuf_reset(&st->event);
    etw_utf16_to_utf8(&st->event, p + 8, span);
    if (st->event.len)
        metadata(st, "thread_name", etw_rd32(p), etw_rd32(p + 4), st->event.data);
}

static int process_event_pid(const EVENT_RECORD *er, int *begin)
{
    const GUID *g = &er->EventHeader.ProviderId;
    unsigned op = er->EventHeader.EventDescriptor.Opcode, id = er->EventHeader.EventDescriptor.Id;
    if (er->UserDataLength < 4)
        return -1;
    if (etw_guid_equal(g, &kernel_process_guid) && (id == 1 || id == 2)) {
        *begin = id == 1;
        return (int)etw_rd32(er->UserData) >= 0 ? (int)etw_rd32(er->UserData) : -1;
    }
    if (etw_guid_equal(g, &process_guid) && (op == 1 || op == 2 || op == 3 || op == 4)) {
        /* ProcessId follows UniqueProcessKey (a pointer) from version 1 on. */
        size_t off = (er->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8;
        if (er->EventHeader.EventDescriptor.Version < 1 || er->UserDataLength < off + 4)
            return -1;
        *begin = op == 1 || op == 3;
        uint32_t pid = etw_rd32((const uint8_t *)er->UserData + off);
        return pid <= 0x7FFFFFFFu ? (int)pid : -1;
    }
    return -1;
}

static void instant(timeline_state *st, const EVENT_RECORD *er, export_context *cx, int64_t t, int sample)
{
    uint32_t pid = etwire_process_tracker_pid(cx->processes, er), tid = er->EventHeader.ThreadId;
    if (sample && er->UserDataLength >= 12) {
        size_t ptr = (er->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8;
        if (er->UserDataLength >= ptr + 4) {
            tid = etw_rd32((const uint8_t *)er->UserData + ptr);
            pid = thread_pid(cx, tid);
        }
    }
    if (pid == 0xFFFFFFFFu)
        pid = UNKNOWN_PID;
    if (tid == 0xFFFFFFFFu)
        tid = 0;
    name_process(st, cx, pid);
    etw_strbuf_reset(&st->provider);
    etw_strbuf_reset(&st->event);
    etw_strbuf_reset(&st->fields);
    etw_event_describe(er, &st->provider, &st->event);
    int decoded = etw_event_format_fields(er, 1, &st->fields);
    begin_record(st);
    etw_strbuf_puts(&st->out, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":");
    put_string(&st->out, st->provider.data ? st->provider.data : "");
    etw_strbuf_puts(&st->out, ",\"name\":");
    put_string(&st->out, sample ? "CPU sample" : st->event.data ? st->event.data : "");
    put_time(st, ",\"ts\":", t);
    put_ids(st, pid, tid);
    etw_strbuf_puts(&st->out, ",\"args\":{");
    if (decoded || (st->fields.data && strchr(st->fields.data, '"'))) {
        if (st->fields.data)
            etw_strbuf_append(&st->out, st->fields.data, st->fields.len);
    } else if (st->fields.len) {
        etw_strbuf_puts(&st->out, "\"payload_hex\":\"");
        etw_strbuf_append(&st->out, st->fields.data, st->fields.len);
        etw_strbuf_putc(&st->out, '"');
    }
    etw_strbuf_puts(&st->out, "}}");
    if (sample)
        st->samples++;
    else
        st->instants++;
}

static void *timeline_begin(export_context *cx)
{
    timeline_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (etw_id_table_init(&st->named, NAME_BYTES, 1u << 20, 0) != 0) {
        free(st);
        return NULL;
    }
    st->first = 1;
    etw_strbuf_puts(&st->out, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    metadata(st, "process_name", CPU_PID, 0, "CPUs");
    metadata(st, "process_name", UNKNOWN_PID, 0, "(process not known)");
    return st;
}

static void timeline_event(void *state, const EVENT_RECORD *er, export_context *cx)
{
    timeline_state *st = state;
    int64_t t = er->EventHeader.TimeStamp.QuadPart;
    if (!st->have_t0) {
        st->t0 = t;
        st->have_t0 = 1;
    }
    st->events++;
    const GUID *g = &er->EventHeader.ProviderId;
    unsigned op = er->EventHeader.EventDescriptor.Opcode;
    int begin;
    int pid = process_event_pid(er, &begin);
    if (g->Data1 == thread_guid.Data1 && etw_guid_equal(g, &thread_guid) && op == 36) {
        context_switch(st, er, cx, t);
    } else {
        if (g->Data1 == thread_guid.Data1 && etw_guid_equal(g, &thread_guid) && op == 72)
            thread_name(st, er);
        if (pid >= 0)
            lifetime(st, cx, (uint32_t)pid, begin, t);
        instant(st, er, cx, t, g->Data1 == perfinfo_guid.Data1 && etw_guid_equal(g, &perfinfo_guid) && op == 46);
    }
    flush_if_full(st, cx);
}

static int timeline_end(void *state, export_context *cx)
{
    timeline_state *st = state;
    etw_strbuf_puts(&st->out, "\n]}\n");
    int failed = st->out.failed;
    if (fwrite(st->out.data, 1, st->out.len, cx->out) != st->out.len)
        failed = 1;
    fprintf(stderr, "etwire export: %llu events: %llu scheduling slices, %llu CPU samples, %llu instant events to %s\n",
            (unsigned long long)st->events, (unsigned long long)st->slices, (unsigned long long)st->samples,
            (unsigned long long)st->instants, cx->out_path);
    etw_strbuf_free(&st->out);
    etw_strbuf_free(&st->provider);
    etw_strbuf_free(&st->event);
    etw_strbuf_free(&st->fields);
    etw_id_table_free(&st->named);
    free(st);
    return failed ? -1 : 0;
}

const export_format export_timeline_format = {
    "timeline", "Chrome trace-event JSON for the Perfetto UI and chrome://tracing",
    timeline_begin, timeline_event, timeline_end, NULL,
};
