/* `etwire collect --kafka` (see kafka.h): a consumer-group member with one collector sink
 * per record key. Offsets are committed by hand, and only up to the first record whose buffer
 * has not completed yet, so a crash or a rebalance can only make the next owner see records
 * again, never skip one; those repeats are recognised by their sequence numbers and dropped.
 * When partitions are revoked their sessions are drained and closed first (every completion
 * fires), so the commit covers everything consumed; the next owner resumes each session from
 * its .etl in --out when it shares that directory. A member that does not (or that meets a
 * session whose first records are gone) starts the session from its header buffer in
 * T.headers and records the buffers it never saw as a gap (docs/wire-protocol.md §11.2). */
#ifdef ETWIRE_HAVE_RDKAFKA
#include "relay/kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/wire/msg.h"
#include "relay/collect.h"
#include "relay/kafka_collect_impl.h"

#define COMMIT_EVERY_MS 200

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static kpart *part(kcollect *c, int32_t p)
{
    if (p < 0 || p > 65535)
        return NULL;
    if (p >= c->nparts) {
        kpart *n = realloc(c->parts, (size_t)(p + 1) * sizeof *n);
        if (!n)
            return NULL;
        for (int32_t i = c->nparts; i <= p; i++)
            n[i] = (kpart){.done = -1, .committed = -1};
        c->parts = n;
        c->nparts = p + 1;
    }
    return &c->parts[p];
}

static int push_pending(kpart *k, pending e)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        pending *q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
        for (size_t i = 0; i < k->n; i++)
            q[i] = k->q[(k->head + i) % k->cap];
        free(k->q);
        k->q = q;
        k->cap = cap;
        k->head = 0;
    }
    k->q[(k->head + k->n++) % k->cap] = e;
    if (e.s)
        e.s->refs++;
    return 0;
}

static void free_session_if_unused(kcollect *c, ksession *s)
{
    if (s->sink || s->refs || s->lost)
        return;
    for (ksession **pp = &c->buckets[kc_hash(s->key)]; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            free(s);
            return;
        }
}

/* Moves `done` past every leading record whose buffer has completed. */
static void advance(kcollect *c, kpart *k)
{
    while (k->n) {
        pending *e = &k->q[k->head];
        if (e->s && e->s->sink && relay_sink_completed(e->s->sink) <= e->seq)
            break;
        k->done = e->offset + 1;
        k->head = (k->head + 1) % k->cap;
        k->n--;
        if (e->s) {
            e->s->refs--;
            free_session_if_unused(c, e->s);
        }
    }
}

/* Commits every partition whose committable offset moved (only partitions listed in `only`,
 * when given). */
