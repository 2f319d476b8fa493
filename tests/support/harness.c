/* The shared test environment (see harness.h): corpus paths, counted skips, files, children
 * and scratch folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char corpus_path[4096];

const char *test_corpus_dir(void)
{
    struct stat st;
    snprintf(corpus_path, sizeof corpus_path, "%s/corpus", ETWIRE_SHARED_DIR);
    if (stat(corpus_path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return corpus_path;
}

const char *test_corpus_file(const char *rel)
{
    static char ring[8][4096];
    static unsigned next;
    const char *dir = test_corpus_dir();
    if (!dir)
        return NULL;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof ring[0], "%s/%s", dir, rel);
    struct stat st;
    return stat(p, &st) == 0 ? p : NULL;
}

static int skipped;

void test_note_skip(const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    skipped++;
    print_message("skipped: %s\n", why);
}

int test_exit(int failed)
{
    if (failed)
        return failed;
    if (skipped) {
        print_message("%d test(s) skipped: the run reports SKIP (exit 77)\n", skipped);
        return 77;
    }
    return 0;
}

uint8_t *test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f)
        return NULL;
    uint8_t *d = NULL;
    if (fstat(fileno(f), &st) == 0 && (d = malloc((size_t)st.st_size + 1))) {
        *n = fread(d, 1, (size_t)st.st_size, f);
        if (*n != (size_t)st.st_size) {
            free(d);
            d = NULL;
        } else {
            d[*n] = 0;
        }
    }
    fclose(f);
    return d;
}

int test_file_write(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(a, 1, na, f) == na && (!nb || fwrite(b, 1, nb, f) == nb);
    return fclose(f) == 0 && ok ? 0 : -1;
}

long test_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int test_same_file(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

int test_run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

pid_t test_spawn(char *const argv[], int in_fd, const char *log, int extra_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a test that died (alarm, crash) */
    int fd = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
    dup2(fd, 0);
    if (log) {
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(lf, 1);
        dup2(lf, 2);
    }
    if (extra_fd >= 0) /* dup2 onto itself keeps close-on-exec: clear it */
        fcntl(extra_fd, F_SETFD, 0);
    execv(argv[0], argv);
    _exit(127);
}

void test_mkdtemp(char dir[64], const char *tag)
{
    snprintf(dir, 64, "/tmp/etwire-%s.XXXXXX", tag);
    if (!mkdtemp(dir))
        fail_msg("mkdtemp %s failed", dir);
}

void test_rmdir(const char *dir)
{
    if (*dir && !getenv("KEEP"))
        test_run("rm -rf '%s'", dir);
}
