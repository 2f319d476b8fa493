/* Live publishing's shared state (live.h): entries, subscribers, remote gates and the hub,
 * used by live.c (the sink's side), live_sub.c (a subscriber's thread) and live_server.c
 * (listeners, admission, start and stop). One mutex, relay_live.mu, guards what is marked
 * (mu). */
#ifndef ETWIRE_RELAY_LIVE_IMPL_H
#define ETWIRE_RELAY_LIVE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/un.h>

#include "relay/live.h"
#include "relay/net.h"

#define REQUEST_DEADLINE_MS 10000 /* a subscriber's request, a remote one's handshake */
#define SUBSCRIBER_WRITE_DEADLINE_MS 30000 /* a frame to a subscriber that takes nothing */

typedef struct live_item {
    atomic_uint refs;
    uint32_t size;
    uint8_t data[];
} live_item;

typedef struct live_sub live_sub;

struct relay_live_entry {
    relay_live_entry *next;
    char source[129], session[129];
    uint64_t instance;
    uint8_t *header;
    uint32_t header_size;
    int64_t start_unix;
    int64_t first_ms;
    uint64_t buffers, bytes, events;
    uint64_t seq;            /* creation order: the newest instance of a name wins */
    live_sub *subs;
};

struct live_sub {
    live_sub *next_all;
    live_sub *next_entry;
    relay_live *l;
    relay_live_entry *e;     /* (mu) NULL once the session closed */
    int fd;
    pthread_t thread;
    pthread_cond_t cv;
    live_item **q;           /* (mu) ring of o.queue items */
    uint32_t head, count;
    uint64_t dropped;        /* (mu) */
    int end;                 /* (mu) -1, or the END reason to send after the queue */
    char identity[256];      /* a remote subscriber's certificate name ("" local: sees all) */
    int finished;            /* (mu) the thread is done: the accept loop joins it */
};

/* A remote subscriber's connection: TLS handshake, then the bridge to its local end. */
typedef struct live_gate {
    struct live_gate *next;
    relay_live *l;
    relay_conn c;
    pthread_t thread;
    int finished;            /* (mu) */
} live_gate;

struct relay_live {
    relay_live_opts o;
    int rfd;                 /* remote listener, or -1 */
    live_gate *gates;        /* (mu) */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lfd;
    int wake[2];
    pthread_t accept_thread;
    int accept_started;
    pthread_mutex_t mu;
    relay_live_entry *entries;
    live_sub *subs;
    uint32_t nsubs;
    uint64_t seq;
    int stopping;
};

void relay_live_item_unref(live_item *it);
/* A subscriber's thread: reads its request, then answers or streams (live_sub.c). */
void *relay_live_sub_main(void *arg);
/* Refuses a connection with a code and a reason (best effort). */
int relay_live_refuse(int fd, uint32_t code, const char *why);

#endif
