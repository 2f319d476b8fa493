/* The embeddable collector (include/etwire/relay.h): options, descriptor budget, the accept
 * loop and the connection threads. Connections that have not authenticated yet (TLS handshake
 * and HELLO not done) are strangers: they get at most UnauthPercent of the slots and
 * UnauthPerAddress per address, and a total deadline, so they can never hold the slots that
 * authenticated senders need. The loop sleeps in poll() on the listening socket and a pipe
 * that finishing connections and stop() write to: nothing polls with sleeps, and when accept
 * fails (descriptors exhausted) it waits for a connection to end instead of spinning. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <etwire/relay.h>

#include "base/fd_io.h"
#include "relay/collect.h"
#include "relay/live.h"
#include "relay/names.h"
#include "relay/net.h"
#include "relay/quota.h"
#include "relay/tls.h"
#include "relay/wire/msg.h"
#include "relay/zstd.h"

#define DESCRIPTOR_RESERVE 64 /* files, pipes, the listening socket, the program's own */
#define SWEEP_MS 1000

struct etwire_relay_collector {
    ETWIRE_RELAY_COLLECTOR_OPTIONS o;
    ETWIRE_RELAY_SESSION_CALLBACKS cb;
    relay_collect_cfg cfg;
    struct relay_live *live;
    char **allow;
    atomic_int stop;
    int lfd;
    int wake[2];          /* [0] read by the loop; [1] written by finishing connections, stop() */
    relay_registry *reg;
    pthread_mutex_t mu;   /* jobs: run() and serve_fd() may add from different threads */
    relay_conn_job **jobs;
    uint32_t n, max_conns, unauth_max;
    pthread_mutex_t log_mu;
    int64_t refusal_logged_ms;
    uint64_t refusals_hidden;
    relay_collect_counters counters; /* etwire_relay_collector_stats */
    int ready;                       /* new() succeeded: free() writes the stats line */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
}

/* Raises the soft descriptor limit to the hard one and keeps sessions (an .etl each, and what
 * the program's callbacks open, counted as one more) and connections (a socket and a wake-up
 * eventfd each) within it. */
static void budget_descriptors(uint32_t *conns, uint32_t *sessions)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    uint64_t limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    uint64_t usable = limit > DESCRIPTOR_RESERVE + 3 ? limit - DESCRIPTOR_RESERVE : 3;
    if (2ull * *conns + 2ull * *sessions <= usable)
        return;
    uint32_t c = *conns, s = *sessions;
    if (c > usable / 4)
        c = (uint32_t)(usable / 4 ? usable / 4 : 1);
    s = (uint32_t)((usable - 2ull * c) / 2 ? (usable - 2ull * c) / 2 : 1);
    if (s > *sessions)
        s = *sessions;
    fprintf(stderr, "etwire collect: %llu descriptors allow %u connections and %u sessions "
            "(asked for %u and %u)\n", (unsigned long long)limit, c, s, *conns, *sessions);
    *conns = c;
    *sessions = s;
}

static void defaults(ETWIRE_RELAY_COLLECTOR_OPTIONS *o)
{
    if (!o->Window)
        o->Window = 64;
    if (!o->MaxMemory)
        o->MaxMemory = 256ull << 20;
    if (!o->MaxSessions)
        o->MaxSessions = 1024;
    if (!o->MaxConnections)
        o->MaxConnections = 256;
    if (!o->IdleMs)
        o->IdleMs = 60000;
    if (!o->FrameDeadlineMs)
        o->FrameDeadlineMs = 30000;
    if (!o->HandshakeDeadlineMs)
        o->HandshakeDeadlineMs = 10000;
    if (!o->SessionIdleMs)
        o->SessionIdleMs = 300000;
    if (!o->UnauthPerAddress)
        o->UnauthPerAddress = 8;
    if (!o->UnauthPercent || o->UnauthPercent > 100)
        o->UnauthPercent = 25;
}

static int copy_allow(etwire_relay_collector *c, char *err, size_t errlen)
{
    size_t n = 0;
    while (c->o.Allow && c->o.Allow[n])
        n++;
    if (!n)
        return 0;
    if (!(c->allow = calloc(n + 1, sizeof *c->allow)))
        return set_err(err, errlen, "out of memory"), -1;
    for (size_t i = 0; i < n; i++) {
        if (!etw_relay_name_valid(c->o.Allow[i], strlen(c->o.Allow[i]))) {
            snprintf(err, errlen, "'%s' is not a valid source name", c->o.Allow[i]);
            return -1;
        }
        if (!(c->allow[i] = strdup(c->o.Allow[i])))
            return set_err(err, errlen, "out of memory"), -1;
    }
    c->cfg.allow = c->allow;
    return 0;
}

