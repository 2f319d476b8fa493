/* Event lines for dump (see event_view.h). Field names in JSON are stable: scripts rely on them. */
#include "event_view.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/text.h"
#include "cli_time.h"
#include "context/process_tracker.h"
#include "tdh/decode/event_text.h"
#include "tdh/decode/text_out.h"
#include "tdh/decode/winsat.h"

int event_view_raw_time;
static _Thread_local ETWIRE_PROCESS_TRACKER *view_processes;

void event_view_set_processes(ETWIRE_PROCESS_TRACKER *processes)
{
    view_processes = processes;
}

/* The image name of the event's process as a format writes it, remembered per thread by pid:
 * the name changes rarely (the tracker's version says when), and escaping it and finding its
 * length cost more per event than comparing a few words. */
enum { PROCESS_TEXT, PROCESS_JSON, PROCESS_CSV }; /* escaped as a text line, a JSON string, a CSV field */
#define PROCESS_SLOTS 64
#define PROCESS_TEXT_MAX 119 /* longer escaped names are written the slow way */

typedef struct process_memo {
    uint64_t serial, version; /* the tracker's (serial 0: empty) */
    uint32_t pid;
    uint8_t format;
    uint8_t len;
    char text[PROCESS_TEXT_MAX + 1];
} process_memo;

static _Thread_local process_memo process_memos[PROCESS_SLOTS];

static long put_process_slow(etw_strbuf *out, const ETWIRE_PROCESS_TRACKER *t, uint32_t pid, uint64_t version,
                             process_memo *m, int format);

/* Appends the name (escaped for format, without quotes) and returns its length, 0 for a process
 * without a name; -1 (nothing appended) when no tracker is set. Inline: a pid and a memo slot
 * compared, a fixed-size move, the length. */
static inline __attribute__((always_inline)) long put_process(etw_strbuf *out, const EVENT_RECORD *er, int format)
{
    const ETWIRE_PROCESS_TRACKER *t = view_processes;
    if (!t)
        return -1;
    uint32_t pid = er->EventHeader.ProcessId != ETW_NO_ID ? er->EventHeader.ProcessId : etwire_process_tracker_pid(t, er);
    uint64_t version = etw_tracker_names_version(t);
    process_memo *m = &process_memos[(pid * 2654435761u >> 20) & (PROCESS_SLOTS - 1)];
    if (m->serial != t->serial || m->version != version || m->pid != pid || m->format != format ||
        etw_strbuf_reserve(out, sizeof m->text) != 0)
        return put_process_slow(out, t, pid, version, m, format);
    if (m->len <= 32)
        memcpy(out->data + out->len, m->text, 32);
    else
        memcpy(out->data + out->len, m->text, sizeof m->text);
    out->len += m->len;
    out->data[out->len] = '\0';
    return m->len;
}

/* put_process's miss: the name escaped into the line, and remembered when it fits. */
static long put_process_slow(etw_strbuf *out, const ETWIRE_PROCESS_TRACKER *t, uint32_t pid, uint64_t version,
                             process_memo *m, int format)
{
    const char *name = etwire_process_tracker_name_of(t, pid);
    size_t mark = out->len;
    if (format == PROCESS_JSON)
        etw_strbuf_json_string(out, name, strlen(name));
    else
        etw_strbuf_line_escaped(out, name, strlen(name), format == PROCESS_CSV);
    size_t n = out->len - mark;
    if (n <= PROCESS_TEXT_MAX && !out->failed) {
        memcpy(m->text, out->data + mark, n);
        m->len = (uint8_t)n;
        m->pid = pid;
        m->format = (uint8_t)format;
        m->version = version;
        m->serial = t->serial;
    }
    return (long)n;
}

/* Scratch strings reused for every event (formatting allocates only while they grow to the
 * largest event), one set per thread so collector sessions decode in parallel; a thread's set
 * is freed when the thread ends. */
