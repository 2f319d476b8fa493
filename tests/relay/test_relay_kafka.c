/* `etwire send --kafka` and `etwire collect --kafka` against librdkafka's mock cluster (three
 * brokers inside this test process, on loopback; nothing leaves the machine): ordered delivery
 * per key over several keys, a consumer-group rebalance in the middle of a session, 16 MiB
 * buffers, --rate and --zstd on the producer, and sessions taken over from T.headers by a
 * member without the previous owner's files (or skipped when no usable header exists).
 * Every check is that the collector's saved .etl is byte-identical to what it must hold and
 * `etwire dump` of both agree, which rules out loss, duplicates and reordering.
 * librdkafka is loaded with dlopen, so this test needs no link-time dependency; it skips when
 * the library or a Kafka-enabled etwire is missing. Waits are on events (children's exits,
 * inotify on the collector's files and logs, its --ready-fd), each with a deadline; alarm(60)
 * bounds each test whatever its waits add up to. The tests run side by side, each in a process of
 * its own (main).
 * test_live_from_kafka: `collect --kafka --live unix:PATH` publishes the session it consumes
 * to a real-time consumer that attaches by name mid-stream (ProcessTrace runs on this thread
 * once the sender ended, the collector's per-subscriber queue holding what arrived). */
#include <fcntl.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "kafka_mock.h"
#include "waits.h"

#include <etwire/etwire.h>

#include "relay/pace.h"
#include "relay/wire/msg.h"

#define ETWIRE TEST_ETWIRE

typedef struct world {
    kafka_api api;
    pid_t children[8]; /* still running: killed by teardown when a test fails */
    uint8_t *data;     /* a trace read into memory, freed by teardown */
    void *rk, *mc;
    void *producer; /* a test's own producer, destroyed before the cluster */
    char bootstraps[512];
    char dir[64];
} world;

static void forget(world *w, pid_t pid)
{
    for (int i = 0; i < 8; i++)
        if (w->children[i] == pid)
            w->children[i] = 0;
}

/* Starts argv with stdin from in_fd (-1: /dev/null), stdout and stderr appended to log and
 * ready_fd (-1: none) kept open for --ready-fd; teardown kills it if the test fails. */
static pid_t spawn_ready(world *w, char *const argv[], int in_fd, const char *log, int ready_fd)
{
    pid_t pid = test_spawn(argv, in_fd, log, ready_fd);
    assert_true(pid > 0);
    for (int i = 0; i < 8; i++)
        if (!w->children[i]) {
            w->children[i] = pid;
            break;
        }
    return pid;
}

static pid_t spawn(world *w, char *const argv[], int in_fd, const char *log)
{
    return spawn_ready(w, argv, in_fd, log, -1);
}

/* SIGTERM, then waits up to 30 s; the exit status, 128 + signal, or -1 (killed at the deadline). */
static int stop(world *w, pid_t pid)
{
    forget(w, pid);
    return test_stop_child(pid, 30000);
}

/* Waits up to ms for the child to exit by itself, then stops it. */
static int wait_exit(world *w, pid_t pid, int ms)
{
    int rc = test_wait_child(pid, ms);
    return rc >= 0 ? (forget(w, pid), rc) : stop(w, pid);
}

/* The .etl a collector saved for source/session (its instance is random) under w->dir/outdir. */
static int saved_etl_in(const world *w, const char *outdir, const char *source, const char *session,
                        char *out, size_t n)
{
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/%s/%s/%s-????????????????.etl", w->dir, outdir, source, session);
    glob_t g;
    int ok = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    if (ok)
        snprintf(out, n, "%s", g.gl_pathv[0]);
    globfree(&g);
    return ok;
}

static int saved_etl(const world *w, const char *source, const char *session, char *out, size_t n)
{
    return saved_etl_in(w, "out", source, session, out, n);
}

typedef struct saved_goal {
    const world *w;
    const char *const *sessions;
    int n;
} saved_goal;

static int all_saved(void *ctx)
{
    const saved_goal *g = ctx;
    for (int i = 0; i < g->n; i++) {
        char etl[512], orig[512];
        snprintf(orig, sizeof orig, "%s/%s.etl", g->w->dir, g->sessions[2 * i + 1]);
        if (!saved_etl(g->w, g->sessions[2 * i], g->sessions[2 * i + 1], etl, sizeof etl) ||
            test_file_size(etl) != test_file_size(orig) || !test_same_file(etl, orig))
            return 0;
    }
    return 1;
}

/* Waits (on the collector's writes, bounded) until every listed session's .etl equals its
 * original. */
static int wait_saved(const world *w, const char *const *sessions, int n, int ms)
{
    saved_goal g = {w, sessions, n};
    return test_wait_fs(w->dir, ms, all_saved, &g);
}

