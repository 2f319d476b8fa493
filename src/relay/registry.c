/* Registry of collector sessions (see collect.h). A session is keyed by source, session
 * name and instance; at most one connection holds it at a time (BUSY otherwise), and it stays
 * open between connections so a reconnecting sender resumes in the same buffer stream. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "relay/collect.h"
#include "relay/wire/status.h"

typedef struct reg_entry {
    char source[129], session[129];
    uint64_t instance;
    relay_sink *sink;
    int busy;
    uint64_t released; /* when its last connection ended (a counter: older is smaller) */
    int64_t released_ms;
} reg_entry;

/* Sessions that ended, so that a HELLO for one is refused (COMPLETE) even without an .etl;
 * with one, the .etl's mode says it (read-only once complete) across restarts too. */
#define DONE_KEPT 4096

typedef struct done_key {
    char source[129], session[129];
    uint64_t instance;
} done_key;

struct relay_registry {
    pthread_mutex_t mu;
    reg_entry *e;
    uint32_t n, cap;
    uint64_t clock;
    done_key *done;
    uint32_t ndone, done_next;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_done(relay_registry *r, const relay_collect_cfg *cfg, const char *source,
                   const char *session, uint64_t instance)
{
    for (uint32_t i = 0; i < r->ndone; i++)
        if (r->done[i].instance == instance && !strcmp(r->done[i].source, source) &&
            !strcmp(r->done[i].session, session))
            return 1;
    if (!cfg->sink.out_dir)
        return 0;
    char path[4608];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s-%016llx.etl", cfg->sink.out_dir, source, session,
             (unsigned long long)instance);
    return stat(path, &st) == 0 && !(st.st_mode & S_IWUSR);
}

static void remember_done(relay_registry *r, const reg_entry *e)
{
    done_key *d = &r->done[r->done_next];
    snprintf(d->source, sizeof d->source, "%s", e->source);
    snprintf(d->session, sizeof d->session, "%s", e->session);
    d->instance = e->instance;
    r->done_next = (r->done_next + 1) % DONE_KEPT;
    if (r->ndone < DONE_KEPT)
        r->ndone++;
}

/* Makes room by closing the session idle the longest: its buffers are in its .etl, so a sender
 * that comes back later resumes from there. Returns 0 if every session is connected. */
static int evict_idle(relay_registry *r, const relay_collect_cfg *cfg)
{
    reg_entry *oldest = NULL;
    for (uint32_t i = 0; i < r->n; i++)
        if (!r->e[i].busy && (!oldest || r->e[i].released < oldest->released))
            oldest = &r->e[i];
    if (!oldest)
        return 0;
    relay_sink *k = oldest->sink;
    *oldest = r->e[--r->n];
    relay_sink_close(k, cfg->stats);
    return 1;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void relay_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_mu);
    fputs("etwire collect: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_mu);
    va_end(ap);
}

relay_registry *relay_registry_create(uint32_t max_sessions)
{
    relay_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cap = max_sessions ? max_sessions : 1;
    r->e = calloc(r->cap, sizeof *r->e);
    r->done = calloc(DONE_KEPT, sizeof *r->done);
    if (!r->e || !r->done) {
        free(r->e);
        free(r->done);
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

int relay_registry_acquire(relay_registry *r, const relay_collect_cfg *cfg, const char *source,
                           const char *session, uint64_t instance, relay_sink **sink,
                           uint32_t *reason, char *err, size_t errlen)
{
    pthread_mutex_lock(&r->mu);
    reg_entry *e = NULL;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->e[i].instance == instance && !strcmp(r->e[i].source, source) && !strcmp(r->e[i].session, session))
            e = &r->e[i];
    int st = ETW_RELAY_OK;
    if (!e && is_done(r, cfg, source, session, instance)) {
        *reason = ETW_RELAY_CLOSE_COMPLETE;
        snprintf(err, errlen, "session already complete: it is not reopened");
        st = ETW_RELAY_E_REFUSED;
    } else if (e && e->busy) {
        *reason = ETW_RELAY_CLOSE_BUSY;
        snprintf(err, errlen, "session already connected");
        st = ETW_RELAY_E_REFUSED;
    } else if (!e && r->n == r->cap && !evict_idle(r, cfg)) {
        *reason = ETW_RELAY_CLOSE_RESOURCES;
        snprintf(err, errlen, "too many sessions (%u)", r->cap);
        st = ETW_RELAY_E_REFUSED;
    } else if (!e) {
        uint64_t next;
        /* Opening may read a large .etl back; the registry lock keeps two HELLOs for the same
         * session from both opening it. */
        relay_sink *k = relay_sink_open(&cfg->sink, source, session, instance, &next, err, errlen);
        if (!k) {
            *reason = ETW_RELAY_CLOSE_RESOURCES;
            st = ETW_RELAY_E_REFUSED;
        } else {
            e = &r->e[r->n++];
            memset(e, 0, sizeof *e);
            snprintf(e->source, sizeof e->source, "%s", source);
            snprintf(e->session, sizeof e->session, "%s", session);
            e->instance = instance;
            e->sink = k;
        }
    }
    if (st == ETW_RELAY_OK) {
        e->busy = 1;
        *sink = e->sink;
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

void relay_registry_release(relay_registry *r, const relay_collect_cfg *cfg, relay_sink *sink, int ended)
{
    pthread_mutex_lock(&r->mu);
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->e[i].sink != sink)
            continue;
        r->e[i].busy = 0;
        r->e[i].released = ++r->clock;
        r->e[i].released_ms = mono_ms();
        if (ended) {
            remember_done(r, &r->e[i]);
            relay_sink_mark_complete(sink);
        }
        if (ended || relay_sink_failed(sink)) { /* a failed one resumes from its .etl */
            r->e[i] = r->e[--r->n];
            relay_sink_close(sink, cfg->stats);
        }
        break;
    }
    pthread_mutex_unlock(&r->mu);
}

uint32_t relay_registry_sweep(relay_registry *r, const relay_collect_cfg *cfg)
{
    uint32_t closed = 0;
    int64_t now = mono_ms();
    pthread_mutex_lock(&r->mu);
    for (uint32_t i = 0; i < r->n;) {
        if (!r->e[i].busy && now - r->e[i].released_ms >= cfg->session_idle_ms) {
            relay_sink *k = r->e[i].sink;
            r->e[i] = r->e[--r->n];
            relay_sink_close(k, cfg->stats);
            closed++;
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return closed;
}

void relay_registry_destroy(relay_registry *r, const relay_collect_cfg *cfg)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n; i++)
        relay_sink_close(r->e[i].sink, cfg->stats);
    pthread_mutex_destroy(&r->mu);
    free(r->e);
    free(r->done);
    free(r);
}
