/* librdkafka's entry points for tests and benchmarks, resolved with dlopen (kafka_mock.h). */
#include "kafka_mock.h"

#include <dlfcn.h>
#include <string.h>

/* dlsym's object pointer into a function pointer's storage (ISO C has no cast between them). */
static int resolve(void *so, const char *name, void *fn_slot)
{
    void *sym = dlsym(so, name);
    memcpy(fn_slot, &sym, sizeof sym);
    return sym != NULL;
}

int kafka_api_load(kafka_api *a)
{
    memset(a, 0, sizeof *a);
    void *so = dlopen("librdkafka.so.1", RTLD_NOW);
    if (!so)
        return KAFKA_API_NO_LIBRARY;
    int all = resolve(so, "rd_kafka_conf_new", &a->conf_new);
    all &= resolve(so, "rd_kafka_new", &a->kafka_new);
    all &= resolve(so, "rd_kafka_destroy", &a->kafka_destroy);
    all &= resolve(so, "rd_kafka_mock_cluster_new", &a->mock_new);
    all &= resolve(so, "rd_kafka_mock_cluster_destroy", &a->mock_destroy);
    all &= resolve(so, "rd_kafka_mock_cluster_bootstraps", &a->mock_bootstraps);
    all &= resolve(so, "rd_kafka_mock_topic_create", &a->mock_topic_create);
    all &= resolve(so, "rd_kafka_conf_set", &a->conf_set);
    all &= resolve(so, "rd_kafka_topic_new", &a->topic_new);
    all &= resolve(so, "rd_kafka_topic_destroy", &a->topic_destroy);
    all &= resolve(so, "rd_kafka_produce", &a->produce);
    all &= resolve(so, "rd_kafka_flush", &a->flush);
    resolve(so, "rd_kafka_mock_group_initial_rebalance_delay_ms", &a->mock_group_initial_rebalance_delay_ms);
    return all ? 0 : KAFKA_API_NO_MOCK;
}
