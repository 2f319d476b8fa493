/* Fuzz target: a whole .etl file through etwire_trace_open_file + ProcessTrace — the file index
 * (buffer chaining by size, resynchronisation, truncation), flush-order sorting and the merge
 * with per-processor look-ahead, with a buffer callback (flush order) and without one (buffers
 * read per processor, up to their filled offset, processed twice on one handle). The input is
 * the file's content, held in a memfd. */

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <etwire/etwire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long long events, buffers;

static VOID WINAPI on_event(PEVENT_RECORD er)
{
    /* Touch what the callback is promised: the payload and the extended items. */
    const volatile unsigned char *p = er->UserData;
    for (unsigned i = 0; i < er->UserDataLength; i++)
        (void)p[i];
    for (unsigned i = 0; i < er->ExtendedDataCount; i++) {
        const volatile unsigned char *d = (const void *)(uintptr_t)er->ExtendedData[i].DataPtr;
        for (unsigned k = 0; k < er->ExtendedData[i].DataSize; k++)
            (void)d[k];
    }
    events++;
}

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b;
    (void)size;
    (void)info;
    (void)ctx;
    buffers++;
    return TRUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("etwire-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_event;
    o.BufferCallback = on_buffer;
    unsigned long long observed = 0;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h != INVALID_PROCESSTRACE_HANDLE) {
        events = 0;
        ProcessTrace(&h, 1, NULL, NULL);
        observed = events;
        ETWIRE_SESSION_STATS st;
        if (etwire_session_get_stats(h, &st) != ERROR_SUCCESS || st.BuffersCompleted != st.BuffersAccepted)
            abort(); /* every buffer taken must be completed */
        CloseTrace(h);
        /* No buffer callback: buffers read per processor up to their filled offset and freed
         * out of order; twice on one handle (the second reads the file again). Every record is
         * delivered either way. */
        o.BufferCallback = NULL;
        h = etwire_trace_open_file(path, &o, NULL);
        for (int run = 0; run < 2 && h != INVALID_PROCESSTRACE_HANDLE; run++) {
            events = 0;
            ProcessTrace(&h, 1, NULL, NULL);
            if (etwire_session_get_stats(h, &st) != ERROR_SUCCESS ||
                st.BuffersCompleted != st.BuffersAccepted || events != observed)
                abort();
        }
        if (h != INVALID_PROCESSTRACE_HANDLE)
            CloseTrace(h);
    }
    close(fd);
    return 0;
}
