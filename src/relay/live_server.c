/* Live publishing's listeners (see live.h): the local socket (created with its final
 * permissions), the remote TLS listener whose connections are authenticated and bridged to a
 * socketpair (live_tls.c) by a gate thread each, admission of subscribers, the reaping of
 * finished threads, and start and stop. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "base/fd_io.h"
#include "relay/collect.h"
#include "relay/live_impl.h"
#include "relay/live_tls.h"
#include "relay/tls.h"

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
        relay_live_refuse(fd, ERROR_BUSY, "too many subscribers");
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
    if (pthread_create(&s->thread, NULL, relay_live_sub_main, s) != 0) {
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
    etw_wake_signal(l->wake[1]);
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
            etw_wake_drain(l->wake[0]);
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
    if (l->lfd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* Bound under a name of its own, made to listen, then renamed over PATH: whoever sees
     * PATH can connect (a socket file that exists before listen() refuses connections). A
     * path too long for the side name is bound in place. */
    struct sockaddr_un b = a;
    int aside = snprintf(b.sun_path, sizeof b.sun_path, "%s.%ld~", path, (long)getpid()) <
                (int)sizeof b.sun_path;
    if (!aside)
        b = a;
    unlink(b.sun_path);
    /* Created with the final permissions: never a moment where others may connect. */
    mode_t old = umask((mode_t)(~l->o.mode & 0777));
    int rc = bind(l->lfd, (struct sockaddr *)&b, sizeof b);
    umask(old);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", b.sun_path, strerror(errno));
        return -1;
    }
    if (chmod(b.sun_path, (mode_t)l->o.mode) != 0 || listen(l->lfd, 64) != 0 ||
        (aside && rename(b.sun_path, path) != 0)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(b.sun_path);
        return -1;
    }
    snprintf(l->path, sizeof l->path, "%s", path); /* ours: removed at stop */
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
    if (etw_wake_pipe(l->wake) != 0) {
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
        etw_wake_signal(l->wake[1]);
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
    etw_wake_close(l->wake);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