static void check_dumps(const world *w, const char *const *sessions, int n)
{
    for (int i = 0; i < n; i++) {
        char etl[512];
        assert_true(saved_etl(w, sessions[2 * i], sessions[2 * i + 1], etl, sizeof etl));
        assert_int_equal(test_run(ETWIRE " dump '%s/%s.etl' >'%s/d1.txt' 2>/dev/null", w->dir,
                             sessions[2 * i + 1], w->dir), 0);
        assert_int_equal(test_run(ETWIRE " dump '%s' >'%s/d2.txt' 2>/dev/null", etl, w->dir), 0);
        assert_int_equal(test_run("cmp -s '%s/d1.txt' '%s/d2.txt'", w->dir, w->dir), 0);
    }
}

/* A group member saving under w->dir/<outdir> (JSON lines under <outdir>-json, statistics in
 * <outdir>.stats). */
static pid_t start_collector_in(world *w, const char *topic, const char *outdir, const char *log)
{
    char out[128], json[128], stats[128], logp[128];
    snprintf(out, sizeof out, "%s/%s", w->dir, outdir);
    snprintf(json, sizeof json, "%s/%s-json", w->dir, outdir);
    snprintf(stats, sizeof stats, "%s/%s.stats", w->dir, outdir);
    snprintf(logp, sizeof logp, "%s/%s", w->dir, log);
    char *argv[] = {ETWIRE, "collect", "--kafka", (char *)w->bootstraps, "--topic", (char *)topic,
                    "--group", "g", "--out", out, "--json", json, "--stats", stats, "--reorder",
                    "unbounded", "--max-memory", "1G", "-v", NULL};
    return spawn(w, argv, -1, logp);
}

static pid_t start_collector(world *w, const char *topic, const char *log)
{
    return start_collector_in(w, topic, "out", log);
}

static int log_has(const world *w, const char *log, const char *text)
{
    return test_run("grep -q '%s' '%s/%s'", text, w->dir, log) == 0;
}

/* Waits (on the log's writes, bounded) until the log holds text (a fixed string). */
static int wait_log(const world *w, const char *log, const char *text, int ms)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", w->dir, log);
    return test_wait_file_text(path, text, ms);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    kafka_api api;
    int loaded = kafka_api_load(&api);
    if (!w || loaded == KAFKA_API_NO_LIBRARY || test_run(ETWIRE " send --help | grep -q -- --kafka") != 0) {
        free(w);
        *state = NULL;
        return 0;
    }
    assert_int_equal(loaded, 0); /* a librdkafka without its mock cluster fails, as before */
    w->api = api;
    kafka_api *a = &w->api;
    char err[256];
    w->rk = a->conf_new && a->kafka_new ? a->kafka_new(0 /* producer */, a->conf_new(), err, sizeof err) : NULL;
    w->mc = w->rk && a->mock_new ? a->mock_new(w->rk, 3) : NULL;
    assert_non_null(w->mc);
    snprintf(w->bootstraps, sizeof w->bootstraps, "%s", a->mock_bootstraps(w->mc));
    /* The mock's group coordinator waits the session timeout less 1 s for members to
     * (re)join a group that has some: keep that short. But a member waiting to be admitted
     * sends no heartbeat, and the first one into an empty group waits 3 s (below): a session
     * under 4 s (the coordinator looks once a second) drops it before it is ever admitted, and
     * it then joins again for ever. 4.5 s leaves room for a loaded machine. */
    setenv("ETWIRE_KAFKA_CONFIG", "session.timeout.ms=4500;heartbeat.interval.ms=300", 1);
    /* And its first join into an empty group waits 3 s for more members (librdkafka 2.0; newer
     * ones make that delay a setting: use it when there). */
    if (a->mock_group_initial_rebalance_delay_ms)
        a->mock_group_initial_rebalance_delay_ms(w->mc, 100);
    snprintf(w->dir, sizeof w->dir, "/tmp/etwire-kafka.XXXXXX");
    alarm(60); /* the bound on each test, whatever its waits add up to */
    assert_non_null(mkdtemp(w->dir));
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (!w)
        return 0;
    alarm(0);
    for (int i = 0; i < 8; i++)
        if (w->children[i]) {
            kill(w->children[i], SIGKILL);
            waitpid(w->children[i], NULL, 0);
        }
    if (w->producer)
        w->api.kafka_destroy(w->producer);
    w->api.mock_destroy(w->mc);
    w->api.kafka_destroy(w->rk);
    free(w->data);
    if (!getenv("KEEP"))
        test_run("rm -rf '%s'", w->dir);
    free(w);
    return 0;
}

#define SKIP_WITHOUT_KAFKA(w)                                                                      \
    do {                                                                                           \
        if (!(w))                                                                                  \
            TEST_SKIP("librdkafka or a Kafka-enabled etwire missing");                             \
    } while (0)

/* The mock broker keeps only about 5 MiB per partition (older record batches are deleted, as
 * retention would), so the tests keep every backlog below that: small traces, collectors
 * started first, and the large trace fed one buffer at a time. */

typedef struct size_goal {
    const world *w;
    const char *outdir, *source, *session;
    long total;
    char etl[512];
} size_goal;

static int saved_size_reached(void *ctx)
{
    size_goal *g = ctx;
    return saved_etl_in(g->w, g->outdir, g->source, g->session, g->etl, sizeof g->etl) &&
           test_file_size(g->etl) >= g->total;
}