static void commit(kcollect *c, const rd_kafka_topic_partition_list_t *only, int async)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int32_t p = 0; p < c->nparts; p++) {
        kpart *k = &c->parts[p];
        advance(c, k);
        if (k->done < 0 || k->done == k->committed)
            continue;
        if (only && !rd_kafka_topic_partition_list_find(only, c->o->topic, p))
            continue;
        rd_kafka_topic_partition_list_add(l, c->o->topic, p)->offset = k->done;
        k->committed = k->done;
    }
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, async);
        if (e && c->o->verbose)
            relay_log("kafka: commit: %s", rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void close_session(kcollect *c, ksession *s)
{
    if (s->lost) { /* released: a later owner (or this one) may find its header then */
        kc_gap_stats(c, s);
        s->lost = 0;
        return;
    }
    if (!s->sink)
        return;
    relay_sink_end(s->sink); /* every buffer completes: its records become committable */
    relay_sink_close(s->sink, c->o->stats);
    s->sink = NULL;
    if (s->first)
        kc_gap_stats(c, s);
    if (c->o->verbose)
        relay_log("kafka: %s closed", s->key);
}

/* Revoked partitions (or shutdown, with parts NULL): drain and close their sessions, commit
 * what they consumed, and forget them, so the next owner starts from that commit. */
static void release(kcollect *c, const rd_kafka_topic_partition_list_t *parts)
{
    for (int b = 0; b < BUCKETS; b++)
        for (ksession *s = c->buckets[b], *next; s; s = next) {
            next = s->next;
            if (!parts || rd_kafka_topic_partition_list_find(parts, c->o->topic, s->partition))
                close_session(c, s);
        }
    commit(c, parts, 0);
    for (int b = 0; b < BUCKETS; b++)
        for (ksession *s = c->buckets[b], *next; s; s = next) {
            next = s->next;
            free_session_if_unused(c, s);
        }
    for (int32_t p = 0; p < c->nparts; p++) {
        if (parts && !rd_kafka_topic_partition_list_find(parts, c->o->topic, p))
            continue;
        kpart *k = &c->parts[p];
        advance(c, k); /* every session closed: the queue empties */
        *k = (kpart){.q = k->q, .cap = k->cap, .done = -1, .committed = -1};
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kcollect *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (c->o->verbose)
            relay_log("kafka: %d partitions assigned", parts->cnt);
        rd_kafka_assign(rk, parts);
    } else {
        if (c->o->verbose)
            relay_log("kafka: %d partitions revoked", parts->cnt);
        release(c, parts);
        rd_kafka_assign(rk, NULL);
    }
}

/* One record: a BUFFER or END frame for the session of its key. */
static void consume(kcollect *c, const rd_kafka_message_t *m)
{
    kpart *k = part(c, m->partition);
    if (!k) {
        c->fatal = 1;
        return;
    }
    pending e = {.offset = m->offset};
    char key[KEY_MAX + 1];
    etw_relay_header h;
    etw_relay_buffer b;
    uint64_t count = 0;
    const uint8_t *v = m->payload;
    if (!m->key || m->key_len > KEY_MAX || !v ||
        etw_relay_header_parse(v, m->len, RELAY_KAFKA_MAX_MESSAGE, &h) != ETW_RELAY_OK ||
        h.length != m->len - ETW_RELAY_HEADER_SIZE) {
        relay_log("kafka: partition %d offset %lld: not a relay frame: skipped", (int)m->partition,
                  (long long)m->offset);
        goto done;
    }
    memcpy(key, m->key, m->key_len);
    key[m->key_len] = 0;
    const uint8_t *payload = v + ETW_RELAY_HEADER_SIZE;
    int is_end = h.type == ETW_RELAY_END;
    if (is_end ? etw_relay_parse_u64(payload, h.length, &count) != ETW_RELAY_OK
               : h.type != ETW_RELAY_BUFFER || h.flags != 0 ||
                     etw_relay_parse_buffer(payload, h.length, h.flags, &b) != ETW_RELAY_OK) {
        relay_log("kafka: %s: offset %lld: not an END or uncompressed BUFFER frame: skipped", key,
                  (long long)m->offset);
        goto done;
    }
    ksession *s = kc_find(c, key);
    if (!s)
        s = kc_start_session(c, key, m->partition, is_end ? UINT64_MAX : b.seq);
    if (c->fatal)
        return; /* its .etl cannot be opened: leave the record uncommitted */
    if (s && s->lost)
        s->lost_records++;
    if (!s || !s->sink)
        goto done; /* bad key, a session that already ended (a repeat), or one never started */
    uint64_t next = kc_seq_of(s, relay_sink_next_seq(s->sink));
    if (is_end) {
        if (count == next) {
            relay_sink_set_ended(s->sink);
            close_session(c, s);
            free_session_if_unused(c, s);
        } else if (count > next) {
            relay_log("kafka: %s: END after %llu buffers, only %llu received", key,
                      (unsigned long long)count, (unsigned long long)next);
        }
        goto done;
    }
    if (b.seq < next) { /* consumed before a rebalance or restart: already in the .etl */
        c->dropped++;
        goto done;
    }
    if (b.seq > next) {
        if (c->gaps++ < 5)
            relay_log("kafka: %s: buffer %llu while %llu is expected: skipped", key,
                      (unsigned long long)b.seq, (unsigned long long)next);
        goto done;
    }
    /* Bounded memory, as on a TCP connection: wait while the session holds its quota. */
    uint64_t quota = c->o->sink.memory_limit ? c->o->sink.memory_limit : UINT64_MAX;
    while (relay_sink_bytes_in_flight(s->sink) >= quota && !atomic_load(c->o->stop) &&
           !relay_sink_failed(s->sink))
        relay_sink_wait(s->sink, 100);
    /* A copy, since the sink keeps buffers until their completion; malloc aligns it. */
    uint8_t *copy = malloc(b.data_len);
    char err[512] = "out of memory";
    uint64_t at = relay_sink_next_seq(s->sink); /* the sink's number for this buffer */
    if (copy)
        memcpy(copy, b.data, b.data_len);
    /* Not waiting for the .etl here (a round trip to the writer per record): the record is
     * committed only once its buffer has completed, which comes after it is written. */
    if (!copy || relay_sink_add_unsaved(s->sink, copy, copy, b.data_len, err, sizeof err) != 0) {
        if (!copy || relay_sink_failed(s->sink)) { /* not durable: cannot go on */
            relay_log("kafka: %s: %s", key, err);
            c->fatal = 1;
            return; /* not committed: the record is read again after a restart */
        }
        /* Refused by the stream: neither saved nor counted (like the TCP collector), so the
         * session's later buffers come after a gap and are skipped. */
        relay_log("kafka: %s: offset %lld: buffer %llu %s; not saved", key, (long long)m->offset,
                  (unsigned long long)b.seq, err);
        goto done;
    }
    e.s = s;
    e.seq = at;
    c->unsaved = 1;
done:
    if (push_pending(k, e) != 0)
        c->fatal = 1;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
    return rd_kafka_conf_set(conf, name, value, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

static rd_kafka_t *consumer_new(kcollect *c, char *err, size_t errlen)
{
    const relay_kafka_collect_opts *o = c->o;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char max[32], fetch[32], recv[32];
    /* A fetch response may pass fetch.max.bytes by a partition's worth (a broker always
     * returns a first batch whole, the mock cluster fills partitions past it), and its framing
     * grows with the partitions it covers: a response larger than receive.message.max.bytes is
     * refused and fetched again, for ever (measured on the mock with 512 partitions: 36.1 MB
     * against 2 x 17 MiB + 4 KiB). So: one largest record per fetch, room for one more and
     * 1 MiB of framing per response; the memory bound stays about 35 MiB. */
    snprintf(max, sizeof max, "%u", RELAY_KAFKA_MAX_MESSAGE);
    snprintf(fetch, sizeof fetch, "%u", RELAY_KAFKA_MAX_MESSAGE);
    snprintf(recv, sizeof recv, "%u", 2 * RELAY_KAFKA_MAX_MESSAGE + (1u << 20));
    if (set(conf, "bootstrap.servers", o->brokers, err, errlen) || set(conf, "group.id", o->group, err, errlen) ||
        set(conf, "enable.auto.commit", "false", err, errlen) || set(conf, "auto.offset.reset", "earliest", err, errlen) ||
        set(conf, "message.max.bytes", max, err, errlen) || set(conf, "max.partition.fetch.bytes", max, err, errlen) ||
        set(conf, "fetch.max.bytes", fetch, err, errlen) || set(conf, "receive.message.max.bytes", recv, err, errlen) ||
        set(conf, "queued.max.messages.kbytes", "65536", err, errlen) ||
        relay_kafka_env_config(conf, err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

/* The topic went quiet: the writers save what their sessions took, so those records become
 * committable without waiting for more to arrive. */
static void kc_write_soon(kcollect *c)
{
    if (!c->unsaved)
        return;
    c->unsaved = 0;
    for (int b = 0; b < BUCKETS; b++)
        for (ksession *s = c->buckets[b]; s; s = s->next)
            if (s->sink)
                relay_sink_write_soon(s->sink);
}

int relay_kafka_collect(const relay_kafka_collect_opts *o)
{
    kcollect *c = calloc(1, sizeof *c);
    char err[512];
    if (!c)
        return 1;
    c->o = o;
    c->rk = consumer_new(c, err, sizeof err);
    if (!c->rk) {
        fprintf(stderr, "etwire collect: kafka: %s\n", err);
        free(c);
        return 2;
    }
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e)
        fprintf(stderr, "etwire collect: kafka: subscribe: %s\n", rd_kafka_err2str(e));
    int64_t last_commit = now_ms();
    while (!e && !atomic_load(o->stop) && !c->fatal) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
        if (!m) { /* nothing waiting: what was taken goes to the .etl before this sleeps */
            kc_write_soon(c);
            m = rd_kafka_consumer_poll(c->rk, 100);
        }
        if (m && !m->err)
            consume(c, m);
        else if (m && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && o->verbose)
            relay_log("kafka: %s", rd_kafka_message_errstr(m));
        if (m)
            rd_kafka_message_destroy(m);
        if (now_ms() - last_commit >= COMMIT_EVERY_MS) { /* one request per interval, not per record */
            commit(c, NULL, 1);
            last_commit = now_ms();
        }
    }
    /* Drain, close and commit everything while still a group member; leaving the group
     * then revokes partitions that hold nothing more. */
    release(c, NULL);
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    if (o->verbose || c->gaps || c->takeovers || c->lost)
        relay_log("kafka: %llu repeated records dropped, %llu records skipped after a gap, "
                  "%llu sessions taken over from %s%s (%llu buffers missing), %llu sessions "
                  "skipped without a header", (unsigned long long)c->dropped,
                  (unsigned long long)c->gaps, (unsigned long long)c->takeovers, o->topic,
                  RELAY_KAFKA_HEADER_SUFFIX, (unsigned long long)c->missing,
                  (unsigned long long)c->lost);
    relay_kafka_headers_free(c->headers);
    for (int b = 0; b < BUCKETS; b++)
        for (ksession *s = c->buckets[b], *next; s; s = next) {
            next = s->next;
            free(s);
        }
    for (int32_t p = 0; p < c->nparts; p++)
        free(c->parts[p].q);
    free(c->parts);
    int rc = c->fatal || e ? 1 : 0;
    free(c);
    return rc;
}

#endif
