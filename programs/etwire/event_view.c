/* Event lines for dump (see event_view.h). Field names in JSON are stable: scripts rely on them. */
#include "event_view.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cli_common.h"
#include "tdh/decode/event_text.h"
#include "tdh/decode/winsat.h"

int event_view_raw_time;
static _Thread_local ETWIRE_PROCESS_TRACKER *view_processes;

void event_view_set_processes(ETWIRE_PROCESS_TRACKER *processes)
{
    view_processes = processes;
}

/* The image name of the event's process, "" when not known (NULL when no tracker is set). */
static const char *process_name(const EVENT_RECORD *er)
{
    return view_processes ? etwire_process_tracker_name(view_processes, er) : NULL;
}

/* Scratch strings reused for every event (formatting allocates only while they grow to the
 * largest event), one set per thread so collector sessions decode in parallel; a thread's set
 * is freed when the thread ends. */
typedef struct view_scratch {
    etw_strbuf provider, event, fields;
    etw_winsat_scratch winsat; /* inflated WinSAT XML */
} view_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *p)
{
    view_scratch *v = p;
    etw_strbuf_free(&v->provider);
    etw_strbuf_free(&v->event);
    etw_strbuf_free(&v->fields);
    etw_winsat_scratch_free(&v->winsat);
    free(v);
}

static void make_key(void)
{
    pthread_key_create(&scratch_key, free_scratch);
}

static view_scratch *scratch(void)
{
    pthread_once(&scratch_once, make_key);
    view_scratch *v = pthread_getspecific(scratch_key);
    if (!v) {
        v = calloc(1, sizeof *v);
        if (!v) {
            /* Out of memory: a per-thread set that is never freed (it fails to grow anyway). */
            static _Thread_local view_scratch fallback;
            return &fallback;
        }
        pthread_setspecific(scratch_key, v);
    }
    return v;
}

void event_view_release(void)
{
    pthread_once(&scratch_once, make_key);
    view_scratch *v = pthread_getspecific(scratch_key);
    if (v) {
        pthread_setspecific(scratch_key, NULL);
        free_scratch(v);
    }
}

#define provider_name (scratch()->provider)
#define event_name (scratch()->event)
#define fields (scratch()->fields)

/* The event's time as every output format prints it: ISO-8601 UTC, or raw with --raw-time. */
static void event_time(const EVENT_HEADER *h, char *t, size_t n)
{
    if (event_view_raw_time)
        snprintf(t, n, "%lld", (long long)h->TimeStamp.QuadPart);
    else
        cli_format_filetime(h->TimeStamp.QuadPart, t, n);
}

static void common_fields(etw_strbuf *o, const EVENT_RECORD *er, int json)
{
    const EVENT_HEADER *h = &er->EventHeader;
    const EVENT_DESCRIPTOR *d = &h->EventDescriptor;
    char t[40], g[37];
    event_time(h, t, sizeof t);
    etw_guid_format(&h->ProviderId, g);
    unsigned cpu = GetEventProcessorIndex(er);
    if (json)
        etw_strbuf_printf(o,
                          "{\"time\":\"%s\",\"provider_guid\":\"%s\",\"id\":%u,\"version\":%u,"
                          "\"level\":%u,\"opcode\":%u,\"task\":%u,\"keyword\":\"0x%llx\","
                          "\"pid\":%u,\"tid\":%u,\"cpu\":%u,\"flags\":%u,\"payload_length\":%u",
                          t, g, d->Id, d->Version, d->Level, d->Opcode, d->Task,
                          (unsigned long long)d->Keyword, h->ProcessId, h->ThreadId, cpu, h->Flags,
                          er->UserDataLength);
    else
        etw_strbuf_printf(o,
                          "%s {%s} id=%u v=%u lvl=%u op=%u task=%u kw=0x%llx pid=%d tid=%d "
                          "cpu=%u flags=0x%x len=%u",
                          t, g, d->Id, d->Version, d->Level, d->Opcode, d->Task,
                          (unsigned long long)d->Keyword, (int)h->ProcessId, (int)h->ThreadId, cpu,
                          h->Flags, er->UserDataLength);
}

int event_view_decode(const EVENT_RECORD *er, int json)
{
    etw_strbuf_reset(&provider_name);
    etw_strbuf_reset(&event_name);
    etw_strbuf_reset(&fields);
    /* Describe every event, decodable or not: embedded schema events are learned this way
     * before the events they describe. */
    etw_event_describe(er, &provider_name, &event_name);
    int decoded = etw_event_format_fields(er, json, &fields);
    /* WinSAT events: the compressed XML the schema stops before, shown inflated as "Xml"
     * (an event whose XML does not inflate counts as undecoded). */
    if (decoded && etw_winsat_append_xml(er, json, &scratch()->winsat, &fields) == 0)
        decoded = 0;
    return decoded;
}

