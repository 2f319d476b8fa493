/* Per-source quotas (see quota.h). Sources are kept in a small table for the life of the
 * collector so their statistics survive reconnects; the table is bounded, and when it is full
 * a source without connections makes room. */
#include "base/deadline.h"
#include "relay/quota.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SOURCES 4096

struct relay_quota_src {
    pthread_mutex_t mu;
    pthread_cond_t freed; /* broadcast when the source's bytes in flight go down */
    char name[129];
    uint32_t conns, conns_peak;
    uint64_t bytes;        /* sum of the connections' bytes in flight */
    uint64_t excess;       /* sum of what they hold above their reserve (the pool in use) */
    uint64_t peak;
    int64_t tokens;        /* rate budget in bytes (negative: owed) */
    int64_t refill_ms;     /* when tokens were last refilled */
    uint64_t received, throttled_ms, refused;
    const relay_quota *q;
};

struct relay_quota {
    pthread_mutex_t mu;
    uint64_t memory, rate, reserve;
    relay_quota_src *src[MAX_SOURCES];
    uint32_t n;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Burst the rate budget allows: 100 ms worth, at least one large read. */
static int64_t burst(const relay_quota *q)
{
    int64_t b = (int64_t)(q->rate / 10);
    return b < 65536 ? 65536 : b;
}

relay_quota *relay_quota_create(uint64_t memory, uint64_t rate, uint64_t reserve)
{
    relay_quota *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    pthread_mutex_init(&q->mu, NULL);
    q->memory = memory;
    q->rate = rate;
    q->reserve = reserve;
    return q;
}

static relay_quota_src *find_or_add(relay_quota *q, const char *source)
{
    for (uint32_t i = 0; i < q->n; i++)
        if (!strcmp(q->src[i]->name, source))
            return q->src[i];
    if (q->n == MAX_SOURCES) {
        uint32_t i = 0;
        while (i < q->n && q->src[i]->conns) /* conns changes under q->mu only */
            i++;
        if (i == q->n)
            return NULL;
        pthread_mutex_destroy(&q->src[i]->mu);
        pthread_cond_destroy(&q->src[i]->freed);
        free(q->src[i]);
        q->src[i] = q->src[--q->n];
    }
    relay_quota_src *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->freed, NULL);
    snprintf(s->name, sizeof s->name, "%s", source);
    s->q = q;
    s->tokens = burst(q);
    s->refill_ms = now_ms();
    q->src[q->n++] = s;
    return s;
}

