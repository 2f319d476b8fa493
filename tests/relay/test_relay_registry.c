/* The collector's sessions (src/relay/collect.h registry, src/relay/sink.h): a session saves
 * only buffers its stream took, counts what it holds for a resume, hands events to the
 * program's callbacks, becomes read-only and refused (COMPLETE) once ended, and is closed when
 * idle or to make room. ETWIRE_TEST_THREADS: each session has its ProcessTrace thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "relay/collect.h"
#include "relay/wire/status.h"

#define ETWIRE ETWIRE_BINARY_DIR "/etwire"

static char dir[64], out[128];
static uint8_t *trace;
static long trace_size;
static atomic_int events, opens, closes;

static void *on_open(void *ctx, const ETWIRE_RELAY_SESSION *s)
{
    atomic_fetch_add(&opens, 1);
    return ctx;
}

static void on_event(void *ctx, PEVENT_RECORD r)
{
    atomic_fetch_add(&events, 1);
}

static void on_close(void *ctx, const ETWIRE_RELAY_SESSION *s, const ETWIRE_SESSION_STATS *st)
{
    atomic_fetch_add(&closes, 1);
}

static atomic_int runs;

/* The handle hand-off: the program processes the session's stream itself. */
static ULONG on_run(void *ctx, const ETWIRE_RELAY_SESSION *s, PROCESSTRACE_HANDLE h)
{
    ETWIRE_SESSION_STATS st;
    if (etwire_session_get_stats(h, &st) == ERROR_SUCCESS)
        atomic_fetch_add(&runs, 1);
    return ProcessTrace(&h, 1, NULL, NULL);
}

static const ETWIRE_RELAY_SESSION_CALLBACKS cb = {on_open, on_event, on_close, NULL, on_run};

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/etwire-registry.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(out, sizeof out, "%s/out", dir);
    char cmd[512], path[256];
    snprintf(path, sizeof path, "%s/t.etl", dir);
    snprintf(cmd, sizeof cmd, ETWIRE " generate --seed 3 --events 3000 --buffer-size 4K -o '%s' >/dev/null 2>&1", path);
    if (system(cmd) != 0)
        return 0; /* tests skip */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    trace_size = ftell(f);
    rewind(f);
    trace = malloc((size_t)trace_size);
    if (fread(trace, 1, (size_t)trace_size, f) != (size_t)trace_size)
        trace_size = 0;
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    free(trace);
    return system(cmd) == 0 ? 0 : -1;
}

static relay_collect_cfg config(uint32_t max_sessions)
{
    relay_collect_cfg c = {.window = 64, .max_memory = 64u << 20, .max_sessions = max_sessions,
                           .session_idle_ms = 60000};
    c.sink.out_dir = out;
    c.sink.window = 64;
    c.sink.memory_limit = 64u << 20;
    c.sink.cb = &cb;
    return c;
}

static int add(relay_sink *k, const uint8_t *b, uint32_t size)
{
    uint8_t *copy = malloc(size);
    memcpy(copy, b, size);
    char err[256];
    return relay_sink_add(k, copy, copy, size, err, sizeof err);
}

static long etl_size(const char *session, uint64_t instance, int *writable)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/src/%s-%016llx.etl", out, session, (unsigned long long)instance);
    if (stat(p, &st) != 0)
        return -1;
    if (writable)
        *writable = (st.st_mode & S_IWUSR) != 0;
    return (long)st.st_size;
}

