/* librdkafka's mock cluster for tests and benchmarks: the few librdkafka entry points they use,
 * resolved at run time (dlopen), so that neither needs librdkafka at link time and both can
 * skip cleanly where it is missing. Compiled into the test support library and into
 * bench_kafka_collect (bench/CMakeLists.txt); it uses neither cmocka nor etwire. */
#ifndef ETWIRE_TEST_KAFKA_MOCK_H
#define ETWIRE_TEST_KAFKA_MOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct kafka_api {
    void *(*conf_new)(void);
    void *(*kafka_new)(int type, void *conf, char *err, size_t errlen);
    void (*kafka_destroy)(void *rk);
    void *(*mock_new)(void *rk, int brokers);
    void (*mock_destroy)(void *mc);
    const char *(*mock_bootstraps)(const void *mc);
    int (*mock_topic_create)(void *mc, const char *topic, int partitions, int replication);
    int (*conf_set)(void *conf, const char *name, const char *value, char *err, size_t errlen);
    void *(*topic_new)(void *rk, const char *topic, void *conf);
    void (*topic_destroy)(void *rkt);
    int (*produce)(void *rkt, int32_t partition, int flags, void *payload, size_t len,
                   const void *key, size_t keylen, void *opaque);
    int (*flush)(void *rk, int ms);
    /* Newer librdkafka only (NULL in 2.0): the mock's wait for more members of an empty group. */
    void (*mock_group_initial_rebalance_delay_ms)(void *mc, int ms);
} kafka_api;

enum {
    KAFKA_API_NO_LIBRARY = -1, /* librdkafka.so.1 not found */
    KAFKA_API_NO_MOCK = -2     /* found, but without the mock cluster or the entry points above */
};

/* Loads librdkafka.so.1 (kept loaded) and fills a: 0, or one of the values above. */
int kafka_api_load(kafka_api *a);

#endif