typedef struct view_scratch {
    etw_strbuf provider, event; /* names made per event (the plan's are used where they are) */
    etw_strbuf fields;
    etw_winsat_scratch winsat; /* inflated WinSAT XML */
} view_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static _Thread_local view_scratch *thread_scratch; /* see scratch() */

static void free_scratch(void *p)
{
    view_scratch *v = p;
    thread_scratch = NULL; /* key destructors run on the thread that ends */
    etw_strbuf_free(&v->provider);
    etw_strbuf_free(&v->event);
    etw_strbuf_free(&v->fields);
    etw_winsat_scratch_free(&v->winsat);
    free(v);
}

static void fill_small_numbers(void);

static void make_key(void)
{
    fill_small_numbers();
    pthread_key_create(&scratch_key, free_scratch);
}

/* The calling thread's set, found without a library call after the first use (the key only
 * frees it when the thread ends). */
static view_scratch *scratch_slow(void);

static inline view_scratch *scratch(void)
{
    return thread_scratch ? thread_scratch : scratch_slow();
}

static view_scratch *scratch_slow(void)
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
    thread_scratch = v;
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
    thread_scratch = NULL;
}

/* The per-thread string for fields formatted on their own (event_view_decode) and for the
 * rest of a line being escaped (escape_in_place). */
#define fields (scratch()->fields)

/* Numbers and times are formatted here, not by printf: these run once per event, and the
 * printf family was half of `dump`'s time (issue 11). */
#define FILETIME_UNIX_EPOCH 116444736000000000LL /* 1970-01-01 */

/* The common fields are written through a raw cursor after one reserve (HEADER_ROOM covers
 * the longest header line: its literals, 28 time characters, a GUID, twelve numbers); the
 * helpers below write at p and return the end. */
#define HEADER_ROOM 512
#define RAW(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* "0".."999" as up to three digits in four bytes, with their count in the last: the id,
 * version, level, opcode, task and cpu of almost every event are below 1000, and a table
 * read and one 4-byte store replace the compares and divisions. Filled once, by make_key
 * (every thread formats only after scratch() ran it). */
static char small_numbers[1000][4];

static void fill_small_numbers(void)
{
    for (unsigned v = 0; v < 1000; v++) {
        char *t = small_numbers[v];
        unsigned n = v < 10 ? 1 : v < 100 ? 2 : 3;
        for (unsigned i = n, x = v; i-- > 0; x /= 10)
            t[i] = (char)('0' + x % 10);
        t[3] = (char)n;
    }
}

/* n bytes of s at p (s may be NULL when n is 0: an empty scratch string); returns the end. */
static inline char *raw_mem(char *p, const char *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    return p + n;
}

/* A name at p: a plan's short names in two fixed 16-byte moves (no call; the caller reserved
 * NAME_SLACK bytes past it), others copied. */
#define NAME_SLACK 32
static inline char *raw_name(char *p, etw_text_view v)
{
    if (v.padded && v.n <= 32) {
        memcpy(p, v.s, 16);
        memcpy(p + 16, v.s + 16, 16);
        return p + v.n;
    }
    return raw_mem(p, v.s, v.n);
}

static char *raw_u_slow(char *p, uint64_t v);

/* Inline: twelve of these per event line, most of them the table case. The 4-byte store may
 * pass the number's end by up to three bytes (inside HEADER_ROOM; the next write covers it). */
static inline __attribute__((always_inline)) char *raw_u(char *p, uint64_t v)
{
    if (v < 1000) {
        memcpy(p, small_numbers[v], 4);
        return p + small_numbers[v][3];
    }
    return raw_u_slow(p, v);
}

static char *raw_u_slow(char *p, uint64_t v)
{
    if (v < 1000)
        return raw_u(p, v);
    /* Payload lengths and flags are mostly 3-4 digits; kernel events carry no process and
     * thread (0xFFFFFFFF): no call for those. */
    if (v < 10000) {
        memcpy(p, etw_digit_pairs + 2 * (v / 100), 2);
        memcpy(p + 2, etw_digit_pairs + 2 * (v % 100), 2);
        return p + 4;
    }
    if (v == 0xFFFFFFFFu) {
        memcpy(p, "4294967295", 10);
        return p + 10;
    }
    return etw_u64_put(p, v);
}