ETWIRE_RELAY_API etwire_relay_collector *etwire_relay_collector_new(
    const ETWIRE_RELAY_COLLECTOR_OPTIONS *options, char *err, size_t errlen)
{
    etwire_relay_collector *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    c->o = *options;
    defaults(&c->o);
    c->lfd = c->wake[0] = c->wake[1] = -1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->log_mu, NULL);
    c->refusal_logged_ms = -1000000;
    uint32_t conns = c->o.MaxConnections, sessions = c->o.MaxSessions;
    budget_descriptors(&conns, &sessions);
    c->max_conns = conns;
    c->unauth_max = (uint32_t)((uint64_t)conns * c->o.UnauthPercent / 100);
    if (c->unauth_max == 0)
        c->unauth_max = 1;
    c->cb = c->o.Sessions;
    relay_collect_cfg *cfg = &c->cfg;
    cfg->sink.out_dir = c->o.OutDir;
    cfg->sink.window = c->o.Window;
    cfg->sink.memory_limit = c->o.MaxMemory;
    cfg->sink.reorder = c->o.Reorder;
    cfg->sink.cb = &c->cb;
    cfg->sink.count_events = c->o.Stats != NULL;
    cfg->window = c->o.Window;
    cfg->max_memory = c->o.MaxMemory;
    cfg->max_rate = c->o.MaxRate;
    cfg->caps = c->o.Zstd && relay_zstd_available() ? ETW_RELAY_CAP_ZSTD : 0;
    cfg->idle_ms = (int)c->o.IdleMs;
    cfg->frame_deadline_ms = (int)c->o.FrameDeadlineMs;
    cfg->handshake_ms = (int)c->o.HandshakeDeadlineMs;
    cfg->session_idle_ms = (int)c->o.SessionIdleMs;
    cfg->max_sessions = sessions;
    cfg->verbose = c->o.Verbose;
    cfg->stats = c->o.Stats;
    cfg->stop = &c->stop;
    cfg->counters = &c->counters;
    if (c->o.Listen && c->o.Plain && !relay_addr_is_loopback(c->o.Listen)) {
        set_err(err, errlen, "plain TCP is only for loopback addresses; use TLS");
        goto fail;
    }
    if (copy_allow(c, err, errlen) != 0)
        goto fail;
    if (!c->o.Plain && !c->allow) {
        set_err(err, errlen, "TLS needs at least one allowed source");
        goto fail;
    }
    if (c->o.SourceMemory && c->o.SourceMemory < c->o.MaxMemory / 2) {
        set_err(err, errlen, "the source memory quota must be at least half of the connection's");
        goto fail;
    }
    relay_tls_files tls = {c->o.TlsCert, c->o.TlsKey, c->o.TlsCa};
    if (!c->o.Plain && !(cfg->tls_ctx = relay_tls_ctx_new(1, &tls, err, errlen)))
        goto fail;
    if (!(cfg->quota = relay_quota_create(c->o.SourceMemory, c->o.SourceRate, c->o.MaxMemory / 2)) ||
        !(c->reg = relay_registry_create(sessions)) || !(c->jobs = calloc(conns, sizeof *c->jobs)) ||
        etw_wake_pipe(c->wake) != 0) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    if (c->o.Listen && (c->lfd = relay_listen(c->o.Listen, err, errlen)) < 0)
        goto fail;
    if (c->o.Live) {
        relay_live_opts lo = {.address = c->o.Live, .mode = c->o.LiveMode, .queue = c->o.LiveQueue,
                              .remote = c->o.LiveRemote, .tls_ctx = cfg->tls_ctx,
                              .allow = c->o.LiveAllow};
        if (!(c->live = relay_live_start(&lo, err, errlen)))
            goto fail;
        cfg->sink.live = c->live;
    }
    c->ready = 1;
    return c;
fail:
    etwire_relay_collector_free(c);
    return NULL;
}

ETWIRE_RELAY_API int etwire_relay_collector_port(const etwire_relay_collector *c)
{
    return c->lfd >= 0 ? relay_local_port(c->lfd) : -1;
}

ETWIRE_RELAY_API void etwire_relay_collector_stop(etwire_relay_collector *c)
{
    atomic_store(&c->stop, 1);
    etw_wake_signal(c->wake[1]);
}

/* Joins finished connection threads (all: every one, waiting); c->mu held. */
static void reap(etwire_relay_collector *c, int all)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (all || atomic_load(&c->jobs[i]->finished)) {
            pthread_join(c->jobs[i]->thread, NULL);
            free(c->jobs[i]);
        } else {
            c->jobs[kept++] = c->jobs[i];
        }
    }
    c->n = kept;
}