/* Writes n bytes into the sender's pipe, then waits (bounded) until the saved .etl of
 * source/session under w->dir/outdir has reached `total` bytes. */
static void feed_in(world *w, int fd, const uint8_t *p, long n, const char *outdir,
                    const char *source, const char *session, long total)
{
    assert_int_equal(write(fd, p, (size_t)n), n);
    size_goal g = {w, outdir, source, session, total, ""};
    test_wait_fs(w->dir, 30000, saved_size_reached, &g);
    assert_int_equal(test_file_size(g.etl), total);
}

static void feed(world *w, int fd, const uint8_t *p, long n, const char *source, const char *session,
                 long total)
{
    feed_in(w, fd, p, n, "out", source, session, total);
}

static uint8_t *read_all(world *w, const char *name, long *size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.etl", w->dir, name);
    size_t n = 0;
    free(w->data);
    w->data = test_read_file(path, &n);
    assert_non_null(w->data);
    *size = (long)n;
    return w->data;
}

/* `etwire send --kafka --raw -` reading a pipe the test writes. */
static pid_t start_pipe_sender(world *w, const char *topic, const char *source, const char *session,
                               int *fd)
{
    int p[2];
    /* Close-on-exec, so that later children do not hold the write end open (the sender
     * would never see the end of its input); dup2 clears the flag on the child's stdin. */
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char *argv[] = {ETWIRE, "send", "--kafka", w->bootstraps, "--topic", (char *)topic, "--source",
                    (char *)source, "--session", (char *)session, "-", NULL};
    char log[128];
    snprintf(log, sizeof log, "%s/send-%s.log", w->dir, session);
    pid_t pid = spawn(w, argv, p[0], log);
    close(p[0]);
    *fd = p[1];
    return pid;
}

/* Five sessions over four partitions (so keys share partitions), from two send processes. */
static void test_ordered_per_key(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "order", 4, 3), 0);
    static const char *const sessions[] = {"src-a", "k1", "src-a", "k2", "src-a", "k3",
                                           "src-b", "k4", "src-b", "k5"};
    for (int i = 1; i <= 5; i++)
        assert_int_equal(test_run(ETWIRE " generate --seed %d --events %d --processors 3 --buffer-size 4K "
                             "-o '%s/k%d.etl' 2>/dev/null", 20 + i, 800 * i, w->dir, i), 0);
    pid_t c = start_collector(w, "order", "order.log");
    assert_int_equal(test_run("timeout 60 " ETWIRE " send --kafka '%s' --topic order --source src-a "
                         "%s/k1.etl %s/k2.etl %s/k3.etl 2>>%s/send.log", w->bootstraps, w->dir,
                         w->dir, w->dir, w->dir), 0);
    assert_int_equal(test_run("timeout 60 " ETWIRE " send --kafka '%s' --topic order --source src-b "
                         "%s/k4.etl %s/k5.etl 2>>%s/send.log", w->bootstraps, w->dir, w->dir, w->dir), 0);
    int saved = wait_saved(w, sessions, 5, 40000);
    assert_int_equal(stop(w, c), 0);
    assert_true(saved);
    check_dumps(w, sessions, 5);
    assert_false(log_has(w, "order.log", ": skipped"));
}

/* A session streamed from a pipe that the test feeds in three parts: consumer B joins after
 * the first (every partition is revoked and reassigned: the session is closed and resumed
 * from its .etl) and leaves after the second (again); two more sessions in between. */
static void test_rebalance_mid_stream(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "rebal", 4, 3), 0);
    static const char *const sessions[] = {"live", "s", "batch", "b1", "batch", "b2"};
    assert_int_equal(test_run(ETWIRE " generate --seed 7 --events 12000 --processors 4 --buffer-size 4K "
                         "-o '%s/s.etl' 2>/dev/null", w->dir), 0);
    for (int i = 1; i <= 2; i++)
        assert_int_equal(test_run(ETWIRE " generate --seed %d --events 4000 --buffer-size 4K "
                             "-o '%s/b%d.etl' 2>/dev/null", 30 + i, w->dir, i), 0);
    long size;
    uint8_t *data = read_all(w, "s", &size);
    long third = size / 4096 / 3 * 4096; /* all buffers are 4 KiB */
    assert_true(third > 0);
    int fd;
    pid_t sender = start_pipe_sender(w, "rebal", "live", "s", &fd);
    pid_t a = start_collector(w, "rebal", "a.log");
    feed(w, fd, data, third, "live", "s", third);
    assert_int_equal(test_run("timeout 60 " ETWIRE " send --kafka '%s' --topic rebal --source batch "
                         "%s/b1.etl %s/b2.etl 2>>%s/send.log", w->bootstraps, w->dir, w->dir, w->dir), 0);

    pid_t b = start_collector(w, "rebal", "b.log");
    assert_true(wait_log(w, "b.log", "partitions assigned", 30000));
    feed(w, fd, data + third, third, "live", "s", 2 * third);
    assert_int_equal(stop(w, b), 0);

    feed(w, fd, data + 2 * third, size - 2 * third, "live", "s", size);
    close(fd);
    assert_int_equal(wait_exit(w, sender, 30000), 0);
    int saved = wait_saved(w, sessions, 3, 30000);
    assert_int_equal(stop(w, a), 0);
    assert_true(saved);
    check_dumps(w, sessions, 3);
    assert_true(log_has(w, "a.log", "partitions revoked"));
    assert_false(log_has(w, "a.log", ": skipped"));
    assert_false(log_has(w, "b.log", ": skipped"));
}

