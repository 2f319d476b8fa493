/* A live subscriber's thread (see live.h): one request (LIST or SUBSCRIBE, checked by
 * wire/live_proto.c, and for a remote subscriber against its allow-list), then the session's
 * header buffer, its queued buffers in order, drop counts and the end. The thread pops under
 * the hub's lock and writes without it: a stuck consumer blocks only itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "base/fd_io.h"
#include "relay/live_impl.h"
#include "relay/wire/live_proto.h"

/* ---- subscribers ---------------------------------------------------------------------- */

/* Writes a frame whole; 0, or -1 once the consumer is gone or took nothing for
 * SUBSCRIBER_WRITE_DEADLINE_MS (its reader reads all the time: it is stuck). */
static int send_frame(int fd, uint8_t type, const void *a, uint32_t alen, const void *b,
                      uint32_t blen)
{
    uint8_t hdr[ETW_LIVE_HEADER_SIZE];
    etw_live_header_format(hdr, type, alen + blen);
    struct iovec iov[3] = {{hdr, sizeof hdr}, {(void *)a, alen}, {(void *)b, blen}};
    return etw_fd_sendv_all(fd, iov, 3, etw_mono_ms() + SUBSCRIBER_WRITE_DEADLINE_MS) == ETW_FD_OK ? 0 : -1;
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

int relay_live_refuse(int fd, uint32_t code, const char *why)
{
    uint8_t c[4];
    le32(c, code);
    return send_frame(fd, ETW_LIVE_REFUSED, c, 4, why, (uint32_t)strlen(why));
}

static int read_request(int fd, etw_live_request *req, const char **why)
{
    int64_t deadline = etw_mono_ms() + REQUEST_DEADLINE_MS;
    uint8_t hdr[ETW_LIVE_HEADER_SIZE], body[ETW_LIVE_MAX_NAME];
    uint8_t type;
    uint32_t len;
    *why = "no request before the deadline";
    if (etw_fd_recv_all(fd, hdr, sizeof hdr, deadline, -1) != ETW_FD_OK)
        return -1;
    if (etw_live_header_parse(hdr, sizeof hdr, &type, &len, why) != 0)
        return -1;
    if (len > sizeof body) {
        *why = "request too long";
        return -1;
    }
    *why = "request cut short";
    if (etw_fd_recv_all(fd, body, len, deadline, -1) != ETW_FD_OK)
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
    int64_t now = etw_mono_ms();
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
            relay_live_item_unref(it);
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
        relay_live_item_unref(s->q[s->head]);
        s->head = (s->head + 1) % l->o.queue;
        s->count--;
    }
    pthread_mutex_unlock(&l->mu);
}

void *relay_live_sub_main(void *arg)
{
    live_sub *s = arg;
    relay_live *l = s->l;
    etw_live_request req;
    const char *why = NULL;
    if (read_request(s->fd, &req, &why) != 0) {
        relay_live_refuse(s->fd, ERROR_INVALID_PARAMETER, why);
    } else if (req.list) {
        list_sessions(l, s->fd, s->identity);
    } else {
        uint8_t *hdr = NULL;
        uint32_t hdr_size = 0;
        uint64_t instance = 0;
        if (!allowed(l, s->identity, req.source)) {
            char msg[512];
            snprintf(msg, sizeof msg, "subscriber %s may not see source %s", s->identity, req.source);
            relay_live_refuse(s->fd, ERROR_ACCESS_DENIED, msg);
        } else if (!attach(s, &req, &hdr, &hdr_size, &instance)) {
            char msg[300];
            snprintf(msg, sizeof msg, "no live session %s/%s", req.source, req.session);
            relay_live_refuse(s->fd, ERROR_WMI_INSTANCE_NOT_FOUND, msg);
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
        relay_live_item_unref(s->q[s->head]);
        s->head = (s->head + 1) % l->o.queue;
        s->count--;
    }
    s->finished = 1;
    pthread_mutex_unlock(&l->mu);
    etw_wake_signal(l->wake[1]);
    return NULL;
}