static char *raw_i(char *p, int64_t v)
{
    if (v >= 0)
        return raw_u(p, (uint64_t)v);
    *p++ = '-';
    return raw_u(p, (uint64_t)0 - (uint64_t)v);
}

/* "0x" and lower-case digits, in place (a local copy read back stalls on the bytes just
 * stored). */
static char *raw_hex(char *p, uint64_t v)
{
    p[0] = '0';
    p[1] = 'x';
    return etw_hex_put(p + 2, v);
}

/* The last value written by one header field and its text, per thread: a process, thread or
 * keyword usually repeats from one event to the next, and a 16 or 24-byte copy is cheaper
 * than the digits (those stores may pass the text's end, inside HEADER_ROOM). */
typedef struct field_memo {
    uint64_t value;
    unsigned char len; /* 0 while empty */
    char text[24];
} field_memo;

static _Thread_local field_memo pid_memo, tid_memo, keyword_memo, text_pid_memo, text_tid_memo;

static inline char *raw_u_memo(char *p, uint64_t v, field_memo *m)
{
    if (v < 1000)
        return raw_u(p, v);
    if (v != m->value || !m->len) {
        m->len = (unsigned char)(raw_u_slow(m->text, v) - m->text);
        m->value = v;
    }
    memcpy(p, m->text, 16);
    return p + m->len;
}

/* The text format's signed form (a kernel event's 0xFFFFFFFF is -1), memoized the same way. */
static inline char *raw_i_memo(char *p, int64_t v, field_memo *m)
{
    if (v >= 0 && v < 1000)
        return raw_u(p, (uint64_t)v);
    if ((uint64_t)v != m->value || !m->len) {
        m->len = (unsigned char)(raw_i(m->text, v) - m->text);
        m->value = (uint64_t)v;
    }
    memcpy(p, m->text, 16);
    return p + m->len;
}

static inline char *raw_hex_memo(char *p, uint64_t v)
{
    field_memo *m = &keyword_memo;
    if (v != m->value || !m->len) {
        m->len = (unsigned char)(raw_hex(m->text, v) - m->text);
        m->value = v;
    }
    memcpy(p, m->text, 24);
    return p + m->len;
}

static void put_digits(char *p, unsigned v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian, 400-year eras). */
static void civil_date(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468; /* days from 0000-03-01 to 1970-01-01 */
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);                    /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                  /* March = 0 */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SS." of the last second formatted, per thread: events come in time order,
 * so most share their second with the one before. */
static _Thread_local int64_t cached_second = INT64_MIN;
static _Thread_local int64_t cached_second_start = INT64_MIN; /* FILETIME of its first tick */
static _Thread_local char cached_prefix[20];

/* The prefix of the cached second, then the 7 digits of frac (< 10^7) and the 'Z'. */
static inline __attribute__((always_inline)) char *raw_time_tail(char *o, unsigned frac)
{
    memcpy(o, cached_prefix, 20);
    unsigned hi = frac / 10000, lo = frac % 10000; /* 3 + 4 digits */
    o[20] = (char)('0' + hi / 100);
    memcpy(o + 21, etw_digit_pairs + 2 * (hi % 100), 2);
    memcpy(o + 23, etw_digit_pairs + 2 * (lo / 100), 2);
    memcpy(o + 25, etw_digit_pairs + 2 * (lo % 100), 2);
    o[27] = 'Z';
    return o + 28;
}

static char *raw_time_slow(char *o, int64_t ft);

/* The event's time as every output format prints it: ISO-8601 UTC with 100 ns digits, or the
 * raw value with --raw-time. Inline: the same second as the last event (most events) needs no
 * 64-bit division (the subtraction is done unsigned, as it may wrap for far-apart values; a
 * wrapped difference is never below 10^7). */
