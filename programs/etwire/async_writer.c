/* Output written by a small pool of writer threads (see async_writer.h). Each file has two
 * blocks: the caller fills one while at most one other waits for, or is in, a write() by a
 * pool thread; blocks of one file are therefore written one at a time, in order, by whichever
 * pool thread takes them. The pool has at most one thread per core (and never more threads
 * than open files); it starts with the first file and its threads are joined when the last
 * file closes. One mutex guards the pool and every file's hand-over state: it is taken twice
 * per block (256 KiB), never during a write. */
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

#define BLOCK (256u << 10) /* two per file: many sessions at once stay cheap */
#define POOL_MAX 8
#define STUCK_SECONDS 60   /* a write that takes longer has failed */

struct async_writer {
    int fd;
    pthread_cond_t done; /* a block of this file was written */
    uint8_t *fill;       /* the caller's block */
    size_t fill_len;
    uint8_t *ready;      /* (pool.mu) queued or being written; NULL once written */
    size_t ready_len;
    uint8_t *spare;      /* (pool.mu) the block given back */
    int failed;          /* (pool.mu) */
    async_writer *next;  /* (pool.mu) in the queue */
    char path[512];
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work;
    async_writer *head, *tail; /* files with a block to write, oldest first */
    unsigned users;            /* open files */
    unsigned gen;              /* threads of an older generation leave */
    unsigned nthreads;
    pthread_t threads[POOL_MAX];
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

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

/* Once per file, with pool.mu held. */
static void fail_file(async_writer *w, int err)
{
    if (!w->failed)
        fprintf(stderr, "etwire collect: %s: %s (later output dropped)\n", w->path,
                err ? strerror(err) : "writing stalled");
    w->failed = 1;
}

static void *pool_main(void *arg)
{
    unsigned gen = (unsigned)(uintptr_t)arg;
    pthread_setname_np(pthread_self(), "etw-write");
    pthread_mutex_lock(&pool.mu);
    while (gen == pool.gen) {
        async_writer *w = pool.head;
        if (!w) {
            struct timespec ts;
            deadline_in(&ts, 1); /* woken by hand-overs and the last close; this only bounds it */
            pthread_cond_timedwait(&pool.work, &pool.mu, &ts);
            continue;
        }
        pool.head = w->next;
        if (!pool.head)
            pool.tail = NULL;
        uint8_t *b = w->ready;
        size_t n = w->ready_len;
        int skip = w->failed;
        pthread_mutex_unlock(&pool.mu);
        int err = !skip && write_all(w->fd, b, n) != 0 ? (errno ? errno : EIO) : 0;
        pthread_mutex_lock(&pool.mu);
        if (err)
            fail_file(w, err);
        w->spare = b;
        w->ready = NULL;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&pool.mu);
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
    pthread_cond_init(&w->done, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = cores < 1 ? 1 : cores > POOL_MAX ? POOL_MAX : (unsigned)cores;
    pthread_mutex_lock(&pool.mu);
    pool.users++;
    if (pool.nthreads < want && pool.nthreads < pool.users &&
        pthread_create(&pool.threads[pool.nthreads], NULL, pool_main, (void *)(uintptr_t)pool.gen) == 0)
        pool.nthreads++;
    int none = pool.nthreads == 0;
    if (none)
        pool.users--;
    pthread_mutex_unlock(&pool.mu);
    if (none) {
        snprintf(err, errlen, "%s: cannot start a writer thread", path);
        pthread_cond_destroy(&w->done);
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

/* Waits (bounded) until the file's queued block is written; pool.mu held. 0, or -1 when the
 * write is stuck. */
static int wait_idle(async_writer *w)
{
    struct timespec ts;
    deadline_in(&ts, STUCK_SECONDS);
    while (w->ready)
        if (pthread_cond_timedwait(&w->done, &pool.mu, &ts) == ETIMEDOUT && w->ready) {
            fail_file(w, 0);
            return -1;
        }
    return 0;
}

/* Queues the filled block and takes the spare one. */
static int hand_over(async_writer *w)
{
    pthread_mutex_lock(&pool.mu);
    int rc = wait_idle(w);
    if (rc == 0 && w->fill_len && !w->failed) {
        w->ready = w->fill;
        w->ready_len = w->fill_len;
        w->fill = w->spare;
        w->spare = NULL;
        w->next = NULL;
        if (pool.tail)
            pool.tail->next = w;
        else
            pool.head = w;
        pool.tail = w;
        pthread_cond_signal(&pool.work);
    }
    w->fill_len = 0; /* dropped if the file failed */
    rc = rc == 0 && !w->failed ? 0 : -1;
    pthread_mutex_unlock(&pool.mu);
    return rc;
}

int async_writer_put(async_writer *w, const void *p, size_t n)
{
    if (n > BLOCK - w->fill_len && hand_over(w) != 0)
        return -1;
    if (n > BLOCK) { /* larger than a block: written here, after what came before */
        pthread_mutex_lock(&pool.mu);
        int rc = wait_idle(w) == 0 && !w->failed ? 0 : -1;
        pthread_mutex_unlock(&pool.mu);
        if (rc == 0 && write_all(w->fd, p, n) != 0) {
            int e = errno;
            pthread_mutex_lock(&pool.mu);
            fail_file(w, e);
            pthread_mutex_unlock(&pool.mu);
            rc = -1;
        }
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
    pthread_mutex_lock(&pool.mu);
    int stuck = wait_idle(w) != 0;
    if (stuck || w->failed)
        rc = -1;
    pthread_t leaving[POOL_MAX];
    unsigned nleaving = 0;
    if (--pool.users == 0) { /* the last file: this generation of threads leaves */
        pool.gen++;
        nleaving = pool.nthreads;
        memcpy(leaving, pool.threads, sizeof leaving);
        pool.nthreads = 0;
        pthread_cond_broadcast(&pool.work);
    }
    pthread_mutex_unlock(&pool.mu);
    for (unsigned i = 0; i < nleaving; i++) {
        struct timespec ts;
        deadline_in(&ts, STUCK_SECONDS);
        if (pthread_timedjoin_np(leaving[i], NULL, &ts) != 0)
            stuck = 1; /* inside a write() that never returns: left to it */
    }
    if (stuck)
        return -1; /* its blocks may still be in use: leaked rather than freed under a write */
    if (close(w->fd) != 0)
        rc = -1;
    pthread_cond_destroy(&w->done);
    free(w->fill);
    free(w->spare);
    free(w);
    return rc;
}
