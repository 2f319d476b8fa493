/* base/fd_io.c: whole socket reads and writes with deadlines and a wake-up descriptor. A read
 * waits for all its bytes across short writes, ends at its deadline, at once when woken, and on
 * a closed peer; a write larger than the socket's buffer goes through whole against a reader on
 * another thread (non-blocking socket: EAGAIN, then a wait), and to a peer that went away fails
 * without SIGPIPE. ETWIRE_TEST_THREADS: the reader of the large write is a thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fd_io.h"

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void read_whole_across_writes(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    assert_int_equal(write(sv[1], "abc", 3), 3);
    assert_int_equal(write(sv[1], "defg", 4), 4);
    char got[7];
    assert_int_equal(etw_fd_recv_all(sv[0], got, sizeof got, etw_mono_ms() + 10000, -1), ETW_FD_OK);
    assert_memory_equal(got, "abcdefg", 7);
    close(sv[0]);
    close(sv[1]);
}

static void read_deadline_wake_and_close(void **state)
{
    (void)state;
    int sv[2], wake[2];
    pair(sv);
    assert_int_equal(etw_wake_pipe(wake), 0);
    char got[4];
    /* Nothing comes: the deadline ends it (a past deadline at once). */
    assert_int_equal(etw_fd_recv_all(sv[0], got, 4, etw_mono_ms() - 1, -1), ETW_FD_DEADLINE);
    assert_int_equal(write(sv[1], "ab", 2), 2); /* half of it */
    assert_int_equal(etw_fd_recv_all(sv[0], got, 4, etw_mono_ms() + 20, -1), ETW_FD_DEADLINE);
    /* Woken: at once, with no deadline at all. */
    etw_wake_signal(wake[1]);
    etw_wake_signal(wake[1]);
    assert_int_equal(etw_fd_recv_all(sv[0], got, 4, ETW_FD_NO_DEADLINE, wake[0]), ETW_FD_WOKEN);
    etw_wake_drain(wake[0]);
    struct pollfd pw = {.fd = wake[0], .events = POLLIN};
    assert_int_equal(poll(&pw, 1, 0), 0); /* drained: no longer readable */
    /* Woken again after a drain: a later wait ends at once too. */
    etw_wake_signal(wake[1]);
    assert_int_equal(etw_fd_recv_all(sv[0], got, 4, ETW_FD_NO_DEADLINE, wake[0]), ETW_FD_WOKEN);
    etw_wake_drain(wake[0]);
    /* The peer goes away. */
    close(sv[1]);
    assert_int_equal(etw_fd_recv_all(sv[0], got, 4, ETW_FD_NO_DEADLINE, wake[0]), ETW_FD_LOST);
    close(sv[0]);
    etw_wake_close(wake);
    assert_int_equal(wake[0], -1);
    assert_int_equal(wake[1], -1);
}

typedef struct sink {
    int fd;
    uint8_t *buf;
    size_t n;
    etw_fd_result rc;
} sink;

static void *drain(void *arg)
{
    sink *s = arg;
    s->rc = etw_fd_recv_all(s->fd, s->buf, s->n, etw_mono_ms() + 30000, -1);
    return NULL;
}

static void write_larger_than_the_socket(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    assert_int_equal(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
    const size_t n = 8u << 20, head = 3;
    uint8_t *out = malloc(n), *in = malloc(n + head);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i * 131 + (i >> 13));
    sink s = {sv[0], in, n + head, ETW_FD_LOST};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain, &s), 0);
    struct iovec iov[3] = {{(void *)"xyz", head}, {NULL, 0}, {out, n}};
    assert_int_equal(etw_fd_sendv_all(sv[1], iov, 3, etw_mono_ms() + 30000), ETW_FD_OK);
    pthread_join(t, NULL);
    assert_int_equal(s.rc, ETW_FD_OK);
    assert_memory_equal(in, "xyz", head);
    assert_memory_equal(in + head, out, n);
    /* Nobody reads: the deadline ends the write. */
    assert_int_equal(etw_fd_send_all(sv[1], out, n, etw_mono_ms() + 20), ETW_FD_DEADLINE);
    /* The peer is gone: an error, not SIGPIPE. */
    close(sv[0]);
    assert_int_equal(etw_fd_send_all(sv[1], out, 16, etw_mono_ms() + 1000), ETW_FD_LOST);
    close(sv[1]);
    free(out);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_whole_across_writes),
        cmocka_unit_test(read_deadline_wake_and_close),
        cmocka_unit_test(write_larger_than_the_socket),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
