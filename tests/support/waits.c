/* Waiting on events with deadlines (see waits.h): pidfd for children, inotify for files,
 * poll for pipes, condition variables for threads. */
#include "waits.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/deadline.h"

int64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t end)
{
    int64_t left = end - test_now_ms();
    return left > 0 ? (int)left : 0;
}

static int exit_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int test_wait_child(pid_t pid, int ms)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
        return exit_status(st);
    if (r < 0)
        return -1;
    /* The pidfd becomes readable when the child exits (a zombie counts too). */
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t end = test_now_ms() + ms;
    int n;
    do
        n = poll(&p, 1, left_ms(end));
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n > 0 && waitpid(pid, &st, 0) == pid)
        return exit_status(st);
    return -1;
}

int test_reap(pid_t pid, int ms)
{
    int rc = test_wait_child(pid, ms);
    if (rc < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return rc;
}

int test_stop_child(pid_t pid, int ms)
{
    kill(pid, SIGTERM);
    return test_reap(pid, ms);
}

/* Watches dir and every folder below it (adding a watch twice is harmless). */
static void watch_tree(int in, const char *dir, int depth)
{
    if (inotify_add_watch(in, dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
                                       IN_DELETE | IN_ATTRIB | IN_ONLYDIR) < 0 ||
        depth > 8)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char sub[PATH_MAX];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            watch_tree(in, sub, depth + 1);
    }
    closedir(d);
}

int test_wait_fs(const char *dir, int ms, int (*cond)(void *ctx), void *ctx)
{
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in < 0)
        return cond(ctx) != 0;
    int64_t end = test_now_ms() + ms;
    int ok = 0;
    for (;;) {
        /* Watches first, then the check: a change after the check wakes the poll. */
        watch_tree(in, dir, 0);
        if ((ok = cond(ctx) != 0))
            break;
        struct pollfd p = {.fd = in, .events = POLLIN};
        int left = left_ms(end);
        if (!left || (poll(&p, 1, left) < 0 && errno != EINTR))
            break;
        char buf[16384];
        while (read(in, buf, sizeof buf) > 0) { /* what came meanwhile is one change */
        }
    }
    close(in);
    return ok;
}

/* The deepest folder of path that exists (path's own folder may not exist yet). */
static void existing_parent(const char *path, char *dir, size_t n)
{
    snprintf(dir, n, "%s", path);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) {
            snprintf(dir, n, "%s", slash ? "/" : ".");
            return;
        }
        *slash = 0;
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return;
    }
}

typedef struct file_goal {
    const char *path;
    long bytes;
    const char *text;
} file_goal;

static int file_reached(void *ctx)
{
    const file_goal *g = ctx;
    struct stat st;
    if (stat(g->path, &st) != 0 || (long)st.st_size < g->bytes)
        return 0;
    if (!g->text)
        return 1;
    FILE *f = fopen(g->path, "rb");
    if (!f)
        return 0;
    size_t cap = (size_t)st.st_size + 1, len;
    char *s = malloc(cap);
    int found = 0;
    if (s) {
        len = fread(s, 1, cap - 1, f);
        s[len] = 0;
        found = memmem(s, len, g->text, strlen(g->text)) != NULL;
        free(s);
    }
    fclose(f);
    return found;
}

int test_wait_file_size(const char *path, long bytes, int ms)
{
    char dir[PATH_MAX];
    existing_parent(path, dir, sizeof dir);
    file_goal g = {path, bytes, NULL};
    return test_wait_fs(dir, ms, file_reached, &g);
}

int test_wait_file_text(const char *path, const char *text, int ms)
{
    char dir[PATH_MAX];
    existing_parent(path, dir, sizeof dir);
    file_goal g = {path, 0, text};
    return test_wait_fs(dir, ms, file_reached, &g);
}

int test_read_line(int fd, char *line, size_t n, int ms)
{
    int64_t end = test_now_ms() + ms;
    size_t len = 0;
    while (len + 1 < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left_ms(end));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (c == '\n') {
            line[len] = 0;
            return 1;
        }
        line[len++] = c;
    }
    line[len] = 0;
    return 0;
}

struct timespec test_deadline_ts(int ms)
{
    struct timespec ts;
    etw_deadline_in(&ts, ms); /* the library's own */
    return ts;
}

int test_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline,
                   int (*cond)(void *ctx), void *ctx)
{
    while (!cond(ctx))
        if (pthread_cond_timedwait(cv, mu, deadline) == ETIMEDOUT)
            return cond(ctx) != 0;
    return 1;
}
