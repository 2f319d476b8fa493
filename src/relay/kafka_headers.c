/* Looks up a session's header buffer in the side topic T.headers (docs/wire-protocol.md §11.1),
 * for a collector that meets a session after its start (kafka_collect.c).
 *
 * Design: on demand, not a cache of header buffers. A continuously read copy of T.headers
 * would cost memory for every session ever published (up to 16 MiB each, compaction keeps
 * them all), while takeovers are rare (a rebalance, a new member, retention). So a lookup
 * reads only the key's partition (the producer's murmur2 partitioner, etwire's and the Java
 * client's default, maps the key there) from where earlier lookups stopped up to its current
 * end, and keeps the newest valid record of the key. While reading it remembers the offset of
 * every key it passes, in a fixed-size table, so the many lookups one rebalance causes read
 * the partition once and then one record each. Memory: the table (fixed) plus one header
 * buffer (at most 16 MiB); time: each lookup is bounded by its timeout.
 *
 * Everything read is untrusted: a record counts only if its key matches exactly and its value
 * is a complete, uncompressed BUFFER frame with sequence number 0 whose ETW buffer declares
 * its own size; anything else is ignored as if absent. */
#ifdef ETWIRE_HAVE_RDKAFKA
#include "relay/kafka_headers.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "relay/wire/frame.h"
#include "relay/wire/msg.h"

/* Offsets remembered: 64 Ki keys in 1.5 MiB. Beyond it, lookups of keys not remembered
 * read their partition from its start again (slower, still correct). */
#define INDEX_SIZE (1u << 16)
#define MAX_PARTITIONS 65536

typedef struct slot {
    uint64_t hash; /* 0 = empty */
    int64_t offset;
    int32_t partition;
} slot;

struct relay_kafka_headers {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char topic[512];
    slot *index;
    uint32_t used;
    int full;          /* the index dropped a key: a miss must read from the start */
    int64_t *scanned;  /* per partition: offsets below are in the index (-1 none) */
    int32_t nparts;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a, 64 bits; never 0 (0 marks an empty slot). */
static uint64_t key_hash(const void *key, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const uint8_t *)key)[i]) * 1099511628211ull;
    return h ? h : 1;
}

