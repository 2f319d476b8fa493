/* Where the decompress-ahead thread runs (src/etl/decompress_ahead_cpu.c): it starts away from
 * the reader's processor, is moved away when the reader comes to its own, and is not started at
 * all for a process that may use one processor only. Needs two processors (skipped on one).
 * ETWIRE_TEST_THREADS: CI runs this under TSan too. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness.h"

#include "etl/decompress_ahead.h"
#include "etl/decompress_ahead_cpu.h"

static cpu_set_t process_cpus;

static int setup(void **state)
{
    (void)state;
    return sched_getaffinity(0, sizeof process_cpus, &process_cpus);
}

/* Each test leaves the calling thread where it found it. */
static int restore(void **state)
{
    (void)state;
    return pthread_setaffinity_np(pthread_self(), sizeof process_cpus, &process_cpus);
}

/* The first allowed processor other than `not` (-1: any). */
static int some_cpu(int not)
{
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &process_cpus) && i != not)
            return i;
    return -1;
}

static void pin_self(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
}

static void need_two(void)
{
    if (CPU_COUNT(&process_cpus) < 2)
        TEST_SKIP("one processor allowed: nowhere to keep the thread apart");
}

static void *parked(void *arg)
{
    pthread_mutex_t *park = arg;
    pthread_mutex_lock(park);
    pthread_mutex_unlock(park);
    return NULL;
}

static void *where_am_i(void *arg)
{
    *(int *)arg = sched_getcpu();
    return NULL;
}

/* A thread created with the attributes never runs on the creator's processor, and may run on
 * every other one the process may use. */
static void test_starts_away_from_the_reader(void **state)
{
    (void)state;
    need_two();
    int reader = some_cpu(-1);
    etw_ahead_cpu *c = etw_ahead_cpu_new();
    assert_non_null(c);
    pin_self(reader);
    pthread_attr_t attr;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_true(etw_ahead_cpu_away(c, &attr));
    cpu_set_t set;
    assert_int_equal(pthread_attr_getaffinity_np(&attr, sizeof set, &set), 0);
    assert_false(CPU_ISSET(reader, &set));
    assert_int_equal(CPU_COUNT(&set), CPU_COUNT(&process_cpus) - 1);
    pthread_t t;
    int ran_on = -1;
    assert_int_equal(pthread_create(&t, &attr, where_am_i, &ran_on), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(ran_on >= 0 && ran_on != reader);
    pthread_attr_destroy(&attr);
    free(c);
}

/* The thread seen on the reader's processor moves to the others, whichever of the two asks;
 * seen elsewhere, or already kept off that processor, it stays; and it follows the reader only
 * a few times. */
static void test_keeps_apart(void **state)
{
    (void)state;
    need_two();
    etw_ahead_cpu *c = etw_ahead_cpu_new(); /* all the process's processors */
    assert_non_null(c);
    int here = some_cpu(-1), other = some_cpu(here);
    cpu_set_t set;
    pin_self(here);
    etw_ahead_cpu_keep_apart(c, pthread_self(), here, other); /* apart already: no move */
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
    assert_int_equal(CPU_COUNT(&set), 1);
    etw_ahead_cpu_keep_apart(c, pthread_self(), here, here); /* together: the thread moves */
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
    assert_false(CPU_ISSET(here, &set));
    assert_int_equal(CPU_COUNT(&set), CPU_COUNT(&process_cpus) - 1);
    assert_int_not_equal(sched_getcpu(), here);
    pin_self(here); /* a stale sighting: kept off `here` already, no second move */
    etw_ahead_cpu_keep_apart(c, pthread_self(), here, here);
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
    assert_int_equal(CPU_COUNT(&set), 1);
    /* The reader moves another thread (here: a parked one it created on `other`). */
    pthread_mutex_t park = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&park);
    pthread_attr_t attr;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(other, &one);
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setaffinity_np(&attr, sizeof one, &one), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, &attr, parked, &park), 0);
    pthread_attr_destroy(&attr);
    etw_ahead_cpu_keep_apart(c, t, other, other);
    assert_int_equal(pthread_getaffinity_np(t, sizeof set, &set), 0);
    assert_false(CPU_ISSET(other, &set));
    assert_int_equal(CPU_COUNT(&set), CPU_COUNT(&process_cpus) - 1);
    pthread_mutex_unlock(&park);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* A reader that keeps coming back is followed a few times only. */
    int moves = 0;
    for (int round = 0; round < 20; round++) {
        int reader = round % 2 ? here : other;
        pin_self(reader);
        etw_ahead_cpu_keep_apart(c, pthread_self(), reader, reader);
        assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof set, &set), 0);
        moves += !CPU_ISSET(reader, &set);
    }
    assert_true(moves >= 1 && moves < 20);
    etw_ahead_cpu_keep_apart(NULL, pthread_self(), here, here); /* no placement: nothing */
    free(c);
}

/* A process allowed one processor has nowhere to put the thread: the session does not start
 * it unless asked to, and attributes cannot keep it away. */
static void test_one_processor(void **state)
{
    (void)state;
    int only = some_cpu(-1);
    assert_true(only >= 0);
    pin_self(only);
    assert_int_equal(etw_ahead_cpu_usable(), 1);
    unsetenv("ETWIRE_DECOMPRESS_AHEAD");
    assert_false(etw_ahead_wanted(100000));
    etw_ahead_cpu *c = etw_ahead_cpu_new();
    assert_non_null(c);
    pthread_attr_t attr;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_false(etw_ahead_cpu_away(c, &attr));
    pthread_attr_destroy(&attr);
    free(c);
    assert_int_equal(restore(NULL), 0);
    assert_int_equal(etw_ahead_cpu_usable(), CPU_COUNT(&process_cpus));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_starts_away_from_the_reader, restore),
        cmocka_unit_test_teardown(test_keeps_apart, restore),
        cmocka_unit_test_teardown(test_one_processor, restore),
    };
    return test_exit(cmocka_run_group_tests(tests, setup, NULL));
}
