/* Kafka transport for the relay (docs/wire-protocol.md "Kafka transport"): `etwire send
 * --kafka` publishes each buffer as one record keyed source/session/instance whose value is a
 * complete relay BUFFER frame, then an END frame; `etwire collect --kafka` consumes as a
 * consumer-group member and feeds each key to a collector sink (sink.h). Built only with
 * librdkafka (ETWIRE_HAVE_RDKAFKA). */
#ifndef ETWIRE_RELAY_KAFKA_H
#define ETWIRE_RELAY_KAFKA_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "relay/sink.h"

/* Largest record value: a 16 MiB ETW buffer in a BUFFER frame, with room to spare; both the
 * producer's and the consumer's message.max.bytes are set to it. */
#define RELAY_KAFKA_MAX_MESSAGE (17u << 20)
/* Side topic (name: topic + this suffix) holding each session's header buffer, keyed like the
 * main topic; meant to be compacted so it keeps the header of every live session. */
#define RELAY_KAFKA_HEADER_SUFFIX ".headers"

/* Applies ETWIRE_KAFKA_CONFIG ("name=value;name=value", librdkafka properties such as
 * security.protocol or sasl.*) to a configuration (an rd_kafka_conf_t); 0 or -1 with err. */
int relay_kafka_env_config(void *conf, char *err, size_t errlen);

typedef struct relay_kafka_producer relay_kafka_producer;

/* zstd: record batches compressed with zstd instead of lz4 (an error when this librdkafka
 * was built without it). */
relay_kafka_producer *relay_kafka_producer_new(const char *brokers, const char *topic, int zstd,
                                               int verbose, char *err, size_t errlen);
/* Publishes one input (.etl file, or "-" for a raw stream on stdin) as one session, paced by
 * the buffers' flush times when rate > 0 (pace.h); 0 or 1. */
int relay_kafka_send_one(relay_kafka_producer *p, const char *input, int raw, const char *source,
                         const char *session, uint64_t instance, double rate);
/* Waits for every delivery report (bounded); the number of records that failed (0 = all
 * delivered). Frees the producer. */
int relay_kafka_producer_finish(relay_kafka_producer *p, int timeout_ms);

typedef struct relay_kafka_collect_opts {
    const char *brokers, *topic, *group;
    relay_sink_opts sink;  /* out_dir is required: the .etl is the session's state */
    FILE *stats;
    atomic_int *stop;      /* set by SIGTERM/SIGINT */
    int verbose;
} relay_kafka_collect_opts;

/* Runs until *stop; 0 on a clean shutdown. */
int relay_kafka_collect(const relay_kafka_collect_opts *o);

#endif