static slot *index_find(relay_kafka_headers *h, uint64_t hash, int32_t partition, int insert)
{
    for (uint32_t i = (uint32_t)hash % INDEX_SIZE, n = 0; n < INDEX_SIZE; i = (i + 1) % INDEX_SIZE, n++) {
        slot *s = &h->index[i];
        if (s->hash == hash && s->partition == partition)
            return s;
        if (!s->hash) {
            /* Keep a quarter free so probes stay short; past that, forget new keys. */
            if (!insert || h->used >= INDEX_SIZE / 4 * 3) {
                h->full |= insert;
                return NULL;
            }
            h->used++;
            *s = (slot){.hash = hash, .partition = partition, .offset = -1};
            return s;
        }
    }
    return NULL;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
    return rd_kafka_conf_set(conf, name, value, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

relay_kafka_headers *relay_kafka_headers_new(const char *brokers, const char *topic, char *err,
                                             size_t errlen)
{
    relay_kafka_headers *h = calloc(1, sizeof *h);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char max[32], fetch[32], recv[32];
    snprintf(max, sizeof max, "%u", RELAY_KAFKA_MAX_MESSAGE);
    snprintf(fetch, sizeof fetch, "%u", 2 * RELAY_KAFKA_MAX_MESSAGE);
    snprintf(recv, sizeof recv, "%u", 2 * RELAY_KAFKA_MAX_MESSAGE + 4096);
    if (!h || !conf || !(h->index = calloc(INDEX_SIZE, sizeof *h->index)) ||
        strlen(topic) + sizeof RELAY_KAFKA_HEADER_SUFFIX > sizeof h->topic) {
        snprintf(err, errlen, "out of memory, or topic name too long");
        goto fail;
    }
    snprintf(h->topic, sizeof h->topic, "%s%s", topic, RELAY_KAFKA_HEADER_SUFFIX);
    /* Partitions are assigned by hand and no offset is ever committed: the group id is only
     * there because librdkafka's consumer wants one, it never joins. The end-of-partition
     * event says when a read has seen everything. Small prefetch queue: one lookup wants a
     * few records, not megabytes read ahead. */
    if (set(conf, "bootstrap.servers", brokers, err, errlen) ||
        set(conf, "group.id", "etwire-headers-lookup", err, errlen) ||
        set(conf, "enable.auto.commit", "false", err, errlen) ||
        set(conf, "enable.auto.offset.store", "false", err, errlen) ||
        set(conf, "enable.partition.eof", "true", err, errlen) ||
        set(conf, "message.max.bytes", max, err, errlen) || set(conf, "max.partition.fetch.bytes", max, err, errlen) ||
        set(conf, "fetch.max.bytes", fetch, err, errlen) || set(conf, "receive.message.max.bytes", recv, err, errlen) ||
        set(conf, "queued.max.messages.kbytes", "32768", err, errlen) ||
        relay_kafka_env_config(conf, err, errlen))
        goto fail;
    h->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    conf = NULL; /* owned by rk on success; on failure destroyed below */
    if (!h->rk)
        goto fail;
    rd_kafka_poll_set_consumer(h->rk);
    h->rkt = rd_kafka_topic_new(h->rk, h->topic, NULL);
    if (!h->rkt) {
        snprintf(err, errlen, "%s: %s", h->topic, rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    return h;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    relay_kafka_headers_free(h);
    return NULL;
}

void relay_kafka_headers_free(relay_kafka_headers *h)
{
    if (!h)
        return;
    if (h->rkt)
        rd_kafka_topic_destroy(h->rkt);
    if (h->rk) {
        rd_kafka_consumer_close(h->rk);
        rd_kafka_destroy(h->rk);
    }
    free(h->index);
    free(h->scanned);
    free(h);
}

/* The ETW buffer of a valid header record (see the top of the file), or NULL. */
static const uint8_t *header_of(const rd_kafka_message_t *m, uint32_t *size)
{
    etw_relay_header fh;
    etw_relay_buffer b;
    const uint8_t *v = m->payload;
    if (!v || etw_relay_header_parse(v, m->len, RELAY_KAFKA_MAX_MESSAGE, &fh) != ETW_RELAY_OK ||
        fh.type != ETW_RELAY_BUFFER || fh.flags != 0 || fh.length != m->len - ETW_RELAY_HEADER_SIZE ||
        etw_relay_parse_buffer(v + ETW_RELAY_HEADER_SIZE, fh.length, 0, &b) != ETW_RELAY_OK ||
        b.seq != 0 || etw_rd32(b.data) != b.data_len)
        return NULL;
    *size = b.data_len;
    return b.data;
}

static int key_is(const rd_kafka_message_t *m, const char *key, size_t len)
{
    return m->key && m->key_len == len && !memcmp(m->key, key, len);
}

/* Reads partition p from `from` until its end (or `one`: the first record only), keeping the
 * newest valid header of key in *best. 0 when the end was seen, -1 on timeout or error. */
static int read_partition(relay_kafka_headers *h, int32_t p, int64_t from, int64_t end, int one,
                          const char *key, uint8_t **best, uint32_t *best_size, int64_t deadline,
                          char *why, size_t whylen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, h->topic, p)->offset = from;
    rd_kafka_resp_err_t e = rd_kafka_assign(h->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(why, whylen, "assign: %s", rd_kafka_err2str(e));
        return -1;
    }
    size_t klen = strlen(key);
    int rc = -1;
    snprintf(why, whylen, "timed out");
    while (now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(h->rk, 100);
        if (!m)
            continue;
        int finished = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            finished = m->partition == p && m->offset >= end; /* not a stale one */
        } else if (m->err) {
            snprintf(why, whylen, "%s", rd_kafka_message_errstr(m));
            finished = -1;
        } else if (m->partition == p) {
            if (!one && m->key && m->key_len > 0) {
                slot *s = index_find(h, key_hash(m->key, m->key_len), p, 1);
                if (s && m->offset > s->offset)
                    s->offset = m->offset;
            }
            uint32_t size;
            const uint8_t *buf = key_is(m, key, klen) ? header_of(m, &size) : NULL;
            uint8_t *copy = buf ? malloc(size) : NULL;
            if (copy) {
                memcpy(copy, buf, size);
                free(*best);
                *best = copy;
                *best_size = size;
            }
            if (one || m->offset + 1 >= end)
                finished = 1;
            if (!one && h->scanned && m->offset + 1 > h->scanned[p])
                h->scanned[p] = m->offset + 1;
        }
        rd_kafka_message_destroy(m);
        if (finished) {
            rc = finished > 0 ? 0 : -1;
            break;
        }
    }
    rd_kafka_assign(h->rk, NULL);
    return rc;
}

int relay_kafka_headers_find(relay_kafka_headers *h, const char *key, int timeout_ms,
                             uint8_t **buf, uint32_t *size, char *why, size_t whylen)
{
    int64_t deadline = now_ms() + timeout_ms;
    *buf = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(h->rk, 0, h->rkt, &md, timeout_ms);
    if (e) {
        snprintf(why, whylen, "%s: metadata: %s", h->topic, rd_kafka_err2str(e));
        return -1;
    }
    int32_t nparts = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_resp_err_t terr = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_metadata_destroy(md);
    if (nparts <= 0 || nparts > MAX_PARTITIONS) {
        snprintf(why, whylen, "%s: %s", h->topic, terr ? rd_kafka_err2str(terr) : "no partitions");
        return 1;
    }
    if (nparts != h->nparts) { /* first lookup, or partitions were added: start over */
        int64_t *sc = realloc(h->scanned, (size_t)nparts * sizeof *sc);
        if (!sc) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        h->scanned = sc;
        h->nparts = nparts;
        for (int32_t i = 0; i < nparts; i++)
            sc[i] = -1;
        memset(h->index, 0, INDEX_SIZE * sizeof *h->index);
        h->used = 0;
        h->full = 0;
    }
    size_t klen = strlen(key);
    int32_t p = rd_kafka_msg_partitioner_murmur2_random(h->rkt, key, klen, nparts, NULL, NULL);
    int64_t lo, hi;
    int left = (int)(deadline - now_ms());
    e = rd_kafka_query_watermark_offsets(h->rk, h->topic, p, &lo, &hi, left > 0 ? left : 1);
    if (e) {
        snprintf(why, whylen, "%s [%d]: offsets: %s", h->topic, (int)p, rd_kafka_err2str(e));
        return -1;
    }
    if (hi <= lo) {
        snprintf(why, whylen, "%s [%d] is empty", h->topic, (int)p);
        return 1;
    }
    /* Then whatever the index has not covered: newer records, or all when it overflowed. */
    int64_t from = h->full || h->scanned[p] < lo ? lo : h->scanned[p];
    /* Remembered: fetch that one record. Not there (compacted away since, or another key
     * with the same hash): read the whole partition. */
    slot *s = index_find(h, key_hash(key, klen), p, 0);
    if (s && s->offset >= lo && s->offset < hi &&
        (read_partition(h, p, s->offset, hi, 1, key, buf, size, deadline, why, whylen), !*buf))
        from = lo;
    if (from < hi && read_partition(h, p, from, hi, 0, key, buf, size, deadline, why, whylen) != 0 && !*buf)
        return -1;
    if (!*buf) {
        snprintf(why, whylen, "no valid record for the key in %s [%d]", h->topic, (int)p);
        return 1;
    }
    return 0;
}

#endif
