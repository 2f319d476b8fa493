/* `etwire send --kafka`: one Kafka record per buffer (see kafka.h). The producer is
 * idempotent, so retries inside librdkafka can neither reorder nor duplicate records of a
 * partition: since all records of a session share one key, and so one partition, the topic
 * keeps the session's flush order. */
#ifdef ETWIRE_HAVE_RDKAFKA
#include "relay/kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/wire/msg.h"
#include "relay/input.h"
#include "relay/pace.h"

struct relay_kafka_producer {
    rd_kafka_t *rk;
    char topic[256];
    char header_topic[256 + sizeof RELAY_KAFKA_HEADER_SUFFIX];
    int verbose;
    const char *codec; /* of record batches */
    atomic_int failed; /* delivery reports with an error (set on librdkafka's poll thread) */
    rd_kafka_topic_t *topics[2]; /* the topic and its side topic, held from the start (know_topics) */
};

typedef struct send_state {
    relay_kafka_producer *p;
    char key[2 * ETW_RELAY_NAME_MAX + 20];
    uint64_t seq;
    relay_pace pace;
} send_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    relay_kafka_producer *p = opaque;
    (void)rk;
    if (m->err && atomic_fetch_add(&p->failed, 1) < 5)
        fprintf(stderr, "etwire send: kafka: record not delivered: %s\n", rd_kafka_err2str(m->err));
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
    return rd_kafka_conf_set(conf, name, value, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

int relay_kafka_env_config(void *conf, char *err, size_t errlen)
{
    const char *env = getenv("ETWIRE_KAFKA_CONFIG");
    char *copy = env ? strdup(env) : NULL, *save = NULL;
    int rc = 0;
    for (char *item = copy ? strtok_r(copy, ";", &save) : NULL; item && rc == 0; item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            snprintf(err, errlen, "ETWIRE_KAFKA_CONFIG: '%s' is not name=value", item);
            rc = -1;
            break;
        }
        *eq = 0;
        rc = set(conf, item, eq + 1, err, errlen);
    }
    free(copy);
    return rc;
}

/* zstd record batches need a librdkafka built with libzstd: say so plainly rather than let
 * the property's own error (or a failure at the first batch) explain it. */
static int have_zstd(rd_kafka_conf_t *conf)
{
    char features[1024];
    size_t n = sizeof features;
    if (rd_kafka_conf_get(conf, "builtin.features", features, &n) != RD_KAFKA_CONF_OK)
        return 0;
    for (char *save = NULL, *f = strtok_r(features, ",", &save); f; f = strtok_r(NULL, ",", &save))
        if (!strcmp(f, "zstd"))
            return 1;
    return 0;
}

/* Asks the brokers for both topics' partitions before the first record, and waits (bounded)
 * for the answer. Without this, records wait for librdkafka's topic scan (once a second)
 * whenever the topic is first used just after the bootstrap connection came up: the refresh
 * that connection starts then names no topic, the new topic's own query is skipped, and the
 * first run's every record sits unpartitioned for up to 1 s (measured against the mock cluster:
 * one run in 5-15 published 113 MB in 1.3 s instead of 0.3 s; debug=topic shows "Topic ...
 * metadata information unknown" at 1.000 s). A failed or late answer changes nothing: librdkafka's
 * own refresh then takes over as before. */
static void know_topics(relay_kafka_producer *p)
{
    const char *names[2] = {p->topic, p->header_topic};
    for (int i = 0; i < 2; i++) {
        const struct rd_kafka_metadata *md = NULL;
        p->topics[i] = rd_kafka_topic_new(p->rk, names[i], NULL);
        rd_kafka_resp_err_t e = p->topics[i] ? rd_kafka_metadata(p->rk, 0, p->topics[i], &md, 2000)
                                             : rd_kafka_last_error();
        if (md)
            rd_kafka_metadata_destroy(md);
        if (e && p->verbose)
            fprintf(stderr, "etwire send: kafka: %s: no metadata yet (%s); records wait for it\n", names[i],
                    rd_kafka_err2str(e));
    }
}

relay_kafka_producer *relay_kafka_producer_new(const char *brokers, const char *topic, int zstd,
                                               int verbose, char *err, size_t errlen)
{
    relay_kafka_producer *p = calloc(1, sizeof *p);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char max[32];
    snprintf(max, sizeof max, "%u", RELAY_KAFKA_MAX_MESSAGE);
    if (!p || !conf || strlen(topic) >= sizeof p->topic) {
        snprintf(err, errlen, "out of memory, or topic name too long");
        goto fail;
    }
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    snprintf(p->header_topic, sizeof p->header_topic, "%s%s", topic, RELAY_KAFKA_HEADER_SUFFIX);
    p->verbose = verbose;
    p->codec = zstd ? "zstd" : "lz4";
    if (zstd && !have_zstd(conf)) {
        snprintf(err, errlen, "--zstd: this librdkafka was built without zstd support "
                 "(builtin.features lacks zstd); leave --zstd out to use lz4");
        goto fail;
    }
    /* Bounded queue: a 16 MiB-buffer trace must not sit whole in memory while it is sent.
     * lz4 batches (always built into librdkafka), or zstd when asked (smaller, more CPU):
     * ETW buffers end in 0xFF filler, so the broker stores and serves far fewer bytes than
     * the buffers hold. Relay frames themselves stay uncompressed (§11.1). */
    if (set(conf, "bootstrap.servers", brokers, err, errlen) || set(conf, "enable.idempotence", "true", err, errlen) ||
        set(conf, "message.max.bytes", max, err, errlen) || set(conf, "queue.buffering.max.kbytes", "262144", err, errlen) ||
        set(conf, "linger.ms", "5", err, errlen) || set(conf, "compression.codec", p->codec, err, errlen) || set(conf, "partitioner", "murmur2_random", err, errlen) ||
        relay_kafka_env_config(conf, err, errlen))
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!p->rk)
        goto fail;
    know_topics(p);
    return p;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(p);
    return NULL;
}

