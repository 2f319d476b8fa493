/* Live sessions end to end on loopback, through the public APIs only: an embedded collector
 * (etwire_relay_collector with Live), a sender fed buffer by buffer, and consumers written as
 * Windows real-time consumers (OpenTraceW / OpenTraceA with LoggerName and
 * PROCESS_TRACE_MODE_REAL_TIME, OpenTraceFromRealTimeLogger) attaching mid-stream. Each must
 * get exactly the events a buffer stream delivers for the header buffer and the buffers
 * published after its attach, ProcessTrace returning ERROR_SUCCESS when the sender ends; a
 * consumer that falls behind gets events in strict time order and loses whole buffers
 * (counted exactly) without slowing the sender or the others; a quiet processor holds events
 * back only the reorder window; CloseTrace from another thread ends a ProcessTrace waiting for
 * data at once. Waits are on events with deadlines: condition variables, and for the
 * collector's published count its .etl growing (inotify; it publishes a buffer before it
 * appends it there).
 * ETWIRE_TEST_THREADS: collector, sender and consumers run on their own threads. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include <pthread.h>

#include <etwire/relay.h>

#include "collect.h"
#include "gen_trace.h"
#include "waits.h"

#define DEADLINE_MS TEST_DEADLINE_MS

typedef struct live_env {
    char dir[64];
    char address[128];
    etwire_relay_collector *c;
    pthread_t runner;
    int port;
    char to[64]; /* the sender keeps a pointer to its address */
    char out[96]; /* and the collector to its options' strings */
} live_env;

static void *run_collector(void *arg)
{
    etwire_relay_collector_run(arg);
    return NULL;
}

