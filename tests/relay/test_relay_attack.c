/* The collector against strangers, through the public library (include/etwire/relay.h): an
 * embedded collector on 127.0.0.1 and attackers from 127.0.0.2 that trickle frames, trickle a
 * TLS handshake, hold every stranger slot, flood sessions and send buffers the collector must
 * refuse. In each case a good sender (the library's sender, from 127.0.0.1) must still get its
 * session through byte-identical while the attack runs, and the attacker's connections must
 * be closed by the deadlines. Waits are on sockets and threads, each with a deadline.
 * ETWIRE_TEST_THREADS: the collector and the good sender run on threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "waits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <etwire/relay.h>

#include "relay/wire/msg.h"

#define ETWIRE TEST_ETWIRE

static char dir[64];
static int have_trace, have_certs;

static char *path_in(const char *name)
{
    static char p[8][256];
    static int next;
    char *out = p[next++ % 8];
    snprintf(out, 256, "%s/%s", dir, name);
    return out;
}

static int group_setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/etwire-attack.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    have_trace = test_run(ETWIRE " generate --seed 5 --events 6000 --processors 2 --buffer-size 4K -o '%s/t.etl' "
                     ">/dev/null 2>&1", dir) == 0 &&
                 test_run(ETWIRE " generate --seed 6 --events 9000 --processors 2 --buffer-size 4K -o '%s/long.etl' "
                     ">/dev/null 2>&1", dir) == 0;
    /* Throwaway certificates: a CA, the collector (IP 127.0.0.1) and one sender (DNS good). */
    have_certs = test_run("(cd '%s' && command -v openssl >/dev/null && "
                     "k() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; } && "
                     "k ca && openssl req -x509 -new -key ca.key -out ca.pem -days 1 -subj /CN=ca && "
                     "for n in collector good; do k $n && openssl req -new -key $n.key -out $n.csr -subj /CN=$n && "
                     "{ [ $n = good ] && echo subjectAltName=DNS:good || echo subjectAltName=IP:127.0.0.1; } > $n.ext && "
                     "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 1 "
                     "-extfile $n.ext || exit 1; done) >/dev/null 2>&1", dir) == 0;
    return 0;
}

static int group_teardown(void **state)
{
    if (!getenv("KEEP"))
        test_run("rm -rf '%s'", dir);
    return 0;
}

/* ---- an embedded collector on its own thread ------------------------------------------- */

typedef struct collector {
    etwire_relay_collector *c;
    pthread_t thread;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int closes; /* (mu) sessions closed (the Close callback) */
    int want;   /* (mu) what enough_closes waits for */
} collector;

