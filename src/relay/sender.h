/* The sending side of one relay session (docs/wire-protocol.md): keeps every unacknowledged
 * buffer, reconnects with back-off after a lost connection and resends from the collector's
 * next_seq, so the collector receives each buffer exactly once and in order. Blocking and
 * single-threaded: push() returns once the buffer is queued and the window has room. With a
 * spool (spool.h) push() returns once the buffer is on disk: the window then only bounds
 * what is read back into memory, and the spool's size (spool_max) bounds the backlog. */
#ifndef ETWIRE_RELAY_SENDER_H
#define ETWIRE_RELAY_SENDER_H

#include <stdint.h>

typedef struct relay_sender_opts {
    const char *to;          /* collector HOST:PORT */
    const char *source;      /* validated relay names */
    const char *session;
    uint64_t instance;
    uint32_t window;         /* buffers in flight we ask for */
    int zstd;                /* compress frames when the collector agrees */
    void *tls_ctx;           /* NULL: plain TCP */
    const char *tls_host;    /* name the collector's certificate must carry */
    int retry_seconds;       /* give up after this long without progress */
    int resume;              /* the instance was given: skip buffers the collector holds */
    uint64_t spool_max;      /* with a spool: bytes on disk before push() waits for ACKs */
    int verbose;
} relay_sender_opts;

typedef struct relay_sender_stats {
    uint64_t buffers, bytes, wire_bytes, resent, reconnects, acked, skipped;
} relay_sender_stats;

typedef struct relay_sender relay_sender;
struct relay_spool;
struct relay_spool_info;

relay_sender *relay_sender_create(const relay_sender_opts *o);
/* Gives the sender a spool (it owns it from now on). With info, the spool was left by an
 * earlier run: its buffers info->first_seq .. next_seq-1 are sent again from disk. */
void relay_sender_attach_spool(relay_sender *s, struct relay_spool *sp, const struct relay_spool_info *info);
/* Copies the buffer, sends it (or keeps it until a reconnect); 0, or -1 on a permanent error. */
int relay_sender_push(relay_sender *s, const uint8_t *buf, uint32_t size);
/* push() in two steps, for a caller that reads the buffer itself: reserve waits (as push does)
 * until the window has room and returns memory for `size` bytes inside the frame the buffer
 * will be sent in (NULL on a permanent error); the caller fills it, then commit sends it as
 * push would, or cancel gives the memory back unsent. One reservation at a time. */
uint8_t *relay_sender_reserve(relay_sender *s, uint32_t size);
int relay_sender_commit(relay_sender *s);
void relay_sender_cancel(relay_sender *s);
/* Waits up to ms while keeping the connection serviced (ACKs read, PINGs sent). */
int relay_sender_idle(relay_sender *s, int ms);
/* END, then waits until every buffer is acknowledged; 0 or -1. The spool is deleted once
 * the collector acknowledged the END (and kept on disk on any failure). */
int relay_sender_finish(relay_sender *s);
const relay_sender_stats *relay_sender_get_stats(const relay_sender *s);
const char *relay_sender_error(const relay_sender *s);
void relay_sender_destroy(relay_sender *s);

#endif
