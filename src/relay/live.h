/* Live publishing (docs/api/live.md): the collector's sessions, as they arrive, for real-time
 * consumers that subscribe by SOURCE/SESSION on a local socket. Each subscriber has its own
 * thread and a bounded queue of shared, reference-counted buffer copies: a full queue drops
 * whole buffers for that subscriber only (counted, and told to it), so a slow consumer never
 * holds back the sender, the files or the other subscribers. */
#ifndef ETWIRE_RELAY_LIVE_H
#define ETWIRE_RELAY_LIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct relay_live relay_live;
typedef struct relay_live_entry relay_live_entry;

typedef struct relay_live_opts {
    const char *address;   /* "unix:PATH" */
    unsigned mode;         /* permissions of the socket file (0: 0660, owner and group) */
    uint32_t queue;        /* buffers queued per subscriber before dropping (0: 256) */
    uint32_t max_subscribers; /* at once (0: 256) */
    const char *remote;    /* "HOST:PORT" for TLS subscribers (NULL: none) */
    void *tls_ctx;         /* the collector's server TLS context (relay/tls.h), required with remote */
    const char *const *allow; /* "SUBSCRIBER=SOURCE,..." ("*": all), NULL-terminated */
} relay_live_opts;

/* Listens and starts the accept thread; NULL with err filled. */
relay_live *relay_live_start(const relay_live_opts *o, char *err, size_t errlen);
/* Ends every subscription (END, closed), joins every thread, removes the socket, frees. */
void relay_live_stop(relay_live *l);

/* The sink's side. A session becomes live with its first buffer (its header buffer, kept for
 * every later subscriber); replayed buffers (a resumed session's saved ones) only set the
 * header. Returns the entry to pass on, created on the first call (*e NULL). */
void relay_live_buffer(relay_live *l, relay_live_entry **e, const char *source,
                       const char *session, uint64_t instance, const uint8_t *buf,
                       uint32_t size, int replayed);
/* The session's events so far, for `etwire sessions` (when the collector decodes them). */
void relay_live_events(relay_live *l, relay_live_entry *e, uint64_t events);
/* The session is over: subscribers get END (sender_ended: every buffer was published). */
void relay_live_close(relay_live *l, relay_live_entry *e, int sender_ended);

#endif