static inline __attribute__((always_inline)) char *raw_time(char *o, int64_t ft)
{
    uint64_t in_second = (uint64_t)ft - (uint64_t)cached_second_start;
    if (in_second < 10000000u && cached_second_start != INT64_MIN && !event_view_raw_time)
        return raw_time_tail(o, (unsigned)in_second);
    return raw_time_slow(o, ft);
}

/* raw_time's other cases: --raw-time, a new second; years outside 0..9999 fall back to the
 * library formatter. */
static char *raw_time_slow(char *o, int64_t ft)
{
    if (event_view_raw_time)
        return raw_i(o, ft);
    int64_t rel = ft - FILETIME_UNIX_EPOCH;
    int64_t secs = rel / 10000000, frac = rel % 10000000;
    if (frac < 0) {
        frac += 10000000;
        secs--;
    }
    if (secs != cached_second) {
        int64_t days = secs / 86400, sod = secs % 86400;
        if (sod < 0) {
            sod += 86400;
            days--;
        }
        int64_t y;
        unsigned m, d;
        civil_date(days, &y, &m, &d);
        if (y < 0 || y > 9999) {
            char t[40];
            cli_format_filetime(ft, t, sizeof t);
            size_t n = strnlen(t, sizeof t - 1);
            memcpy(o, t, n);
            return o + n;
        }
        char *p = cached_prefix;
        put_digits(p, (unsigned)y, 4);
        p[4] = '-';
        put_digits(p + 5, m, 2);
        p[7] = '-';
        put_digits(p + 8, d, 2);
        p[10] = 'T';
        put_digits(p + 11, (unsigned)(sod / 3600), 2);
        p[13] = ':';
        put_digits(p + 14, (unsigned)(sod / 60 % 60), 2);
        p[16] = ':';
        put_digits(p + 17, (unsigned)(sod % 60), 2);
        p[19] = '.';
        cached_second = secs;
        cached_second_start = ft - frac;
    }
    return raw_time_tail(o, (unsigned)frac);
}


/* Provider GUIDs as text, per thread, by GUID: a trace has few providers, and formatting a
 * GUID costs more than comparing one. */
#define GUID_SLOTS 16

typedef struct guid_text {
    GUID guid;
    char text[37]; /* "" while empty */
} guid_text;

static _Thread_local guid_text guid_texts[GUID_SLOTS];

static inline __attribute__((always_inline)) char *raw_guid(char *p, const GUID *g)
{
    guid_text *t = &guid_texts[(g->Data1 ^ g->Data1 >> 8 ^ g->Data2) & (GUID_SLOTS - 1)];
    if (!t->text[0] || memcmp(g, &t->guid, sizeof *g) != 0) {
        etw_guid_format(g, t->text);
        t->guid = *g;
    }
    memcpy(p, t->text, 36);
    return p + 36;
}