/* One event, one line: control characters inside decoded strings are escaped. */
static void append_one_line(etw_strbuf *out, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7F)
            continue;
        etw_strbuf_append(out, s + start, i - start);
        etw_strbuf_printf(out, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\x%02x", c);
        start = i + 1;
    }
    etw_strbuf_append(out, s + start, n - start);
}

void event_view_text(etw_strbuf *out, const EVENT_RECORD *er)
{
    int decoded = event_view_decode(er, 0);
    common_fields(out, er, 0);
    const char *process = process_name(er);
    if (process && process[0]) {
        etw_strbuf_puts(out, " process=");
        append_one_line(out, process, strlen(process));
    }
    etw_strbuf_printf(out, " %s/%s", provider_name.data ? provider_name.data : "",
                      event_name.data ? event_name.data : "");
    if (fields.len) {
        etw_strbuf_puts(out, decoded || fields.data[0] != '\0' ? " " : "");
        if (!decoded && !strchr(fields.data, '='))
            etw_strbuf_puts(out, "payload=");
        append_one_line(out, fields.data, fields.len);
    }
}

/* CSV (RFC 4180): the field is quoted, quotes doubled; line breaks escaped as in text. */
static void csv_field(etw_strbuf *out, const char *s, size_t n)
{
    etw_strbuf_putc(out, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"')
            continue;
        append_one_line(out, s + start, i + 1 - start);
        etw_strbuf_putc(out, '"');
        start = i + 1;
    }
    append_one_line(out, s + start, n - start);
    etw_strbuf_putc(out, '"');
}

const char *event_view_csv_header(void)
{
    return "time,provider_guid,provider,event,id,version,level,opcode,task,keyword,pid,tid,cpu,"
           "flags,payload_length,decoded,fields,process\n";
}

void event_view_csv(etw_strbuf *out, const EVENT_RECORD *er)
{
    const EVENT_HEADER *h = &er->EventHeader;
    const EVENT_DESCRIPTOR *d = &h->EventDescriptor;
    int decoded = event_view_decode(er, 0);
    char t[40], g[37];
    event_time(h, t, sizeof t);
    etw_guid_format(&h->ProviderId, g);
    etw_strbuf_printf(out, "%s,%s,", t, g);
    csv_field(out, provider_name.data ? provider_name.data : "", provider_name.len);
    etw_strbuf_putc(out, ',');
    csv_field(out, event_name.data ? event_name.data : "", event_name.len);
    etw_strbuf_printf(out, ",%u,%u,%u,%u,%u,0x%llx,%u,%u,%u,%u,%u,%d,", d->Id, d->Version, d->Level,
                      d->Opcode, d->Task, (unsigned long long)d->Keyword, h->ProcessId, h->ThreadId,
                      GetEventProcessorIndex(er), h->Flags, er->UserDataLength, decoded);
    csv_field(out, fields.data ? fields.data : "", fields.len);
    /* The process last: the columns before it keep their places. */
    const char *process = process_name(er);
    etw_strbuf_putc(out, ',');
    csv_field(out, process ? process : "", process ? strlen(process) : 0);
}

void event_view_json(etw_strbuf *out, const EVENT_RECORD *er)
{
    int decoded = event_view_decode(er, 1);
    common_fields(out, er, 1);
    etw_strbuf_puts(out, ",\"provider\":\"");
    if (provider_name.data)
        etw_strbuf_json_string(out, provider_name.data, provider_name.len);
    const char *process = process_name(er);
    if (process) {
        etw_strbuf_puts(out, "\",\"process\":\"");
        etw_strbuf_json_string(out, process, strlen(process));
    }
    etw_strbuf_puts(out, "\",\"event\":\"");
    if (event_name.data)
        etw_strbuf_json_string(out, event_name.data, event_name.len);
    etw_strbuf_printf(out, "\",\"decoded\":%s", decoded ? "true" : "false");
    if (decoded || (fields.data && strchr(fields.data, '"'))) {
        etw_strbuf_puts(out, ",\"fields\":{");
        if (fields.data)
            etw_strbuf_append(out, fields.data, fields.len);
        etw_strbuf_putc(out, '}');
    } else if (fields.len) {
        etw_strbuf_puts(out, ",\"payload_hex\":\"");
        etw_strbuf_append(out, fields.data, fields.len);
        etw_strbuf_putc(out, '"');
    }
    etw_strbuf_putc(out, '}');
}

/* The schema store the views decode with (dump, stats and export open the default one with
 * their filters; collect opens its --schemas before any session decodes). */
int event_view_open_store(const char *dir)
{
    ULONG rc = etwire_schemas_open(dir);
    if (rc == ERROR_SUCCESS || (rc == ERROR_FILE_NOT_FOUND && !dir))
        return 0; /* no default store: nothing to add */
    fprintf(stderr, "etwire: schema store: %s\n", etwire_last_error_message());
    return -1;
}
