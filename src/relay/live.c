/* Live publishing (see live.h). Threads: the sink's connection thread publishes, one accept
 * thread takes subscribers, each subscriber has a writer thread. One mutex guards the entries,
 * the subscriber lists and every queue; nothing blocking happens under it: a writer pops a
 * buffer, lets go, then writes (a stuck consumer blocks only its own thread). */
#include "relay/live.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "relay/collect.h"
#include "relay/live_tls.h"
#include "relay/net.h"
#include "relay/tls.h"
#include "relay/wire/live_proto.h"

#define REQUEST_DEADLINE_MS 10000

typedef struct live_item {
    atomic_uint refs;
    uint32_t size;
    uint8_t data[];
} live_item;

typedef struct live_sub live_sub;

struct relay_live_entry {
    relay_live_entry *next;
    char source[129], session[129];
    uint64_t instance;
    uint8_t *header;
    uint32_t header_size;
    int64_t start_unix;
    int64_t first_ms;
    uint64_t buffers, bytes, events;
    uint64_t seq;            /* creation order: the newest instance of a name wins */
    live_sub *subs;
};

struct live_sub {
    live_sub *next_all;
    live_sub *next_entry;
    relay_live *l;
    relay_live_entry *e;     /* (mu) NULL once the session closed */
    int fd;
    pthread_t thread;
    pthread_cond_t cv;
    live_item **q;           /* (mu) ring of o.queue items */
    uint32_t head, count;
    uint64_t dropped;        /* (mu) */
    int end;                 /* (mu) -1, or the END reason to send after the queue */
    char identity[256];      /* a remote subscriber's certificate name ("" local: sees all) */
    int finished;            /* (mu) the thread is done: the accept loop joins it */
};

/* A remote subscriber's connection: TLS handshake, then the bridge to its local end. */
typedef struct live_gate {
    struct live_gate *next;
    relay_live *l;
    relay_conn c;
    pthread_t thread;
    int finished;            /* (mu) */
} live_gate;

struct relay_live {
    relay_live_opts o;
    int rfd;                 /* remote listener, or -1 */
    live_gate *gates;        /* (mu) */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lfd;
    int wake[2];
    pthread_t accept_thread;
    int accept_started;
    pthread_mutex_t mu;
    relay_live_entry *entries;
    live_sub *subs;
    uint32_t nsubs;
    uint64_t seq;
    int stopping;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void item_unref(live_item *it)
{
    if (it && atomic_fetch_sub(&it->refs, 1) == 1)
        free(it);
}

/* ---- the sink's side ------------------------------------------------------------------ */

void relay_live_buffer(relay_live *l, relay_live_entry **ep, const char *source,
                       const char *session, uint64_t instance, const uint8_t *buf,
                       uint32_t size, int replayed)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    relay_live_entry *e = *ep;
    if (!e) {
        e = calloc(1, sizeof *e);
        uint8_t *hdr = malloc(size);
        if (!e || !hdr) {
            free(e);
            free(hdr);
            pthread_mutex_unlock(&l->mu);
            return;
        }
        snprintf(e->source, sizeof e->source, "%s", source);
        snprintf(e->session, sizeof e->session, "%s", session);
        e->instance = instance;
        memcpy(hdr, buf, size);
        e->header = hdr;
        e->header_size = size;
        e->start_unix = (int64_t)time(NULL);
        e->first_ms = mono_ms();
        e->seq = ++l->seq;
        e->next = l->entries;
        l->entries = e;
        *ep = e;
        if (!replayed) {
            e->buffers = 1;
            e->bytes = size;
        }
        pthread_mutex_unlock(&l->mu); /* the header reaches subscribers in ATTACHED */
        return;
    }
    if (replayed) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    e->buffers++;
    e->bytes += size;
    live_item *it = NULL;
    for (live_sub *s = e->subs; s; s = s->next_entry) {
        if (s->count >= l->o.queue) {
            s->dropped++; /* whole buffers, this subscriber only */
            pthread_cond_signal(&s->cv);
            continue;
        }
        if (!it) {
            it = malloc(sizeof *it + size);
            if (!it) {
                s->dropped++;
                continue;
            }
            atomic_init(&it->refs, 0);
            it->size = size;
            memcpy(it->data, buf, size);
        }
        atomic_fetch_add(&it->refs, 1);
        s->q[(s->head + s->count) % l->o.queue] = it;
        s->count++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&l->mu);
}