relay_quota_src *relay_quota_join(relay_quota *q, const char *source, char *err, size_t errlen)
{
    pthread_mutex_lock(&q->mu);
    relay_quota_src *s = find_or_add(q, source);
    if (!s) {
        snprintf(err, errlen, "too many sources (%u)", MAX_SOURCES);
    } else {
        pthread_mutex_lock(&s->mu);
        if (q->memory && (uint64_t)(s->conns + 1) * q->reserve > q->memory) {
            snprintf(err, errlen, "source '%s' has %u sessions connected, all its memory quota (%llu bytes) "
                     "allows", source, s->conns, (unsigned long long)q->memory);
            s->refused++;
            pthread_mutex_unlock(&s->mu);
            s = NULL;
        } else {
            s->conns++;
            if (s->conns > s->conns_peak)
                s->conns_peak = s->conns;
            pthread_mutex_unlock(&s->mu);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return s;
}

static uint64_t above(uint64_t v, uint64_t reserve)
{
    return v > reserve ? v - reserve : 0;
}

/* Replaces this connection's share in the sums (s->mu held). */
static void account(relay_quota_src *s, uint64_t *mine, uint64_t now)
{
    uint64_t r = s->q->reserve;
    if (now < *mine)
        pthread_cond_broadcast(&s->freed); /* a connection waiting for the pool may read */
    s->bytes = s->bytes - *mine + now;
    s->excess = s->excess - above(*mine, r) + above(now, r);
    *mine = now;
    if (s->bytes > s->peak)
        s->peak = s->bytes;
}

void relay_quota_leave(relay_quota *q, relay_quota_src *s, uint64_t *mine)
{
    if (!s)
        return;
    pthread_mutex_lock(&q->mu);
    pthread_mutex_lock(&s->mu);
    account(s, mine, 0);
    s->conns--;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&q->mu);
}

int relay_quota_may_read(relay_quota_src *s, uint64_t *mine, uint64_t now)
{
    const relay_quota *q = s->q;
    pthread_mutex_lock(&s->mu);
    account(s, mine, now);
    /* Within its reserve a connection reads: its session may be waiting for data before it
     * releases anything. Above it, only while the shared pool has room. But a HELLO shrinks
     * the pool by its reserve while an older connection may still hold more than the rest:
     * until that excess has drained (it does without input, as it is above what a session
     * holds waiting for data), nobody reads, not even within its reserve, or the newcomer's
     * reserve would be counted twice and the source would overshoot its quota by it. */
    uint64_t pool = q->memory > (uint64_t)s->conns * q->reserve ? q->memory - (uint64_t)s->conns * q->reserve : 0;
    int ok = !q->memory || (s->excess <= pool && (now <= q->reserve || s->excess < pool));
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void relay_quota_wait(relay_quota_src *s, int ms)
{
    struct timespec ts;
    etw_deadline_in(&ts, ms);
    pthread_mutex_lock(&s->mu);
    pthread_cond_timedwait(&s->freed, &s->mu, &ts);
    pthread_mutex_unlock(&s->mu);
}

int relay_quota_rate_wait_ms(relay_quota_src *s)
{
    const relay_quota *q = s->q;
    if (!q->rate)
        return 0;
    pthread_mutex_lock(&s->mu);
    int64_t t = now_ms();
    if (t > s->refill_ms) {
        s->tokens += (int64_t)(q->rate * (uint64_t)(t - s->refill_ms) / 1000);
        if (s->tokens > burst(q))
            s->tokens = burst(q);
        s->refill_ms = t;
    }
    int64_t wait = s->tokens > 0 ? 0 : (-s->tokens * 1000) / (int64_t)q->rate + 1;
    pthread_mutex_unlock(&s->mu);
    return wait > 100 ? 100 : (int)wait;
}

void relay_quota_rate_take(relay_quota_src *s, uint64_t bytes)
{
    pthread_mutex_lock(&s->mu);
    s->tokens -= (int64_t)bytes;
    s->received += bytes;
    pthread_mutex_unlock(&s->mu);
}

void relay_quota_throttled(relay_quota_src *s, int ms)
{
    pthread_mutex_lock(&s->mu);
    s->throttled_ms += (uint64_t)ms;
    pthread_mutex_unlock(&s->mu);
}

void relay_quota_stats(relay_quota *q, FILE *out)
{
    if (!q || !out)
        return;
    pthread_mutex_lock(&q->mu);
    for (uint32_t i = 0; i < q->n; i++) {
        relay_quota_src *s = q->src[i];
        pthread_mutex_lock(&s->mu);
        fprintf(out, "{\"source\":\"%s\",\"memory_quota\":%llu,\"rate_quota\":%llu,\"reserve\":%llu,"
                "\"connections_peak\":%u,\"bytes_in_flight_peak\":%llu,\"bytes_received\":%llu,"
                "\"throttled_ms\":%llu,\"refused\":%llu}\n",
                s->name, (unsigned long long)q->memory, (unsigned long long)q->rate,
                (unsigned long long)q->reserve, s->conns_peak, (unsigned long long)s->peak,
                (unsigned long long)s->received, (unsigned long long)s->throttled_ms,
                (unsigned long long)s->refused);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&q->mu);
    fflush(out);
}

void relay_quota_destroy(relay_quota *q)
{
    if (!q)
        return;
    for (uint32_t i = 0; i < q->n; i++) {
        pthread_cond_destroy(&q->src[i]->freed);
        pthread_mutex_destroy(&q->src[i]->mu);
        free(q->src[i]);
    }
    pthread_mutex_destroy(&q->mu);
    free(q);
}