/* 16 MiB buffers, the largest Windows allows, through message.max.bytes on both sides. */
static void test_large_buffers(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "large", 2, 3), 0);
    static const char *const sessions[] = {"big", "large"};
    assert_int_equal(test_run(ETWIRE " generate --seed 3 --events 20000 --processors 2 "
                         "--buffer-size 16777216 --max-lag 0 -o '%s/large.etl' 2>/dev/null", w->dir), 0);
    /* (Buffers this full of random payload compress little: more events would overflow the
     * mock's 5 MiB per partition, which then loses the newest record.) */
    long size, mib16 = 16l << 20;
    uint8_t *data = read_all(w, "large", &size);
    assert_true(size >= 2 * mib16 && size % mib16 == 0); /* header plus data buffers */
    int fd;
    pid_t sender = start_pipe_sender(w, "large", "big", "large", &fd);
    pid_t c = start_collector(w, "large", "large.log");
    for (long off = 0; off < size; off += mib16)
        feed(w, fd, data + off, mib16, "big", "large", off + mib16);
    close(fd);
    assert_int_equal(wait_exit(w, sender, 30000), 0);
    int saved = wait_saved(w, sessions, 1, 30000);
    assert_int_equal(stop(w, c), 0);
    assert_true(saved);
    check_dumps(w, sessions, 1);
}

static void write_file(const world *w, const char *name, const uint8_t *a, long na, const uint8_t *b,
                       long nb)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", w->dir, name);
    assert_int_equal(test_file_write(path, a, (size_t)na, b, (size_t)nb), 0);
}

/* Group member A consumes buffers 0..k-1 of a live session, commits and leaves; member B,
 * whose --out is empty (A's files are not shared), gets the partition at offset k. B must
 * start the session from its header buffer in T.headers (a topic with another partition
 * count than T, so the key's partition is computed, not assumed), save exactly the header
 * and buffers k..end, decode exactly their events, and report buffers 1..k-1 as missing. */
static void test_takeover_from_headers(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "take", 2, 3), 0);
    assert_int_equal(w->api.mock_topic_create(w->mc, "take.headers", 3, 3), 0);
    assert_int_equal(test_run(ETWIRE " generate --seed 11 --events 8000 --processors 4 --buffer-size 4K "
                         "-o '%s/t.etl' 2>/dev/null", w->dir), 0);
    long size;
    uint8_t *data = read_all(w, "t", &size);
    long nbuf = size / 4096, k = nbuf / 3; /* all buffers are 4 KiB */
    assert_true(k >= 2 && nbuf - k >= 2);
    int fd;
    pid_t sender = start_pipe_sender(w, "take", "live", "t", &fd);
    pid_t a = start_collector_in(w, "take", "outA", "a.log");
    feed_in(w, fd, data, k * 4096, "outA", "live", "t", k * 4096);
    assert_int_equal(stop(w, a), 0); /* drains, commits offset k, leaves the group */

    pid_t b = start_collector_in(w, "take", "outB", "b.log");
    assert_int_equal(write(fd, data + k * 4096, (size_t)(size - k * 4096)), size - k * 4096);
    close(fd);
    assert_int_equal(wait_exit(w, sender, 30000), 0);
    /* What B must hold: the header buffer, then buffers k..end. */
    write_file(w, "expect.etl", data, 4096, data + k * 4096, size - k * 4096);
    char expect[256];
    snprintf(expect, sizeof expect, "%s/expect.etl", w->dir);
    size_goal g = {w, "outB", "live", "t", test_file_size(expect), ""};
    int saved = test_wait_fs(w->dir, 30000, saved_size_reached, &g) && test_same_file(g.etl, expect);
    const char *etl = g.etl;
    assert_int_equal(stop(w, b), 0);
    assert_true(saved);

    /* A holds exactly buffers 0..k-1. */
    char etl_a[512];
    assert_true(saved_etl_in(w, "outA", "live", "t", etl_a, sizeof etl_a));
    assert_int_equal(test_file_size(etl_a), k * 4096);
    /* B's decoded events are those of the header and buffers k..end, in the same order as
     * `etwire dump` of exactly those buffers; and fewer than the whole trace's. */
    assert_int_equal(test_run(ETWIRE " dump -f json '%s' >'%s/expect.json' 2>/dev/null", expect, w->dir), 0);
    assert_int_equal(test_run("cmp -s '%s/expect.json' \"$(ls '%s'/outB-json/live/t-*.jsonl)\"", w->dir, w->dir), 0);
    assert_int_equal(test_run(ETWIRE " dump -f json '%s/t.etl' | cmp -s - '%s/expect.json'", w->dir, w->dir), 1);
    /* The saved .etl reopens, and its marker gives the first buffer after the gap. */
    assert_int_equal(test_run(ETWIRE " dump '%s' >/dev/null 2>&1", etl), 0);
    char text[128];
    snprintf(text, sizeof text, "etwire-kafka-takeover 1 first %ld", k);
    assert_int_equal(test_run("grep -qx '%s' '%.*s.gap'", text, (int)(strlen(etl) - 4), etl), 0);
    /* The gap is logged with its range and counted in the statistics. */
    snprintf(text, sizeof text, "live/t/[0-9a-f]*: taken over at buffer %ld .*buffers 1..%ld missing", k, k - 1);
    assert_true(log_has(w, "b.log", text));
    snprintf(text, sizeof text, "\"kafka_taken_over_at\":%ld,\"buffers_missing\":%ld", k, k - 1);
    assert_int_equal(test_run("grep -q '%s' '%s/outB.stats'", text, w->dir), 0);
    assert_false(log_has(w, "b.log", ": skipped"));
    assert_false(log_has(w, "a.log", ": taken over at"));
}