static void common_fields(etw_strbuf *o, const EVENT_RECORD *er, int json)
{
    const EVENT_HEADER *h = &er->EventHeader;
    const EVENT_DESCRIPTOR *d = &h->EventDescriptor;
    unsigned cpu = GetEventProcessorIndex(er);
    if (etw_strbuf_reserve(o, HEADER_ROOM) != 0)
        return;
    char *p = o->data + o->len;
    if (json) {
        p = RAW(p, "{\"time\":\"");
        p = raw_time(p, h->TimeStamp.QuadPart);
        p = RAW(p, "\",\"provider_guid\":\"");
        p = raw_guid(p, &h->ProviderId);
        p = raw_u(RAW(p, "\",\"id\":"), d->Id);
        p = raw_u(RAW(p, ",\"version\":"), d->Version);
        p = raw_u(RAW(p, ",\"level\":"), d->Level);
        p = raw_u(RAW(p, ",\"opcode\":"), d->Opcode);
        p = raw_u(RAW(p, ",\"task\":"), d->Task);
        p = raw_hex_memo(RAW(p, ",\"keyword\":\""), d->Keyword);
        p = raw_u_memo(RAW(p, "\",\"pid\":"), h->ProcessId, &pid_memo);
        p = raw_u_memo(RAW(p, ",\"tid\":"), h->ThreadId, &tid_memo);
        p = raw_u(RAW(p, ",\"cpu\":"), cpu);
        p = raw_u(RAW(p, ",\"flags\":"), h->Flags);
        p = raw_u(RAW(p, ",\"payload_length\":"), er->UserDataLength);
    } else {
        p = raw_time(p, h->TimeStamp.QuadPart);
        p = raw_guid(RAW(p, " {"), &h->ProviderId);
        p = raw_u(RAW(p, "} id="), d->Id);
        p = raw_u(RAW(p, " v="), d->Version);
        p = raw_u(RAW(p, " lvl="), d->Level);
        p = raw_u(RAW(p, " op="), d->Opcode);
        p = raw_u(RAW(p, " task="), d->Task);
        p = raw_hex_memo(RAW(p, " kw="), d->Keyword);
        p = raw_i_memo(RAW(p, " pid="), (int)h->ProcessId, &text_pid_memo);
        p = raw_i_memo(RAW(p, " tid="), (int)h->ThreadId, &text_tid_memo);
        p = raw_u(RAW(p, " cpu="), cpu);
        p = raw_hex(RAW(p, " flags="), h->Flags);
        p = raw_u(RAW(p, " len="), er->UserDataLength);
    }
    o->len = (size_t)(p - o->data);
    *p = '\0';
}

/* The event's schema, plan and names, found once for the line: the names point at the plan's
 * strings, or at the scratch provider and event strings for names made per event. */
typedef struct view_event {
    etw_event_decoding dc;
    etw_text_view provider, event;
    int plain;     /* the names need no JSON escaping */
    int csv_plain; /* nor escaping in a CSV field */
} view_event;

static inline __attribute__((always_inline)) void view_begin(view_event *v, const EVENT_RECORD *er)
{
    view_scratch *sc = scratch();
    /* Every event is described, decodable or not: embedded schema events are learned this way
     * before the events they describe. */
    etw_event_decoding_begin(&v->dc, er);
    int plain = etw_event_decoding_names(&v->dc, &sc->provider, &sc->event, &v->provider, &v->event);
    v->plain = plain & 1;
    v->csv_plain = plain >> 1 & 1;
}

/* Appends the event's fields, escaped as esc (ETW_ESC_*); returns 1 if fully decoded. WinSAT
 * events: the compressed XML the schema stops before, shown inflated as "Xml" (an event whose
 * XML does not inflate counts as undecoded). */
static inline __attribute__((always_inline)) int view_fields(const view_event *v, int esc, etw_strbuf *out)
{
    size_t start = out->len;
    int decoded = etw_event_decoding_fields(&v->dc, esc, out);
    if (decoded && etw_winsat_opcode_may_carry_xml(v->dc.rec) &&
        etw_winsat_append_xml_at(v->dc.rec, esc, &scratch()->winsat, out, start) == 0)
        decoded = 0;
    return decoded;
}

/* How a text or CSV line's fields are written: escaped by the decoder as it writes (esc, the
 * common case), or as they are (ETW_ESC_NONE) for escape_in_place to escape after - WPP
 * messages and plan keys that need escaping. */
static inline int line_esc(const view_event *v, int esc)
{
    return etw_event_decoding_escapes(&v->dc) ? esc : ETW_ESC_NONE;
}

int event_view_decode(const EVENT_RECORD *er, int json)
{
    view_event v;
    view_begin(&v, er);
    etw_strbuf_reset(&fields);
    return view_fields(&v, json ? ETW_ESC_JSON : ETW_ESC_NONE, &fields);
}

/* How many leading bytes of s[0..n) etw_strbuf_line_escaped copies as they are (all of them,
 * nearly always: decoded text rarely holds a control character, or in CSV a quote). */