/* Queues one record, taking ownership of value; waits while librdkafka's queue is full. */
static int produce(relay_kafka_producer *p, const char *topic, const char *key, uint8_t *value,
                   size_t len)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "etwire send: kafka: %s: %s\n", topic, rd_kafka_err2str(e));
            free(value);
            return -1;
        }
        rd_kafka_poll(p->rk, 100);
    }
}

/* The value is a whole BUFFER frame (header, seq, raw_size, bytes), never compressed. */
static uint8_t *buffer_record(uint64_t seq, const uint8_t *buf, uint32_t size, size_t *len)
{
    uint8_t *v = malloc((size_t)ETW_RELAY_BUFFER_PREFIX + size);
    if (!v)
        return NULL;
    size_t n = etw_relay_encode_buffer_prefix(v, seq, size, 0, size);
    if (n != ETW_RELAY_BUFFER_PREFIX) {
        free(v);
        return NULL;
    }
    memcpy(v + n, buf, size);
    *len = n + size;
    return v;
}

/* --rate: waits until the buffer is due, serving delivery reports meanwhile. */
static void pace(send_state *s, const uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    int ms = relay_pace_delay_ms(&s->pace, buf, size, clk);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int left = ms; left > 0;) {
        rd_kafka_poll(s->p->rk, left < 100 ? left : 100);
        clock_gettime(CLOCK_MONOTONIC, &t);
        left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
    }
}

/* The input's target (input.h): each buffer is read straight into its record's value, which
 * librdkafka then owns (RD_KAFKA_MSG_F_FREE): no copy of the buffer on the way. */
static uint8_t *on_reserve(void *ctx, uint32_t size)
{
    (void)ctx;
    if (size < ETW_RELAY_MIN_ETW_BUFFER || size > ETW_RELAY_MAX_ETW_BUFFER)
        return NULL;
    uint8_t *v = malloc((size_t)ETW_RELAY_BUFFER_PREFIX + size);
    return v ? v + ETW_RELAY_BUFFER_PREFIX : NULL;
}

static void on_cancel(void *ctx, uint8_t *buf)
{
    (void)ctx;
    free(buf - ETW_RELAY_BUFFER_PREFIX);
}

static int on_commit(void *ctx, uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    send_state *s = ctx;
    uint8_t *v = buf - ETW_RELAY_BUFFER_PREFIX;
    pace(s, buf, size, clk);
    if (etw_relay_encode_buffer_prefix(v, s->seq, size, 0, size) != ETW_RELAY_BUFFER_PREFIX) {
        free(v);
        return -1;
    }
    /* The header buffer also goes to the side topic, for a consumer that has to start a
     * session whose first records it never saw (docs, "Kafka transport"): copied before the
     * main record takes the value. */
    size_t len;
    uint8_t *h = s->seq == 0 ? buffer_record(0, buf, size, &len) : NULL;
    if (s->seq == 0 && !h) {
        free(v);
        return -1;
    }
    if (produce(s->p, s->p->topic, s->key, v, ETW_RELAY_BUFFER_PREFIX + (size_t)size) != 0) {
        free(h);
        return -1;
    }
    if (h && produce(s->p, s->p->header_topic, s->key, h, len) != 0)
        return -1;
    s->seq++;
    rd_kafka_poll(s->p->rk, 0); /* serves delivery reports as we go */
    return 0;
}

int relay_kafka_send_one(relay_kafka_producer *p, const char *input, int raw, const char *source,
                         const char *session, uint64_t instance, double rate)
{
    send_state s = {.p = p, .pace = {.rate = rate}};
    relay_input_target t = {&s, on_reserve, on_commit, on_cancel};
    snprintf(s.key, sizeof s.key, "%s/%s/%016llx", source, session, (unsigned long long)instance);
    char err[512] = "";
    int rc;
    FILE *f = NULL;
    if (!strcmp(input, "-") || raw) {
        f = strcmp(input, "-") ? fopen(input, "rb") : stdin;
        if (!f)
            snprintf(err, sizeof err, "%s: cannot open", input);
        rc = f ? relay_input_stream_into(f, &t, err, sizeof err) : -1;
        if (f && f != stdin)
            fclose(f);
    } else {
        rc = relay_input_index_into(input, rate > 0, &t, err, sizeof err);
    }
    if (rc == 0) {
        uint8_t *v = malloc(ETW_RELAY_HEADER_SIZE + 8);
        size_t n = v ? etw_relay_encode_end(v, ETW_RELAY_HEADER_SIZE + 8, s.seq) : 0;
        rc = n ? produce(p, p->topic, s.key, v, n) : (free(v), -1);
    }
    if (rc != 0)
        fprintf(stderr, "etwire send: %s: %s\n", s.key, *err ? err : "not published");
    else if (p->verbose)
        fprintf(stderr, "etwire send: %s: %llu buffers queued for %s (%s batches)\n", s.key,
                (unsigned long long)s.seq, p->topic, p->codec);
    return rc == 0 ? 0 : 1;
}

int relay_kafka_producer_finish(relay_kafka_producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms);
    int left = rd_kafka_outq_len(p->rk);
    if (left > 0)
        fprintf(stderr, "etwire send: kafka: %d records still undelivered after %d ms\n", left, timeout_ms);
    int failed = atomic_load(&p->failed) + (left > 0 ? left : 0);
    for (int i = 0; i < 2; i++)
        if (p->topics[i])
            rd_kafka_topic_destroy(p->topics[i]);
    rd_kafka_destroy(p->rk);
    free(p);
    return failed;
}

#endif