/* The test's own producer (murmur2, like etwire send), for records etwire send never writes. */
static void *test_producer(world *w)
{
    char err[256];
    void *conf = w->api.conf_new();
    assert_int_equal(w->api.conf_set(conf, "bootstrap.servers", w->bootstraps, err, sizeof err), 0);
    assert_int_equal(w->api.conf_set(conf, "partitioner", "murmur2_random", err, sizeof err), 0);
    void *rk = w->api.kafka_new(0, conf, err, sizeof err);
    assert_non_null(rk);
    w->producer = rk;
    return rk;
}

static void put(world *w, void *rk, const char *topic, const char *key, const void *v, size_t n)
{
    void *t = w->api.topic_new(rk, topic, NULL);
    assert_non_null(t);
    assert_int_equal(w->api.produce(t, -1 /* by key */, 2 /* copy */, (void *)v, n, key, strlen(key), NULL), 0);
    w->api.topic_destroy(t);
}

static void put_buffer(world *w, void *rk, const char *topic, const char *key, uint64_t seq,
                       const uint8_t *buf, uint32_t size)
{
    uint8_t *v = malloc(ETW_RELAY_BUFFER_PREFIX + size);
    assert_non_null(v);
    assert_int_equal(etw_relay_encode_buffer_prefix(v, seq, size, 0, size), ETW_RELAY_BUFFER_PREFIX);
    memcpy(v + ETW_RELAY_BUFFER_PREFIX, buf, size);
    put(w, rk, topic, key, v, ETW_RELAY_BUFFER_PREFIX + size);
    free(v);
}

static void put_end(world *w, void *rk, const char *topic, const char *key, uint64_t count)
{
    uint8_t v[ETW_RELAY_HEADER_SIZE + 8];
    assert_int_equal(etw_relay_encode_end(v, sizeof v, count), sizeof v);
    put(w, rk, topic, key, v, sizeof v);
}

/* Sessions met in the middle whose header cannot be had: one with nothing in T.headers, one
 * with only unusable records there (not a frame; a seq-0 buffer whose BufferSize lies; a
 * buffer that is not seq 0). Both are skipped, logged and counted, leave no .etl, and do not
 * disturb a complete session sharing the partitions. */
static void test_takeover_without_header(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "nh", 2, 3), 0);
    assert_int_equal(w->api.mock_topic_create(w->mc, "nh.headers", 2, 3), 0);
    assert_int_equal(test_run(ETWIRE " generate --seed 5 --events 1500 --buffer-size 4K "
                         "-o '%s/fine.etl' 2>/dev/null", w->dir), 0);
    long size;
    uint8_t *data = read_all(w, "fine", &size);
    long nbuf = size / 4096;
    assert_true(nbuf >= 6);
    void *rk = test_producer(w);
    const char *gone = "x/gone/00000000000000a1", *bad = "x/bad/00000000000000b2",
               *fine = "x/fine/00000000000000c3";
    put(w, rk, "nh.headers", bad, "not a relay frame", 17);
    uint8_t *liar = malloc(4096);
    assert_non_null(liar);
    memcpy(liar, data, 4096);
    liar[0] ^= 0x10; /* BufferSize no longer 4096 */
    put_buffer(w, rk, "nh.headers", bad, 0, liar, 4096);
    free(liar);
    put_buffer(w, rk, "nh.headers", bad, 1, data + 4096, 4096);
    for (int i = 3; i < 6; i++)
        put_buffer(w, rk, "nh", gone, (uint64_t)i, data + i * 4096, 4096);
    put_end(w, rk, "nh", gone, 6);
    for (int i = 2; i < 4; i++)
        put_buffer(w, rk, "nh", bad, (uint64_t)i, data + i * 4096, 4096);
    put_end(w, rk, "nh", bad, 4);
    for (long i = 0; i < nbuf; i++)
        put_buffer(w, rk, "nh", fine, (uint64_t)i, data + i * 4096, 4096);
    put_end(w, rk, "nh", fine, (uint64_t)nbuf);
    assert_int_equal(w->api.flush(rk, 10000), 0);

    pid_t c = start_collector(w, "nh", "nh.log");
    static const char *const sessions[] = {"x", "fine"};
    int saved = wait_saved(w, sessions, 1, 30000);
    int logged = wait_log(w, "nh.log", "x/gone/00000000000000a1: buffer 3 without", 20000) &&
                 wait_log(w, "nh.log", "x/bad/00000000000000b2: buffer 2 without", 20000);
    assert_int_equal(stop(w, c), 0);
    assert_true(saved);
    assert_true(logged);
    check_dumps(w, sessions, 1);
    assert_true(log_has(w, "nh.log", "x/gone/00000000000000a1: no header buffer in nh.headers"));
    assert_true(log_has(w, "nh.log", "x/bad/00000000000000b2: no header buffer in nh.headers (no valid record"));
    assert_true(log_has(w, "nh.log", "0 sessions taken over .* 2 sessions skipped without a header"));
    char etl[512];
    assert_false(saved_etl(w, "x", "gone", etl, sizeof etl));
    assert_false(saved_etl(w, "x", "bad", etl, sizeof etl));
    /* Every record of the two sessions (buffers and END) is counted as skipped. */
    assert_int_equal(test_run("grep -q '\"session\":\"gone-00000000000000a1\",\"kafka_no_header\":true,"
                         "\"records_skipped\":4' '%s/out.stats'", w->dir), 0);
    assert_int_equal(test_run("grep -q '\"session\":\"bad-00000000000000b2\",\"kafka_no_header\":true,"
                         "\"records_skipped\":3' '%s/out.stats'", w->dir), 0);
}