static size_t plain_prefix(const char *s, size_t n, int csv)
{
    size_t k = 0;
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F), quote = _mm_set1_epi8(csv ? '"' : 0x7F);
#define PLAIN16(v)                                                                                 \
    _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8((v), del), _mm_cmpeq_epi8((v), quote)),          \
                     _mm_cmpeq_epi8(_mm_max_epu8((v), space), (v)))
    /* 32 bytes a step while all pass (one mask for both halves), then 16 to find where not. */
    for (; k + 32 <= n; k += 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + k + 16));
        if (_mm_movemask_epi8(_mm_and_si128(PLAIN16(a), PLAIN16(b))) != 0xFFFF)
            break;
    }
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
        unsigned ok = (unsigned)_mm_movemask_epi8(PLAIN16(v));
        if (ok != 0xFFFFu)
            return k + (size_t)__builtin_ctz(~ok);
    }
    if (k == n)
        return n;
    __m128i v;
    unsigned skip = 0; /* low lanes already checked */
    if (n >= 16) {
        skip = (unsigned)(k - (n - 16)); /* one load ending at the end */
        k = n - 16;
        v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
    } else {
        char tmp[16]; /* shorter than 16: through a padded copy, never reading past s + n */
        memset(tmp, 'a', sizeof tmp);
        memcpy(tmp, s, n);
        v = _mm_loadu_si128((const __m128i *)(const void *)tmp);
    }
    unsigned ok = (unsigned)_mm_movemask_epi8(PLAIN16(v)) | ((1u << skip) - 1);
#undef PLAIN16
    return ok == 0xFFFFu ? n : k + (size_t)__builtin_ctz(~ok);
#else
    for (; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7F || (csv && c == '"'))
            break;
    }
    return k;
#endif
}

/* Escapes out[start..len), just formatted there, as etw_strbuf_line_escaped would have written
 * it: checked in place, and only rewritten from the first byte that needs escaping. For the
 * fields the decoder could not escape as it wrote them (line_esc). */
static void escape_in_place(etw_strbuf *out, size_t start, int csv)
{
    size_t n = out->len - start;
    size_t k = plain_prefix(out->data + start, n, csv);
    if (k == n)
        return;
    etw_strbuf *rest = &fields;
    etw_strbuf_reset(rest);
    etw_strbuf_append(rest, out->data + start + k, n - k);
    if (rest->failed)
        return;
    out->len = start + k;
    out->data[out->len] = '\0';
    etw_strbuf_line_escaped(out, rest->data, rest->len, csv);
}

/* The n bytes at out[at..) moved to out[to..) (opening a gap before them, or closing one), the
 * string then ending after them. */
static int shift_tail(etw_strbuf *out, size_t at, size_t n, size_t to)
{
    if (to > at && etw_strbuf_reserve(out, to - at) != 0)
        return -1;
    memmove(out->data + to, out->data + at, n);
    out->len = to + n;
    out->data[out->len] = '\0';
    return 0;
}

