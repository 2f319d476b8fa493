/* Output written on a thread of its own (see async_writer.h). */
#include "async_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (256u << 10) /* two per session: many sessions at once stay cheap */
#define STUCK_SECONDS 60 /* a write that takes longer has failed */

struct async_writer {
    int fd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *fill;   /* the caller's block */
    size_t fill_len;
    uint8_t *ready;  /* (mu) handed to the writer thread; NULL once written */
    size_t ready_len;
    uint8_t *spare;  /* (mu) the block the writer gave back */
    int closing;     /* (mu) */
    int failed;      /* (mu) */
    int stuck;       /* the thread never finished: leaked rather than freed under it */
    char path[512];
};

static void deadline_in(struct timespec *ts, int seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += seconds;
}

/* Whole block or nothing counted: 0 or -1 (errno). */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void report(async_writer *w, int err)
{
    fprintf(stderr, "etwire collect: %s: %s (later output dropped)\n", w->path,
            err ? strerror(err) : "writing stalled");
}

static void *writer_main(void *arg)
{
    async_writer *w = arg;
    pthread_setname_np(pthread_self(), "etw-write");
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->ready && !w->closing) {
            struct timespec ts;
            deadline_in(&ts, 1); /* woken by put and close; the deadline only bounds the wait */
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        if (!w->ready)
            break; /* closing, nothing left */
        uint8_t *b = w->ready;
        size_t n = w->ready_len;
        int failed = w->failed;
        pthread_mutex_unlock(&w->mu);
        int err = 0;
        if (!failed && write_all(w->fd, b, n) != 0)
            err = errno ? errno : EIO;
        pthread_mutex_lock(&w->mu);
        if (err && !w->failed) {
            w->failed = 1;
            report(w, err);
        }
        w->spare = b;
        w->ready = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

async_writer *async_writer_open(const char *path, char *err, size_t errlen)
{
    async_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->fill = malloc(BLOCK)) || !(w->spare = malloc(BLOCK))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "%s: cannot start a writer thread", path);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        close(w->fd);
        goto fail;
    }
    return w;
fail:
    if (w) {
        free(w->fill);
        free(w->spare);
    }
    free(w);
    return NULL;
}

/* Waits (bounded) until the writer took back its block; mu held. 0, or -1 when it is stuck. */
static int wait_idle(async_writer *w)
{
    struct timespec ts;
    deadline_in(&ts, STUCK_SECONDS);
    while (w->ready)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT && w->ready) {
            if (!w->failed)
                report(w, 0);
            w->failed = 1;
            return -1;
        }
    return 0;
}

/* Gives the filled block to the writer and takes the spare one. */
static int hand_over(async_writer *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = wait_idle(w);
    if (rc == 0 && w->fill_len) {
        w->ready = w->fill;
        w->ready_len = w->fill_len;
        w->fill = w->spare;
        w->spare = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    w->fill_len = 0; /* dropped if the writer is stuck */
    rc = rc == 0 && !w->failed ? 0 : -1;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int async_writer_put(async_writer *w, const void *p, size_t n)
{
    if (n > BLOCK - w->fill_len && hand_over(w) != 0)
        return -1;
    if (n > BLOCK) { /* larger than a block: written here, after what came before */
        pthread_mutex_lock(&w->mu);
        int rc = wait_idle(w) == 0 && !w->failed && write_all(w->fd, p, n) == 0 ? 0 : -1;
        if (rc && !w->failed) {
            w->failed = 1;
            report(w, errno);
        }
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    memcpy(w->fill + w->fill_len, p, n);
    w->fill_len += n;
    return 0;
}

int async_writer_close(async_writer *w)
{
    if (!w)
        return 0;
    int rc = hand_over(w);
    pthread_mutex_lock(&w->mu);
    if (wait_idle(w) != 0)
        rc = -1;
    w->closing = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    struct timespec ts;
    deadline_in(&ts, STUCK_SECONDS);
    if (pthread_timedjoin_np(w->thread, NULL, &ts) != 0) {
        w->stuck = 1; /* still inside write(): its memory stays */
        return -1;
    }
    if (close(w->fd) != 0)
        rc = -1;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->fill);
    free(w->spare);
    free(w->ready);
    free(w);
    return rc;
}