/* The trace time an .etl spans as --rate paces it (from the session's start, the header
 * buffer's header event, to the last flush) and its clock, to know how long --rate must take. */
typedef struct flush_span {
    uint64_t first, last, freq;
} flush_span;

static BOOL WINAPI on_span_buffer(const ETW_BUFFER_HEADER *buf, ULONG size,
                                  const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    flush_span *f = ctx;
    uint64_t ts = relay_pace_buffer_time((const uint8_t *)buf, size);
    if (!f->freq && info && info->LogfileHeader)
        f->freq = (uint64_t)info->LogfileHeader->PerfFreq.QuadPart;
    if (ts && !f->first)
        f->first = ts;
    if (ts > f->last)
        f->last = ts;
    return TRUE;
}

static double flush_seconds(const char *path)
{
    flush_span f = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.BufferCallback = on_span_buffer;
    o.BufferCallbackContext = &f;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
    assert_true(f.freq > 0 && f.last > f.first);
    return (double)(f.last - f.first) / (double)f.freq;
}

/* --rate=F paces publishing by the buffers' flush times: F is picked so that the trace (from
 * its start) takes 1.5 s; the records still arrive whole. */
static void test_send_rate(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "paced", 2, 3), 0);
    assert_int_equal(test_run(ETWIRE " generate --seed 13 --events 6000 --buffer-size 4K "
                         "-o '%s/paced.etl' 2>/dev/null", w->dir), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/paced.etl", w->dir);
    double span = flush_seconds(path), want = 1.5, rate = span / want;
    pid_t c = start_collector(w, "paced", "paced.log");
    int64_t t0 = test_now_ms();
    assert_int_equal(test_run("timeout 60 " ETWIRE " send --kafka '%s' --topic paced --source p --rate=%.9f "
                         "'%s' 2>>%s/send.log", w->bootstraps, rate, path, w->dir), 0);
    double took = (double)(test_now_ms() - t0) / 1000;
    print_message("trace span %.3f s, --rate=%.4f: published in %.3f s (at least %.3f)\n", span, rate,
                  took, want);
    static const char *const sessions[] = {"p", "paced"};
    int saved = wait_saved(w, sessions, 1, 30000);
    assert_int_equal(stop(w, c), 0);
    assert_true(saved);
    assert_true(took >= want - 0.05);
    assert_true(took < want + 20);
}

/* --zstd: zstd record batches; the records arrive and decode as with lz4. */
static void test_send_zstd(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "zs", 2, 3), 0);
    static const char *const sessions[] = {"z", "z1", "z", "z2"};
    for (int i = 1; i <= 2; i++)
        assert_int_equal(test_run(ETWIRE " generate --seed %d --events 3000 --buffer-size 4K "
                             "-o '%s/z%d.etl' 2>/dev/null", 40 + i, w->dir, i), 0);
    pid_t c = start_collector(w, "zs", "zs.log");
    assert_int_equal(test_run("timeout 60 " ETWIRE " send --kafka '%s' --topic zs --source z --zstd -v "
                         "%s/z1.etl %s/z2.etl 2>>%s/zsend.log", w->bootstraps, w->dir, w->dir, w->dir), 0);
    int saved = wait_saved(w, sessions, 2, 30000);
    assert_int_equal(stop(w, c), 0);
    assert_true(saved);
    check_dumps(w, sessions, 2);
    assert_true(log_has(w, "zsend.log", "(zstd batches)"));
    assert_false(log_has(w, "zs.log", ": skipped"));
}

