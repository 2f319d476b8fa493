/* `etwire send --kafka` and `etwire collect --kafka` against librdkafka's mock cluster (three
 * brokers inside this test process, on loopback; nothing leaves the machine): ordered delivery
 * per key over several keys, a consumer-group rebalance in the middle of a session, and 16 MiB
 * buffers. Every check is that the collector's saved .etl is byte-identical to the sent file
 * and `etwire dump` of both agree, which rules out loss, duplicates and reordering.
 * librdkafka is loaded with dlopen, so this test needs no link-time dependency; it skips when
 * the library or a Kafka-enabled etwire is missing. Each test bounds its waits (< 60 s). */
#include <dlfcn.h>
#include <fcntl.h>
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

#define ETWIRE ETWIRE_BINARY_DIR "/etwire"

/* The few librdkafka entry points used, resolved at run time. */
typedef struct kafka_api {
    void *(*conf_new)(void);
    void *(*kafka_new)(int type, void *conf, char *err, size_t errlen);
    void (*kafka_destroy)(void *rk);
    void *(*mock_new)(void *rk, int brokers);
    void (*mock_destroy)(void *mc);
    const char *(*mock_bootstraps)(const void *mc);
    int (*mock_topic_create)(void *mc, const char *topic, int partitions, int replication);
} kafka_api;