/* Why a new connection from addr may not be served (NULL: it may); c->mu held. */
static const char *refusal(etwire_relay_collector *c, const char *addr, char *why, size_t len)
{
    if (c->n >= c->max_conns) {
        snprintf(why, len, "%u connections already", c->max_conns);
        return why;
    }
    uint32_t unauth = 0, here = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (atomic_load(&c->jobs[i]->authed) || atomic_load(&c->jobs[i]->finished))
            continue;
        unauth++;
        here += !strcmp(c->jobs[i]->addr, addr);
    }
    if (here >= c->o.UnauthPerAddress) {
        snprintf(why, len, "%u connections from %s not yet authenticated", here, addr);
        return why;
    }
    if (unauth >= c->unauth_max) {
        snprintf(why, len, "%u connections not yet authenticated (the share strangers may hold)", unauth);
        return why;
    }
    return NULL;
}

/* Tells a refused plain-TCP peer why, without waiting for it (TLS peers get no frame before
 * their handshake: they see the connection close). */
static void refuse(etwire_relay_collector *c, int fd, const char *peer, const char *why)
{
    atomic_fetch_add(&c->counters.refused, 1);
    if (c->o.Plain) {
        uint8_t f[ETW_RELAY_CONTROL_FRAME_MAX];
        size_t n = etw_relay_encode_close(f, sizeof f, ETW_RELAY_CLOSE_BUSY, why);
        if (send(fd, f, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* best effort */
        }
    }
    /* A flood of connections must not become a flood of log lines: one a second, with a count
     * of the ones not shown. */
    pthread_mutex_lock(&c->log_mu);
    int64_t now = mono_ms();
    int show = now - c->refusal_logged_ms >= 1000;
    uint64_t hidden = c->refusals_hidden;
    if (show) {
        c->refusal_logged_ms = now;
        c->refusals_hidden = 0;
    } else {
        c->refusals_hidden++;
    }
    pthread_mutex_unlock(&c->log_mu);
    if (show && hidden)
        relay_log("%s: refused: %s (and %llu more refused in the last second)", peer, why, (unsigned long long)hidden);
    else if (show)
        relay_log("%s: refused: %s", peer, why);
    close(fd);
}

ETWIRE_RELAY_API int etwire_relay_collector_serve_fd(etwire_relay_collector *c, int fd, const char *peer)
{
    char addr[64], why[160];
    snprintf(addr, sizeof addr, "%s", peer ? peer : "?");
    char *colon = strrchr(addr, ':');
    if (colon && colon != addr)
        *colon = 0;
    pthread_mutex_lock(&c->mu);
    reap(c, 0);
    const char *no = atomic_load(&c->stop) ? "collector stopping" : refusal(c, addr, why, sizeof why);
    relay_conn_job *job = no ? NULL : calloc(1, sizeof *job);
    if (!job) {
        pthread_mutex_unlock(&c->mu);
        refuse(c, fd, peer ? peer : "?", no ? no : "out of memory");
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    job->fd = fd;
    snprintf(job->peer, sizeof job->peer, "%s", peer ? peer : "?");
    snprintf(job->addr, sizeof job->addr, "%s", addr);
    job->cfg = &c->cfg;
    job->reg = c->reg;
    job->wake_fd = c->wake[1];
    atomic_fetch_add(&c->counters.accepted, 1); /* before the thread can count its outcome */
    if (pthread_create(&job->thread, NULL, relay_collect_conn_main, job) != 0) {
        atomic_fetch_sub(&c->counters.accepted, 1);
        pthread_mutex_unlock(&c->mu);
        free(job);
        refuse(c, fd, peer ? peer : "?", "cannot start a thread");
        return -1;
    }
    c->jobs[c->n++] = job;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

ETWIRE_RELAY_API int etwire_relay_collector_run(etwire_relay_collector *c)
{
    if (c->lfd < 0)
        return -1;
    if (c->o.Verbose)
        relay_log("listening on %s (%s)", c->o.Listen, c->o.Plain ? "plain TCP" : "TLS");
    int accept_blocked = 0; /* accept failed: wait for a connection to end before trying again */
    int64_t last_sweep = mono_ms();
    while (!atomic_load(&c->stop)) {
        if (mono_ms() - last_sweep >= SWEEP_MS) {
            relay_registry_sweep(c->reg, &c->cfg);
            last_sweep = mono_ms();
        }
        struct pollfd p[2] = {{.fd = c->wake[0], .events = POLLIN},
                              {.fd = accept_blocked ? -1 : c->lfd, .events = POLLIN}};
        int ready = poll(p, 2, SWEEP_MS);
        if (p[0].revents) {
            etw_wake_drain(c->wake[0]);
            accept_blocked = 0;
        }
        if (ready == 0)
            accept_blocked = 0;
        if (ready <= 0 || !(p[1].revents & POLLIN))
            continue;
        char peer[64];
        int fd = relay_accept(c->lfd, 0, peer, sizeof peer);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                relay_log("accept: %s; waiting for a connection to end", strerror(errno));
                accept_blocked = 1;
            }
            continue;
        }
        etwire_relay_collector_serve_fd(c, fd, peer);
    }
    /* Every connection drains, acknowledges and ends on its own once it sees stop. */
    pthread_mutex_lock(&c->mu);
    reap(c, 1);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

ETWIRE_RELAY_API void etwire_relay_collector_stats(const etwire_relay_collector *c,
                                                   ETWIRE_RELAY_COLLECTOR_STATS *st)
{
    relay_collect_counters *k = (relay_collect_counters *)&c->counters;
    ULONG64 out[RELAY_OUT_COUNT_], ended = 0;
    /* Outcomes first: a connection counted there was counted as accepted before, so Open
     * never goes below zero. */
    for (int i = 0; i < RELAY_OUT_COUNT_; i++)
        ended += out[i] = atomic_load(&k->outcome[i]);
    *st = (ETWIRE_RELAY_COLLECTOR_STATS){
        .Accepted = atomic_load(&k->accepted),
        .Refused = atomic_load(&k->refused),
        .Authenticated = atomic_load(&k->authenticated),
        .Completed = out[RELAY_OUT_COMPLETED],
        .HandshakeFailed = out[RELAY_OUT_HANDSHAKE],
        .HelloDeadline = out[RELAY_OUT_HELLO_DEADLINE],
        .FrameDeadline = out[RELAY_OUT_FRAME_DEADLINE],
        .Idle = out[RELAY_OUT_IDLE],
        .HelloRefused = out[RELAY_OUT_HELLO_REFUSED],
        .Invalid = out[RELAY_OUT_INVALID],
        .Disconnected = out[RELAY_OUT_DISCONNECTED],
        .Failed = out[RELAY_OUT_FAILED],
        .Shutdown = out[RELAY_OUT_SHUTDOWN],
    };
    st->Open = st->Accepted > ended ? st->Accepted - ended : 0;
}

/* The collector's line in the statistics file, after the sessions' and the sources' lines. */
static void write_stats_line(const etwire_relay_collector *c, FILE *out)
{
    ETWIRE_RELAY_COLLECTOR_STATS s;
    etwire_relay_collector_stats(c, &s);
    fprintf(out,
            "{\"collector\":{\"accepted\":%llu,\"refused\":%llu,\"authenticated\":%llu,"
            "\"completed\":%llu,\"handshake_failed\":%llu,\"hello_deadline\":%llu,"
            "\"frame_deadline\":%llu,\"idle\":%llu,\"hello_refused\":%llu,\"invalid\":%llu,"
            "\"disconnected\":%llu,\"failed\":%llu,\"shutdown\":%llu}}\n",
            (unsigned long long)s.Accepted, (unsigned long long)s.Refused,
            (unsigned long long)s.Authenticated, (unsigned long long)s.Completed,
            (unsigned long long)s.HandshakeFailed, (unsigned long long)s.HelloDeadline,
            (unsigned long long)s.FrameDeadline, (unsigned long long)s.Idle,
            (unsigned long long)s.HelloRefused, (unsigned long long)s.Invalid,
            (unsigned long long)s.Disconnected, (unsigned long long)s.Failed,
            (unsigned long long)s.Shutdown);
    fflush(out);
}

ETWIRE_RELAY_API void etwire_relay_collector_free(etwire_relay_collector *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    pthread_mutex_lock(&c->mu);
    reap(c, 1);
    pthread_mutex_unlock(&c->mu);
    if (c->reg)
        relay_registry_destroy(c->reg, &c->cfg);
    relay_live_stop(c->live); /* after the sessions: their subscribers got END */
    if (c->cfg.quota && (c->o.SourceMemory || c->o.SourceRate) && c->cfg.stats)
        relay_quota_stats(c->cfg.quota, c->cfg.stats); /* per-session lines only unless used */
    if (c->cfg.stats && c->ready)
        write_stats_line(c, c->cfg.stats);
    relay_quota_destroy(c->cfg.quota);
    relay_tls_ctx_free(c->cfg.tls_ctx);
    if (c->lfd >= 0)
        close(c->lfd);
    etw_wake_close(c->wake);
    for (char **a = c->allow; a && *a; a++)
        free(*a);
    free(c->allow);
    free(c->jobs);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->log_mu);
    free(c);
}
