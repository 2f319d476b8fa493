/* What a Kafka collector keeps on disk about a session it took over in the middle
 * (docs/wire-protocol.md §11.2): its .etl then holds the header buffer and the buffers from
 * sequence number k on, and a small marker file next to it, <session>-<instance>.gap, holds k
 * so that a restart maps the .etl's buffers back to sequence numbers. */
#ifndef ETWIRE_RELAY_KAFKA_TAKEOVER_H
#define ETWIRE_RELAY_KAFKA_TAKEOVER_H

#include <stddef.h>
#include <stdint.h>

/* 1 if DIR/<source>/<session>-<instance>.etl holds at least a buffer's worth of bytes (the
 * sink then resumes from it), 0 otherwise. */
int relay_kafka_etl_present(const char *out_dir, const char *source, const char *session,
                            uint64_t instance);
/* The marker: 0 with *first (>= 1), 1 when there is none, -1 when it is unreadable. */
int relay_kafka_gap_read(const char *out_dir, const char *source, const char *session,
                         uint64_t instance, uint64_t *first);
/* Writes the marker durably (a temporary file renamed over it); 0 or -1 with err filled. */
int relay_kafka_gap_write(const char *out_dir, const char *source, const char *session,
                          uint64_t instance, uint64_t first, char *err, size_t errlen);
void relay_kafka_gap_remove(const char *out_dir, const char *source, const char *session,
                            uint64_t instance);

#endif
