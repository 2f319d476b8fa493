/* Live publishing, the sink's side (see live.h): a session becomes live with its first buffer,
 * each later buffer goes to every subscriber's bounded queue as one shared, reference-counted
 * copy (a full queue drops it for that subscriber only, counted), and the session's close
 * tells its subscribers. Nothing here blocks: publishing never waits for a consumer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd_io.h"
#include "relay/live_impl.h"
#include "relay/wire/live_proto.h"

void relay_live_item_unref(live_item *it)
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
        e->first_ms = etw_mono_ms();
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