static void test_session_lifecycle(void **state)
{
    if (!trace_size)
        TEST_SKIP("no trace to replay");
    relay_collect_cfg cfg = config(8);
    relay_registry *r = relay_registry_create(8);
    relay_sink *k;
    uint32_t reason = 0;
    char err[512];
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "s", 1, &k, &reason, err, sizeof err), ETW_RELAY_OK);
    assert_int_equal(etl_size("s", 1, NULL), -1); /* nothing before the first buffer */
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "s", 1, &k, &reason, err, sizeof err),
                     ETW_RELAY_E_REFUSED);
    assert_int_equal(reason, ETW_RELAY_CLOSE_BUSY);
    assert_int_equal(add(k, trace, 4096), 0);
    uint8_t junk[4096];
    memcpy(junk, trace + 4096, sizeof junk);
    memset(junk + 8, 0xFF, 16);  /* offsets beyond the buffer */
    memset(junk + 72, 0xEE, sizeof junk - 72); /* records that do not parse */
    assert_int_not_equal(add(k, junk, sizeof junk), 0);
    assert_int_equal(relay_sink_next_seq(k), 1); /* the refused one is not counted */
    assert_int_equal(etl_size("s", 1, NULL), 4096);
    for (long off = 4096; off < trace_size; off += 4096)
        assert_int_equal(add(k, trace + off, 4096), 0);
    relay_sink_end(k);
    assert_int_equal(relay_sink_durable(k), (uint64_t)(trace_size / 4096));
    relay_registry_release(r, &cfg, k, 1);
    assert_true(atomic_load(&events) > 3000);
    assert_int_equal(atomic_load(&closes), 1);
    assert_int_equal(atomic_load(&runs), 1);
    int writable = 1;
    assert_int_equal(etl_size("s", 1, &writable), trace_size);
    assert_false(writable);
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "s", 1, &k, &reason, err, sizeof err),
                     ETW_RELAY_E_REFUSED);
    assert_int_equal(reason, ETW_RELAY_CLOSE_COMPLETE);
    relay_registry_destroy(r, &cfg);
    /* A new registry (a restarted collector) still refuses it: the .etl says so. */
    r = relay_registry_create(8);
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "s", 1, &k, &reason, err, sizeof err),
                     ETW_RELAY_E_REFUSED);
    assert_int_equal(reason, ETW_RELAY_CLOSE_COMPLETE);
    relay_registry_destroy(r, &cfg);
}

static void test_resume_idle_and_eviction(void **state)
{
    if (!trace_size)
        TEST_SKIP("no trace to replay");
    relay_collect_cfg cfg = config(2);
    relay_registry *r = relay_registry_create(2);
    relay_sink *k;
    uint32_t reason;
    char err[512];
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "r", 2, &k, &reason, err, sizeof err), ETW_RELAY_OK);
    assert_int_equal(add(k, trace, 4096), 0);
    assert_int_equal(add(k, trace + 4096, 4096), 0);
    relay_registry_release(r, &cfg, k, 0);
    /* Idle: closed by the sweep; a HELLO later resumes it from its .etl. */
    cfg.session_idle_ms = 0;
    int closes_before = atomic_load(&closes);
    assert_int_equal(relay_registry_sweep(r, &cfg), 1);
    assert_int_equal(atomic_load(&closes), closes_before + 1);
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "r", 2, &k, &reason, err, sizeof err), ETW_RELAY_OK);
    assert_int_equal(relay_sink_next_seq(k), 2);
    relay_registry_release(r, &cfg, k, 0);
    /* Full (2 sessions): a third evicts the one idle longest. */
    relay_sink *k2, *k3;
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "x", 3, &k2, &reason, err, sizeof err), ETW_RELAY_OK);
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "y", 4, &k3, &reason, err, sizeof err), ETW_RELAY_OK);
    relay_sink *k4;
    assert_int_equal(relay_registry_acquire(r, &cfg, "src", "z", 5, &k4, &reason, err, sizeof err),
                     ETW_RELAY_E_REFUSED); /* both connected: no room */
    assert_int_equal(reason, ETW_RELAY_CLOSE_RESOURCES);
    relay_registry_release(r, &cfg, k2, 0);
    relay_registry_release(r, &cfg, k3, 0);
    relay_registry_destroy(r, &cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_lifecycle),
        cmocka_unit_test(test_resume_idle_and_eviction),
    };
    return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