void event_view_text(etw_strbuf *out, const EVENT_RECORD *er)
{
    view_event v;
    view_begin(&v, er);
    common_fields(out, er, 0);
    size_t before = out->len;
    etw_strbuf_puts(out, " process=");
    if (put_process(out, er, PROCESS_TEXT) <= 0) {
        out->len = before; /* no name: no " process=" */
        if (out->data)
            out->data[before] = '\0';
    }
    /* " provider/event", then the fields after a space. Names come from the trace's own
     * schemas (TraceLogging, EventSource manifests) as often as from ours: one with a control
     * character is escaped like a field, so that it cannot break the line. Names plain for a
     * CSV field are plain for a line too (a line leaves quotes alone): one reserve, copies. */
    if (!v.csv_plain) {
        etw_strbuf_putc(out, ' ');
        etw_strbuf_line_escaped(out, v.provider.s, v.provider.n, 0);
        etw_strbuf_putc(out, '/');
        etw_strbuf_line_escaped(out, v.event.s, v.event.n, 0);
        etw_strbuf_putc(out, ' ');
        if (out->failed)
            return;
    } else {
        if (etw_strbuf_reserve(out, v.provider.n + v.event.n + 3 + 2 * NAME_SLACK) != 0)
            return;
        char *p = out->data + out->len;
        *p++ = ' ';
        p = raw_name(p, v.provider);
        *p++ = '/';
        p = raw_name(p, v.event);
        *p++ = ' ';
        out->len = (size_t)(p - out->data);
        *p = '\0';
    }
    size_t start = out->len;
    int esc = line_esc(&v, ETW_ESC_LINE);
    int decoded = view_fields(&v, esc, out);
    size_t n = out->len - start;
    if (n == 0 || out->failed) {
        out->len = start - 1; /* no fields: no space */
        if (out->data)
            out->data[out->len] = '\0';
        return;
    }
    if (!decoded) {
        /* As before: no space before fields that start with a NUL; a payload without a field
         * name is shown as "payload=". (Fields escaped as written hold no NUL, and escaping
         * neither adds nor removes an '=': the same tests on them give the same line.) */
        if (out->data[start] == '\0') {
            if (shift_tail(out, start, n, start - 1) != 0)
                return;
            start--;
        }
        if (!memchr(out->data + start, '=', strnlen(out->data + start, n))) {
            if (shift_tail(out, start, n, start + 8) != 0)
                return;
            memcpy(out->data + start, "payload=", 8);
        }
    }
    if (esc == ETW_ESC_NONE)
        escape_in_place(out, start, 0);
}

/* CSV (RFC 4180): the field is quoted, quotes doubled; line breaks escaped as in text. */
static void csv_field(etw_strbuf *out, const char *s, size_t n)
{
    etw_strbuf_putc(out, '"');
    etw_strbuf_line_escaped(out, s, n, 1);
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
    view_event v;
    view_begin(&v, er);
    if (etw_strbuf_reserve(out, HEADER_ROOM) != 0)
        return;
    char *p = raw_time(out->data + out->len, h->TimeStamp.QuadPart);
    p = raw_guid(RAW(p, ","), &h->ProviderId);
    *p++ = ',';
    if (v.csv_plain) {
        /* Names that need no escaping: copied (HEADER_ROOM and NAME_SLACK cover what is
         * written before the reserve below). */
        out->len = (size_t)(p - out->data);
        if (etw_strbuf_reserve(out, v.provider.n + v.event.n + 8 + 2 * NAME_SLACK) != 0)
            return;
        p = out->data + out->len;
        *p++ = '"';
        p = raw_name(p, v.provider);
        p = RAW(p, "\",\"");
        p = raw_name(p, v.event);
        *p++ = '"';
        out->len = (size_t)(p - out->data);
    } else {
        out->len = (size_t)(p - out->data);
        csv_field(out, v.provider.s, v.provider.n);
        etw_strbuf_putc(out, ',');
        csv_field(out, v.event.s, v.event.n);
    }
    if (etw_strbuf_reserve(out, HEADER_ROOM) != 0)
        return;
    p = out->data + out->len;
    p = raw_u(RAW(p, ","), d->Id);
    p = raw_u(RAW(p, ","), d->Version);
    p = raw_u(RAW(p, ","), d->Level);
    p = raw_u(RAW(p, ","), d->Opcode);
    p = raw_u(RAW(p, ","), d->Task);
    p = raw_hex_memo(RAW(p, ","), d->Keyword);
    p = raw_u_memo(RAW(p, ","), h->ProcessId, &pid_memo);
    p = raw_u_memo(RAW(p, ","), h->ThreadId, &tid_memo);
    p = raw_u(RAW(p, ","), GetEventProcessorIndex(er));
    p = raw_u(RAW(p, ","), h->Flags);
    p = raw_u(RAW(p, ","), er->UserDataLength);
    /* The decoded column comes before the fields that tell it: written once they are. */
    p = RAW(p, ",");
    size_t decoded_at = (size_t)(p - out->data);
    p = RAW(p, "1,\"");
    out->len = (size_t)(p - out->data);
    *p = '\0';
    size_t start = out->len;
    int esc = line_esc(&v, ETW_ESC_CSV);
    int decoded = view_fields(&v, esc, out);
    if (out->failed)
        return;
    out->data[decoded_at] = decoded ? '1' : '0';
    if (esc == ETW_ESC_NONE)
        escape_in_place(out, start, 1);
    /* The process last: the columns before it keep their places. */
    etw_strbuf_puts(out, "\",\"");
    put_process(out, er, PROCESS_CSV);
    etw_strbuf_putc(out, '"');
}

