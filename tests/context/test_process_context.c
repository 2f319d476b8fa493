/* The process tracker: names learned from real traces' rundown, process and image events
 * (kernel classic and Microsoft-Windows-Kernel-Process forms), and the memory bound when
 * processes and threads end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include <etwire/context.h>
#include <etwire/etwire.h>

#include "collect.h"

typedef struct run {
    ETWIRE_PROCESS_TRACKER *tracker;
    unsigned long long events, with_pid, named;
    /* Checked at the moment each event is seen, so a later reuse of the pid cannot hide it. */
    unsigned long long starts_seen, starts_named_right;
} run;

static const GUID kernel_process = {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}};

static void WINAPI on_event(PEVENT_RECORD er)
{
    run *r = er->UserContext;
    etwire_process_tracker_add(r->tracker, er);
    r->events++;
    ULONG pid = etwire_process_tracker_pid(r->tracker, er);
    if (pid != 0xFFFFFFFFu) {
        r->with_pid++;
        if (etwire_process_tracker_name(r->tracker, er)[0])
            r->named++;
    }
    /* ProcessStart of the manifest form: the payload's image path ends with the name given. */
    if (!memcmp(&er->EventHeader.ProviderId, &kernel_process, sizeof(GUID)) &&
        er->EventHeader.EventDescriptor.Id == 1 && er->UserDataLength > 22) {
        const uint8_t *p = er->UserData;
        ULONG started = (ULONG)p[0] | (ULONG)p[1] << 8 | (ULONG)p[2] << 16 | (ULONG)p[3] << 24;
        const char *name = etwire_process_tracker_name_of(r->tracker, started);
        char ascii[512];
        size_t n = 0;
        for (size_t i = 20; i + 1 < er->UserDataLength && p[i] && n + 1 < sizeof ascii; i += 2)
            ascii[n++] = (char)p[i];
        ascii[n] = '\0';
        size_t len = strlen(name);
        r->starts_seen++;
        if (len && len < n && !strcmp(ascii + n - len, name) && ascii[n - len - 1] == '\\')
            r->starts_named_right++;
    }
}

/* Skips the test when the corpus file is absent. */
static void read_trace(const char *rel, run *r)
{
    const char *path = TEST_NEED_CORPUS_FILE(rel);
    memset(r, 0, sizeof *r);
    r->tracker = etwire_process_tracker_create();
    assert_non_null(r->tracker);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_event;
    o.EventCallbackContext = r;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
}

static void kernel_rundown_names(void **state)
{
    (void)state;
    run r;
    read_trace("traceevent/diaghub/diaghub.kernel.1.etl", &r);
    assert_string_equal(etwire_process_tracker_name_of(r.tracker, 0), "Idle");
    assert_string_equal(etwire_process_tracker_name_of(r.tracker, 4), "System");
    assert_string_equal(etwire_process_tracker_name_of(r.tracker, 540), "smss.exe");
    /* A kernel trace opens with the rundown of every process and thread. */
    assert_true(r.with_pid > 0);
    /* Kernel events with no process in their header are about the process their payload names.
     * Measured 16133 of 16335 named: the rest come before the rundown named their process. */
    assert_true(r.with_pid >= 16000);
    assert_true(r.named * 100 >= r.with_pid * 95);
    etwire_process_tracker_destroy(r.tracker);
}

static void manifest_process_names(void **state)
{
    (void)state;
    run r;
    read_trace("tx/Process.etl", &r);
    assert_int_equal(r.starts_seen, 4);
    assert_int_equal(r.starts_named_right, 4);
    assert_string_equal(etwire_process_tracker_name_of(r.tracker, 5864), "devenv.exe");
    /* No rundown in this trace: processes older than it are named only once they map an .exe
     * (measured 3227 of 10344 events). */
    assert_true(r.named * 100 >= r.with_pid * 30);
    etwire_process_tracker_destroy(r.tracker);
}

/* A synthetic Microsoft-Windows-Kernel-Process event (ProcessStart v0 / ProcessStop /
 * ThreadStart), 64-bit. */
static void make_event(EVENT_RECORD *er, uint8_t *buf, unsigned id, uint32_t pid, uint32_t tid, const char *image)
{
    memset(er, 0, sizeof *er);
    er->EventHeader.ProviderId = kernel_process;
    er->EventHeader.EventDescriptor.Id = (USHORT)id;
    er->EventHeader.ProcessId = pid;
    er->EventHeader.ThreadId = tid;
    memset(buf, 0, 256);
    memcpy(buf, &pid, 4);
    memcpy(buf + 4, &tid, 4);
    size_t n = 24;
    if (image) {
        size_t i = 0;
        for (; image[i]; i++)
            buf[20 + 2 * i] = (uint8_t)image[i];
        n = 20 + 2 * i + 2;
    }
    er->UserData = buf;
    er->UserDataLength = (USHORT)n;
}

static void ended_processes_are_forgotten(void **state)
{
    (void)state;
    ETWIRE_PROCESS_TRACKER *t = etwire_process_tracker_create();
    assert_non_null(t);
    EVENT_RECORD er;
    uint8_t buf[256];
    make_event(&er, buf, 1, 7, 70, "\\Device\\HarddiskVolume1\\keep.exe");
    assert_int_equal(etwire_process_tracker_add(t, &er), 1);
    for (uint32_t pid = 100; pid < 100 + 20000; pid += 4) {
        make_event(&er, buf, 1, pid, pid + 1, "C:\\short\\lived.exe");
        etwire_process_tracker_add(t, &er);
        make_event(&er, buf, 3, pid, pid + 1, NULL);
        etwire_process_tracker_add(t, &er);
        make_event(&er, buf, 4, pid, pid + 1, NULL);
        etwire_process_tracker_add(t, &er);
        make_event(&er, buf, 2, pid, pid + 1, NULL);
        etwire_process_tracker_add(t, &er);
        /* The process is still named right after its end (its last events refer to it). */
        assert_string_equal(etwire_process_tracker_name_of(t, pid), "lived.exe");
    }
    ULONG processes, threads;
    etwire_process_tracker_counts(t, &processes, &threads);
    assert_true(processes <= 1024 + 1);
    assert_true(threads <= 8192);
    assert_string_equal(etwire_process_tracker_name_of(t, 7), "keep.exe");
    assert_string_equal(etwire_process_tracker_name_of(t, 100), "");
    /* A thread's process resolves an event whose header has no process id. */
    make_event(&er, buf, 3, 7, 71, NULL);
    etwire_process_tracker_add(t, &er);
    er.EventHeader.ProcessId = 0xFFFFFFFFu;
    er.EventHeader.ThreadId = 71;
    er.EventHeader.ProviderId.Data1 = 1; /* some other provider */
    assert_int_equal(etwire_process_tracker_pid(t, &er), 7);
    assert_string_equal(etwire_process_tracker_name(t, &er), "keep.exe");
    etwire_process_tracker_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_rundown_names),
        cmocka_unit_test(manifest_process_names),
        cmocka_unit_test(ended_processes_are_forgotten),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