static void env_start(live_env *e, ULONG queue)
{
    snprintf(e->dir, sizeof e->dir, "/tmp/etwire-live-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->address, sizeof e->address, "unix:%s/live.sock", e->dir);
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {0};
    o.Listen = "127.0.0.1:0";
    o.Plain = 1;
    o.Live = e->address;
    snprintf(e->out, sizeof e->out, "%s/out", e->dir);
    o.OutDir = e->out; /* the .etl tells when buffers were published (wait_published) */
    o.LiveQueue = queue;
    o.Window = 1024;
    o.Verbose = getenv("LIVE_VERBOSE") != NULL;
    char err[256];
    e->c = etwire_relay_collector_new(&o, err, sizeof err);
    if (!e->c)
        fail_msg("collector: %s", err);
    e->port = etwire_relay_collector_port(e->c);
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/live.sock", e->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660); /* owner and group only, by default */
    assert_int_equal(pthread_create(&e->runner, NULL, run_collector, e->c), 0);
    setenv("ETWIRE_LIVE", e->address, 1);
}

static void env_stop(live_env *e)
{
    etwire_relay_collector_stop(e->c);
    pthread_join(e->runner, NULL);
    etwire_relay_collector_free(e->c);
    char path[128];
    snprintf(path, sizeof path, "%s/live.sock", e->dir);
    assert_int_equal(access(path, F_OK), -1); /* the socket goes with the collector */
    test_rmdir(e->dir);
}

static etwire_relay_sender *sender_new(live_env *e, const char *session)
{
    char err[256];
    snprintf(e->to, sizeof e->to, "127.0.0.1:%d", e->port);
    ETWIRE_RELAY_SENDER_OPTIONS o = {0};
    o.To = e->to;
    o.Plain = 1;
    o.Source = "host-1";
    o.Session = session;
    o.Window = 1024;
    o.Verbose = getenv("LIVE_VERBOSE") != NULL;
    etwire_relay_sender *s = etwire_relay_sender_new(&o, err, sizeof err);
    if (!s)
        fail_msg("sender: %s", err);
    return s;
}

/* Buffers of SOURCE/SESSION the collector published so far (from its listing), or -1. */
static long long published(const char *name)
{
    char *text = NULL;
    if (etwire_live_sessions(NULL, &text) != ERROR_SUCCESS)
        return -1;
    long long n = -1;
    size_t len = strlen(name);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (!strncmp(line, name, len) && line[len] == '\t') {
            unsigned long long inst, start, buffers;
            if (sscanf(line + len, "\t%llx\t%llu\t%llu", &inst, &start, &buffers) == 3)
                n = (long long)buffers;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return n;
}

typedef struct saved_goal {
    const char *pattern;
    uint64_t bytes;
} saved_goal;

static int saved_reached(void *ctx)
{
    const saved_goal *g = ctx;
    glob_t gl;
    int ok = glob(g->pattern, 0, NULL, &gl) == 0 && gl.gl_pathc == 1 &&
             test_file_size(gl.gl_pathv[0]) >= (long)g->bytes;
    globfree(&gl);
    return ok;
}

/* Waits until SESSION (of host-1) has its first n buffers of b published. The collector
 * publishes each buffer before it appends it to the session's .etl (relay/sink.c), so this
 * waits (inotify) for the .etl to hold them, then reads the count from the listing. */
static void wait_published(live_env *e, const char *session, const test_buffers *b, size_t n)
{
    char pattern[192], name[160];
    snprintf(pattern, sizeof pattern, "%s/out/host-1/%s-????????????????.etl", e->dir, session);
    snprintf(name, sizeof name, "host-1/%s", session);
    saved_goal g = {pattern, 0};
    for (size_t i = 0; i < n; i++)
        g.bytes += b->size[i];
    if (!test_wait_fs(e->dir, DEADLINE_MS, saved_reached, &g))
        fail_msg("%s: %zu buffers never saved", name, n);
    if (published(name) < (long long)n)
        fail_msg("%s: %zu buffers saved, only %lld published", name, n, published(name));
}

static void push(etwire_relay_sender *s, const test_buffers *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (etwire_relay_sender_push(s, b->data[i], b->size[i], 0) != 0)
            fail_msg("push %zu: %s", i, etwire_relay_sender_error(s));
}

/* A collector (its queues `queue` buffers deep) and a sender of host-1/SESSION whose header
 * buffer (b's first) is published. */
static etwire_relay_sender *start_live(live_env *e, ULONG queue, const char *session,
                                       const test_buffers *b)
{
    env_start(e, queue);
    etwire_relay_sender *s = sender_new(e, session);
    push(s, b, 0, 1);
    wait_published(e, session, b, 1);
    return s;
}

/* A consumer: the handle and what ProcessTrace delivered, on its own thread. */
typedef struct consumer {
    PROCESSTRACE_HANDLE h;
    test_events ev;
    ULONG rc;
    pthread_t thread;
    EVENT_TRACE_LOGFILEW lfw;
    EVENT_TRACE_LOGFILEA lfa;
    WCHAR wname[64];
    /* a slow one: its first BufferCallback blocks until drops_reported */
    int slow;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t drops_reported;
    /* which of `all`'s buffers its BufferCallback saw, in order (the slow one) */
    const test_buffers *all;
    size_t *got, ngot, next_search;
    int returned; /* (mu) ProcessTrace returned */
    uint64_t wanted_buffers; /* (mu) what has_wanted_buffers waits for */
} consumer;

static consumer *current_for_lfw; /* EVENT_TRACE_LOGFILEW callbacks carry no context */

static void WINAPI on_event_w(PEVENT_RECORD er)
{
    test_events_add(&current_for_lfw->ev, er);
}

static ULONG WINAPI on_buffer_w(PEVENT_TRACE_LOGFILEW lf)
{
    (void)lf;
    current_for_lfw->ev.buffer_callbacks++;
    return TRUE;
}

static void WINAPI on_event_a(PEVENT_RECORD er)
{
    test_events_add(er->UserContext, er);
}

/* Which of c->all's buffers b is: buffers complete in the order they were sent, so the search
 * goes on from the last one found. */
static void note_buffer(consumer *c, const ETW_BUFFER_HEADER *b, ULONG size)
{
    for (size_t i = c->next_search; i < c->all->n; i++)
        if (c->all->size[i] == size && !memcmp(c->all->data[i], b, size)) {
            c->got[c->ngot++] = i;
            c->next_search = i + 1;
            return;
        }
    fail_msg("BufferCallback: buffer %zu is none of the sent ones after %zu", c->ngot, c->next_search);
}

/* Blocks in its first call until its session lost a buffer for want of room. */
static BOOL WINAPI on_buffer_slow(const ETW_BUFFER_HEADER *b, ULONG size,
                                  const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    consumer *c = ctx;
    (void)info;
    c->ev.buffer_callbacks++;
    note_buffer(c, b, size);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += DEADLINE_MS / 1000;
    pthread_mutex_lock(&c->mu);
    while (!c->drops_reported)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0) {
            pthread_mutex_unlock(&c->mu);
            fail_msg("the slow consumer's session never lost a buffer");
        }
    pthread_mutex_unlock(&c->mu);
    return TRUE;
}

/* test_on_buffer under the consumer's lock, told to whoever waits for its progress. */
static BOOL WINAPI on_buffer_fast(const ETW_BUFFER_HEADER *b, ULONG size,
                                  const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    consumer *c = ctx;
    pthread_mutex_lock(&c->mu);
    BOOL rc = test_on_buffer(b, size, info, &c->ev);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int has_wanted_buffers(const consumer *c)
{
    return c->ev.buffer_callbacks >= c->wanted_buffers;
}

/* Counts BufferCallbacks under the consumer's lock, for a test waiting on them. */
static BOOL WINAPI on_buffer_counted(const ETW_BUFFER_HEADER *b, ULONG size,
                                     const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    consumer *c = ctx;
    (void)b, (void)size, (void)info;
    pthread_mutex_lock(&c->mu);
    c->ev.buffer_callbacks++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return TRUE;
}

static int has_returned(const consumer *c)
{
    return c->returned;
}

static void on_diag(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    consumer *c = ctx;
    if (getenv("LIVE_VERBOSE"))
        fprintf(stderr, "diagnostic %lu: %s\n", (unsigned long)d->Code, d->Message);
    if (d->Code == ERROR_BUSY) {
        pthread_mutex_lock(&c->mu);
        c->drops_reported++;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
}

static void *consume(void *arg)
{
    consumer *c = arg;
    ULONG rc = ProcessTrace(&c->h, 1, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->rc = rc;
    c->returned = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Waits on c->cv until cond(c) holds; fails the test at the deadline. */
static void wait_for(consumer *c, int (*cond)(const consumer *), const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += DEADLINE_MS / 1000;
    pthread_mutex_lock(&c->mu);
    while (!cond(c))
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0) {
            pthread_mutex_unlock(&c->mu);
            fail_msg("%s: not within %d ms", what, DEADLINE_MS);
        }
    pthread_mutex_unlock(&c->mu);
}

/* Waits until c's BufferCallbacks (on_buffer_fast) reached n. */
static void wait_buffers(consumer *c, uint64_t n, const char *what)
{
    pthread_mutex_lock(&c->mu);
    c->wanted_buffers = n;
    pthread_mutex_unlock(&c->mu);
    wait_for(c, has_wanted_buffers, what);
}

/* Waits for c's ProcessTrace to return (deadline), joins its thread, checks the result. */
static void join_consumer(consumer *c, ULONG rc, const char *what)
{
    wait_for(c, has_returned, what);
    pthread_join(c->thread, NULL);
    assert_int_equal(c->rc, rc);
}

/* Buffers lost in c's session, as its header counts them. */
static ULONG buffers_lost(consumer *c)
{
    TRACE_LOGFILE_HEADER hdr;
    assert_int_equal(etwire_session_get_header(c->h, &hdr), ERROR_SUCCESS);
    return hdr.BuffersLost;
}

/* Closes c and frees what it holds. */
static void consumer_free(consumer *c)
{
    CloseTrace(c->h);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    test_events_free(&c->ev);
}

/* Events in time order: each not older than the one before (after the header buffer's, which
 * come first by definition). */
static void assert_time_order(const test_events *ev, size_t header_records, const char *who)
{
    for (size_t i = header_records + 1; i < ev->n; i++)
        if (ev->v[i].time < ev->v[i - 1].time)
            fail_msg("%s: event %zu (time %lld) before event %zu (time %lld)", who, i,
                     (long long)ev->v[i].time, i - 1, (long long)ev->v[i - 1].time);
}

/* Opens name with OpenTraceFromRealTimeLogger: events into c->ev, buffers to on_buffer(ctx);
 * the header it gives back in *hdr. */
static void consumer_open(consumer *c, const char *name, PETW_BUFFER_CALLBACK on_buffer, void *ctx,
                          TRACE_LOGFILE_HEADER *hdr)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    for (size_t i = 0; i <= strlen(name); i++)
        c->wname[i] = (WCHAR)name[i];
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &c->ev;
    o.BufferCallback = on_buffer;
    o.BufferCallbackContext = ctx;
    c->h = OpenTraceFromRealTimeLogger(c->wname, &o, hdr);
    assert_true(c->h != INVALID_PROCESSTRACE_HANDLE);
}

static void consumer_open_options(consumer *c, const char *name)
{
    TRACE_LOGFILE_HEADER hdr;
    consumer_open(c, name, test_on_buffer, &c->ev, &hdr);
    assert_int_equal(hdr.BufferSize, 65536);
    assert_int_equal(hdr.NumberOfProcessors, 4);
}

static void start(consumer *c)
{
    assert_int_equal(etwire_stream_set_reorder_window(c->h, ETWIRE_REORDER_UNBOUNDED), ERROR_SUCCESS);
    assert_int_equal(pthread_create(&c->thread, NULL, consume, c), 0);
}

static void finish(consumer *c)
{
    pthread_join(c->thread, NULL);
    CloseTrace(c->h);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* What a buffer stream delivers for the buffers which[0..n) of all (the header buffer first). */
static void expected_of(const test_buffers *all, const size_t *which, size_t n, test_events *out)
{
    test_buffers part = {0};
    part.data = calloc(n, sizeof *part.data);
    part.size = calloc(n, sizeof *part.size);
    for (size_t i = 0; i < n; i++) {
        part.data[i] = all->data[which[i]];
        part.size[i] = all->size[which[i]];
    }
    part.n = part.cap = n;
    assert_int_equal(test_collect_stream(&part, ETWIRE_REORDER_UNBOUNDED, out, NULL), ERROR_SUCCESS);
    free(part.data);
    free(part.size);
}

/* What a buffer stream delivers for the header buffer and buffers [from, n). */
static void expected_from(const test_buffers *all, size_t from, test_events *out)
{
    size_t n = all->n - from + 1;
    size_t *which = calloc(n, sizeof *which);
    which[0] = 0;
    for (size_t i = from; i < all->n; i++)
        which[i - from + 1] = i;
    expected_of(all, which, n, out);
    free(which);
}

static void assert_same_events(const test_events *got, const test_events *want, const char *who)
{
    if (got->n != want->n)
        fail_msg("%s: %zu events, expected %zu", who, got->n, want->n);
    for (size_t i = 0; i < got->n; i++)
        if (!test_event_same(&got->v[i], &want->v[i]))
            fail_msg("%s: event %zu differs", who, i);
}

/* Three consumers, one per API, attach after 0, 5 and 12 published buffers; the last event of
 * each is the trace's last. */
static void attach_mid_stream(void **state)
{
    (void)state;
    gen_trace t;
    etw_gen_config cfg = gen_config(21, 8000);
    assert_int_equal(gen_trace_make(&cfg, &t), 0);
    assert_true(t.buffers.n > 16);
    live_env e;
    env_start(&e, 0);
    etwire_relay_sender *s = sender_new(&e, "mid");

    /* Unknown before its first buffer: the name is not live yet. */
    ETW_OPEN_TRACE_OPTIONS none = {0};
    none.EventCallback = test_on_event;
    assert_true(OpenTraceFromRealTimeLogger(u"host-1/mid", &none, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_last_error(), ERROR_WMI_INSTANCE_NOT_FOUND);

    push(s, &t.buffers, 0, 1);
    wait_published(&e, "mid", &t.buffers, 1);
    consumer a, b, c;
    consumer_open_options(&a, "host-1/mid"); /* gets every buffer after the header */
    start(&a);

    push(s, &t.buffers, 1, 5);
    wait_published(&e, "mid", &t.buffers, 5);
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    b.lfw.LoggerName = (LPWSTR)u"host-1/mid";
    b.lfw.ProcessTraceMode = PROCESS_TRACE_MODE_REAL_TIME | PROCESS_TRACE_MODE_EVENT_RECORD;
    b.lfw.EventRecordCallback = on_event_w;
    b.lfw.BufferCallback = on_buffer_w;
    current_for_lfw = &b;
    b.h = OpenTraceW(&b.lfw);
    assert_true(b.h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(b.lfw.LogfileHeader.NumberOfProcessors, 4);
    assert_int_equal(b.lfw.BufferSize, 65536);
    start(&b);

    push(s, &t.buffers, 5, 12);
    wait_published(&e, "mid", &t.buffers, 12);
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.lfa.LoggerName = "host-1/mid";
    c.lfa.ProcessTraceMode = PROCESS_TRACE_MODE_REAL_TIME | PROCESS_TRACE_MODE_EVENT_RECORD;
    c.lfa.EventRecordCallback = on_event_a;
    c.lfa.Context = &c.ev;
    c.h = OpenTraceA(&c.lfa);
    assert_true(c.h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(c.lfa.LogfileHeader.PointerSize, 8);
    start(&c);

    push(s, &t.buffers, 12, t.buffers.n);
    assert_int_equal(etwire_relay_sender_finish(s), 0);
    finish(&a);
    finish(&b);
    finish(&c);
    assert_int_equal(a.rc, ERROR_SUCCESS);
    assert_int_equal(b.rc, ERROR_SUCCESS);
    assert_int_equal(c.rc, ERROR_SUCCESS);

    test_events wa = {0}, wb = {0}, wc = {0};
    expected_from(&t.buffers, 1, &wa);
    expected_from(&t.buffers, 5, &wb);
    expected_from(&t.buffers, 12, &wc);
    assert_same_events(&a.ev, &wa, "OpenTraceFromRealTimeLogger after 1");
    assert_same_events(&b.ev, &wb, "OpenTraceW after 5");
    assert_same_events(&c.ev, &wc, "OpenTraceA after 12");
    assert_int_equal(a.ev.buffer_callbacks, t.buffers.n); /* one per buffer, the header too */
    assert_int_equal(b.ev.buffer_callbacks, t.buffers.n - 4);
    /* Every consumer ends with the trace's last event. */
    test_events all = {0};
    expected_from(&t.buffers, 1, &all);
    assert_true(test_event_same(&c.ev.v[c.ev.n - 1], &all.v[all.n - 1]));
    test_events_free(&all);
    test_events_free(&wa);
    test_events_free(&wb);
    test_events_free(&wc);
    test_events_free(&a.ev);
    test_events_free(&b.ev);
    test_events_free(&c.ev);
    etwire_relay_sender_free(s);
    /* After the end, the name is no longer live. */
    assert_true(OpenTraceFromRealTimeLogger(u"host-1/mid", &none, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_last_error(), ERROR_WMI_INSTANCE_NOT_FOUND);
    env_stop(&e);
    gen_trace_free(&t);
}

/* A consumer blocked in its first BufferCallback until its session, full (a memory limit of 64
 * buffers: it holds 80), lost a buffer, then going on while the rest of the trace (7,000
 * buffers) arrives; beside it a second consumer the sender keeps pace with. That one gets every
 * event in order and loses nothing. The slow one got events in strict time order, exactly those
 * of the buffers its BufferCallback saw, and lost the others whole (when full, and where the
 * memory limit let events go before a quiet processor's next buffer came): what it got plus
 * what its header counts as lost is every buffer sent, and its diagnostic callback heard of
 * the losses. */
static void slow_consumer(void **state)
{
    (void)state;
    gen_trace t;
    etw_gen_config cfg = gen_config(22, 100000);
    cfg.buffer_size = 4096;
    cfg.processors = 4;
    assert_int_equal(gen_trace_make(&cfg, &t), 0);
    assert_true(t.buffers.n > 600);
    live_env e;
    /* Queues above what the sender may be ahead of the fast consumer. */
    etwire_relay_sender *s = start_live(&e, 1024, "slow", &t.buffers);

    consumer slow, fast;
    consumer_open(&slow, "host-1/slow", on_buffer_slow, &slow, NULL);
    slow.all = &t.buffers;
    slow.got = calloc(t.buffers.n, sizeof *slow.got);
    /* 64 of its 4 KiB buffers: it holds at most 80, ProcessTrace blocked, of 600 and more. */
    assert_int_equal(etwire_stream_set_memory_limit(slow.h, 64 * 4096), ERROR_SUCCESS);
    etwire_session_set_diagnostic_callback(slow.h, on_diag, &slow);
    assert_int_equal(pthread_create(&slow.thread, NULL, consume, &slow), 0);
    consumer_open(&fast, "host-1/slow", on_buffer_fast, &fast, NULL);
    etwire_session_set_diagnostic_callback(fast.h, on_diag, &fast);
    start(&fast);

    /* The sender keeps within LAG buffers of the fast consumer (enough for its merge to prove
     * the order: a processor's buffer comes up to a flush timer late; far below its memory
     * limit, 16 MiB by default), so that one loses nothing. */
    const size_t LAG = 256;
    for (size_t i = 1; i < t.buffers.n; i += 8) {
        if (i > LAG)
            wait_buffers(&fast, i - LAG, "the fast consumer's progress");
        push(s, &t.buffers, i, i + 8 < t.buffers.n ? i + 8 : t.buffers.n);
    }
    assert_int_equal(etwire_relay_sender_finish(s), 0);
    join_consumer(&fast, ERROR_SUCCESS, "the fast consumer's ProcessTrace");
    test_events want = {0};
    expected_from(&t.buffers, 1, &want);
    assert_same_events(&fast.ev, &want, "fast consumer beside a stuck one");
    assert_int_equal(buffers_lost(&fast), 0);

    join_consumer(&slow, ERROR_SUCCESS, "the slow consumer's ProcessTrace");
    ULONG lost = buffers_lost(&slow);
    assert_true(lost > 0);
    assert_true(slow.drops_reported > 0);
    /* What it got plus what it lost is every buffer: whole buffers only. */
    assert_int_equal(slow.ngot, slow.ev.buffer_callbacks);
    assert_int_equal(slow.ev.buffer_callbacks + lost, t.buffers.n);
    /* In strict time order, and exactly the events of the buffers it saw. */
    assert_time_order(&slow.ev, t.expected.header_records, "slow consumer");
    test_events got_want = {0};
    expected_of(&t.buffers, slow.got, slow.ngot, &got_want);
    assert_same_events(&slow.ev, &got_want, "slow consumer, the buffers it kept");
    assert_true(slow.ev.n < want.n);
    consumer_free(&slow);
    consumer_free(&fast);
    free(slow.got);
    test_events_free(&got_want);
    test_events_free(&want);
    etwire_relay_sender_free(s);
    env_stop(&e);
    gen_trace_free(&t);
}

static int has_header_buffer(const consumer *c)
{
    return c->ev.buffer_callbacks >= 1;
}

/* A processor the header announces never logs, and the session stays open: the reorder window
 * (real-time handles have one, 2 s of trace time by default; 10 ms here, for a trace of 0.15 s
 * whose buffers come at most 1 ms late) lets the consumer get events while the session still
 * runs, not only at its end; at the end it has every event, in order, and lost nothing. */
static void quiet_processor(void **state)
{
    (void)state;
    etw_gen_config cfg = gen_config(25, 30000);
    cfg.processors = 4;
    cfg.idle_processors = 1;
    cfg.max_lag = etw_gen_ticks_per_second(&cfg) / 1000;
    gen_trace t;
    assert_int_equal(gen_trace_make(&cfg, &t), 0);
    live_env e;
    etwire_relay_sender *s = start_live(&e, 1024, "quiet", &t.buffers);
    consumer c;
    consumer_open(&c, "host-1/quiet", on_buffer_fast, &c, NULL);
    assert_int_equal(etwire_stream_set_reorder_window(c.h, 100000), ERROR_SUCCESS);
    /* Room for the whole trace: only the window can let events go before the end. */
    assert_int_equal(etwire_stream_set_memory_limit(c.h, ETWIRE_MEMORY_LIMIT_DEFAULT), ERROR_SUCCESS);
    assert_int_equal(pthread_create(&c.thread, NULL, consume, &c), 0);
    push(s, &t.buffers, 1, t.buffers.n);
    /* No END yet: the header buffer and a data buffer complete only if the window let the
     * other processors' events go without the quiet one. */
    wait_buffers(&c, 2, "events before the end");
    assert_int_equal(etwire_relay_sender_finish(s), 0);
    join_consumer(&c, ERROR_SUCCESS, "ProcessTrace at the end");
    test_events want = {0};
    expected_from(&t.buffers, 1, &want);
    assert_same_events(&c.ev, &want, "consumer of a session with a quiet processor");
    assert_int_equal(buffers_lost(&c), 0);
    consumer_free(&c);
    test_events_free(&want);
    etwire_relay_sender_free(s);
    env_stop(&e);
    gen_trace_free(&t);
}

/* Processor of a generated buffer (ClientContext.ProcessorIndex, buffer flag 0x20 set). */
static unsigned buffer_processor(const uint8_t *b)
{
    return (unsigned)(b[0x28] | b[0x29] << 8) & 0x7FFu;
}

/* A malformed stream: one processor's buffers sent in the wrong order, so that processor goes
 * back in time. The consumer still gets events in strict time order, each one of the trace's
 * in the trace's order, and what it cannot place is counted (BuffersLost or EventsLate). */
static void processor_back_in_time(void **state)
{
    (void)state;
    gen_trace t;
    etw_gen_config cfg = gen_config(26, 8000);
    assert_int_equal(gen_trace_make(&cfg, &t), 0);
    size_t i = 2, j = 0;
    for (; i < t.buffers.n && !j; i++)
        for (size_t k = i + 1; k < t.buffers.n && !j; k++)
            if (buffer_processor(t.buffers.data[k]) == buffer_processor(t.buffers.data[i]))
                j = k;
    assert_true(j > 0);
    i--; /* buffers i and j of one processor, j sent first */
    uint8_t *d = t.buffers.data[i];
    uint32_t n = t.buffers.size[i];
    test_events want = {0};
    expected_from(&t.buffers, 1, &want);
    t.buffers.data[i] = t.buffers.data[j], t.buffers.size[i] = t.buffers.size[j];
    t.buffers.data[j] = d, t.buffers.size[j] = n;

    live_env e;
    etwire_relay_sender *s = start_live(&e, 1024, "back", &t.buffers);
    consumer c;
    consumer_open(&c, "host-1/back", on_buffer_fast, &c, NULL);
    assert_int_equal(pthread_create(&c.thread, NULL, consume, &c), 0);
    push(s, &t.buffers, 1, t.buffers.n);
    assert_int_equal(etwire_relay_sender_finish(s), 0);
    join_consumer(&c, ERROR_SUCCESS, "ProcessTrace at the end");
    assert_time_order(&c.ev, t.expected.header_records, "consumer of a processor going back");
    size_t at = 0; /* each delivered event is the trace's next one it has not passed */
    for (size_t k = 0; k < c.ev.n; k++) {
        while (at < want.n && !test_event_same(&want.v[at], &c.ev.v[k]))
            at++;
        if (at++ >= want.n)
            fail_msg("event %zu is not the trace's next one", k);
    }
    ETWIRE_SESSION_STATS st;
    assert_int_equal(etwire_session_get_stats(c.h, &st), ERROR_SUCCESS);
    assert_true(c.ev.n < want.n);
    assert_true(buffers_lost(&c) > 0 || st.EventsLate > 0);
    consumer_free(&c);
    test_events_free(&want);
    etwire_relay_sender_free(s);
    env_stop(&e);
    gen_trace_free(&t);
}

/* CloseTrace from another thread while ProcessTrace waits for data (the one published buffer,
 * the header buffer, is delivered and the session is quiet): ProcessTrace returns at once with
 * exactly the header buffer's events (its reader is woken, not polling, to let go). Then the
 * collector goes away under a second consumer, whose ProcessTrace returns an error. */
static void close_and_collector_gone(void **state)
{
    (void)state;
    gen_trace t;
    etw_gen_config cfg = gen_config(23, 3000);
    assert_int_equal(gen_trace_make(&cfg, &t), 0);
    live_env e;
    etwire_relay_sender *s = start_live(&e, 0, "gone", &t.buffers);
    consumer a, b;
    consumer_open(&a, "host-1/gone", on_buffer_counted, &a, NULL);
    assert_int_equal(pthread_create(&a.thread, NULL, consume, &a), 0);
    consumer_open_options(&b, "host-1/gone");
    start(&b);
    wait_for(&a, has_header_buffer, "the header buffer");
    /* Nothing more comes: ProcessTrace is waiting for data. */
    assert_int_equal(CloseTrace(a.h), ERROR_CTX_CLOSE_PENDING);
    join_consumer(&a, ERROR_SUCCESS, "ProcessTrace after CloseTrace");
    test_events want = {0};
    const size_t header_only[] = {0};
    expected_of(&t.buffers, header_only, 1, &want);
    assert_true(want.n > 0);
    assert_same_events(&a.ev, &want, "closed while waiting");
    assert_int_equal(a.ev.buffer_callbacks, 1);

    etwire_relay_sender_free(s); /* no END: the session stays open */
    etwire_relay_collector_stop(e.c);
    pthread_join(e.runner, NULL);
    etwire_relay_collector_free(e.c);
    join_consumer(&b, ERROR_FILE_CORRUPT, "ProcessTrace after the collector went away");

    /* No collector at all: a clear error. */
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    assert_true(OpenTraceFromRealTimeLogger(u"host-1/gone", &o, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_last_error(), ERROR_CONNECTION_REFUSED);
    assert_non_null(strstr(etwire_last_error_message(), e.dir));
    test_events_free(&want);
    consumer_free(&a); /* closed already: CloseTrace only says so */
    consumer_free(&b);
    test_rmdir(e.dir);
    gen_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(attach_mid_stream),
        cmocka_unit_test(slow_consumer),
        cmocka_unit_test(quiet_processor),
        cmocka_unit_test(processor_back_in_time),
        cmocka_unit_test(close_and_collector_gone),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