/* What a consumer saw of one event: enough to tell events apart and compare their order. */
typedef struct seen_event {
    int64_t time;
    GUID provider;
    USHORT id;
    USHORT user_len;
    ULONG pid, tid;
    uint64_t payload_hash;
} seen_event;

typedef struct seen {
    seen_event *v;
    size_t n, cap;
    ULONG buffers;
} seen;

static void WINAPI on_seen_event(PEVENT_RECORD er)
{
    seen *s = er->UserContext;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    seen_event *e = &s->v[s->n++];
    memset(e, 0, sizeof *e);
    e->time = er->EventHeader.TimeStamp.QuadPart;
    e->provider = er->EventHeader.ProviderId;
    e->id = er->EventHeader.EventDescriptor.Id;
    e->user_len = er->UserDataLength;
    e->pid = er->EventHeader.ProcessId;
    e->tid = er->EventHeader.ThreadId;
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the payload */
    for (USHORT i = 0; i < er->UserDataLength; i++)
        h = (h ^ ((const uint8_t *)er->UserData)[i]) * 1099511628211ull;
    e->payload_hash = h;
}

static BOOL WINAPI on_seen_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                                  const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)size, (void)info;
    ((seen *)ctx)->buffers++;
    return TRUE;
}

/* Every event of an .etl, in the order a file consumer delivers them. */
static void seen_from_file(const world *w, const char *name, seen *out)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", w->dir, name);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_seen_event;
    o.EventCallbackContext = out;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
}

/* Buffers of name the collector at ETWIRE_LIVE published so far (its listing), or -1. */
static long long live_published(const char *name)
{
    char *text = NULL;
    if (etwire_live_sessions(NULL, &text) != ERROR_SUCCESS)
        return -1;
    long long n = -1;
    size_t len = strlen(name);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        unsigned long long inst, start, buffers;
        if (!strncmp(line, name, len) && line[len] == '\t' &&
            sscanf(line + len, "\t%llx\t%llu\t%llu", &inst, &start, &buffers) == 3)
            n = (long long)buffers;
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return n;
}

/* `collect --kafka --live unix:PATH`: a session streamed through the mock cluster is published
 * live. A consumer attaching by name (OpenTraceFromRealTimeLogger) after k of its buffers were
 * published gets the header from the session's header buffer, then exactly the events of the
 * header buffer and buffers k..end in time order (those of `etwire dump` of that .etl), ending
 * with the trace's last event, nothing lost; ProcessTrace returns ERROR_SUCCESS when the
 * sender ends the session, after which the name is no longer live. */
