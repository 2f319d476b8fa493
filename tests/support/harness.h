/* What every cmocka test shares around its assertions: where ../shared/corpus is, skipping so
 * that CTest shows a skip as a skip, reading whole files, running and spawning etwire, and
 * scratch folders. Include after <cmocka.h>. */
#ifndef ETWIRE_TEST_HARNESS_H
#define ETWIRE_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The CLI this build made, for tests that run it. */
#define TEST_ETWIRE ETWIRE_BINARY_DIR "/etwire"

/* The corpus directory, or NULL when ../shared/corpus is absent (tests then skip). */
const char *test_corpus_dir(void);
/* The path of REL below ../shared/corpus when that file exists, else NULL. The result lives
 * until the next call's eighth (a small ring). */
const char *test_corpus_file(const char *rel);

/* Skips the running test, saying why. Counted: when a run skipped anything and failed nothing,
 * test_exit makes the executable exit 77 (CTest SKIP_RETURN_CODE), so a skip never passes
 * for a pass. Use it instead of cmocka's bare skip(). */
void test_note_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define TEST_SKIP(...)                                                                             \
    do {                                                                                           \
        test_note_skip(__VA_ARGS__);                                                               \
        skip();                                                                                    \
    } while (0)
/* The corpus file REL (a path), or the test is skipped. */
#define TEST_NEED_CORPUS_FILE(rel)                                                                 \
    __extension__({                                                                                \
        const char *need_path_ = test_corpus_file(rel);                                            \
        if (!need_path_)                                                                           \
            TEST_SKIP("%s absent from ../shared/corpus", (const char *)(rel));                     \
        need_path_;                                                                                \
    })
#define TEST_NEED_CORPUS()                                                                         \
    do {                                                                                           \
        if (!test_corpus_dir())                                                                    \
            TEST_SKIP("../shared/corpus is absent");                                               \
    } while (0)
/* main's exit status: failed (cmocka_run_group_tests' result) when anything failed, else 77
 * when a test skipped, else 0. */
int test_exit(int failed);

/* A whole file in a malloc'ed block (*n its size; one spare NUL byte after it), or NULL. */
uint8_t *test_read_file(const char *path, size_t *n);
int test_file_write(const char *path, const void *a, size_t na, const void *b, size_t nb);
long test_file_size(const char *path);
/* cmp(1) in C: 1 when both files exist and hold the same bytes. */
int test_same_file(const char *a, const char *b);

/* system() of a formatted command line; its exit status, or -1 when it did not exit. */
int test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Starts argv (argv[0] a path) with stdin from in_fd (-1: /dev/null) and stdout and stderr
 * appended to log (NULL: inherited); extra_fd (-1: none) stays open in the child under its
 * number (a --ready-fd). The child is killed if this process dies first. */
pid_t test_spawn(char *const argv[], int in_fd, const char *log, int extra_fd);

/* A fresh folder /tmp/etwire-TAG.XXXXXX in dir (64 bytes); removed by test_rmdir unless the
 * environment has KEEP. */
void test_mkdtemp(char dir[64], const char *tag);
void test_rmdir(const char *dir);

#endif
