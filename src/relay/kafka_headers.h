/* Finds a session's header buffer in the side topic T.headers (docs/wire-protocol.md §11),
 * so that a collector meeting a session after its start can still open it. */
#ifndef ETWIRE_RELAY_KAFKA_HEADERS_H
#define ETWIRE_RELAY_KAFKA_HEADERS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/kafka.h"

typedef struct relay_kafka_headers relay_kafka_headers;

/* A consumer of topic + RELAY_KAFKA_HEADER_SUFFIX (no group); NULL with err filled. */
relay_kafka_headers *relay_kafka_headers_new(const char *brokers, const char *topic, char *err,
                                             size_t errlen);
/* The newest valid header buffer published under key, waiting at most timeout_ms:
 * 0 with *buf (malloc'd ETW buffer, the caller frees it) and *size; 1 when there is none;
 * -1 when the lookup failed or timed out. On 1 and -1, why says what happened. */
int relay_kafka_headers_find(relay_kafka_headers *h, const char *key, int timeout_ms,
                             uint8_t **buf, uint32_t *size, char *why, size_t whylen);
void relay_kafka_headers_free(relay_kafka_headers *h);

#endif
