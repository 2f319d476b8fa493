/* etwire send -> a proxy that cuts the connection at random points -> etwire collect, all on
 * 127.0.0.1: after every cut the sender reconnects and resumes, and in the end the saved .etl
 * is byte-identical to the sent file and the JSON lines hold every event exactly once.
 * Skips when the CLI cannot generate a trace. Bounded: 8 cuts, 120 s; the collector's start
 * is its --ready-fd line, the children's ends their exits (pidfd), each with a deadline. */
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
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CUTS 8

static char dir[64], cli[512];
static int proxy_fd, collector_port;
static atomic_int cuts_done; /* written by the proxy thread */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

/* Forwards both ways; a connection among the first CUTS is cut after a random byte count. */
static void relay_pair(int a, int b, uint64_t cut_after)
{
    uint8_t buf[32768];
    uint64_t moved = 0;
    struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    while (moved < cut_after && poll(p, 2, 30000) > 0) {
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n)
                return;
            moved += (uint64_t)n;
        }
    }
}

static void *proxy_main(void *arg)
{
    for (;;) {
        int c = accept(proxy_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)collector_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            uint64_t cut = cuts_done < CUTS ? 4096 + next_rand() % (1u << 20) : UINT64_MAX;
            relay_pair(c, s, cut);
            if (cut != UINT64_MAX)
                cuts_done++;
        }
        if (s >= 0)
            close(s);
        close(c);
    }
}

static int run(const char *cmd)
{
    return test_run("%s", cmd);
}

static void cut_connections(void **state)
{
    char cmd[2048], trace[128];
    snprintf(cli, sizeof cli, "%s/etwire", ETWIRE_BINARY_DIR);
    snprintf(dir, sizeof dir, "/tmp/etwire-proxy.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(trace, sizeof trace, "%s/p.etl", dir);
    snprintf(cmd, sizeof cmd, "%s generate --seed 61 --events 40000 -o %s >/dev/null 2>&1", cli, trace);
    if (run(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        run(cmd);
        TEST_SKIP("the CLI cannot generate a trace");
    }
    char out[128], json[128], log[128];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(json, sizeof json, "%s/json", dir);
    snprintf(log, sizeof log, "%s/collect.log", dir);
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    char ready_fd[16], port[16];
    snprintf(ready_fd, sizeof ready_fd, "%d", ready[1]);
    char *cargv[] = {cli, "collect", "--listen", "127.0.0.1:0", "--plain", "--ready-fd", ready_fd,
                     "--out", out, "--json", json, NULL};
    pid_t collector = test_spawn(cargv, -1, log, ready[1]);
    close(ready[1]);
    /* The port, once it listens; end of file if it could not start. */
    if (test_read_line(ready[0], port, sizeof port, TEST_DEADLINE_MS))
        collector_port = atoi(port);
    close(ready[0]);
    if (collector_port <= 0)
        test_reap(collector, 0);
    assert_true(collector_port > 0);
    int proxy_port = 0;
    proxy_fd = listen_loopback(&proxy_port);
    assert_true(proxy_fd >= 0);
    pthread_t t;
    pthread_create(&t, NULL, proxy_main, NULL);
    pthread_detach(t);

    char to[64], slog[128];
    snprintf(to, sizeof to, "127.0.0.1:%d", proxy_port);
    snprintf(slog, sizeof slog, "%s/send.log", dir);
    char *sargv[] = {cli, "send", "--to", to, "--plain", "--source", "proxied", "--window", "16",
                     "--retry", "30", "-v", trace, NULL};
    int send_rc = test_reap(test_spawn(sargv, -1, slog, -1), 120000);
    int collect_rc = test_stop_child(collector, 30000);
    print_message("proxy cut %d connections\n", cuts_done);
    assert_int_equal(send_rc, 0);
    assert_int_equal(collect_rc, 0);
    assert_int_equal(cuts_done, CUTS);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s/proxied/p-*.etl", trace, out);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "%s dump --format json %s | sort > %s/want && sort %s/proxied/p-*.jsonl > %s/got && "
             "cmp -s %s/want %s/got", cli, trace, dir, json, dir, dir, dir);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_connections),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