void relay_live_events(relay_live *l, relay_live_entry *e, uint64_t events)
{
    if (!l || !e)
        return;
    pthread_mutex_lock(&l->mu);
    e->events = events;
    pthread_mutex_unlock(&l->mu);
}

void relay_live_close(relay_live *l, relay_live_entry *e, int sender_ended)
{
    if (!l || !e)
        return;
    pthread_mutex_lock(&l->mu);
    for (relay_live_entry **pp = &l->entries; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    for (live_sub *s = e->subs; s; s = s->next_entry) {
        s->e = NULL;
        s->end = sender_ended ? ETW_LIVE_END_SENDER : ETW_LIVE_END_CLOSED;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&l->mu);
    free(e->header);
    free(e);
}

/* ---- subscribers ---------------------------------------------------------------------- */

/* Writes a frame whole; 0, or -1 once the consumer is gone. */
static int send_frame(int fd, uint8_t type, const void *a, uint32_t alen, const void *b,
                      uint32_t blen)
{
    uint8_t hdr[ETW_LIVE_HEADER_SIZE];
    etw_live_header_format(hdr, type, alen + blen);
    struct iovec iov[3] = {{hdr, sizeof hdr}, {(void *)a, alen}, {(void *)b, blen}};
    int n = 3, i = 0;
    while (i < n) {
        struct msghdr m = {.msg_iov = iov + i, .msg_iovlen = (size_t)(n - i)};
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (i < n && left >= iov[i].iov_len) {
            left -= iov[i].iov_len;
            i++;
        }
        if (i < n) {
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
    le32(p, (uint32_t)v);
    le32(p + 4, (uint32_t)(v >> 32));
}

static int refuse(int fd, uint32_t code, const char *why)
{
    uint8_t c[4];
    le32(c, code);
    return send_frame(fd, ETW_LIVE_REFUSED, c, 4, why, (uint32_t)strlen(why));
}

/* Reads exactly n bytes before the deadline; 0, or -1. */
static int read_full(int fd, uint8_t *p, size_t n, int64_t deadline)
{
    while (n) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t got = recv(fd, p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static int read_request(int fd, etw_live_request *req, const char **why)
{
    int64_t deadline = mono_ms() + REQUEST_DEADLINE_MS;
    uint8_t hdr[ETW_LIVE_HEADER_SIZE], body[ETW_LIVE_MAX_NAME];
    uint8_t type;
    uint32_t len;
    *why = "no request before the deadline";
    if (read_full(fd, hdr, sizeof hdr, deadline) != 0)
        return -1;
    if (etw_live_header_parse(hdr, sizeof hdr, &type, &len, why) != 0)
        return -1;
    if (len > sizeof body) {
        *why = "request too long";
        return -1;
    }
    *why = "request cut short";
    if (read_full(fd, body, len, deadline) != 0)
        return -1;
    return etw_live_server_request(type, body, len, req, why);
}

/* May this subscriber see this source? Local ones see everything (the socket's permissions
 * decide who is local); a remote one what its LiveAllow entry names. */
static int allowed(const relay_live *l, const char *identity, const char *source)
{
    if (!identity[0])
        return 1;
    size_t n = strlen(identity);
    for (const char *const *a = l->o.allow; a && *a; a++) {
        if (strncmp(*a, identity, n) != 0 || (*a)[n] != '=')
            continue;
        for (const char *p = *a + n + 1; *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if ((len == 1 && *p == '*') || (len == strlen(source) && !strncmp(p, source, len)))
                return 1;
            p += len + (end != NULL);
        }
    }
    return 0;
}

/* One line per live session: NAME, instance, start (Unix seconds), buffers, bytes, events,
 * buffers per second since it became live. */
static void list_sessions(relay_live *l, int fd, const char *identity)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return;
    pthread_mutex_lock(&l->mu);
    int64_t now = mono_ms();
    for (relay_live_entry *e = l->entries; e; e = e->next) {
        if (!allowed(l, identity, e->source))
            continue;
        double secs = (double)(now - e->first_ms) / 1000.0;
        fprintf(f, "%s/%s\t%016llx\t%lld\t%llu\t%llu\t%llu\t%.1f\n", e->source, e->session,
                (unsigned long long)e->instance, (long long)e->start_unix,
                (unsigned long long)e->buffers, (unsigned long long)e->bytes,
                (unsigned long long)e->events, secs > 0.001 ? (double)e->buffers / secs : 0.0);
    }
    pthread_mutex_unlock(&l->mu);
    fclose(f);
    uint32_t n = size > ETW_LIVE_MAX_CONTROL ? ETW_LIVE_MAX_CONTROL : (uint32_t)size;
    send_frame(fd, ETW_LIVE_SESSIONS, text, n, NULL, 0);
    free(text);
}

/* Attaches to the newest instance of the name; the header to send first comes back copied. */
static relay_live_entry *attach(live_sub *s, const etw_live_request *req, uint8_t **hdr,
                                uint32_t *hdr_size, uint64_t *instance)
{
    relay_live *l = s->l;
    pthread_mutex_lock(&l->mu);
    relay_live_entry *best = NULL;
    for (relay_live_entry *e = l->entries; e; e = e->next)
        if (!strcmp(e->source, req->source) && !strcmp(e->session, req->session) &&
            (!best || e->seq > best->seq))
            best = e;
    if (best) {
        *hdr = malloc(best->header_size);
        if (!*hdr) {
            best = NULL;
        } else {
            memcpy(*hdr, best->header, best->header_size);
            *hdr_size = best->header_size;
            *instance = best->instance;
            s->e = best;
            s->next_entry = best->subs;
            best->subs = s;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return best;
}

static void detach(live_sub *s)
{
    if (!s->e)
        return;
    for (live_sub **pp = &s->e->subs; *pp; pp = &(*pp)->next_entry)
        if (*pp == s) {
            *pp = s->next_entry;
            break;
        }
    s->e = NULL;
}

/* The writer: queued buffers in order, a DROPPED count before the next buffer whenever it
 * grew, END after the last. */
static void stream(live_sub *s)
{
    relay_live *l = s->l;
    uint64_t dropped_sent = 0;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!s->count && s->end < 0 && s->dropped == dropped_sent && !l->stopping)
            pthread_cond_wait(&s->cv, &l->mu);
        if (l->stopping)
            break;
        int rc = 0;
        if (s->dropped != dropped_sent) {
            uint64_t d = s->dropped;
            pthread_mutex_unlock(&l->mu);
            uint8_t b[8];
            le64(b, d);
            rc = send_frame(s->fd, ETW_LIVE_DROPPED, b, 8, NULL, 0);
            dropped_sent = d;
        } else if (s->count) {
            live_item *it = s->q[s->head];
            s->head = (s->head + 1) % l->o.queue;
            s->count--;
            pthread_mutex_unlock(&l->mu);
            rc = send_frame(s->fd, ETW_LIVE_BUFFER, it->data, it->size, NULL, 0);
            item_unref(it);
        } else {
            uint8_t b[4];
            le32(b, (uint32_t)s->end);
            pthread_mutex_unlock(&l->mu);
            send_frame(s->fd, ETW_LIVE_END, b, 4, NULL, 0);
            pthread_mutex_lock(&l->mu);
            break;
        }
        pthread_mutex_lock(&l->mu);
        if (rc != 0)
            break; /* the consumer is gone */
    }
    detach(s);
    while (s->count) {
        item_unref(s->q[s->head]);
        s->head = (s->head + 1) % l->o.queue;
        s->count--;
    }
    pthread_mutex_unlock(&l->mu);
}

static void *sub_main(void *arg)
{
    live_sub *s = arg;
    relay_live *l = s->l;
    etw_live_request req;
    const char *why = NULL;
    if (read_request(s->fd, &req, &why) != 0) {
        refuse(s->fd, ERROR_INVALID_PARAMETER, why);
    } else if (req.list) {
        list_sessions(l, s->fd, s->identity);
    } else {
        uint8_t *hdr = NULL;
        uint32_t hdr_size = 0;
        uint64_t instance = 0;
        if (!allowed(l, s->identity, req.source)) {
            char msg[512];
            snprintf(msg, sizeof msg, "subscriber %s may not see source %s", s->identity, req.source);
            refuse(s->fd, ERROR_ACCESS_DENIED, msg);
        } else if (!attach(s, &req, &hdr, &hdr_size, &instance)) {
            char msg[300];
            snprintf(msg, sizeof msg, "no live session %s/%s", req.source, req.session);
            refuse(s->fd, ERROR_WMI_INSTANCE_NOT_FOUND, msg);
        } else {
            uint8_t b[8];
            le64(b, instance);
            int rc = send_frame(s->fd, ETW_LIVE_ATTACHED, b, 8, hdr, hdr_size);
            free(hdr);
            if (rc == 0)
                stream(s);
        }
    }
    pthread_mutex_lock(&l->mu);
    detach(s);
    while (s->count) { /* queued after a failed ATTACHED */
        item_unref(s->q[s->head]);
        s->head = (s->head + 1) % l->o.queue;
        s->count--;
    }
    s->finished = 1;
    pthread_mutex_unlock(&l->mu);
    char c = 1;
    ssize_t w = write(l->wake[1], &c, 1);
    (void)w;
    return NULL;
}

static void sub_free(live_sub *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_cond_destroy(&s->cv);
    free(s->q);
    free(s);
}

/* Joins the subscribers whose thread finished. */
static void reap(relay_live *l)
{
    live_sub *done = NULL;
    pthread_mutex_lock(&l->mu);
    for (live_sub **pp = &l->subs; *pp;) {
        live_sub *s = *pp;
        if (s->finished) {
            *pp = s->next_all;
            s->next_all = done;
            done = s;
            l->nsubs--;
        } else {
            pp = &s->next_all;
        }
    }
    pthread_mutex_unlock(&l->mu);
    while (done) {
        live_sub *n = done->next_all;
        sub_free(done);
        done = n;
    }
}

static void admit(relay_live *l, int fd, const char *identity)
{
    pthread_mutex_lock(&l->mu);
    int full = l->nsubs >= l->o.max_subscribers;
    pthread_mutex_unlock(&l->mu);
    if (full) {
        refuse(fd, ERROR_BUSY, "too many subscribers");
        close(fd);
        return;
    }
    live_sub *s = calloc(1, sizeof *s);
    if (s)
        s->q = calloc(l->o.queue, sizeof *s->q);
    if (!s || !s->q) {
        if (s)
            free(s->q);
        free(s);
        close(fd);
        return;
    }
    s->l = l;
    s->fd = fd;
    s->end = -1;
    snprintf(s->identity, sizeof s->identity, "%s", identity);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_lock(&l->mu);
    if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
        pthread_mutex_unlock(&l->mu);
        pthread_cond_destroy(&s->cv);
        free(s->q);
        free(s);
        close(fd);
        return;
    }
    s->next_all = l->subs;
    l->subs = s;
    l->nsubs++;
    pthread_mutex_unlock(&l->mu);
}

static void *gate_main(void *arg)
{
    live_gate *g = arg;
    relay_live *l = g->l;
    char identity[256] = "", err[256] = "";
    int pair[2] = {-1, -1};
    if (relay_tls_accept(l->o.tls_ctx, &g->c, REQUEST_DEADLINE_MS, identity, sizeof identity,
                         err, sizeof err) != 0) {
        relay_log("live: %s: TLS: %s", g->c.peer, err);
    } else if (!identity[0]) {
        relay_log("live: %s: a certificate without a name", g->c.peer);
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
        admit(l, pair[1], identity); /* the subscriber owns that end from now on */
        relay_live_bridge(&g->c, pair[0]);
        close(pair[0]);
    }
    relay_tls_free(&g->c);
    pthread_mutex_lock(&l->mu);
    g->finished = 1;
    pthread_mutex_unlock(&l->mu);
    char c = 1;
    ssize_t w = write(l->wake[1], &c, 1);
    (void)w;
    return NULL;
}

static void gate_free(live_gate *g)
{
    pthread_join(g->thread, NULL);
    relay_conn_close(&g->c);
    free(g);
}

static void reap_gates(relay_live *l)
{
    live_gate *done = NULL;
    pthread_mutex_lock(&l->mu);
    for (live_gate **pp = &l->gates; *pp;) {
        live_gate *g = *pp;
        if (g->finished) {
            *pp = g->next;
            g->next = done;
            done = g;
        } else {
            pp = &g->next;
        }
    }
    pthread_mutex_unlock(&l->mu);
    while (done) {
        live_gate *n = done->next;
        gate_free(done);
        done = n;
    }
}

static void admit_remote(relay_live *l)
{
    char peer[64];
    int fd = relay_accept(l->rfd, 0, peer, sizeof peer);
    if (fd < 0)
        return;
    live_gate *g = calloc(1, sizeof *g);
    if (!g) {
        close(fd);
        return;
    }
    g->l = l;
    relay_conn_init(&g->c, fd);
    snprintf(g->c.peer, sizeof g->c.peer, "%s", peer);
    pthread_mutex_lock(&l->mu);
    if (pthread_create(&g->thread, NULL, gate_main, g) != 0) {
        pthread_mutex_unlock(&l->mu);
        relay_conn_close(&g->c);
        free(g);
        return;
    }
    g->next = l->gates;
    l->gates = g;
    pthread_mutex_unlock(&l->mu);
}

static void *accept_main(void *arg)
{
    relay_live *l = arg;
    for (;;) {
        struct pollfd p[3] = {{.fd = l->lfd, .events = POLLIN}, {.fd = l->wake[0], .events = POLLIN},
                              {.fd = l->rfd, .events = POLLIN}};
        if (poll(p, l->rfd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
            break;
        if (l->rfd >= 0 && p[2].revents)
            admit_remote(l);
        if (p[1].revents) {
            char buf[64];
            ssize_t r = read(l->wake[0], buf, sizeof buf);
            (void)r;
            reap(l);
            reap_gates(l);
        }
        pthread_mutex_lock(&l->mu);
        int stop = l->stopping;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        if (p[0].revents) {
            int fd = accept(l->lfd, NULL, NULL);
            if (fd >= 0)
                admit(l, fd, "");
        }
    }
    return NULL;
}

static int listen_unix(relay_live *l, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(err, errlen, "live socket path too long: %s", path);
        return -1;
    }
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    l->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->lfd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* A socket file left by a collector that died is replaced; a live one is not. */
    if (connect(l->lfd, (struct sockaddr *)&a, sizeof a) == 0) {
        snprintf(err, errlen, "%s: another collector publishes there", path);
        return -1;
    }
    close(l->lfd);
    l->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    /* Created with the final permissions: never a moment where others may connect. */
    mode_t old = umask((mode_t)(~l->o.mode & 0777));
    int rc = bind(l->lfd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc == 0)
        snprintf(l->path, sizeof l->path, "%s", path); /* ours: removed at stop */
    if (rc != 0 || chmod(path, (mode_t)l->o.mode) != 0 || listen(l->lfd, 64) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

relay_live *relay_live_start(const relay_live_opts *o, char *err, size_t errlen)
{
    relay_live *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->o = *o;
    if (!l->o.mode)
        l->o.mode = 0660;
    if (!l->o.queue)
        l->o.queue = 256;
    if (!l->o.max_subscribers)
        l->o.max_subscribers = 256;
    l->lfd = l->rfd = l->wake[0] = l->wake[1] = -1;
    pthread_mutex_init(&l->mu, NULL);
    if (!o->address || strncmp(o->address, "unix:", 5) != 0) {
        snprintf(err, errlen, "--live %s: expected unix:PATH", o->address ? o->address : "");
        goto fail;
    }
    if (listen_unix(l, o->address + 5, err, errlen) != 0)
        goto fail;
    if (o->remote) {
        if (!o->tls_ctx || !o->allow) {
            snprintf(err, errlen, "remote live subscribers need TLS and an allow-list (--live-allow)");
            goto fail;
        }
        if ((l->rfd = relay_listen(o->remote, err, errlen)) < 0)
            goto fail;
    }
    if (pipe(l->wake) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&l->accept_thread, NULL, accept_main, l) != 0) {
        snprintf(err, errlen, "cannot start the live accept thread");
        goto fail;
    }
    l->accept_started = 1;
    return l;
fail:
    relay_live_stop(l);
    return NULL;
}

void relay_live_stop(relay_live *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    for (live_sub *s = l->subs; s; s = s->next_all) {
        pthread_cond_signal(&s->cv);
        shutdown(s->fd, SHUT_RDWR); /* a writer blocked on a stuck consumer returns */
    }
    for (live_gate *g = l->gates; g; g = g->next)
        shutdown(g->c.fd, SHUT_RDWR); /* handshakes and bridges return */
    pthread_mutex_unlock(&l->mu);
    if (l->accept_started) {
        char c = 1;
        ssize_t w = write(l->wake[1], &c, 1);
        (void)w;
        pthread_join(l->accept_thread, NULL);
    }
    while (l->gates) {
        live_gate *g = l->gates;
        l->gates = g->next;
        gate_free(g);
    }
    while (l->subs) {
        live_sub *s = l->subs;
        l->subs = s->next_all;
        sub_free(s);
    }
    while (l->entries) {
        relay_live_entry *e = l->entries;
        l->entries = e->next;
        free(e->header);
        free(e);
    }
    if (l->lfd >= 0) {
        close(l->lfd);
        if (l->path[0])
            unlink(l->path);
    }
    if (l->rfd >= 0)
        close(l->rfd);
    if (l->wake[0] >= 0) {
        close(l->wake[0]);
        close(l->wake[1]);
    }
    pthread_mutex_destroy(&l->mu);
    free(l);
}