static void on_close(void *ctx, const ETWIRE_RELAY_SESSION *s, const ETWIRE_SESSION_STATS *st)
{
    collector *k = ctx;
    pthread_mutex_lock(&k->mu);
    k->closes++;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static int enough_closes(void *ctx)
{
    const collector *k = ctx;
    return k->closes >= k->want;
}

/* Waits (on the Close callbacks, bounded) until n sessions were closed; the count then. */
static int wait_closes(collector *k, int n, int ms)
{
    struct timespec deadline = test_deadline_ts(ms);
    pthread_mutex_lock(&k->mu);
    k->want = n;
    test_cond_wait(&k->cv, &k->mu, &deadline, enough_closes, k);
    int closes = k->closes;
    pthread_mutex_unlock(&k->mu);
    return closes;
}

static void *open_session(void *ctx, const ETWIRE_RELAY_SESSION *s)
{
    return ctx;
}

static void *collector_main(void *arg)
{
    collector *k = arg;
    etwire_relay_collector_run(k->c);
    return NULL;
}

static void start_collector(collector *k, ETWIRE_RELAY_COLLECTOR_OPTIONS *o, const char *out)
{
    memset(k, 0, sizeof *k);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    o->Listen = "127.0.0.1:0";
    o->OutDir = path_in(out);
    o->Sessions.Open = open_session;
    o->Sessions.Close = on_close;
    o->Sessions.Context = k;
    char err[512];
    k->c = etwire_relay_collector_new(o, err, sizeof err);
    if (!k->c)
        fail_msg("collector: %s", err);
    k->port = etwire_relay_collector_port(k->c);
    assert_true(k->port > 0);
    assert_int_equal(pthread_create(&k->thread, NULL, collector_main, k), 0);
}

/* Stops the collector; with st, its connection figures once run returned (final then: every
 * connection has ended). */
static void stop_collector_stats(collector *k, ETWIRE_RELAY_COLLECTOR_STATS *st)
{
    etwire_relay_collector_stop(k->c);
    pthread_join(k->thread, NULL);
    if (st)
        etwire_relay_collector_stats(k->c, st);
    etwire_relay_collector_free(k->c);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
}

static void stop_collector(collector *k)
{
    stop_collector_stats(k, NULL);
}

/* Every accepted connection ended in exactly one outcome. */
static void assert_outcomes_add_up(const ETWIRE_RELAY_COLLECTOR_STATS *st)
{
    assert_int_equal(st->Open, 0);
    assert_int_equal(st->Accepted, st->Completed + st->HandshakeFailed + st->HelloDeadline + st->FrameDeadline +
                                       st->Idle + st->HelloRefused + st->Invalid + st->Disconnected + st->Failed +
                                       st->Shutdown);
}

/* ---- the good sender, on its own thread ------------------------------------------------- */

typedef struct sender {
    ETWIRE_RELAY_SENDER_OPTIONS o;
    char to[32];
    const char *file;
    pthread_t thread;
    int rc;
    char err[512];
} sender;

static void *sender_main(void *arg)
{
    sender *s = arg;
    etwire_relay_sender *x = etwire_relay_sender_new(&s->o, s->err, sizeof s->err);
    s->rc = -1;
    if (!x)
        return NULL;
    s->rc = etwire_relay_send_file(x, s->file, s->err, sizeof s->err);
    if (s->rc == 0)
        s->rc = etwire_relay_sender_finish(x);
    if (s->rc != 0) {
        size_t used = strlen(s->err);
        snprintf(s->err + used, sizeof s->err - used, "; %s", etwire_relay_sender_error(x));
    }
    etwire_relay_sender_free(x);
    return NULL;
}

static void start_sender(sender *s, int port, int tls, const char *file, uint64_t instance, int resume)
{
    memset(s, 0, sizeof *s);
    snprintf(s->to, sizeof s->to, "127.0.0.1:%d", port);
    s->o.To = s->to;
    s->o.Source = "good";
    s->o.Session = "t";
    s->o.Instance = instance;
    s->o.Resume = resume;
    s->o.RetrySeconds = 20;
    s->file = path_in(file);
    if (tls) {
        s->o.TlsCert = path_in("good.pem"), s->o.TlsKey = path_in("good.key"), s->o.TlsCa = path_in("ca.pem");
    } else {
        s->o.Plain = 1;
    }
    assert_int_equal(pthread_create(&s->thread, NULL, sender_main, s), 0);
}

static int join_sender(sender *s)
{
    pthread_join(s->thread, NULL);
    if (s->rc != 0)
        print_message("sender: %s\n", s->err);
    return s->rc;
}

/* The good session arrived whole: its .etl is the sent file. */
static void assert_saved(const char *out, const char *file, uint64_t instance)
{
    char p[512];
    snprintf(p, sizeof p, "%s/good/t-%016llx.etl", path_in(out), (unsigned long long)instance);
    assert_true(test_same_file(p, path_in(file)));
}

/* ---- attackers ------------------------------------------------------------------------ */

/* A connection from another loopback address (so per-address caps tell it from the good
 * sender); -1 when that address cannot be used. */
static int connect_from(const char *from, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &a.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends `lead` bytes of msg at once, then one more byte every step_ms (wrapping around) until
 * the collector closes the connection; the milliseconds that took, or -1 when it was still
 * open at deadline_ms. Why each connection closed is read from the collector's statistics,
 * not from the times: deadline_ms is only a bound for a collector that never closes. */
static int64_t trickle(int *fds, int n, const uint8_t *msg, size_t len, size_t lead, int step_ms,
                       int deadline_ms, int64_t *closed_after)
{
    int64_t start = test_now_ms(), end = start + deadline_ms;
    size_t at[64] = {0};
    int open_count = 0;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        send(fds[i], msg, lead, MSG_NOSIGNAL);
        at[i] = lead;
        closed_after[i] = -1;
        open_count++;
    }
    while (open_count > 0 && test_now_ms() < end) {
        struct pollfd p[64];
        for (int i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = closed_after[i] < 0 ? fds[i] : -1, .events = POLLIN};
        int r = poll(p, (nfds_t)n, step_ms); /* the step: wakes early only when one closes */
        for (int i = 0; i < n; i++) {
            if (p[i].fd < 0)
                continue;
            if (r > 0 && p[i].revents) {
                char b[256];
                ssize_t got = recv(fds[i], b, sizeof b, MSG_DONTWAIT);
                if (got > 0)
                    continue; /* a frame (CLOSE) before the end */
                closed_after[i] = test_now_ms() - start;
                open_count--;
                continue;
            }
            if (r == 0) {
                send(fds[i], msg + at[i] % len, 1, MSG_NOSIGNAL);
                at[i]++;
            }
        }
    }
    return open_count == 0 ? test_now_ms() - start : -1;
}

static size_t hello_frame(uint8_t *out, size_t cap, const char *source, uint64_t instance)
{
    etw_relay_hello h = {.max_frame = ETW_RELAY_CONTROL_MAX, .max_in_flight = 8, .instance = instance};
    snprintf(h.source, sizeof h.source, "%s", source);
    snprintf(h.session, sizeof h.session, "s");
    return etw_relay_encode_hello(out, cap, &h);
}

/* 1. Slow frames: strangers that trickle a HELLO one byte at a time, and a sender that
 * trickles a BUFFER frame after its HELLO. Each byte used to restart the idle clock. */
static void test_slow_frames(void **state)
{
    if (!have_trace)
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    collector k;
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {.Plain = 1, .FrameDeadlineMs = 1000, .HandshakeDeadlineMs = 1000,
                                        .IdleMs = 60000, .UnauthPerAddress = 4};
    start_collector(&k, &o, "out1");
    int fds[12];
    for (int i = 0; i < 10; i++)
        fds[i] = connect_from("127.0.0.2", k.port);
    if (fds[0] < 0) {
        stop_collector(&k);
        TEST_SKIP("no 127.0.0.2 here");
    }
    /* The last two authenticate, then trickle a buffer frame. */
    uint8_t hello[ETW_RELAY_CONTROL_FRAME_MAX + 64];
    size_t hn = hello_frame(hello, sizeof hello, "evil", 7);
    uint8_t auth[ETW_RELAY_CONTROL_FRAME_MAX + 64];
    uint8_t pre[ETW_RELAY_BUFFER_PREFIX];
    etw_relay_encode_buffer_prefix(pre, 0, 4096, 0, 4096);
    sender s;
    start_sender(&s, k.port, 0, "t.etl", 0x1111, 0);
    int64_t closed[12];
    int64_t took = trickle(fds, 10, hello, hn, 1, 100, 30000, closed);
    /* The last two from an address of their own, each connected just before its turn (its
     * HELLO must arrive before its deadline), as two sources (one session takes one
     * connection). */
    int64_t took2 = 0;
    for (int i = 10; i < 12 && took2 >= 0; i++) {
        size_t an = hello_frame(auth, sizeof auth, i == 10 ? "evil2" : "evil3", 8);
        memcpy(auth + an, pre, sizeof pre);
        fds[i] = connect_from("127.0.0.3", k.port);
        took2 = trickle(fds + i, 1, auth, an + sizeof pre, an + 1, 100, 30000, closed + i);
    }
    assert_int_equal(join_sender(&s), 0);
    ETWIRE_RELAY_COLLECTOR_STATS st;
    stop_collector_stats(&k, &st);
    assert_saved("out1", "t.etl", 0x1111);
    assert_true(took >= 0 && took2 >= 0);
    /* Beyond the per-address cap, strangers were refused at once; the others died at the
     * HELLO or frame deadline (1 s), none at the 60 s idle limit. The two that sent a HELLO
     * got in, then trickled a frame past its deadline. The sender completed. */
    assert_outcomes_add_up(&st);
    assert_true(st.Refused >= 6);
    assert_int_equal(st.Refused + st.HelloDeadline + st.FrameDeadline, 12);
    assert_true(st.FrameDeadline >= 2);
    assert_int_equal(st.Authenticated, 3);
    assert_int_equal(st.Completed, 1);
    assert_int_equal(st.Idle, 0);
    assert_int_equal(st.Shutdown, 0);
    for (int i = 0; i < 12; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* 2. A TLS handshake trickled a byte at a time (a record header, then one byte every 100 ms)
 * is closed by the handshake deadline; a TLS sender with a certificate gets through. */
static void test_slow_tls_handshake(void **state)
{
    if (!have_trace || !have_certs)
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    collector k;
    const char *allow[] = {"good", NULL};
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {.TlsCert = path_in("collector.pem"), .TlsKey = path_in("collector.key"),
                                        .TlsCa = path_in("ca.pem"), .Allow = allow,
                                        .HandshakeDeadlineMs = 1000, .UnauthPerAddress = 4};
    start_collector(&k, &o, "out2");
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = connect_from("127.0.0.2", k.port);
    if (fds[0] < 0) {
        stop_collector(&k);
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    }
    static const uint8_t record[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    sender s;
    start_sender(&s, k.port, 1, "t.etl", 0x2222, 0);
    int64_t closed[4];
    int64_t took = trickle(fds, 4, record, sizeof record, 5, 100, 30000, closed);
    assert_int_equal(join_sender(&s), 0);
    ETWIRE_RELAY_COLLECTOR_STATS st;
    stop_collector_stats(&k, &st);
    assert_saved("out2", "t.etl", 0x2222);
    assert_true(took >= 0);
    /* The four trickled handshakes died at the handshake deadline (1 s), not the 60 s idle
     * limit; the sender with a certificate got through. */
    assert_outcomes_add_up(&st);
    assert_int_equal(st.HandshakeFailed, 4);
    assert_int_equal(st.Authenticated, 1);
    assert_int_equal(st.Completed, 1);
    assert_int_equal(st.Refused, 0);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
}

/* 3. Strangers hold the only stranger slot: a TLS sender is refused. It must not die of
 * SIGPIPE (this process would), it keeps retrying, and it gets through once the slot frees. */
static void test_refused_tls_sender_retries(void **state)
{
    if (!have_trace || !have_certs)
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    collector k;
    const char *allow[] = {"good", NULL};
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {.TlsCert = path_in("collector.pem"), .TlsKey = path_in("collector.key"),
                                        .TlsCa = path_in("ca.pem"), .Allow = allow, .MaxConnections = 4,
                                        .HandshakeDeadlineMs = 2500};
    start_collector(&k, &o, "out3");
    /* 4 connections, 25 %: one stranger slot, held by a silent socket until its deadline. */
    int holder = connect_from("127.0.0.2", k.port);
    if (holder < 0) {
        stop_collector(&k);
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    }
    signal(SIGPIPE, SIG_DFL);
    sender s;
    start_sender(&s, k.port, 1, "t.etl", 0x3333, 0);
    int64_t closed;
    int64_t held = trickle(&holder, 1, (const uint8_t *)"", 1, 0, 5000, 30000, &closed);
    assert_true(held >= 0);
    assert_int_equal(join_sender(&s), 0);
    ETWIRE_RELAY_COLLECTOR_STATS st;
    stop_collector_stats(&k, &st);
    assert_saved("out3", "t.etl", 0x3333);
    /* The slot was held: the sender was turned away at least once, retried, and completed
     * after the holder died at the handshake deadline. */
    assert_outcomes_add_up(&st);
    assert_true(st.Refused >= 1);
    assert_true(st.HandshakeFailed >= 1);
    assert_int_equal(st.Completed, 1);
    close(holder);
}

/* Writes a relay session: HELLO, then the given buffers as seq 0.. (no END), on a new
 * connection from 127.0.0.1; returns after the collector answered the last frame or closed. */
static void raw_session(int port, uint64_t instance, const uint8_t *const *bufs, const uint32_t *sizes, int n,
                        int wait_close)
{
    int fd = connect_from("127.0.0.1", port);
    assert_true(fd >= 0);
    uint8_t f[ETW_RELAY_CONTROL_FRAME_MAX];
    etw_relay_hello h = {.max_frame = ETW_RELAY_CONTROL_MAX, .max_in_flight = 8, .instance = instance};
    snprintf(h.source, sizeof h.source, "good");
    snprintf(h.session, sizeof h.session, "t");
    size_t fn = etw_relay_encode_hello(f, sizeof f, &h);
    assert_int_equal(send(fd, f, fn, MSG_NOSIGNAL), (ssize_t)fn);
    for (int i = 0; i < n; i++) {
        uint8_t pre[ETW_RELAY_BUFFER_PREFIX];
        etw_relay_encode_buffer_prefix(pre, (uint64_t)i, sizes[i], 0, sizes[i]);
        send(fd, pre, sizeof pre, MSG_NOSIGNAL);
        send(fd, bufs[i], sizes[i], MSG_NOSIGNAL);
    }
    /* wait_close 1: the WELCOME, ACKs, and the CLOSE (or the connection's end); 2: the
     * WELCOME only (the session is open: abandon it). With a deadline. */
    int64_t end = test_now_ms() + 5000;
    while (wait_close && test_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char b[4096];
        if (poll(&p, 1, (int)(end - test_now_ms())) <= 0 || recv(fd, b, sizeof b, 0) <= 0 || wait_close == 2)
            break;
    }
    close(fd);
}

static uint8_t *read_all(const char *p, long *n)
{
    size_t len = 0;
    uint8_t *d = test_read_file(p, &len);
    assert_non_null(d);
    *n = (long)len;
    return d;
}

/* 4. Sessions: a buffer the collector refuses is not saved nor counted; a HELLO without a
 * buffer leaves no file; a completed session is never reopened, not even by a longer file. */
static void test_sessions(void **state)
{
    if (!have_trace)
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    collector k;
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {.Plain = 1};
    start_collector(&k, &o, "out4");
    long n;
    uint8_t *t = read_all(path_in("t.etl"), &n);
    uint8_t junk[4096];
    memcpy(junk, t + 4096, sizeof junk);
    memset(junk + 72, 0xEE, sizeof junk - 72); /* records that do not parse */
    memset(junk + 8, 0xFF, 16);
    const uint8_t *bufs[] = {t, junk};
    const uint32_t sizes[] = {4096, 4096};
    raw_session(k.port, 0x4444, bufs, sizes, 2, 1);
    char etl[512];
    snprintf(etl, sizeof etl, "%s/good/t-%016llx.etl", path_in("out4"), 0x4444ull);
    assert_int_equal(test_file_size(etl), 4096); /* the header buffer only */
    /* A resumed sender sends buffer 1 again: it was not counted as held. */
    sender s;
    start_sender(&s, k.port, 0, "t.etl", 0x4444, 1);
    assert_int_equal(join_sender(&s), 0);
    assert_saved("out4", "t.etl", 0x4444);
    /* No buffer, no file. */
    raw_session(k.port, 0x5555, NULL, NULL, 0, 0);
    /* Completed: a longer file under the same instance is refused and changes nothing. */
    start_sender(&s, k.port, 0, "long.etl", 0x4444, 0);
    assert_int_not_equal(join_sender(&s), 0);
    assert_non_null(strstr(s.err, "COMPLETE"));
    stop_collector(&k);
    assert_saved("out4", "t.etl", 0x4444);
    snprintf(etl, sizeof etl, "%s/good/t-%016llx.etl", path_in("out4"), 0x5555ull);
    assert_int_equal(test_file_size(etl), -1);
    free(t);
}

/* 5. A flood of abandoned sessions from one source: they are closed when idle, and the
 * collector's own descriptor budget keeps a good sender served. */
static void test_abandoned_sessions(void **state)
{
    if (!have_trace)
        TEST_SKIP("could not generate the traces (or certificates) it needs");
    collector k;
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {.Plain = 1, .SessionIdleMs = 500, .MaxSessions = 64};
    start_collector(&k, &o, "out5");
    long n;
    uint8_t *t = read_all(path_in("t.etl"), &n);
    const uint8_t *bufs[] = {t};
    const uint32_t sizes[] = {4096};
    for (uint64_t i = 0; i < 200; i++)
        raw_session(k.port, 0x10000 + i, bufs, sizes, 1, 2);
    sender s;
    start_sender(&s, k.port, 0, "t.etl", 0x6666, 0);
    assert_int_equal(join_sender(&s), 0);
    /* Every abandoned session is closed: idle ones by the sweep, the rest to make room. */
    assert_true(wait_closes(&k, 201, 10000) >= 201);
    stop_collector(&k);
    assert_saved("out5", "t.etl", 0x6666);
    free(t);
}

int main(void)
{
    signal(SIGPIPE, SIG_DFL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_frames),
        cmocka_unit_test(test_slow_tls_handshake),
        cmocka_unit_test(test_refused_tls_sender_retries),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_abandoned_sessions),
    };
    return test_exit(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