static void test_live_from_kafka(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "lv", 2, 3), 0);
    assert_int_equal(test_run(ETWIRE " generate --seed 17 --events 1000 --processors 2 --buffer-size 4K "
                         "-o '%s/t.etl' 2>/dev/null", w->dir), 0);
    long size;
    uint8_t *data = read_all(w, "t", &size);
    long nbuf = size / 4096, k = nbuf / 3; /* all buffers are 4 KiB */
    /* What the consumer gets stays far below the memory limit of a real-time session (16 MiB
     * here, src/winapi/realtime.c), beyond which it would let events go before the file's time
     * order is proven and lose the buffers that then come late. */
    assert_true(k >= 2 && nbuf - k >= 2 && nbuf - k + 1 < 64);
    char out[128], sock[128], live[160], logp[128], port[16];
    snprintf(out, sizeof out, "%s/out", w->dir);
    snprintf(sock, sizeof sock, "%s/live.sock", w->dir);
    snprintf(live, sizeof live, "unix:%s", sock);
    snprintf(logp, sizeof logp, "%s/lv.log", w->dir);
    /* The queue holds the whole rest of the session for the consumer that reads it later. */
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    char ready_fd[16];
    snprintf(ready_fd, sizeof ready_fd, "%d", ready[1]);
    char *argv[] = {ETWIRE, "collect", "--kafka", w->bootstraps, "--topic", "lv", "--group", "g",
                    "--out", out, "--reorder", "unbounded", "--live", live, "--live-queue", "4096",
                    "--ready-fd", ready_fd, "-v", NULL};
    pid_t c = spawn_ready(w, argv, -1, logp, ready[1]);
    close(ready[1]);
    setenv("ETWIRE_LIVE", live, 1);
    int fd;
    pid_t sender = start_pipe_sender(w, "lv", "kl", "t", &fd);

    /* Not live before its first buffer (once the collector listens). */
    ETW_OPEN_TRACE_OPTIONS none = {0};
    none.EventCallback = on_seen_event;
    /* Its --ready-fd line comes once the live socket listens (end of file if it failed). */
    assert_true(test_read_line(ready[0], port, sizeof port, 30000));
    close(ready[0]);
    assert_string_equal(port, "0");
    assert_int_equal(access(sock, F_OK), 0);
    assert_true(OpenTraceFromRealTimeLogger(u"kl/t", &none, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_last_error(), ERROR_WMI_INSTANCE_NOT_FOUND);

    /* The collector publishes each buffer before it appends it to the .etl (relay/sink.c):
     * once the .etl holds k buffers (feed waits for that), k are published. */
    feed(w, fd, data, k * 4096, "kl", "t", k * 4096);
    assert_int_equal(live_published("kl/t"), k);

    seen got = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_seen_event;
    o.EventCallbackContext = &got;
    o.BufferCallback = on_seen_buffer;
    o.BufferCallbackContext = &got;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = OpenTraceFromRealTimeLogger(u"kl/t", &o, &hdr);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(hdr.BufferSize, 4096);
    assert_int_equal(hdr.NumberOfProcessors, 2);
    assert_int_equal(etwire_stream_set_reorder_window(h, ETWIRE_REORDER_UNBOUNDED), ERROR_SUCCESS);

    assert_int_equal(write(fd, data + k * 4096, (size_t)(size - k * 4096)), size - k * 4096);
    close(fd);
    assert_int_equal(wait_exit(w, sender, 30000), 0);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    TRACE_LOGFILE_HEADER after;
    assert_int_equal(etwire_session_get_header(h, &after), ERROR_SUCCESS);
    assert_int_equal(after.BuffersLost, 0);
    CloseTrace(h);
    assert_int_equal(got.buffers, nbuf - k + 1); /* the header buffer, then k..end */

    /* Exactly the events of the header buffer and buffers k..end, in the same order. */
    write_file(w, "expect.etl", data, 4096, data + k * 4096, size - k * 4096);
    seen want = {0}, all = {0};
    seen_from_file(w, "expect.etl", &want);
    seen_from_file(w, "t.etl", &all);
    if (got.n != want.n)
        fail_msg("live consumer: %zu events, expected %zu", got.n, want.n);
    for (size_t i = 0; i < got.n; i++) {
        if (memcmp(&got.v[i], &want.v[i], sizeof got.v[i]))
            fail_msg("live consumer: event %zu differs (time %lld id %u pid %u tid %u len %u, "
                     "expected time %lld id %u pid %u tid %u len %u)", i, (long long)got.v[i].time,
                     got.v[i].id, got.v[i].pid, got.v[i].tid, got.v[i].user_len,
                     (long long)want.v[i].time, want.v[i].id, want.v[i].pid, want.v[i].tid,
                     want.v[i].user_len);
        if (i && got.v[i].time < got.v[i - 1].time)
            fail_msg("live consumer: event %zu out of time order", i);
    }
    assert_true(got.n > 0 && got.n < all.n);
    assert_memory_equal(&got.v[got.n - 1], &all.v[all.n - 1], sizeof *got.v);
    free(got.v);
    free(want.v);
    free(all.v);

    /* The session ended: the name is no longer live (the collector takes it off its list before
     * it tells subscribers END, which ended ProcessTrace); the saved .etl is the whole trace. */
    assert_int_equal(live_published("kl/t"), -1);
    assert_true(OpenTraceFromRealTimeLogger(u"kl/t", &none, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_last_error(), ERROR_WMI_INSTANCE_NOT_FOUND);
    static const char *const sessions[] = {"kl", "t"};
    int saved = wait_saved(w, sessions, 1, 30000);
    assert_int_equal(stop(w, c), 0);
    assert_true(saved);
    assert_int_equal(access(sock, F_OK), -1); /* the socket goes with the collector */
}

/* Runs tests[i] in a process of its own, its report to the file out; the child's pid. */
static pid_t run_alone(const struct CMUnitTest *test, const char *out)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        _exit(1);
    const struct CMUnitTest one[] = {*test};
    _exit(test_exit(cmocka_run_group_tests_name(test->name, one, NULL, NULL)));
}

/* Each test runs in a process of its own, all at once: most of a test's time is the mock
 * coordinator's fixed waits (3 s before it admits the first member of an empty group, in
 * librdkafka 2.0, and the rebalances), which then pass side by side instead of one after the
 * other. Every test keeps its own cluster, folder and alarm(60); the reports are printed in
 * order once all have exited, and the exit status is the worst of theirs (a failure, else 77
 * when one skipped). */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ordered_per_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_takeover_from_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_takeover_without_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_zstd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_from_kafka, setup, teardown),
    };
    enum { N = sizeof tests / sizeof tests[0] };
    char dir[64], out[N][96];
    test_mkdtemp(dir, "kafka-runs");
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        snprintf(out[i], sizeof out[i], "%s/%d.txt", dir, i);
        pids[i] = run_alone(&tests[i], out[i]);
    }
    int failed = 0, skipped = 0;
    /* Each test ends by its alarm(60) at the latest; this bound is only a backstop. */
    int64_t end = test_now_ms() + 120000;
    for (int i = 0; i < N; i++) {
        int64_t left = end - test_now_ms();
        int rc = pids[i] > 0 ? test_reap(pids[i], left > 0 ? (int)left : 0) : -1;
        size_t n = 0;
        char *text = (char *)test_read_file(out[i], &n);
        if (text)
            fwrite(text, 1, n, stdout);
        free(text);
        if (rc == 77)
            skipped++;
        else if (rc != 0) {
            printf("%s: exit status %d\n", tests[i].name, rc);
            failed++;
        }
    }
    test_rmdir(dir);
    return failed ? 1 : skipped ? 77 : 0;
}
