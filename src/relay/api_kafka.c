/* The Kafka transport in the public API (include/etwire/relay.h): thin wrappers over kafka.h,
 * and without librdkafka (ETWIRE_HAVE_RDKAFKA unset) entry points that fail with a message. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/relay.h>

#include "relay/kafka.h"
#include "relay/live.h"

#define NO_KAFKA "this etwire was built without Kafka support (librdkafka)"

struct etwire_relay_kafka_collector {
    relay_kafka_collect_opts o;
    ETWIRE_RELAY_SESSION_CALLBACKS cb;
    atomic_int stop;
};

#ifdef ETWIRE_HAVE_RDKAFKA

ETWIRE_RELAY_API int etwire_relay_kafka_available(void)
{
    return 1;
}

ETWIRE_RELAY_API etwire_relay_kafka_producer *etwire_relay_kafka_producer_new(
    const char *brokers, const char *topic, int zstd, int verbose, char *err, size_t errlen)
{
    return (etwire_relay_kafka_producer *)relay_kafka_producer_new(brokers, topic, zstd, verbose, err, errlen);
}

ETWIRE_RELAY_API int etwire_relay_kafka_send(etwire_relay_kafka_producer *p, const char *input, int raw,
                                             const char *source, const char *session, ULONG64 instance,
                                             double rate)
{
    return relay_kafka_send_one((relay_kafka_producer *)p, input, raw, source, session, instance, rate);
}

ETWIRE_RELAY_API int etwire_relay_kafka_producer_finish(etwire_relay_kafka_producer *p, int timeout_ms)
{
    return relay_kafka_producer_finish((relay_kafka_producer *)p, timeout_ms);
}

#else

ETWIRE_RELAY_API int etwire_relay_kafka_available(void)
{
    return 0;
}

ETWIRE_RELAY_API etwire_relay_kafka_producer *etwire_relay_kafka_producer_new(
    const char *brokers, const char *topic, int zstd, int verbose, char *err, size_t errlen)
{
    snprintf(err, errlen, NO_KAFKA);
    return NULL;
}

ETWIRE_RELAY_API int etwire_relay_kafka_send(etwire_relay_kafka_producer *p, const char *input, int raw,
                                             const char *source, const char *session, ULONG64 instance,
                                             double rate)
{
    return 1;
}

ETWIRE_RELAY_API int etwire_relay_kafka_producer_finish(etwire_relay_kafka_producer *p, int timeout_ms)
{
    return 1;
}

#endif

ETWIRE_RELAY_API etwire_relay_kafka_collector *etwire_relay_kafka_collector_new(
    const ETWIRE_RELAY_KAFKA_OPTIONS *p, char *err, size_t errlen)
{
#ifndef ETWIRE_HAVE_RDKAFKA
    snprintf(err, errlen, NO_KAFKA);
    return NULL;
#else
    if (!p->Brokers || !p->Topic || !p->Group || !p->OutDir) {
        snprintf(err, errlen, "Kafka needs brokers, a topic, a group and an output directory");
        return NULL;
    }
    etwire_relay_kafka_collector *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->cb = p->Sessions;
    k->o = (relay_kafka_collect_opts){.brokers = p->Brokers, .topic = p->Topic, .group = p->Group,
                                      .stats = p->Stats, .stop = &k->stop, .verbose = p->Verbose};
    k->o.sink.out_dir = p->OutDir;
    k->o.sink.cb = &k->cb;
    k->o.sink.count_events = p->Stats != NULL;
    k->o.sink.reorder = p->Reorder;
    k->o.sink.window = p->Window ? p->Window : 64;
    k->o.sink.memory_limit = p->MaxMemory ? p->MaxMemory : 256ull << 20;
    if (p->Live) {
        relay_live_opts lo = {.address = p->Live, .mode = p->LiveMode, .queue = p->LiveQueue};
        if (!(k->o.sink.live = relay_live_start(&lo, err, errlen))) {
            free(k);
            return NULL;
        }
    }
    return k;
#endif
}

ETWIRE_RELAY_API int etwire_relay_kafka_collector_run(etwire_relay_kafka_collector *k)
{
#ifdef ETWIRE_HAVE_RDKAFKA
    return relay_kafka_collect(&k->o);
#else
    return 1;
#endif
}

ETWIRE_RELAY_API void etwire_relay_kafka_collector_stop(etwire_relay_kafka_collector *k)
{
    atomic_store(&k->stop, 1);
}

ETWIRE_RELAY_API void etwire_relay_kafka_collector_free(etwire_relay_kafka_collector *k)
{
    if (!k)
        return;
    relay_live_stop(k->o.sink.live); /* after run returned: every session was closed */
    free(k);
}
