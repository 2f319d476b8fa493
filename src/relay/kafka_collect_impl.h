/* Internals of `etwire collect --kafka` shared by kafka_collect.c (the consumer loop,
 * offsets and rebalances) and kafka_sessions.c (finding, opening, resuming and taking
 * over the session of a record key). */
#ifndef ETWIRE_RELAY_KAFKA_COLLECT_IMPL_H
#define ETWIRE_RELAY_KAFKA_COLLECT_IMPL_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "relay/wire/msg.h"
#include "relay/collect.h"
#include "relay/kafka.h"
#include "relay/kafka_headers.h"

#define BUCKETS 1024
#define KEY_MAX (2 * ETW_RELAY_NAME_MAX + 20)
/* Bound on one T.headers lookup; the consumer loop waits meanwhile (far below Kafka's
 * max.poll.interval.ms, so the member is not considered dead). */
#define HEADER_WAIT_MS 10000

typedef struct ksession {
    char key[KEY_MAX + 1];
    int32_t partition;
    relay_sink *sink; /* NULL once closed: all its buffers had completed */
    uint32_t refs;    /* pending records that still point here */
    /* 0: held from its start, the sink's buffer n is seq n. k >= 1: taken over at buffer k,
     * the sink's buffer 0 is the header (seq 0) and its buffer n >= 1 is seq n + k - 1. */
    uint64_t first;
    int lost;              /* no header to start it: every record is skipped until release */
    uint64_t lost_records; /* records skipped so */
    struct ksession *next;
} ksession;

/* One consumed record awaiting its buffer's completion before its offset may be committed. */
typedef struct pending {
    int64_t offset;
    ksession *s; /* NULL: nothing to wait for (a duplicate, an END) */
    uint64_t seq;
} pending;

typedef struct kpart {
    pending *q;
    size_t head, n, cap;
    int64_t done;      /* next offset to commit (everything below is complete), -1 none */
    int64_t committed; /* last committed value of done */
} kpart;

typedef struct kcollect {
    const relay_kafka_collect_opts *o;
    rd_kafka_t *rk;
    ksession *buckets[BUCKETS];
    kpart *parts;
    int32_t nparts;
    relay_kafka_headers *headers; /* opened at the first takeover */
    uint64_t dropped, gaps, takeovers, missing, lost;
    int fatal;
    int unsaved; /* buffers were added since the writers were last woken (kc_write_soon) */
} kcollect;

uint32_t kc_hash(const char *key);
/* The session's sequence number of the sink's buffer n (they differ after a takeover). */
uint64_t kc_seq_of(const ksession *s, uint64_t n);
ksession *kc_find(kcollect *c, const char *key);
/* First record `seq` of a key without state here: opens, resumes or takes over its session;
 * NULL: skip the record (bad key, no way to start it, or c->fatal). */
ksession *kc_start_session(kcollect *c, const char *key, int32_t partition, uint64_t seq);
/* The stats line of a session with a gap (taken over, or skipped for want of a header). */
void kc_gap_stats(kcollect *c, const ksession *s);

#endif
