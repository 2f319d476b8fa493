/* Waiting in tests: on events, each wait with a deadline, never on a timer that guesses how
 * long something takes. A child's exit (pidfd), files appearing or growing below a folder
 * (inotify), a line on a pipe (a --ready-fd), a condition variable. Each returns when the
 * event came or the deadline passed, and says which. */
#ifndef ETWIRE_TEST_WAITS_H
#define ETWIRE_TEST_WAITS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The deadline every test wait uses unless it has a reason for another. */
#define TEST_DEADLINE_MS 30000

int64_t test_now_ms(void); /* CLOCK_MONOTONIC */

/* Waits for child pid to exit, at most ms: its exit status, 128 + signal, or -1 at the
 * deadline (the child is then left running). */
int test_wait_child(pid_t pid, int ms);
/* test_wait_child, and at the deadline SIGKILL and reap it (-1). */
int test_reap(pid_t pid, int ms);
/* SIGTERM, then test_reap. */
int test_stop_child(pid_t pid, int ms);

/* Runs cond(ctx) now and again after every change below dir (created, written, moved in or
 * deleted, in any subfolder, new ones included) until it returns nonzero: 1; 0 once ms
 * passed without it holding. dir must exist. */
int test_wait_fs(const char *dir, int ms, int (*cond)(void *ctx), void *ctx);
/* test_wait_fs until the file at path holds at least `bytes` bytes. */
int test_wait_file_size(const char *path, long bytes, int ms);
/* test_wait_fs until the file at path contains text (a fixed string). */
int test_wait_file_text(const char *path, const char *text, int ms);

/* Reads one line (without its newline) from fd, at most ms: 1, or 0 at the deadline or end of
 * file (the writer closed it, e.g. a collector that failed to start). */
int test_read_line(int fd, char *line, size_t n, int ms);

/* An absolute CLOCK_REALTIME time ms from now, for pthread_cond_timedwait. */
struct timespec test_deadline_ts(int ms);
/* Waits on cv (mu held) until cond(ctx) holds: 1, or 0 at the deadline (an absolute time
 * from test_deadline_ts). */
int test_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline,
                   int (*cond)(void *ctx), void *ctx);

#endif
