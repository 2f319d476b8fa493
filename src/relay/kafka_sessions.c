/* The sessions of `etwire collect --kafka`, one per record key (source/session/instance):
 * found by key, opened fresh, resumed from the .etl in --out, or taken over mid-stream with
 * the header buffer from T.headers (docs/wire-protocol.md §11.2). */
#ifdef ETWIRE_HAVE_RDKAFKA
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/kafka_collect_impl.h"
#include "relay/kafka_takeover.h"

uint32_t kc_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % BUCKETS;
}

/* Sequence numbers of the session from the sink's count of buffers, and back. */
uint64_t kc_seq_of(const ksession *s, uint64_t n)
{
    return s->first && n ? n + s->first - 1 : n;
}

/* The stats line of a session that has a gap (after the sink's own line, for a takeover),
 * so the hole is visible where the session's figures are. */
void kc_gap_stats(kcollect *c, const ksession *s)
{
    char source[ETW_RELAY_NAME_MAX + 1], session[ETW_RELAY_NAME_MAX + 1];
    const char *a = strchr(s->key, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    if (!c->o->stats || !b)
        return;
    snprintf(source, sizeof source, "%.*s", (int)(a - s->key), s->key);
    snprintf(session, sizeof session, "%.*s", (int)(b - a - 1), a + 1);
    if (s->lost)
        fprintf(c->o->stats, "{\"source\":\"%s\",\"session\":\"%s-%s\",\"kafka_no_header\":true,"
                "\"records_skipped\":%llu}\n", source, session, b + 1,
                (unsigned long long)s->lost_records);
    else
        fprintf(c->o->stats, "{\"source\":\"%s\",\"session\":\"%s-%s\",\"kafka_taken_over_at\":%llu,"
                "\"buffers_missing\":%llu,\"missing_first\":%d,\"missing_last\":%llu}\n", source,
                session, b + 1, (unsigned long long)s->first, (unsigned long long)(s->first - 1),
                s->first > 1, (unsigned long long)(s->first - 1));
    fflush(c->o->stats);
}

/* Parses "source/session/instance" (instance: 16 hex digits). */
static int parse_key(const char *key, char *source, char *session, uint64_t *instance)
{
    const char *a = strchr(key, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    if (!b || !etw_relay_name_valid(key, (size_t)(a - key)) ||
        !etw_relay_name_valid(a + 1, (size_t)(b - a - 1)) || strlen(b + 1) != 16)
        return -1;
    char *end;
    *instance = strtoull(b + 1, &end, 16);
    if (*end)
        return -1;
    memcpy(source, key, (size_t)(a - key));
    source[a - key] = 0;
    memcpy(session, a + 1, (size_t)(b - a - 1));
    session[b - a - 1] = 0;
    return 0;
}

ksession *kc_find(kcollect *c, const char *key)
{
    for (ksession *s = c->buckets[kc_hash(key)]; s; s = s->next)
        if (!strcmp(s->key, key))
            return s;
    return NULL;
}

static ksession *new_session(kcollect *c, const char *key, int32_t partition)
{
    ksession *s = calloc(1, sizeof *s);
    if (!s) {
        c->fatal = 1;
        return NULL;
    }
    uint32_t h = kc_hash(key);
    snprintf(s->key, sizeof s->key, "%s", key);
    s->partition = partition;
    s->next = c->buckets[h];
    c->buckets[h] = s;
    return s;
}

/* The key's header buffer from T.headers, or NULL (logged). */
static uint8_t *fetch_header(kcollect *c, const char *key, uint32_t *size)
{
    char why[512] = "";
    uint8_t *buf = NULL;
    if (!c->headers)
        c->headers = relay_kafka_headers_new(c->o->brokers, c->o->topic, why, sizeof why);
    int rc = c->headers ? relay_kafka_headers_find(c->headers, key, HEADER_WAIT_MS, &buf, size, why, sizeof why) : -1;
    if (rc != 0)
        relay_log("kafka: %s: no header buffer in %s%s (%s)", key, c->o->topic, RELAY_KAFKA_HEADER_SUFFIX, why);
    return rc == 0 ? buf : NULL;
}

/* A session without state here, met at a BUFFER record `seq` > 0 and whose .etl holds
 * nothing, and no header to start it: its records are skipped (and counted) until its
 * partition is released. Met at its END (seq = UINT64_MAX), there is nothing left to skip:
 * a session that a previous owner finished, or one never seen; no state is kept. */
static ksession *lose(kcollect *c, const char *key, int32_t partition, uint64_t seq)
{
    if (seq == UINT64_MAX) {
        if (c->o->verbose)
            relay_log("kafka: %s: END of a session not held here: ignored", key);
        return NULL;
    }
    ksession *s = new_session(c, key, partition);
    if (!s)
        return NULL;
    s->lost = 1;
    c->lost++;
    relay_log("kafka: %s: buffer %llu without the session's start or header buffer: "
              "session skipped", key, (unsigned long long)seq);
    return s;
}

/* First record of a key without state here: opens or resumes its session (docs/wire-protocol.md
 * §11.2). With the key's .etl in --out, the session resumes from it (exact continuation).
 * Without one, at buffer 0 it starts afresh; at buffer k > 0 it is taken over: the header
 * buffer comes from T.headers, is saved and processed first, and buffers 1..k-1 are a gap.
 * NULL: skip the record (bad key, or c->fatal). */
ksession *kc_start_session(kcollect *c, const char *key, int32_t partition, uint64_t seq)
{
    char source[ETW_RELAY_NAME_MAX + 1], session[ETW_RELAY_NAME_MAX + 1], err[512];
    uint64_t instance, next_seq, first = 0;
    const char *dir = c->o->sink.out_dir;
    if (parse_key(key, source, session, &instance) != 0) {
        relay_log("kafka: record key '%s' is not source/session/instance: skipped", key);
        return NULL;
    }
    uint8_t *header = NULL;
    uint32_t header_size = 0;
    int present = relay_kafka_etl_present(dir, source, session, instance);
    /* Look before the sink creates the .etl: a session that cannot start leaves no file. */
    if (!present && seq > 0 && (seq == UINT64_MAX || !(header = fetch_header(c, key, &header_size))))
        return lose(c, key, partition, seq);
    relay_sink *sink = relay_sink_open(&c->o->sink, source, session, instance, &next_seq, err, sizeof err);
    if (!sink) {
        relay_log("kafka: %s: %s", key, err);
        free(header);
        c->fatal = 1;
        return NULL;
    }
    int gap = relay_kafka_gap_read(dir, source, session, instance, &first);
    if (next_seq > 0 && gap < 0) {
        relay_log("kafka: %s: unreadable takeover marker (.gap) next to the .etl", key);
        relay_sink_close(sink, NULL);
        free(header);
        c->fatal = 1;
        return NULL;
    }
    if (next_seq == 0) {
        first = 0;
        if (gap == 0) /* stale: a crash before the header was saved */
            relay_kafka_gap_remove(dir, source, session, instance);
        /* The .etl existed but held no whole buffer: like no .etl at all. */
        if (seq > 0 && !header && (seq == UINT64_MAX || !(header = fetch_header(c, key, &header_size)))) {
            relay_sink_close(sink, NULL);
            return lose(c, key, partition, seq);
        }
    }
    if (header) {
        /* The marker is durable before the .etl holds the header (kafka_takeover.h). */
        if (relay_kafka_gap_write(dir, source, session, instance, seq, err, sizeof err) != 0) {
            relay_log("kafka: %s: %s", key, err);
            relay_sink_close(sink, NULL);
            free(header);
            c->fatal = 1;
            return NULL;
        }
        if (relay_sink_add(sink, header, header, header_size, err, sizeof err) != 0 &&
            relay_sink_next_seq(sink) == 0) { /* not written */
            relay_log("kafka: %s: %s", key, err);
            relay_sink_close(sink, NULL);
            c->fatal = 1;
            return NULL;
        }
        first = seq;
        c->takeovers++;
        c->missing += seq - 1;
        if (seq > 1)
            relay_log("kafka: %s: taken over at buffer %llu with the header from %s%s; buffers 1..%llu "
                      "missing", key, (unsigned long long)seq, c->o->topic, RELAY_KAFKA_HEADER_SUFFIX,
                      (unsigned long long)(seq - 1));
        else
            relay_log("kafka: %s: taken over at buffer 1 with the header from %s%s; none missing", key,
                      c->o->topic, RELAY_KAFKA_HEADER_SUFFIX);
    }
    ksession *s = new_session(c, key, partition);
    if (!s) {
        relay_sink_close(sink, NULL);
        return NULL;
    }
    s->sink = sink;
    s->first = first;
    if (c->o->verbose)
        relay_log("kafka: %s opened at buffer %llu", key, (unsigned long long)kc_seq_of(s, relay_sink_next_seq(sink)));
    return s;
}
#endif