typedef struct world {
    kafka_api api;
    void *rk, *mc;
    char bootstraps[512];
    char dir[64];
} world;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Starts argv with stdin from in_fd (-1: /dev/null) and stderr appended to log. */
static pid_t spawn(char *const argv[], int in_fd, const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 0);
        dup2(lf, 1);
        dup2(lf, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* SIGTERM, then waits up to 30 s; the exit status, or -1. */
static int stop(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int64_t end = now_ms() + 30000; now_ms() < end; usleep(50000)) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static int wait_exit(pid_t pid, int ms)
{
    for (int64_t end = now_ms() + ms; now_ms() < end; usleep(50000)) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return stop(pid);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int same_file(const char *a, const char *b)
{
    return run("cmp -s '%s' '%s'", a, b) == 0;
}

/* The .etl a collector saved for source/session (its instance is random), in out. */
static int saved_etl(const world *w, const char *source, const char *session, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/out/%s/%s-????????????????.etl 2>/dev/null | head -1", w->dir,
             source, session);
    FILE *p = popen(cmd, "r");
    int ok = p && fgets(out, (int)n, p) != NULL;
    if (p)
        pclose(p);
    if (ok)
        out[strcspn(out, "\n")] = 0;
    return ok && *out;
}

/* Waits (bounded) until every listed session's .etl equals its original. */
static int wait_saved(const world *w, const char *const *sessions, int n, int ms)
{
    for (int64_t end = now_ms() + ms; now_ms() < end; usleep(100000)) {
        int ok = 0;
        for (int i = 0; i < n; i++) {
            char etl[512], orig[512];
            snprintf(orig, sizeof orig, "%s/%s.etl", w->dir, sessions[2 * i + 1]);
            ok += saved_etl(w, sessions[2 * i], sessions[2 * i + 1], etl, sizeof etl) &&
                  same_file(etl, orig);
        }
        if (ok == n)
            return 1;
    }
    return 0;
}

static void check_dumps(const world *w, const char *const *sessions, int n)
{
    for (int i = 0; i < n; i++) {
        char etl[512];
        assert_true(saved_etl(w, sessions[2 * i], sessions[2 * i + 1], etl, sizeof etl));
        assert_int_equal(run(ETWIRE " dump '%s/%s.etl' >'%s/d1.txt' 2>/dev/null", w->dir,
                             sessions[2 * i + 1], w->dir), 0);
        assert_int_equal(run(ETWIRE " dump '%s' >'%s/d2.txt' 2>/dev/null", etl, w->dir), 0);
        assert_int_equal(run("cmp -s '%s/d1.txt' '%s/d2.txt'", w->dir, w->dir), 0);
    }
}

static pid_t start_collector(const world *w, const char *topic, const char *log)
{
    char out[128], json[128], logp[128];
    snprintf(out, sizeof out, "%s/out", w->dir);
    snprintf(json, sizeof json, "%s/json", w->dir);
    snprintf(logp, sizeof logp, "%s/%s", w->dir, log);
    char *argv[] = {ETWIRE, "collect", "--kafka", (char *)w->bootstraps, "--topic", (char *)topic,
                    "--group", "g", "--out", out, "--json", json, "--reorder", "unbounded",
                    "--max-memory", "1G", "-v", NULL};
    return spawn(argv, -1, logp);
}

static int log_has(const world *w, const char *log, const char *text)
{
    return run("grep -q '%s' '%s/%s'", text, w->dir, log) == 0;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    void *so = dlopen("librdkafka.so.1", RTLD_NOW);
    if (!w || !so || run(ETWIRE " send --help | grep -q -- --kafka") != 0) {
        free(w);
        *state = NULL;
        return 0;
    }
    kafka_api *a = &w->api;
    *(void **)&a->conf_new = dlsym(so, "rd_kafka_conf_new");
    *(void **)&a->kafka_new = dlsym(so, "rd_kafka_new");
    *(void **)&a->kafka_destroy = dlsym(so, "rd_kafka_destroy");
    *(void **)&a->mock_new = dlsym(so, "rd_kafka_mock_cluster_new");
    *(void **)&a->mock_destroy = dlsym(so, "rd_kafka_mock_cluster_destroy");
    *(void **)&a->mock_bootstraps = dlsym(so, "rd_kafka_mock_cluster_bootstraps");
    *(void **)&a->mock_topic_create = dlsym(so, "rd_kafka_mock_topic_create");
    char err[256];
    w->rk = a->conf_new && a->kafka_new ? a->kafka_new(0 /* producer */, a->conf_new(), err, sizeof err) : NULL;
    w->mc = w->rk && a->mock_new ? a->mock_new(w->rk, 3) : NULL;
    assert_non_null(w->mc);
    snprintf(w->bootstraps, sizeof w->bootstraps, "%s", a->mock_bootstraps(w->mc));
    snprintf(w->dir, sizeof w->dir, "/tmp/etwire-kafka.XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (!w)
        return 0;
    w->api.mock_destroy(w->mc);
    w->api.kafka_destroy(w->rk);
    if (!getenv("KEEP"))
        run("rm -rf '%s'", w->dir);
    free(w);
    return 0;
}

#define SKIP_WITHOUT_KAFKA(w)                                                                  \
    do {                                                                                       \
        if (!(w)) {                                                                            \
            print_message("librdkafka or a Kafka-enabled etwire missing: skipped\n");          \
            skip();                                                                            \
        }                                                                                      \
    } while (0)

/* Five sessions over four partitions (so keys share partitions), from two send processes. */
static void test_ordered_per_key(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "order", 4, 3), 0);
    static const char *const sessions[] = {"src-a", "k1", "src-a", "k2", "src-a", "k3",
                                           "src-b", "k4", "src-b", "k5"};
    for (int i = 1; i <= 5; i++)
        assert_int_equal(run(ETWIRE " generate --seed %d --events %d --processors 3 --buffer-size 4K "
                             "-o '%s/k%d.etl'", 20 + i, 3000 * i, w->dir, i), 0);
    assert_int_equal(run("timeout 60 " ETWIRE " send --kafka '%s' --topic order --source src-a "
                         "%s/k1.etl %s/k2.etl %s/k3.etl 2>>%s/send.log", w->bootstraps, w->dir,
                         w->dir, w->dir, w->dir), 0);
    assert_int_equal(run("timeout 60 " ETWIRE " send --kafka '%s' --topic order --source src-b "
                         "%s/k4.etl %s/k5.etl 2>>%s/send.log", w->bootstraps, w->dir, w->dir, w->dir), 0);
    pid_t c = start_collector(w, "order", "order.log");
    int saved = wait_saved(w, sessions, 5, 40000);
    assert_int_equal(stop(c), 0);
    assert_true(saved);
    check_dumps(w, sessions, 5);
    assert_false(log_has(w, "order.log", "skipped"));
}

/* A session streamed from a pipe that the test feeds in three parts: consumer B joins after
 * the first (every partition is revoked and reassigned: the session is closed and resumed
 * from its .etl) and leaves after the second (again). */