/* A name inside a JSON string: escaped unless the decoder said it needs none. */
static void json_name(etw_strbuf *out, etw_text_view name, int plain)
{
    if (plain)
        etw_strbuf_append(out, name.s, name.n);
    else
        etw_strbuf_json_string(out, name.s, name.n);
}

/* The end of an undecoded event's line: the fields were formatted after a "decoded":true
 * prefix at out[at..start); as before, fields holding a quote (a schema the payload did not
 * fit) stay "fields", the hex digits of an unknown payload become "payload_hex". */
static void json_undecoded(etw_strbuf *out, size_t at, size_t start)
{
    size_t n = out->len - start;
    const char *f = out->data + start;
    const char *prefix = "\",\"decoded\":false", *suffix = "}";
    if (memchr(f, '"', strnlen(f, n)))
        prefix = "\",\"decoded\":false,\"fields\":{", suffix = "}}";
    else if (n)
        prefix = "\",\"decoded\":false,\"payload_hex\":\"", suffix = "\"}";
    size_t pn = strlen(prefix);
    if (shift_tail(out, start, n, at + pn) != 0)
        return;
    memcpy(out->data + at, prefix, pn);
    etw_strbuf_puts(out, suffix);
}

void event_view_json(etw_strbuf *out, const EVENT_RECORD *er)
{
    view_event v;
    view_begin(&v, er);
    common_fields(out, er, 1);
    if (v.plain && etw_strbuf_reserve(out, v.provider.n + v.event.n + 64 + 2 * NAME_SLACK) == 0) {
        /* Plain names: straight copies after a reserve (another after the process name,
         * which may have used the room). */
        char *p = RAW(out->data + out->len, ",\"provider\":\"");
        p = raw_name(p, v.provider);
        out->len = (size_t)(p - out->data);
        if (view_processes) {
            p = RAW(p, "\",\"process\":\"");
            out->len = (size_t)(p - out->data);
            put_process(out, er, PROCESS_JSON);
            if (etw_strbuf_reserve(out, v.event.n + 64 + NAME_SLACK) != 0)
                return;
            p = out->data + out->len;
        }
        p = RAW(p, "\",\"event\":\"");
        p = raw_name(p, v.event);
        out->len = (size_t)(p - out->data);
        *p = '\0';
    } else {
        etw_strbuf_puts(out, ",\"provider\":\"");
        json_name(out, v.provider, v.plain);
        if (view_processes) {
            etw_strbuf_puts(out, "\",\"process\":\"");
            put_process(out, er, PROCESS_JSON);
        }
        etw_strbuf_puts(out, "\",\"event\":\"");
        json_name(out, v.event, v.plain);
    }
    /* The fields straight into the line, after the prefix of a decoded event (the usual case;
     * the other is rewritten after). */
    size_t at = out->len;
    etw_strbuf_puts(out, "\",\"decoded\":true,\"fields\":{");
    size_t start = out->len;
    int decoded = view_fields(&v, ETW_ESC_JSON, out);
    if (out->failed)
        return;
    if (decoded)
        etw_strbuf_puts(out, "}}");
    else
        json_undecoded(out, at, start);
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
