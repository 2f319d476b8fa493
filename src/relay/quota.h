/* Per-source quotas of `etwire collect` (docs/wire-protocol.md §10.2): every connection of a
 * source (one per session) draws on one memory budget and one byte-rate budget, so a source
 * cannot multiply its share by opening more connections. Thread-safe: each connection thread
 * calls in with its own counters; one mutex per source, held only for arithmetic, so a slow or
 * hostile source never holds up the others.
 *
 * Memory: each connection of a source is guaranteed a reserve of R bytes in flight (what its
 * buffer-stream session may hold while waiting for more data, so it can always make progress);
 * above its reserve it draws from the source's shared pool, quota - connections * R. A HELLO
 * that would leave no room for its reserve is refused (RESOURCES; the sender retries). So the
 * source's bytes in flight stay within the quota plus one frame per connection (the frame
 * being read when the limit was reached). */
#ifndef ETWIRE_RELAY_QUOTA_H
#define ETWIRE_RELAY_QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct relay_quota relay_quota;
typedef struct relay_quota_src relay_quota_src;

/* memory: bytes in flight per source (0 = no source limit, accounting only); rate: bytes per
 * second per source (0 = unlimited); reserve: R above. */
relay_quota *relay_quota_create(uint64_t memory, uint64_t rate, uint64_t reserve);
/* A connection of source starts; NULL (err filled) when the source has no room for another. */
relay_quota_src *relay_quota_join(relay_quota *q, const char *source, char *err, size_t errlen);
/* The connection ends; *mine (its bytes in flight as last reported) is given back. */
void relay_quota_leave(relay_quota *q, relay_quota_src *s, uint64_t *mine);
/* Reports the connection's bytes in flight (now; *mine holds the last report) and says
 * whether it may read more. */
int relay_quota_may_read(relay_quota_src *s, uint64_t *mine, uint64_t now);
/* Waits at most ms for another connection of the source to free bytes in flight. */
void relay_quota_wait(relay_quota_src *s, int ms);
/* Milliseconds to wait before the source may read again (0: read now), and the bytes read. */
int relay_quota_rate_wait_ms(relay_quota_src *s);
void relay_quota_rate_take(relay_quota_src *s, uint64_t bytes);
/* Adds a pause this connection made for the source's quotas to its statistics. */
void relay_quota_throttled(relay_quota_src *s, int ms);
/* One JSON line per source seen (the collector is stopping). */
void relay_quota_stats(relay_quota *q, FILE *out);
void relay_quota_destroy(relay_quota *q);

#endif