static void test_rebalance_mid_stream(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "rebal", 4, 3), 0);
    static const char *const sessions[] = {"live", "s", "batch", "b1", "batch", "b2"};
    assert_int_equal(run(ETWIRE " generate --seed 7 --events 40000 --processors 4 --buffer-size 4K "
                         "-o '%s/s.etl'", w->dir), 0);
    for (int i = 1; i <= 2; i++)
        assert_int_equal(run(ETWIRE " generate --seed %d --events 20000 --buffer-size 4K -o '%s/b%d.etl'",
                             30 + i, w->dir, i), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/s.etl", w->dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    long size = file_size(path);
    uint8_t *data = malloc((size_t)size);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    long third = size / 4096 / 3 * 4096; /* all buffers are 4 KiB */
    assert_true(third > 0);

    int p[2];
    assert_int_equal(pipe(p), 0);
    char *send_argv[] = {ETWIRE, "send", "--kafka", w->bootstraps, "--topic", "rebal", "--source",
                         "live", "--session", "s", "-", NULL};
    char send_log[128];
    snprintf(send_log, sizeof send_log, "%s/send-live.log", w->dir);
    pid_t sender = spawn(send_argv, p[0], send_log);
    close(p[0]);
    pid_t a = start_collector(w, "rebal", "a.log");
    assert_int_equal(write(p[1], data, (size_t)third), third);
    assert_int_equal(run("timeout 60 " ETWIRE " send --kafka '%s' --topic rebal --source batch "
                         "%s/b1.etl %s/b2.etl 2>>%s/send.log", w->bootstraps, w->dir, w->dir, w->dir), 0);

    /* Part 1 saved by A, then B joins. */
    char etl[512] = "";
    int64_t end = now_ms() + 30000;
    while (now_ms() < end && !(saved_etl(w, "live", "s", etl, sizeof etl) && file_size(etl) == third))
        usleep(50000);
    assert_int_equal(file_size(etl), third);
    pid_t b = start_collector(w, "rebal", "b.log");
    for (end = now_ms() + 30000; now_ms() < end && !log_has(w, "b.log", "partitions assigned");)
        usleep(100000);
    assert_true(log_has(w, "b.log", "partitions assigned"));

    /* Part 2 while both are members, then B leaves. */
    assert_int_equal(write(p[1], data + third, (size_t)third), third);
    for (end = now_ms() + 20000; now_ms() < end && file_size(etl) < 2 * third;)
        usleep(50000);
    assert_int_equal(file_size(etl), 2 * third);
    assert_int_equal(stop(b), 0);

    /* The rest: A alone finishes every session. */
    assert_int_equal(write(p[1], data + 2 * third, (size_t)(size - 2 * third)), size - 2 * third);
    close(p[1]);
    free(data);
    assert_int_equal(wait_exit(sender, 30000), 0);
    int saved = wait_saved(w, sessions, 3, 40000);
    assert_int_equal(stop(a), 0);
    assert_true(saved);
    check_dumps(w, sessions, 3);
    assert_true(log_has(w, "a.log", "partitions revoked"));
    assert_false(log_has(w, "a.log", "skipped"));
    assert_false(log_has(w, "b.log", "skipped"));
}

/* 16 MiB buffers, the largest Windows allows, through message.max.bytes on both sides. */
static void test_large_buffers(void **state)
{
    world *w = *state;
    SKIP_WITHOUT_KAFKA(w);
    assert_int_equal(w->api.mock_topic_create(w->mc, "large", 2, 3), 0);
    static const char *const sessions[] = {"big", "large"};
    assert_int_equal(run(ETWIRE " generate --seed 3 --events 200000 --processors 2 "
                         "--buffer-size 16777216 --max-lag 0 -o '%s/large.etl'", w->dir), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/large.etl", w->dir);
    assert_true(file_size(path) >= 2 * (16l << 20)); /* header plus data buffers */
    assert_int_equal(run("timeout 60 " ETWIRE " send --kafka '%s' --topic large --source big "
                         "%s/large.etl 2>>%s/send.log", w->bootstraps, w->dir, w->dir), 0);
    pid_t c = start_collector(w, "large", "large.log");
    int saved = wait_saved(w, sessions, 1, 50000);
    assert_int_equal(stop(c), 0);
    assert_true(saved);
    check_dumps(w, sessions, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ordered_per_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_buffers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
